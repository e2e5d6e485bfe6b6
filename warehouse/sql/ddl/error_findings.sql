-- 差错台账: one row per confirmed review finding (复核差错 / 审核工作单) in force for the month, attributed
-- to team, reader and segment and to the responsible party (docs/errors.md). SQL: warehouse/sql/error_findings.sql.
create table if not exists marts.error_findings (
    period             varchar not null,
    finding_no         varchar not null,    -- 工单编号
    team               varchar not null,    -- the month's reading of the customer/meter, else the finding's own, else '(未指定)'
    reader             varchar not null,    -- the reader of that reading (whoever is responsible)
    segment_no         varchar not null,
    attributed_by      varchar not null,    -- reading_meter | reading_customer | due_quarantined | finding | none
    customer_no        varchar not null,
    meter_no           varchar,             -- as the finding names it (null: the whole customer)
    meter_due          boolean not null,    -- the finding's meter is one of the customer's meters due this month
    error_type         varchar not null,    -- config/codes.toml [error_type]
    responsible        varchar not null,    -- READER | CLERK | SYSTEM
    responsible_source varchar not null,    -- finding (its 责任岗位) | error_type (config/errors.toml types)
    responsible_role   varchar,             -- 责任岗位 as delivered (code), null: not delivered
    kwh_impact         double,              -- |差错电量| (kWh); null: not delivered
    found_by           varchar,             -- REVIEW | RECHECK | COMPLAINT
    found_date         date,
    in_scope           boolean not null,    -- the finding's customer is among the month's meters due (marts.meters_due)
    delivery_id        varchar not null,    -- the finding's delivery, sheet and line
    sheet              varchar,
    source_row         integer not null,
    config_version     varchar not null,
    computed_at        timestamp not null,
    primary key (period, finding_no)
);
