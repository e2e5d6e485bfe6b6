-- 应抄电能表: one row per meter due in the month (product brief §4): every meter the month's reading
-- exports list, those whose rows sit in quarantine included (read_status 'UNKNOWN'), closed and
-- suspended customers of the customer master excluded. SQL: warehouse/sql/meters_due.sql.
create table if not exists marts.meters_due (
    period          varchar not null,
    team            varchar not null,       -- as marts.meter_readings: export, else assignment, else '(未指定)'
    team_source     varchar not null,       -- export | assignment | none
    reader          varchar not null,
    reader_source   varchar not null,       -- export | assignment | none
    segment_no      varchar not null,       -- '(未指定)' for a quarantined row without one
    customer_no     varchar,                -- null: a quarantined row without a readable 用户编号
    customer_key    varchar not null,       -- customer_no, else the row ('?<delivery>:<row>'): what 户 counts
    meter_no        varchar,                -- null: a quarantined row without a readable 电能表编号
    meter_key       varchar not null,       -- meter_no, else the row: what 只 counts
    customer_class  varchar,                -- HV | LV_NONRES | LV_RES: master, else the reading
    read_mode       varchar,                -- MANUAL | HANDHELD | REMOTE
    read_status     varchar not null,       -- READ | MISSED | ESTIMATED | UNKNOWN (in quarantine)
    in_quarantine   boolean not null,       -- a row of this meter sits in quarantine and none loaded
    read_types      integer not null,       -- 示数类型 rows of the meter this month (loaded + quarantined)
    kwh             double,                 -- 抄见电量 of the total-active register (示数类型 有功(总)) only
    read_date       date,
    plan_day        integer,                -- 例日: export, else the assignment
    plan_date       date,                   -- the 例日 as a date of the month (clamped to its last day)
    days_off        integer,                -- read_date − plan_date
    on_time         boolean,                -- |days_off| < on_time_rate.max_days_off; null: no read date or 例日
    upload_time     timestamp,
    upload_days     integer,                -- upload date − read date
    upload_timely   boolean,                -- upload_days <= upload_timely.max_days; null: no upload time or read date
    customer_status varchar,                -- latest customer-master status up to the month (null: none delivered)
    delivery_id     varchar not null,       -- the meter's row: its delivery, sheet and line
    sheet           varchar,
    source_row      integer not null,
    config_version  varchar not null,
    computed_at     timestamp not null
);
