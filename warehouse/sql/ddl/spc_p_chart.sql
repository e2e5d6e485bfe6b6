-- The DDL of marts.spc_p_chart (warehouse/sql/spc_p_chart.sql, checks/spc.py, config/spc.toml).
-- Each team's error and flag rate of the month against p-chart limits around the centre's rate.
create table if not exists marts.spc_p_chart (
    period          varchar not null,
    team            varchar not null,
    metric          varchar not null,   -- error_rate | flag_rate
    numerator       double not null,    -- customers with a confirmed error | reads with a warn/fail flag
    denominator     double not null,    -- customers read | reads (not 未抄)
    rate            double,
    centre_rate     double,             -- p̄: the centre's pooled rate of the month
    lcl             double,             -- lower control limit at the team's volume
    ucl             double,             -- upper control limit
    signal          varchar not null,   -- above | below | in_control | no_volume
    config_version  varchar not null,
    computed_at     timestamp not null
);
