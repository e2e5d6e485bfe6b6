-- Each segment's holder, tenure and rotation status in the month. SQL: warehouse/sql/rotation_segments.sql;
-- docs/rotation.md.
create table if not exists marts.rotation_segments (
    period             varchar not null,
    team               varchar not null,
    segment_no         varchar not null,
    segment_name       varchar,
    reader             varchar not null,    -- the responsible reader
    partner            varchar,             -- 同组抄表员
    segment_read_mode  varchar,             -- MANUAL | REMOTE (remote: exempt)
    customer_count     bigint,
    reader_tenure      integer,             -- consecutive months the reader has held the segment
    partner_tenure     integer,
    tenure_months      integer,             -- the longer of the pair
    since              varchar,             -- the first month of that run (YYYY-MM)
    status             varchar not null,    -- ok | due | violation | exempt
    months_left        integer,             -- months until the limit (null: exempt)
    max_months         integer not null,
    rotation_version   varchar not null,    -- config/rotation.toml version
    config_version     varchar not null,
    computed_at        timestamp not null
);
