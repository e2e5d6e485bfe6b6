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
    delivery_id      varchar primary key,   -- sha256[:16] of content + sheet
    file_name        varchar not null,
    source_path      varchar not null,      -- where it was when ingested
    archived_path    varchar,               -- where it was moved after loading
    sha256           varchar not null,
    size_bytes       bigint not null,
    sheet            varchar,               -- null for CSV
    kind             varchar,               -- readings, review_findings, ...
    period           varchar,               -- YYYY-MM
    period_source    varchar,               -- column | file_name | explicit
    scope            varchar,               -- e.g. the team; a newer delivery with the same
                                            -- kind+period+scope supersedes this one
    encoding         varchar,
    status           varchar not null,      -- loaded | superseded | rejected
    superseded_by    varchar,
    rows_read        bigint,
    rows_loaded      bigint,
    rows_quarantined bigint,
    rows_skipped     bigint,                -- blank rows, totals rows, title rows
    unmapped_columns varchar[],
    message          varchar,
    config_version   varchar not null,
    received_at      timestamp not null
);

-- Every row that did not reach core, with the reason.
create table if not exists quarantine.rows (
    delivery_id  varchar not null,
    kind         varchar not null,
    period       varchar,
    sheet        varchar,
    source_row   integer not null,          -- 1-based line/row number in the file
    stage        varchar not null,          -- cast | validate
    column_name  varchar,
    check_name   varchar not null,
    raw_value    varchar,                   -- as delivered (stays in the warehouse)
    message      varchar,
    masked_value varchar                    -- raw_value with personal data masked: what views show
);
alter table quarantine.rows add column if not exists masked_value varchar;

-- Rows of a delivery that hold no data: title rows above the header, blank rows, totals rows.
create table if not exists ops.skipped_rows (
    delivery_id  varchar not null,
    sheet        varchar,
    source_row   integer not null,
    reason       varchar not null           -- title row | blank row | totals row
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
