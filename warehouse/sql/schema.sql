-- Static part of the warehouse schema. The raw.<kind> and core.<kind> tables are generated
-- from config/mappings/<kind>.toml by warehouse/schema.py (one column per canonical column).
--
-- Layers: raw (as delivered, text, every column kept) -> core (typed, canonical)
--         -> marts (what dashboards and reports read); quarantine (rows that failed, with
--         the reason); ops (registry of deliveries and of config versions).

create schema if not exists raw;
create schema if not exists core;
create schema if not exists marts;
create schema if not exists quarantine;
create schema if not exists ops;

-- One row per file (per sheet for workbooks) ever offered to the warehouse.
create table if not exists ops.deliveries (
    delivery_id      varchar primary key,   -- sha256[:16] of content (+ ':' sheet for workbooks)
    file_name        varchar not null,
    source_path      varchar not null,      -- where it was when ingested
    archived_path    varchar,               -- where it was moved after loading
    sha256           varchar not null,
    size_bytes       bigint not null,
    sheet            varchar,               -- null for CSV
    kind             varchar,               -- readings, review_findings, ...
    period           varchar,               -- YYYY-MM
    period_source    varchar,               -- column | file_name | explicit
    grain            varchar,               -- the kind's grain column (segment_no, team); null: whole centre
    scope            varchar,               -- the grain values its rows hold (ops.delivery_grains has each)
    encoding         varchar,
    status           varchar not null,      -- loaded | partly superseded | superseded | rejected
    superseded_by    varchar,               -- the later deliveries that replaced some or all of it (', ')
    replaces         varchar,               -- what it replaced when it loaded (readable; details in delivery_grains)
    rows_read        bigint,
    rows_loaded      bigint,
    rows_quarantined bigint,
    rows_skipped     bigint,                -- title, blank and totals rows, exact repeats
    unmapped_columns varchar[],
    message          varchar,
    config_version   varchar not null,
    received_at      timestamp not null,
    seq              bigint not null        -- order of changes to the warehouse (ops.change_seq)
);

-- What each delivery covers: one row per grain value its rows hold (a segment, a team; '' for rows
-- without a value). For each (kind, period, grain value) the rows in force come from the latest
-- delivery holding it; earlier ones are marked superseded_by it, and their core rows removed.
create table if not exists ops.delivery_grains (
    delivery_id      varchar not null,
    kind             varchar not null,
    period           varchar not null,
    grain_value      varchar not null,
    rows_loaded      bigint not null,
    rows_quarantined bigint not null,
    superseded_by    varchar,               -- null: in force
    superseded_at    timestamp
);

-- Every row that did not reach core, with the reason.
create table if not exists quarantine.rows (
    delivery_id   varchar not null,
    kind          varchar not null,
    period        varchar,
    sheet         varchar,
    source_row    integer not null,         -- 1-based line/row number in the file
    stage         varchar not null,         -- read | cast | validate
    column_name   varchar,
    check_name    varchar not null,
    raw_value     varchar,                  -- as delivered (stays in the warehouse)
    message       varchar,
    masked_value  varchar,                  -- raw_value with personal data masked: what views show
    grain_value   varchar,                  -- the row's segment/team ('' none); null: an unreadable line
    superseded_by varchar                   -- the later delivery that replaced this row's grain value
);

-- Rows of a delivery that hold no data: title rows above the header, blank rows, totals rows,
-- and exact repeats of an earlier row of the same delivery (dropped, counted in rows_skipped).
create table if not exists ops.skipped_rows (
    delivery_id  varchar not null,
    sheet        varchar,
    source_row   integer not null,
    reason       varchar not null           -- title row | blank row | totals row | exact repeat of line N
);

-- Order of changes: deliveries, mart builds and publishes take their seq from here.
create sequence if not exists ops.change_seq;

-- Which month of which mart was built from which state of the data: a month whose latest delivery
-- is newer than a mart's build (a load that committed, then the marts failed or were killed) is
-- rebuilt by the next `readq build` / `readq ingest`.
create table if not exists ops.mart_builds (
    mart           varchar not null,
    period         varchar not null,
    data_seq       bigint not null,         -- the month's latest delivery seq when it was built
    seq            bigint not null,
    config_version varchar not null,
    built_at       timestamp not null,
    primary key (mart, period)
);

-- Each snapshot published for the dashboards: the warehouse state (seq) it holds.
create table if not exists ops.publishes (
    seq          bigint not null,
    published_at timestamp not null,
    path         varchar not null
);

create table if not exists ops.schema_info (
    version integer not null
);

create table if not exists ops.config_versions (
    config_version varchar primary key,
    recorded_at    timestamp not null,
    files          json not null            -- {relative path: text}
);

-- 实抄率 / 差错率 and their counts, per team per month (product brief §4).
create table if not exists marts.kpi_team_month (
    period                  varchar not null,   -- YYYY-MM
    team                    varchar not null,
    customers_due           bigint not null,    -- 应抄户数
    customers_read          bigint not null,    -- 实抄户数 (status READ)
    customers_missed        bigint not null,    -- 未抄户数
    customers_estimated     bigint not null,    -- 估抄户数
    customers_remote        bigint not null,    -- customers read remotely (AMI)
    customers_team_from_assignment bigint not null, -- customers whose team came from the assignment (抄表派工)
    customers_with_error    bigint,             -- 差错户数; null = no review findings delivered
    meters_due              bigint not null,    -- 应抄电能表只数
    meters_with_error       bigint,             -- 差错只数
    kwh_due                 double not null,    -- 应抄电量 (抄见电量 of the month)
    kwh_error               double,             -- 差错电量 (|kWh impact| of findings)
    actual_read_rate        double,             -- 实抄率 = customers_read / customers_due
    missed_rate             double,             -- 漏抄率
    estimated_rate          double,             -- 估抄率
    error_rate              double,             -- 差错率(户) = customers_with_error / customers_read
    error_rate_meter        double,             -- 差错率(只) = meters_with_error / meters_due
    error_rate_kwh          double,             -- 差错率(电量) = kwh_error / kwh_due
    errors_per_10k          double,             -- 差错户数 per 万户 read
    actual_read_rate_target double not null,
    error_rate_target       double not null,    -- manual/remote targets weighted by remote share
    config_version          varchar not null,
    computed_at             timestamp not null,
    primary key (period, team)
);
