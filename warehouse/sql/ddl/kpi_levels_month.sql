-- Every KPI per reader, segment, team and the centre (level); the four kpi_<level>_month
-- marts are its levels. SQL: warehouse/sql/kpi_levels_month.sql; catalogue: config/kpis.toml.
-- The four level marts are created below from this table's columns (less the keys another level
-- uses), so a new KPI is one column here. One row per unit and level: the key check (`-- key:`).
create table if not exists marts.kpi_levels_month (
    period                                   varchar not null, -- YYYY-MM
    level                                    varchar not null, -- reader | segment | team | centre
    team                                     varchar,          -- null at the centre level
    reader                                   varchar,          -- reader level only
    segment_no                               varchar,          -- segment level only
    customers_due                            bigint not null,  -- 应抄户数: customers due (quarantined included, closed/suspended excluded)
    customers_quarantined                    bigint,           -- status unknown (in quarantine): in customers_due, never in customers_read
    customers_read                           bigint not null,  -- 实抄户数: every meter READ
    customers_missed                         bigint not null,  -- 未抄户数: a meter MISSED
    customers_estimated                      bigint not null,  -- 估抄户数: a meter ESTIMATED, none MISSED
    customers_remote                         bigint not null,  -- customers read remotely (AMI)
    customers_team_from_assignment           bigint not null,  -- customers whose team came from the assignment (抄表派工)
    meters_due                               bigint not null,  -- 应抄电能表只数
    meters_quarantined                       bigint,           -- meters whose row sits in quarantine (status unknown)
    kwh_due                                  double not null,  -- 应抄电量: 抄见电量 of the total-active register, loaded meters
    findings_delivered                       boolean,          -- review findings (复核差错) delivered for the month
    customers_with_error                     bigint,           -- 差错户数 (marts.error_findings in scope); null = no findings delivered
    meters_with_error                        bigint,           -- 差错只数
    kwh_error                                double,           -- 差错电量 (|kWh impact| of the findings)
    customers_on_time                        bigint,           -- customers every meter of which was read within the 例日 limit
    customers_on_time_known                  bigint,           -- customers with a read date and a 例日 (0: on_time_rate null)
    customers_upload_timely                  bigint,           -- customers every upload of which was timely
    customers_upload_known                   bigint,           -- customers with an upload time and a read date
    anomalies_delivered                      boolean,          -- field anomaly reports (异常报告单) delivered for the month
    reports                                  bigint,           -- 异常报告单 of the month; null = none delivered
    reports_in_time                          bigint,           -- ... reported within the limit of their type
    defects_due                              bigint,           -- defects closed, or open past their deadline at the export's cut-off
    defects_closed_in_time                   bigint,           -- ... closed within the deadline (working days)
    defects_pending                          bigint,           -- defects open at the cut-off and not yet late (not in defects_due)
    master_delivered                         boolean,          -- customer master (用户档案) delivered for the month
    customers_new_changed                    bigint,           -- 当前新装 / 当前变更 customers of the month's master; null = no master
    customers_verified                       bigint,           -- ... verified on site; null = no export delivers this
    zero_runs_hv                             bigint,           -- remote HV customers with zero use for the configured consecutive cycles
    zero_runs_checked_hv                     bigint,           -- ... checked on site; null = no export delivers this
    zero_runs_lv_nonres                      bigint,           -- the same, low-voltage non-residential
    zero_runs_checked_lv_nonres              bigint,
    zero_runs_lv_res                         bigint,           -- the same, residential
    zero_runs_checked_lv_res                 bigint,
    -- 实抄率 = customers_read / customers_due
    actual_read_rate                         double,           -- null: see _null_reason
    actual_read_rate_target                  double not null,         -- targets.toml
    actual_read_rate_met                     boolean,          -- null: no value or no target
    actual_read_rate_mom                     double,           -- minus the previous month's value
    actual_read_rate_yoy                     double,           -- minus the same month last year's value
    actual_read_rate_null_reason             varchar,          -- config/kpis.toml [null_reasons]
    -- 漏抄率 = customers_missed / customers_due
    missed_rate                              double,           -- null: see _null_reason
    missed_rate_target                       double,           -- targets.toml
    missed_rate_met                          boolean,          -- null: no value or no target
    missed_rate_mom                          double,           -- minus the previous month's value
    missed_rate_yoy                          double,           -- minus the same month last year's value
    missed_rate_null_reason                  varchar,          -- config/kpis.toml [null_reasons]
    -- 估抄率 = customers_estimated / customers_due
    estimated_rate                           double,           -- null: see _null_reason
    estimated_rate_target                    double,           -- targets.toml
    estimated_rate_met                       boolean,          -- null: no value or no target
    estimated_rate_mom                       double,           -- minus the previous month's value
    estimated_rate_yoy                       double,           -- minus the same month last year's value
    estimated_rate_null_reason               varchar,          -- config/kpis.toml [null_reasons]
    -- 差错率(户) = customers_with_error / customers_read
    error_rate                               double,           -- null: see _null_reason
    error_rate_target                        double not null,         -- targets.toml
    error_rate_met                           boolean,          -- null: no value or no target
    error_rate_mom                           double,           -- minus the previous month's value
    error_rate_yoy                           double,           -- minus the same month last year's value
    error_rate_null_reason                   varchar,          -- config/kpis.toml [null_reasons]
    -- 差错率(只) = meters_with_error / meters_due
    error_rate_meter                         double,           -- null: see _null_reason
    error_rate_meter_target                  double,           -- targets.toml
    error_rate_meter_met                     boolean,          -- null: no value or no target
    error_rate_meter_mom                     double,           -- minus the previous month's value
    error_rate_meter_yoy                     double,           -- minus the same month last year's value
    error_rate_meter_null_reason             varchar,          -- config/kpis.toml [null_reasons]
    -- 差错率(电量) = kwh_error / kwh_due
    error_rate_kwh                           double,           -- null: see _null_reason
    error_rate_kwh_target                    double,           -- no target (brief: —)
    error_rate_kwh_met                       boolean,          -- null: no value or no target
    error_rate_kwh_mom                       double,           -- minus the previous month's value
    error_rate_kwh_yoy                       double,           -- minus the same month last year's value
    error_rate_kwh_null_reason               varchar,          -- config/kpis.toml [null_reasons]
    -- 差错户数 per 万户 read = 10000 × error_rate
    errors_per_10k                           double,           -- null: see _null_reason
    errors_per_10k_target                    double,           -- targets.toml
    errors_per_10k_met                       boolean,          -- null: no value or no target
    errors_per_10k_mom                       double,           -- minus the previous month's value
    errors_per_10k_yoy                       double,           -- minus the same month last year's value
    errors_per_10k_null_reason               varchar,          -- config/kpis.toml [null_reasons]
    -- 抄表及时率 = customers_on_time / customers_due
    on_time_rate                             double,           -- null: see _null_reason
    on_time_rate_target                      double,           -- targets.toml
    on_time_rate_met                         boolean,          -- null: no value or no target
    on_time_rate_mom                         double,           -- minus the previous month's value
    on_time_rate_yoy                         double,           -- minus the same month last year's value
    on_time_rate_null_reason                 varchar,          -- config/kpis.toml [null_reasons]
    -- 上装及时率 = customers_upload_timely / customers_upload_known
    upload_timely_rate                       double,           -- null: see _null_reason
    upload_timely_rate_target                double,           -- no target (brief: —)
    upload_timely_rate_met                   boolean,          -- null: no value or no target
    upload_timely_rate_mom                   double,           -- minus the previous month's value
    upload_timely_rate_yoy                   double,           -- minus the same month last year's value
    upload_timely_rate_null_reason           varchar,          -- config/kpis.toml [null_reasons]
    -- 异常报告及时率 = reports_in_time / reports
    anomaly_report_rate                      double,           -- null: see _null_reason
    anomaly_report_rate_target               double,           -- targets.toml
    anomaly_report_rate_met                  boolean,          -- null: no value or no target
    anomaly_report_rate_mom                  double,           -- minus the previous month's value
    anomaly_report_rate_yoy                  double,           -- minus the same month last year's value
    anomaly_report_rate_null_reason          varchar,          -- config/kpis.toml [null_reasons]
    -- 消缺及时率 = defects_closed_in_time / defects_due
    defect_closure_rate                      double,           -- null: see _null_reason
    defect_closure_rate_target               double,           -- targets.toml
    defect_closure_rate_met                  boolean,          -- null: no value or no target
    defect_closure_rate_mom                  double,           -- minus the previous month's value
    defect_closure_rate_yoy                  double,           -- minus the same month last year's value
    defect_closure_rate_null_reason          varchar,          -- config/kpis.toml [null_reasons]
    -- 新装/变更复核率 = customers_verified / customers_new_changed
    new_change_review_rate                   double,           -- null: see _null_reason
    new_change_review_rate_target            double,           -- targets.toml
    new_change_review_rate_met               boolean,          -- null: no value or no target
    new_change_review_rate_mom               double,           -- minus the previous month's value
    new_change_review_rate_yoy               double,           -- minus the same month last year's value
    new_change_review_rate_null_reason       varchar,          -- config/kpis.toml [null_reasons]
    -- 零电量核实 HV = zero_runs_checked_hv / zero_runs_hv
    zero_check_rate_hv                       double,           -- null: see _null_reason
    zero_check_rate_hv_target                double,           -- targets.toml
    zero_check_rate_hv_met                   boolean,          -- null: no value or no target
    zero_check_rate_hv_mom                   double,           -- minus the previous month's value
    zero_check_rate_hv_yoy                   double,           -- minus the same month last year's value
    zero_check_rate_hv_null_reason           varchar,          -- config/kpis.toml [null_reasons]
    -- 零电量核实 LV non-res = zero_runs_checked_lv_nonres / zero_runs_lv_nonres
    zero_check_rate_lv_nonres                double,           -- null: see _null_reason
    zero_check_rate_lv_nonres_target         double,           -- targets.toml
    zero_check_rate_lv_nonres_met            boolean,          -- null: no value or no target
    zero_check_rate_lv_nonres_mom            double,           -- minus the previous month's value
    zero_check_rate_lv_nonres_yoy            double,           -- minus the same month last year's value
    zero_check_rate_lv_nonres_null_reason    varchar,          -- config/kpis.toml [null_reasons]
    -- 零电量核实 residential = zero_runs_checked_lv_res / zero_runs_lv_res
    zero_check_rate_lv_res                   double,           -- null: see _null_reason
    zero_check_rate_lv_res_target            double,           -- targets.toml
    zero_check_rate_lv_res_met               boolean,          -- null: no value or no target
    zero_check_rate_lv_res_mom               double,           -- minus the previous month's value
    zero_check_rate_lv_res_yoy               double,           -- minus the same month last year's value
    zero_check_rate_lv_res_null_reason       varchar,          -- config/kpis.toml [null_reasons]
    config_version                           varchar not null,
    computed_at                              timestamp not null
);

-- The levels, each its own mart (SQL: warehouse/sql/kpi_<level>_month.sql). Created here, not in
-- files of their own, because they take their columns from marts.kpi_levels_month.
-- 'reader' level: errors are the reader's own (responsible READER).
create table if not exists marts.kpi_reader_month as
    select * exclude (level, segment_no) from marts.kpi_levels_month limit 0;
create table if not exists marts.kpi_segment_month as
    select * exclude (level, reader) from marts.kpi_levels_month limit 0;
create table if not exists marts.kpi_team_month as
    select * exclude (level, reader, segment_no) from marts.kpi_levels_month limit 0;
create table if not exists marts.kpi_centre_month as
    select * exclude (level, team, reader, segment_no) from marts.kpi_levels_month limit 0;
