-- Each team's monthly assessment score and centre ranking. SQL: warehouse/sql/assessment_team_month.sql;
-- docs/assessment.md.
create table if not exists marts.assessment_team_month (
    period           varchar not null,
    team             varchar not null,
    customers_due    bigint not null,
    readers          bigint not null,     -- readers with customers due
    base             double not null,
    reader_mean      double not null,     -- the customer-weighted mean of the readers' scores
    team_items       double not null,     -- team-level items (KPI shortfalls at level team), ≤ 0
    floored          boolean not null,    -- a team FLOOR row gave back what went below the floor
    score            double not null,     -- base + the sum of team_points of the team's ledger rows
    rank             integer,             -- in the centre, 1 = best (ties share); null: '(未指定)'
    prev_score       double,
    score_change     double,
    prev_rank        integer,
    rank_change      integer,             -- places gained since the previous month (> 0: up)
    scoring_version  varchar not null,
    scoring_hash     varchar not null,
    config_version   varchar not null,
    computed_at      timestamp not null
);
