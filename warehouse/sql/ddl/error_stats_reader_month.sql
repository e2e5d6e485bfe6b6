-- 差错统计表 per reader (抄表员) and month; the clerk's and the system's errors in rows of their own
-- SQL: warehouse/sql/error_stats_reader_month.sql; columns: docs/errors.md.
create table if not exists marts.error_stats_reader_month (
    period                  varchar not null,   -- YYYY-MM
    team                    varchar not null,
    reader                  varchar not null,   -- the reader, or '(核算员)' / '(采集系统)' (config/errors.toml parties)
    party                   varchar not null,   -- READER | CLERK | SYSTEM
    customers_due           bigint,             -- 应抄户数 (marts.meters_due; a customer at its first meter) (null: a clerk/system row)
    customers_read          bigint,             -- 实抄户数: every meter of the customer READ
    customers_unknown       bigint,             -- 户 whose row sits in quarantine (status unknown)
    meters_due              bigint,             -- 应抄电能表只数
    kwh_due                 double,             -- 应抄电量 (kWh, total-active register, loaded meters)
    findings_delivered      boolean not null,   -- false: every error count and rate below is null (no data)
    misread_customers       bigint,             -- 错抄 户数
    misread_kwh             double,             -- 错抄 电量 (kWh)
    missed_customers        bigint,             -- 漏抄 户数
    missed_kwh              double,             -- 漏抄 电量 (kWh)
    estimated_customers     bigint,             -- 估抄 户数
    estimated_kwh           double,             -- 估抄 电量 (kWh)
    proxy_customers         bigint,             -- 代抄 户数
    proxy_kwh               double,             -- 代抄 电量 (kWh)
    crossed_customers       bigint,             -- 串户 户数
    crossed_kwh             double,             -- 串户 电量 (kWh)
    not_on_site_customers   bigint,             -- 不到位 户数
    not_on_site_kwh         double,             -- 不到位 电量 (kWh)
    date_change_customers   bigint,             -- 私自变更抄表日期 户数
    date_change_kwh         double,             -- 私自变更抄表日期 电量 (kWh)
    info_mismatch_customers bigint,             -- 信息不符未报 户数
    info_mismatch_kwh       double,             -- 信息不符未报 电量 (kWh)
    multiplier_customers    bigint,             -- 倍率不符 户数
    multiplier_kwh          double,             -- 倍率不符 电量 (kWh)
    entry_customers         bigint,             -- 录入/计算差错 户数
    entry_kwh               double,             -- 录入/计算差错 电量 (kWh)
    data_prep_customers     bigint,             -- 数据准备差错 户数
    data_prep_kwh           double,             -- 数据准备差错 电量 (kWh)
    auto_collect_customers  bigint,             -- 采集差错 户数
    auto_collect_kwh        double,             -- 采集差错 电量 (kWh)
    unreported_customers    bigint,             -- 异常未报 户数
    unreported_kwh          double,             -- 异常未报 电量 (kWh)
    total_customers         bigint,             -- 合计户数: the sum of the types' 户数
    customers_with_error    bigint,             -- 差错户数: distinct customers with an error
    meters_with_error       bigint,             -- 差错只数
    kwh_error               double,             -- 差错电量 = 合计电量 (|kWh|)
    findings                bigint,             -- findings counted (in scope)
    error_rate              double,             -- 差错率(户) = customers_with_error / customers_read
    error_rate_meter        double,             -- 差错率(只) = meters_with_error / meters_due
    error_rate_kwh          double,             -- 差错率(电量) = kwh_error / kwh_due
    errors_per_10k          double,             -- 差错户数 per 万户 read = 10,000 × error_rate
    reader_customers        bigint,             -- 差错户数 by responsible party: the reader ...
    clerk_customers         bigint,             -- ... the clerk (核算员, wrong pre-loaded data) ...
    system_customers        bigint,             -- ... remote collection (采集系统)
    reader_kwh              double,
    clerk_kwh               double,
    system_kwh              double,
    findings_without_kwh    bigint,             -- findings counted that carry no 差错电量 (added as 0)
    findings_out_of_scope   bigint,             -- findings whose customer is not among the month's meters due (not counted)
    findings_quarantined    bigint not null,    -- rows of the month's review findings in quarantine (the whole month)
    null_reason             varchar,            -- NO_FINDINGS | NO_VOLUME | NOT_A_READER (config/errors.toml reasons)
    config_version          varchar not null,
    computed_at             timestamp not null,
    primary key (period, team, reader, party)
);
