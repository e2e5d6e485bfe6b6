-- Per 抄表段, reader and month: reads off the 例日 and late handheld uploads of the on-site round.
-- SQL: warehouse/sql/workflow_segments.sql; docs/workflows.md.
create table if not exists marts.workflow_segments (
    period             varchar not null,
    team               varchar not null,
    reader             varchar not null,
    segment_no         varchar not null,
    reads              bigint not null,     -- on-site (non-remote) reads, status READ
    reads_dated        bigint not null,     -- ... with a read date and a 例日
    reads_off_plan     bigint not null,     -- ... read |read date − 例日| ≥ on_time_rate.max_days_off
    off_plan_share     double,              -- reads_off_plan / reads_dated
    off_plan           boolean not null,    -- off_plan_share ≥ targets.toml on_time_rate.segment_off_plan_share
    plan_date          date,                -- the 例日 as a date of the month
    first_read_date    date,
    last_read_date     date,
    max_days_off       integer,             -- the largest |read date − 例日|
    uploads_known      bigint not null,     -- reads with an upload time
    uploads_late       bigint not null,     -- ... uploaded after the read day + upload_timely.max_days
    last_upload        timestamp,
    upload_late_hours  double,              -- hours the latest late upload came after its deadline; null: none late
    delivery_id        varchar not null,    -- the segment's worst reading: its delivery, sheet and line
    sheet              varchar,
    source_row         integer not null,
    file_name          varchar not null,
    config_version     varchar not null,
    computed_at        timestamp not null
);
