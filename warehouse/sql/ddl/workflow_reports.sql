-- 异常报告单 workflow: one row per field anomaly report in force for the month with its reporting and
-- closure deadlines, ages and attribution. SQL: warehouse/sql/workflow_reports.sql; docs/workflows.md.
create table if not exists marts.workflow_reports (
    period                varchar not null,
    report_no             varchar not null,    -- 报告单编号
    team                  varchar not null,    -- the report's 班组, else the customer's home team, else '(未指定)'
    reader                varchar not null,    -- the report's 报告人, else the customer's reader
    segment_no            varchar not null,
    attributed_by         varchar not null,    -- report | customer | none
    customer_no           varchar not null,
    meter_no              varchar,
    customer_class        varchar,             -- HV | LV_NONRES | LV_RES: the report's, else the meters due
    anomaly_type          varchar not null,    -- config/codes.toml [field_anomaly_type]
    reporter              varchar,             -- 报告人 as delivered
    found_at              timestamp not null,  -- 发现时间
    reported_at           timestamp,           -- 上报时间 (null: not reported)
    handed_over_at        timestamp,           -- 移交时间
    closed_at             timestamp,           -- 处理完成时间 (null: open at the cut-off)
    outcome               varchar,             -- 处理结果
    immediate             boolean not null,    -- a type reported immediately (targets.toml immediate_types)
    report_limit_hours    integer,             -- the immediate limit; null: the same day
    report_hours          double,              -- found → reported, hours (null: not reported)
    reported_in_time      boolean not null,    -- within the limit of its type; false when never reported
    report_late_hours     double,              -- hours past the limit (to the cut-off when never reported)
    is_defect             boolean not null,    -- a defect with a closure deadline (targets.toml defect_types)
    closure_days_allowed  integer,             -- working days allowed (LV 3, HV 1); null: not a defect
    closure_working_days  integer,             -- working days reported → closed (closed defects)
    closure_state         varchar,             -- CLOSED_IN_TIME | CLOSED_LATE | OPEN_OVERDUE | OPEN_PENDING
    open_working_days     integer,             -- working days open at the cut-off (open reports)
    overdue               boolean not null,    -- reported late, or a defect open past its deadline
    cutoff_at             timestamp,           -- the export's latest time stamp
    delivery_id           varchar not null,    -- the report's delivery, sheet and line
    sheet                 varchar,
    source_row            integer not null,
    file_name             varchar not null,
    config_version        varchar not null,
    computed_at           timestamp not null
);
