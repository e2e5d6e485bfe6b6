-- Next month's recheck list, per reader. SQL: warehouse/sql/recheck_sample.sql; docs/recheck.md.
create table if not exists marts.recheck_sample (
    period                 varchar not null,    -- the month the readings are of (rechecked the month after)
    team                   varchar not null,
    reader                 varchar not null,
    draw_rank              bigint not null,     -- 1 = the largest key
    customer_no            varchar not null,
    meter_no               varchar not null,
    segment_no             varchar,
    flag_severity          varchar,             -- the reading's worst flag (null: none)
    rule_ids               varchar[],
    weight                 double not null,
    inclusion_probability  double not null,
    candidates             bigint not null,     -- the reader's candidate readings
    n_planned              bigint not null,
    n_drawn                bigint not null,
    delivery_id            varchar not null,    -- the reading's delivery and line
    source_row             integer not null,
    file_name              varchar,
    seed                   bigint not null,
    recheck_version        varchar not null,
    config_version         varchar not null,
    computed_at            timestamp not null
);
