-- The DDL of marts.spc_cusum (warehouse/sql/spc_cusum.sql, checks/spc.py, config/spc.toml).
-- CUSUM change points per team and reader over the months up to the month.
create table if not exists marts.spc_cusum (
    period          varchar not null,
    level           varchar not null,   -- team | reader
    team            varchar not null,   -- a reader's team of the month
    reader          varchar,
    metric          varchar not null,
    months          integer not null,   -- months of the series with volume
    cusum_up        double not null,    -- S⁺ at the month (rise)
    cusum_down      double not null,    -- S⁻ at the month (fall)
    signal          varchar not null,   -- rise | fall | none | too_few_months
    start_month     varchar,            -- first month of the signalling run
    run_months      integer,            -- months from start_month to the month
    numerator       double not null,    -- the month's own count and volume
    denominator     double not null,
    config_version  varchar not null,
    computed_at     timestamp not null
);
