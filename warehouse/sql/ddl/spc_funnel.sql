-- The DDL of marts.spc_funnel (warehouse/sql/spc_funnel.sql, checks/spc.py, config/spc.toml).
-- Every team and reader: rate against volume, with the funnel's inner (95 %) and outer (99.8 %) limits.
create table if not exists marts.spc_funnel (
    period          varchar not null,
    level           varchar not null,   -- team | reader
    team            varchar not null,
    reader          varchar,            -- null at level team
    metric          varchar not null,
    numerator       double not null,
    denominator     double not null,
    rate            double,
    centre_rate     double,
    inner_coverage  double not null,
    outer_coverage  double not null,
    lower_inner     double,
    upper_inner     double,
    lower_outer     double,
    upper_outer     double,
    signal          varchar not null,   -- above_998 | above_950 | in_control | below_950 | below_998 | no_volume
    config_version  varchar not null,
    computed_at     timestamp not null
);
