-- The DDL of marts.spc_funnel_limits (warehouse/sql/spc_funnel_limits.sql, checks/spc.py, config/spc.toml).
-- The funnel curves: limits tabulated over volume for the plot.
create table if not exists marts.spc_funnel_limits (
    period          varchar not null,
    level           varchar not null,
    metric          varchar not null,
    volume          double not null,
    centre_rate     double not null,
    inner_coverage  double not null,
    outer_coverage  double not null,
    lower_inner     double,
    upper_inner     double,
    lower_outer     double,
    upper_outer     double,
    config_version  varchar not null,
    computed_at     timestamp not null
);
