-- marts.kpi_levels_month: every KPI of the product brief §4 per reader, segment, team and the centre
-- (`level`), with its counts, target, whether it is met, the change on the previous month and on the
-- same month last year, and why it is null. The four marts kpi_reader_month, kpi_segment_month,
-- kpi_team_month and kpi_centre_month are its levels. Catalogue: config/kpis.toml; docs/kpis.md.
-- partition: month
-- key: level, team?, reader?, segment_no?
-- history: 12
-- inputs: marts.meters_due, marts.error_findings, marts.reading_context, marts.workflow_reports, core.customers, ops.deliveries
-- param actual_read_target: targets.toml actual_read_rate.target
-- param missed_target: targets.toml missed_rate.target
-- param estimated_target: targets.toml estimated_rate.target
-- param error_target_manual: targets.toml error_rate.target_manual
-- param error_target_remote: targets.toml error_rate.target_remote
-- param on_time_target: targets.toml on_time_rate.target
-- param report_target: targets.toml anomaly_report_rate.target
-- param defect_target: targets.toml defect_closure_rate.target
-- param review_target: targets.toml new_change_review_rate.target
-- param review_statuses: targets.toml new_change_review_rate.statuses
-- param zero_cycles: targets.toml zero_check_rate.cycles
-- param zero_target_hv: targets.toml zero_check_rate.target_hv
-- param zero_target_lv_nonres: targets.toml zero_check_rate.target_lv_nonres
-- param zero_target_lv_res: targets.toml zero_check_rate.target_lv_res
-- param unattributed: errors.toml unattributed
-- count by: level
--
-- Levels: 'reader' (team + reader), 'segment' (team + segment_no), 'team', 'centre' (no key), one
-- GROUPING SETS over the same rows, so the levels add up. 户 (customers) are counted once, where the
-- customer's first meter due (by segment, meter) is attributed; 只 (meters) each where it is attributed.
-- 应抄 is marts.meters_due: quarantined meters included (status unknown: customers_quarantined, in
-- customers_due, never in 实抄), closed and suspended customers excluded. A customer is read when every
-- meter is READ, missed when any is MISSED, estimated when any is ESTIMATED and none MISSED, unknown
-- when any meter sits in quarantine. On time (抄表及时率): read, and every meter within the 例日 limit.
-- Errors: marts.error_findings in scope, attributed and counted as marts.error_stats_month counts them
-- (a reader's row: the findings whose responsible party is the reader only). Field anomaly reports
-- (marts.workflow_reports, which times them) go to the report's own team / reporter / segment, else to
-- the customer's.
-- MoM / YoY: the same KPI of the same level and key in the previous month / the same month last year,
-- computed here from those months' inputs (history: 12), as a difference of rates.
-- A KPI is null, with <kpi>_null_reason, when its input never arrived for the month (NO_FINDINGS,
-- NO_FIELD_ANOMALIES, NO_MASTER, NO_DATES, NO_UPLOAD_TIMES), when no export delivers what it needs
-- (NO_VERIFICATION_DATA, NO_CHECK_DATA), or when nothing is due (NO_VOLUME): never 0 for no data.
insert into marts.kpi_levels_month by name
with months as (
    select $period as period, 'cur' as role
    union all
    select strftime(strptime($period || '-01', '%Y-%m-%d') - interval 1 month, '%Y-%m'), 'prev'
    union all
    select strftime(strptime($period || '-01', '%Y-%m-%d') - interval 12 month, '%Y-%m'), 'yoy'
),
delivered as (
    select m.period,
           exists (select 1 from ops.deliveries d where d.period = m.period and d.status <> 'rejected'
                   and d.kind = 'review_findings')                                         as findings,
           exists (select 1 from ops.deliveries d where d.period = m.period and d.status <> 'rejected'
                   and d.kind = 'field_anomalies')                                         as anomalies,
           exists (select 1 from ops.deliveries d where d.period = m.period and d.status <> 'rejected'
                   and d.kind = 'customers')                                               as master
    from months m
),
due as (
    select d.*
    from marts.meters_due d
    semi join months m using (period)
),
zero_runs as (
    select period, meter_no, max(zero_cycles) as zero_cycles
    from marts.reading_context
    semi join months using (period)
    group by all
),
customers as (
    select d.period, d.customer_key,
           any_value(d.customer_no)                                                        as customer_no,
           -- the customer's home: its first meter due, where every 户-count of it goes
           arg_min(struct_pack(team := d.team, reader := d.reader, segment_no := d.segment_no,
                               customer_class := d.customer_class),
                   (d.segment_no, d.meter_key, d.team, d.reader))                           as home,
           bool_or(d.in_quarantine)                                                        as unknown,
           bool_and(d.read_status = 'READ')                                                as all_read,
           bool_or(d.read_status = 'MISSED')                                               as any_missed,
           bool_or(d.read_status = 'ESTIMATED')                                            as any_estimated,
           bool_or(d.read_mode = 'REMOTE')                                                 as any_remote,
           bool_or(d.team_source = 'assignment')                                           as by_assignment,
           count(d.on_time) > 0                                                            as on_time_known,
           bool_and(coalesce(d.on_time, false))                                            as all_on_time,
           count(d.upload_timely) > 0                                                      as upload_known,
           bool_and(d.upload_timely)                                                       as all_uploads_timely,
           coalesce(max(z.zero_cycles) filter (where d.read_mode = 'REMOTE'), 0) >= $zero_cycles as zero_run
    from due d
    left join zero_runs z on z.period = d.period and z.meter_no = d.meter_no
    group by d.period, d.customer_key
),
customer_facts as (
    select c.period, c.home.team as team, c.home.reader as reader, c.home.segment_no as segment_no,
           'customer' as fact,
           1                                                                               as customers_due,
           c.unknown::integer                                                              as customers_quarantined,
           (not c.unknown and c.all_read)::integer                                         as customers_read,
           (not c.unknown and c.any_missed)::integer                                       as customers_missed,
           (not c.unknown and c.any_estimated and not c.any_missed)::integer               as customers_estimated,
           (not c.unknown and c.all_read and c.any_remote)::integer                        as customers_remote,
           c.by_assignment::integer                                                        as customers_team_from_assignment,
           (not c.unknown and c.all_read and c.all_on_time)::integer                       as customers_on_time,
           (not c.unknown and c.on_time_known)::integer                                    as customers_on_time_known,
           (not c.unknown and c.upload_known and c.all_uploads_timely)::integer            as customers_upload_timely,
           (not c.unknown and c.upload_known)::integer                                     as customers_upload_known,
           (c.zero_run and c.home.customer_class = 'HV')::integer                          as zero_runs_hv,
           (c.zero_run and c.home.customer_class = 'LV_NONRES')::integer                   as zero_runs_lv_nonres,
           (c.zero_run and c.home.customer_class = 'LV_RES')::integer                      as zero_runs_lv_res
    from customers c
),
meter_facts as (
    select period, team, reader, segment_no, 'meter' as fact,
           1                                                                               as meters_due,
           in_quarantine::integer                                                          as meters_quarantined,
           case when not in_quarantine then coalesce(kwh, 0) else 0 end                    as kwh_due
    from due
),
findings as (
    select f.*
    from marts.error_findings f
    semi join months using (period)
    where f.in_scope
),
finding_facts as (
    select period, team, reader, segment_no, 'finding' as fact, responsible,
           customer_no                                                                     as error_customer,
           kwh_impact                                                                      as error_kwh
    from findings
),
error_meter_facts as (
    -- the meters the findings name, or every meter due of the customer when a finding names none (or
    -- one not due): where the finding is attributed, as marts.error_stats_month counts them
    select f.period, f.team, f.reader, f.segment_no, 'error_meter' as fact, f.responsible,
           d.meter_key                                                                     as error_meter
    from findings f
    join due d on d.period = f.period and d.customer_no = f.customer_no
              and (not f.meter_due or d.meter_no = f.meter_no)
),
anomaly_facts as (
    -- the month's 异常报告单 as marts.workflow_reports times and attributes them
    select period, team, reader, segment_no, 'anomaly' as fact,
           1                                                                               as reports,
           reported_in_time::integer                                                       as reports_in_time,
           (closure_state in ('CLOSED_IN_TIME', 'CLOSED_LATE', 'OPEN_OVERDUE'))::integer   as defects_due,
           (closure_state = 'CLOSED_IN_TIME')::integer                                     as defects_closed_in_time,
           (closure_state = 'OPEN_PENDING')::integer                                       as defects_pending
    from marts.workflow_reports
    semi join months using (period)
),
new_changed as (
    select distinct c.period, c.customer_no, c.segment_no
    from core.customers c
    semi join months m on m.period = c.period
    where list_contains($review_statuses, c.customer_status)
),
review_facts as (
    select n.period,
           coalesce(c.home.team, $unattributed)                                            as team,
           coalesce(c.home.reader, $unattributed)                                          as reader,
           coalesce(c.home.segment_no, n.segment_no, $unattributed)                        as segment_no,
           'review' as fact,
           1                                                                               as customers_new_changed
    from (select period, customer_no, min(segment_no) as segment_no from new_changed group by all) n
    left join customers c on c.period = n.period and c.customer_key = n.customer_no
),
facts as (
    select * from customer_facts
    union all by name select * from meter_facts
    union all by name select * from finding_facts
    union all by name select * from error_meter_facts
    union all by name select * from anomaly_facts
    union all by name select * from review_facts
),
grouped as (
    select period,
           case when grouping(reader) = 0 then 'reader' when grouping(segment_no) = 0 then 'segment'
                when grouping(team) = 0 then 'team' else 'centre' end                      as level,
           team, reader, segment_no,
           coalesce(sum(customers_due), 0)                                                 as customers_due,
           coalesce(sum(customers_quarantined), 0)                                         as customers_quarantined,
           coalesce(sum(customers_read), 0)                                                as customers_read,
           coalesce(sum(customers_missed), 0)                                              as customers_missed,
           coalesce(sum(customers_estimated), 0)                                           as customers_estimated,
           coalesce(sum(customers_remote), 0)                                              as customers_remote,
           coalesce(sum(customers_team_from_assignment), 0)                                as customers_team_from_assignment,
           coalesce(sum(customers_on_time), 0)                                             as customers_on_time,
           coalesce(sum(customers_on_time_known), 0)                                       as customers_on_time_known,
           coalesce(sum(customers_upload_timely), 0)                                       as customers_upload_timely,
           coalesce(sum(customers_upload_known), 0)                                        as customers_upload_known,
           coalesce(sum(zero_runs_hv), 0)                                                  as zero_runs_hv,
           coalesce(sum(zero_runs_lv_nonres), 0)                                           as zero_runs_lv_nonres,
           coalesce(sum(zero_runs_lv_res), 0)                                              as zero_runs_lv_res,
           coalesce(sum(meters_due), 0)                                                    as meters_due,
           coalesce(sum(meters_quarantined), 0)                                            as meters_quarantined,
           coalesce(sum(kwh_due), 0)                                                       as kwh_due,
           -- a reader answers for the errors the findings put on the reader, not the clerk's or the system's
           case when grouping(reader) = 0
                then count(distinct error_customer) filter (where responsible = 'READER')
                else count(distinct error_customer) end                                    as n_customers_with_error,
           case when grouping(reader) = 0
                then count(distinct error_meter) filter (where responsible = 'READER')
                else count(distinct error_meter) end                                       as n_meters_with_error,
           case when grouping(reader) = 0
                then coalesce(sum(error_kwh) filter (where responsible = 'READER'), 0)
                else coalesce(sum(error_kwh), 0) end                                       as n_kwh_error,
           coalesce(sum(reports), 0)                                                       as n_reports,
           coalesce(sum(reports_in_time), 0)                                               as n_reports_in_time,
           coalesce(sum(defects_due), 0)                                                   as n_defects_due,
           coalesce(sum(defects_closed_in_time), 0)                                        as n_defects_closed_in_time,
           coalesce(sum(defects_pending), 0)                                               as n_defects_pending,
           coalesce(sum(customers_new_changed), 0)                                         as n_customers_new_changed
    from facts
    group by grouping sets ((period, team, reader), (period, team, segment_no), (period, team), (period))
),
counted as (
    -- counts whose input never arrived are null, not 0
    select g.* exclude (n_customers_with_error, n_meters_with_error, n_kwh_error, n_reports, n_reports_in_time,
                        n_defects_due, n_defects_closed_in_time, n_defects_pending, n_customers_new_changed),
           d.findings as findings_delivered, d.anomalies as anomalies_delivered, d.master as master_delivered,
           case when d.findings then g.n_customers_with_error end                           as customers_with_error,
           case when d.findings then g.n_meters_with_error end                              as meters_with_error,
           case when d.findings then g.n_kwh_error end                                      as kwh_error,
           case when d.anomalies then g.n_reports end                                       as reports,
           case when d.anomalies then g.n_reports_in_time end                               as reports_in_time,
           case when d.anomalies then g.n_defects_due end                                   as defects_due,
           case when d.anomalies then g.n_defects_closed_in_time end                        as defects_closed_in_time,
           case when d.anomalies then g.n_defects_pending end                               as defects_pending,
           case when d.master then g.n_customers_new_changed end                            as customers_new_changed,
           null::bigint                                                                     as customers_verified,
           null::bigint                                                                     as zero_runs_checked_hv,
           null::bigint                                                                     as zero_runs_checked_lv_nonres,
           null::bigint                                                                     as zero_runs_checked_lv_res
    from grouped g
    join delivered d using (period)
),
valued as (
    select c.*,
           customers_read / nullif(customers_due, 0)                                       as actual_read_rate,
           customers_missed / nullif(customers_due, 0)                                     as missed_rate,
           customers_estimated / nullif(customers_due, 0)                                  as estimated_rate,
           customers_with_error / nullif(customers_read, 0)                                as error_rate,
           meters_with_error / nullif(meters_due, 0)                                       as error_rate_meter,
           kwh_error / nullif(kwh_due, 0)                                                  as error_rate_kwh,
           10000.0 * customers_with_error / nullif(customers_read, 0)                      as errors_per_10k,
           case when customers_on_time_known > 0 then customers_on_time / nullif(customers_due, 0) end
                                                                                           as on_time_rate,
           customers_upload_timely / nullif(customers_upload_known, 0)                     as upload_timely_rate,
           reports_in_time / nullif(reports, 0)                                            as anomaly_report_rate,
           defects_closed_in_time / nullif(defects_due, 0)                                 as defect_closure_rate,
           customers_verified / nullif(customers_new_changed, 0)                           as new_change_review_rate,
           zero_runs_checked_hv / nullif(zero_runs_hv, 0)                                  as zero_check_rate_hv,
           zero_runs_checked_lv_nonres / nullif(zero_runs_lv_nonres, 0)                    as zero_check_rate_lv_nonres,
           zero_runs_checked_lv_res / nullif(zero_runs_lv_res, 0)                          as zero_check_rate_lv_res
    from counted c
),
cur as (
    select v.* from valued v join months m on m.period = v.period and m.role = 'cur'
),
prev as (
    select v.* from valued v join months m on m.period = v.period and m.role = 'prev'
),
yoy as (
    select v.* from valued v join months m on m.period = v.period and m.role = 'yoy'
),
targeted as (
    select c.*,
           $actual_read_target::double                                                     as actual_read_rate_target,
           $missed_target::double                                                          as missed_rate_target,
           $estimated_target::double                                                       as estimated_rate_target,
           -- manual / remote targets weighted by the customers read each way
           coalesce(((c.customers_read - c.customers_remote) * $error_target_manual
                     + c.customers_remote * $error_target_remote) / nullif(c.customers_read, 0),
                    $error_target_manual)                                                  as error_rate_target,
           $on_time_target::double                                                         as on_time_rate_target,
           null::double                                                                    as upload_timely_rate_target,
           $report_target::double                                                          as anomaly_report_rate_target,
           $defect_target::double                                                          as defect_closure_rate_target,
           $review_target::double                                                          as new_change_review_rate_target,
           $zero_target_hv::double                                                         as zero_check_rate_hv_target,
           $zero_target_lv_nonres::double                                                  as zero_check_rate_lv_nonres_target,
           $zero_target_lv_res::double                                                     as zero_check_rate_lv_res_target,
           p.actual_read_rate as p_actual_read_rate, y.actual_read_rate as y_actual_read_rate,
           p.missed_rate as p_missed_rate, y.missed_rate as y_missed_rate,
           p.estimated_rate as p_estimated_rate, y.estimated_rate as y_estimated_rate,
           p.error_rate as p_error_rate, y.error_rate as y_error_rate,
           p.error_rate_meter as p_error_rate_meter, y.error_rate_meter as y_error_rate_meter,
           p.error_rate_kwh as p_error_rate_kwh, y.error_rate_kwh as y_error_rate_kwh,
           p.errors_per_10k as p_errors_per_10k, y.errors_per_10k as y_errors_per_10k,
           p.on_time_rate as p_on_time_rate, y.on_time_rate as y_on_time_rate,
           p.upload_timely_rate as p_upload_timely_rate, y.upload_timely_rate as y_upload_timely_rate,
           p.anomaly_report_rate as p_anomaly_report_rate, y.anomaly_report_rate as y_anomaly_report_rate,
           p.defect_closure_rate as p_defect_closure_rate, y.defect_closure_rate as y_defect_closure_rate,
           p.new_change_review_rate as p_new_change_review_rate, y.new_change_review_rate as y_new_change_review_rate,
           p.zero_check_rate_hv as p_zero_check_rate_hv, y.zero_check_rate_hv as y_zero_check_rate_hv,
           p.zero_check_rate_lv_nonres as p_zero_check_rate_lv_nonres,
           y.zero_check_rate_lv_nonres as y_zero_check_rate_lv_nonres,
           p.zero_check_rate_lv_res as p_zero_check_rate_lv_res, y.zero_check_rate_lv_res as y_zero_check_rate_lv_res
    from cur c
    left join prev p on p.level = c.level and p.team is not distinct from c.team
                    and p.reader is not distinct from c.reader and p.segment_no is not distinct from c.segment_no
    left join yoy y on y.level = c.level and y.team is not distinct from c.team
                   and y.reader is not distinct from c.reader and y.segment_no is not distinct from c.segment_no
),
final as (
    select t.period, t.level, t.team, t.reader, t.segment_no,
           t.customers_due, t.customers_quarantined, t.customers_read, t.customers_missed, t.customers_estimated,
           t.customers_remote, t.customers_team_from_assignment,
           t.meters_due, t.meters_quarantined, t.kwh_due,
           t.findings_delivered, t.customers_with_error, t.meters_with_error, t.kwh_error,
           t.customers_on_time, t.customers_on_time_known, t.customers_upload_timely, t.customers_upload_known,
           t.anomalies_delivered, t.reports, t.reports_in_time, t.defects_due, t.defects_closed_in_time,
           t.defects_pending,
           t.master_delivered, t.customers_new_changed, t.customers_verified,
           t.zero_runs_hv, t.zero_runs_checked_hv, t.zero_runs_lv_nonres, t.zero_runs_checked_lv_nonres,
           t.zero_runs_lv_res, t.zero_runs_checked_lv_res,

           t.actual_read_rate, t.actual_read_rate_target,
           t.actual_read_rate >= t.actual_read_rate_target                                 as actual_read_rate_met,
           t.actual_read_rate - t.p_actual_read_rate                                       as actual_read_rate_mom,
           t.actual_read_rate - t.y_actual_read_rate                                       as actual_read_rate_yoy,
           case when t.actual_read_rate is null then 'NO_VOLUME' end                       as actual_read_rate_null_reason,

           t.missed_rate, t.missed_rate_target,
           t.missed_rate <= t.missed_rate_target                                           as missed_rate_met,
           t.missed_rate - t.p_missed_rate                                                 as missed_rate_mom,
           t.missed_rate - t.y_missed_rate                                                 as missed_rate_yoy,
           case when t.missed_rate is null then 'NO_VOLUME' end                            as missed_rate_null_reason,

           t.estimated_rate, t.estimated_rate_target,
           t.estimated_rate <= t.estimated_rate_target                                     as estimated_rate_met,
           t.estimated_rate - t.p_estimated_rate                                           as estimated_rate_mom,
           t.estimated_rate - t.y_estimated_rate                                           as estimated_rate_yoy,
           case when t.estimated_rate is null then 'NO_VOLUME' end                         as estimated_rate_null_reason,

           t.error_rate, t.error_rate_target,
           t.error_rate <= t.error_rate_target                                             as error_rate_met,
           t.error_rate - t.p_error_rate                                                   as error_rate_mom,
           t.error_rate - t.y_error_rate                                                   as error_rate_yoy,
           case when not t.findings_delivered then 'NO_FINDINGS'
                when t.error_rate is null then 'NO_VOLUME' end                             as error_rate_null_reason,

           t.error_rate_meter, t.error_rate_target                                         as error_rate_meter_target,
           t.error_rate_meter <= t.error_rate_target                                       as error_rate_meter_met,
           t.error_rate_meter - t.p_error_rate_meter                                       as error_rate_meter_mom,
           t.error_rate_meter - t.y_error_rate_meter                                       as error_rate_meter_yoy,
           case when not t.findings_delivered then 'NO_FINDINGS'
                when t.error_rate_meter is null then 'NO_VOLUME' end                       as error_rate_meter_null_reason,

           t.error_rate_kwh, null::double                                                  as error_rate_kwh_target,
           null::boolean                                                                   as error_rate_kwh_met,
           t.error_rate_kwh - t.p_error_rate_kwh                                           as error_rate_kwh_mom,
           t.error_rate_kwh - t.y_error_rate_kwh                                           as error_rate_kwh_yoy,
           case when not t.findings_delivered then 'NO_FINDINGS'
                when t.error_rate_kwh is null then 'NO_VOLUME' end                         as error_rate_kwh_null_reason,

           t.errors_per_10k, 10000.0 * t.error_rate_target                                 as errors_per_10k_target,
           t.errors_per_10k <= 10000.0 * t.error_rate_target                               as errors_per_10k_met,
           t.errors_per_10k - t.p_errors_per_10k                                           as errors_per_10k_mom,
           t.errors_per_10k - t.y_errors_per_10k                                           as errors_per_10k_yoy,
           case when not t.findings_delivered then 'NO_FINDINGS'
                when t.errors_per_10k is null then 'NO_VOLUME' end                         as errors_per_10k_null_reason,

           t.on_time_rate, t.on_time_rate_target,
           t.on_time_rate >= t.on_time_rate_target                                         as on_time_rate_met,
           t.on_time_rate - t.p_on_time_rate                                               as on_time_rate_mom,
           t.on_time_rate - t.y_on_time_rate                                               as on_time_rate_yoy,
           case when t.customers_due = 0 then 'NO_VOLUME'
                when t.on_time_rate is null then 'NO_DATES' end                       as on_time_rate_null_reason,

           t.upload_timely_rate, t.upload_timely_rate_target,
           null::boolean                                                                   as upload_timely_rate_met,
           t.upload_timely_rate - t.p_upload_timely_rate                                   as upload_timely_rate_mom,
           t.upload_timely_rate - t.y_upload_timely_rate                                   as upload_timely_rate_yoy,
           case when t.customers_due = 0 then 'NO_VOLUME'
                when t.upload_timely_rate is null then 'NO_UPLOAD_TIMES' end               as upload_timely_rate_null_reason,

           t.anomaly_report_rate, t.anomaly_report_rate_target,
           t.anomaly_report_rate >= t.anomaly_report_rate_target                           as anomaly_report_rate_met,
           t.anomaly_report_rate - t.p_anomaly_report_rate                                 as anomaly_report_rate_mom,
           t.anomaly_report_rate - t.y_anomaly_report_rate                                 as anomaly_report_rate_yoy,
           case when not t.anomalies_delivered then 'NO_FIELD_ANOMALIES'
                when t.anomaly_report_rate is null then 'NO_VOLUME' end                    as anomaly_report_rate_null_reason,

           t.defect_closure_rate, t.defect_closure_rate_target,
           t.defect_closure_rate >= t.defect_closure_rate_target                           as defect_closure_rate_met,
           t.defect_closure_rate - t.p_defect_closure_rate                                 as defect_closure_rate_mom,
           t.defect_closure_rate - t.y_defect_closure_rate                                 as defect_closure_rate_yoy,
           case when not t.anomalies_delivered then 'NO_FIELD_ANOMALIES'
                when t.defect_closure_rate is null then 'NO_VOLUME' end                    as defect_closure_rate_null_reason,

           t.new_change_review_rate, t.new_change_review_rate_target,
           t.new_change_review_rate >= t.new_change_review_rate_target                     as new_change_review_rate_met,
           t.new_change_review_rate - t.p_new_change_review_rate                           as new_change_review_rate_mom,
           t.new_change_review_rate - t.y_new_change_review_rate                           as new_change_review_rate_yoy,
           case when not t.master_delivered then 'NO_MASTER'
                when t.customers_verified is null then 'NO_VERIFICATION_DATA'
                when t.new_change_review_rate is null then 'NO_VOLUME' end                 as new_change_review_rate_null_reason,

           t.zero_check_rate_hv, t.zero_check_rate_hv_target,
           t.zero_check_rate_hv >= t.zero_check_rate_hv_target                             as zero_check_rate_hv_met,
           t.zero_check_rate_hv - t.p_zero_check_rate_hv                                   as zero_check_rate_hv_mom,
           t.zero_check_rate_hv - t.y_zero_check_rate_hv                                   as zero_check_rate_hv_yoy,
           case when t.zero_runs_checked_hv is null then 'NO_CHECK_DATA'
                when t.zero_check_rate_hv is null then 'NO_VOLUME' end                     as zero_check_rate_hv_null_reason,

           t.zero_check_rate_lv_nonres, t.zero_check_rate_lv_nonres_target,
           t.zero_check_rate_lv_nonres >= t.zero_check_rate_lv_nonres_target               as zero_check_rate_lv_nonres_met,
           t.zero_check_rate_lv_nonres - t.p_zero_check_rate_lv_nonres                     as zero_check_rate_lv_nonres_mom,
           t.zero_check_rate_lv_nonres - t.y_zero_check_rate_lv_nonres                     as zero_check_rate_lv_nonres_yoy,
           case when t.zero_runs_checked_lv_nonres is null then 'NO_CHECK_DATA'
                when t.zero_check_rate_lv_nonres is null then 'NO_VOLUME' end              as zero_check_rate_lv_nonres_null_reason,

           t.zero_check_rate_lv_res, t.zero_check_rate_lv_res_target,
           t.zero_check_rate_lv_res >= t.zero_check_rate_lv_res_target                     as zero_check_rate_lv_res_met,
           t.zero_check_rate_lv_res - t.p_zero_check_rate_lv_res                           as zero_check_rate_lv_res_mom,
           t.zero_check_rate_lv_res - t.y_zero_check_rate_lv_res                           as zero_check_rate_lv_res_yoy,
           case when t.zero_runs_checked_lv_res is null then 'NO_CHECK_DATA'
                when t.zero_check_rate_lv_res is null then 'NO_VOLUME' end                 as zero_check_rate_lv_res_null_reason,

           $config_version                                                                 as config_version,
           now()::timestamp                                                                as computed_at
    from targeted t
)
select * from final
