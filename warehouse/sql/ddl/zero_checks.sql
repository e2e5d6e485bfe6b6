-- 零电量核实: remote customers with zero use for the configured consecutive cycles, the on-site check
-- sample their class requires, and the visits on record. SQL: warehouse/sql/zero_checks.sql.
create table if not exists marts.zero_checks (
    period           varchar not null,
    team             varchar not null,
    reader           varchar not null,
    segment_no       varchar not null,
    customer_no      varchar not null,
    customer_class   varchar,             -- HV | LV_NONRES | LV_RES (null: unknown, residential's share)
    meters           varchar[],           -- its remote meters
    zero_cycles      integer not null,    -- the longest run of zero cycles among them, up to the month
    required_share   double not null,     -- targets.toml zero_check_rate: HV 1.0, LV_NONRES 0.8, LV_RES 0.2
    class_customers  bigint not null,     -- such customers of the team and class
    class_required   bigint not null,     -- ceil(required_share × class_customers)
    check_rank       bigint not null,     -- within team and class: the longest runs first
    selected         boolean not null,    -- in the sample to check on site (check_rank ≤ class_required)
    visited          boolean not null,    -- a field anomaly report or review finding names the customer this month
    visit_kind       varchar,             -- report | finding
    visit_id         varchar,             -- its 报告单编号 / 工单编号
    config_version   varchar not null,
    computed_at      timestamp not null
);
