-- Each reader's monthly assessment score and rank. SQL: warehouse/sql/assessment_reader_month.sql;
-- docs/assessment.md.
create table if not exists marts.assessment_reader_month (
    period               varchar not null,
    team                 varchar not null,
    reader               varchar not null,
    customers_due        bigint not null,     -- 应抄户数 of the reader: the weight in the team score
    deduction_rows       bigint not null,     -- ledger rows that deduct (VETO, FLOOR and BONUS apart)
    deductions           double not null,     -- their points (≤ 0)
    bonus                double not null,     -- BONUS points (≥ 0)
    vetoed               boolean not null,    -- a VETO row: the score is 0
    floored              boolean not null,    -- a FLOOR row gave back what went below the floor
    base                 double not null,
    score                double not null,     -- base + the sum of the reader's ledger points
    rank_in_team         integer,             -- 1 = best (ties share a rank); null: '(未指定)'
    rank_in_centre       integer,
    prev_score           double,              -- the previous month's score (null: not scored then)
    score_change         double,
    prev_rank_in_centre  integer,
    rank_change          integer,             -- places gained since the previous month (> 0: up)
    scoring_version      varchar not null,
    scoring_hash         varchar not null,
    config_version       varchar not null,
    computed_at          timestamp not null
);
