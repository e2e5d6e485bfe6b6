-- Each reader's recheck size for next month. SQL: warehouse/sql/recheck_readers.sql; docs/recheck.md.
create table if not exists marts.recheck_readers (
    period               varchar not null,
    team                 varchar not null,
    reader               varchar not null,
    reads                bigint not null,     -- on-site readings this month: the population N
    reads_12m            bigint not null,     -- customers read in the 12 months to the month
    errors_12m           bigint not null,     -- ... with a confirmed error
    drifting             boolean not null,    -- a CUSUM rise of the reader's flag or error rate
    p_team               double,              -- the team's pooled 12-month rate
    p_prior              double,              -- the reader's rate, shrunk toward the team's (≥ p_min)
    half_width_used      double,              -- the interval planned for (÷ drift_factor when drifting)
    n_required           bigint,              -- the formula's size
    n                    bigint not null,     -- after the floor, the cap and N
    half_width_achieved  double,              -- the interval n gives (0: every reading)
    reasons              varchar[],           -- NO_READS, NO_HISTORY, PRIOR_FLOOR, DRIFT, CAPPED, MIN, CENSUS
    confidence           double not null,
    recheck_version      varchar not null,
    config_version       varchar not null,
    computed_at          timestamp not null
);
