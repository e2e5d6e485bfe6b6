-- Each reader pair's workload before and after the suggested rotation. SQL: warehouse/sql/rotation_loads.sql.
create table if not exists marts.rotation_loads (
    period                  varchar not null,
    team                    varchar not null,
    pair                    varchar not null,    -- the pair's two names, sorted, joined with '/'
    reader                  varchar,
    partner                 varchar,
    segments_before         bigint,
    segments_after          bigint,
    customers_before        bigint,
    customers_after         bigint,
    mean_customers          double,              -- the team's mean pair load (customers)
    share_of_mean_before    double,
    share_of_mean_after     double,
    within_tolerance_after  boolean,
    tolerance               double not null,
    rotation_version        varchar not null,
    config_version          varchar not null,
    computed_at             timestamp not null
);
