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

-- marts.kpi_team_month and the other KPI marts: warehouse/sql/ddl/kpi_levels_month.sql.

-- ---------------------------------------------------------------------------------------------
-- The analysis model of the plausibility rules (product brief §2, §6, §8).

-- Every in-force reading of the month, attributed and enriched: one row per metering point and read
-- type. Team and reader come from the export when it names them, else from the assignment (抄表派工)
-- valid for the segment that month, else '(未指定)' (unattributed, kept). Class, multiplier, register
-- digits and contract capacity come from the customer/meter master when it was delivered, else from
-- the reading. SQL: warehouse/sql/meter_readings.sql.
create table if not exists marts.meter_readings (
    period            varchar not null,
    delivery_id       varchar not null,     -- the in-force row: its delivery, sheet and line
    sheet             varchar,
    source_row        integer not null,
    team              varchar not null,
    reader            varchar not null,
    team_source       varchar not null,     -- export | assignment | none (unattributed)
    reader_source     varchar not null,     -- export | assignment | none (unattributed)
    segment_no        varchar not null,
    plan_day          integer,              -- 例日: export, else the assignment
    customer_no       varchar not null,
    mp_key            varchar not null,     -- the metering point's history key: 计量点编号, else customer + 示数类型
    mp_id             ubigint not null,     -- hash of mp_key (joins)
    meter_no          varchar not null,
    read_type         varchar,
    customer_class    varchar,              -- HV | LV_NONRES | LV_RES
    multiplier        double,               -- 综合倍率: master, else the reading
    reading_multiplier double,              -- 综合倍率 as the reading carries it (抄见电量 was computed with it)
    digits_int        integer,              -- 抄表位数 6.2 -> 6 and 2: master, else the reading
    digits_dec        integer,
    contract_capacity double,               -- 合同容量 (kW/kVA), master only
    master_source     varchar not null,     -- master | reading: where class, multiplier, digits came from
    last_read         double,
    this_read         double,
    kwh               double,               -- 抄见电量 as exported
    read_status       varchar,
    read_mode         varchar,
    read_date         date,
    upload_time       timestamp,
    anomaly_type      varchar,
    copies            integer not null,     -- in-force rows of this meter and read type this month (DUPLICATE)
    copies_differ     boolean not null,     -- ... whose values differ
    repeats_dropped   integer not null,     -- exact repeats of this row dropped at ingest (ops.skipped_rows)
    config_version    varchar not null,
    computed_at       timestamp not null
);

-- What the history of each reading's metering point says (at most 24 months back): the read period,
-- the use, the expected use with its band, robust statistics, runs of zeros and estimates, the CUSUM
-- change point. Built by checks/history.py (prepare step of warehouse/sql/reading_context.sql).
create table if not exists marts.reading_context (
    period            varchar not null,
    mp_key            varchar not null,
    mp_id             ubigint not null,
    meter_no          varchar not null,
    prev_period       varchar,              -- the previous reading of this metering point (not 未抄)
    prev_read_date    date,
    prev_this_read    double,
    meter_changed     boolean not null,     -- a new meter number since that reading: the register restarted
    period_days       integer,              -- days of the read period (dates, else 例日, else months)
    cycle_months      integer,              -- billing months the period spans (1 monthly, 2, 4 …)
    use_kwh           double,               -- (本次 − 上次) × 倍率; the wrapped use after a plausible roll-over; null: decrease
    wrapped_kwh       double,               -- (本次 − 上次 + 10^digits) × 倍率 when 本次 < 上次
    use_per_day       double,
    expected_kwh      double,               -- expected use of this period (blend below × period_days)
    expected_per_day  double,
    expected_trailing double,               -- trailing-3 median per day × seasonal index
    expected_yoy      double,               -- same month last year, per day
    expected_smooth   double,               -- the billing system's reference use: exponential smoothing of the
                                            -- uses reported before (what a handheld shows; fabrication copies it)
    season_index      double,               -- class seasonal index of this month (peer median)
    history_months    integer,              -- valid months of history behind the expected value
    band_low          double,               -- HIGH/LOW band (kWh) for this period
    band_high         double,
    robust_median     double,               -- per day, deseasonalised, over 12–24 months
    robust_mad        double,
    robust_z          double,
    robust_months     integer,
    zero_cycles       integer not null,     -- consecutive read cycles with zero use, this one included
    estimate_cycles   integer not null,     -- consecutive 估抄, this one included
    repeat_kwh1       double,               -- use of the previous two periods (REPEATED_USE) ...
    repeat_kwh2       double,
    repeat_days1      integer,              -- ... and their days
    repeat_days2      integer,
    drop_start        varchar,              -- CUSUM change point: first month of a sustained drop
    drop_ratio        double,               -- mean use after / before it
    drop_t            double,               -- its t statistic
    drop_months       integer,              -- months since it started, this one included
    prev_suspect      boolean not null,     -- the previous reading looks wrong and this one compensates it
    config_version    varchar not null,
    computed_at       timestamp not null
);

-- One row per rule that fired on a reading, with the evidence (config/rules.toml, checks/rules/).
create table if not exists marts.reading_flags (
    period            varchar not null,
    team              varchar not null,
    reader            varchar not null,
    segment_no        varchar not null,
    customer_no       varchar not null,
    meter_no          varchar not null,
    mp_key            varchar not null,
    rule_id           varchar not null,
    severity          varchar not null,     -- info | warn | fail
    observed          double,               -- the value judged (kWh, per day, days …; evidence says which)
    expected          double,
    ratio             double,
    history_months    integer,              -- months of history the rule used
    evidence          json not null,        -- everything the rule needs to be checked by hand
    delivery_id       varchar not null,
    sheet             varchar,
    source_row        integer not null,
    config_version    varchar not null,
    computed_at       timestamp not null
);

-- Each rule against the confirmed review findings (复核差错) of the month.
create table if not exists marts.rule_efficacy (
    period              varchar not null,
    rule_id             varchar not null,   -- a rule, or 'ALL' (any rule at warn or fail)
    severity            varchar,            -- the rule's configured severity (null for ALL)
    reads               bigint not null,    -- readings of the month (not 未抄)
    flags               bigint not null,
    flags_per_1000      double,
    findings_delivered  boolean not null,   -- false: precision and recall are null (no data, not 0)
    flags_confirmed     bigint,             -- flags on a reading a finding confirmed as an error
    precision           double,
    confirmed_errors    bigint,             -- confirmed errors of the month (findings on a reading)
    errors_flagged      bigint,             -- ... of which this rule flagged
    recall              double,
    config_version      varchar not null,
    computed_at         timestamp not null
);

-- Digit forensics and fabrication signatures per reader, over the 12 months ending with the month.
create table if not exists marts.reader_forensics (
    period               varchar not null,
    team                 varchar not null,
    reader               varchar not null,
    reads                bigint not null,   -- on-site readings (not 未抄, not remote) in the 12 months
    reads_month          bigint not null,
    months               integer not null,  -- months of the 12 with readings
    digit_counts         bigint[] not null, -- last integer digit of 本次示数: counts of 0 … 9
    heaping_share        double,            -- share ending in 0 or 5 (0.2 expected)
    heaping_index        double,            -- heaping_share / 0.2
    last_digit_chi2      double,            -- chi-square against uniform (9 d.f.)
    last_digit_p         double,
    digit_slip_flags     bigint not null,
    digit_slip_share     double,            -- DIGIT_SLIP flags per reading
    residual_reads       bigint not null,   -- readings with an expected value behind the signature
    residual_dispersion  double,            -- 1.4826 × MAD of log(use / expected)
    peer_dispersion      double,            -- median of the team's other readers
    signature            double,            -- peer_dispersion / residual_dispersion (high: too close to expected)
    signature_rank       integer,           -- 1 = most suspicious in the centre this month
    signature_pct        double,            -- rank / readers (0.1 = top decile)
    flagged              boolean not null,
    flag_reasons         varchar[] not null, -- HEAPING, LAST_DIGIT, DIGIT_SLIP, FABRICATION
    config_version       varchar not null,
    computed_at          timestamp not null
);
