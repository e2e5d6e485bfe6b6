-- marts.workflow_reports: one row per field anomaly report (异常报告单) in force for the month, with its
-- two deadlines: reporting (theft and violation within the immediate limit, every other type the same
-- day) and, for a defect, closure within its working days (LV 3, HV 1); its age and whether it is overdue
-- at the export's cut-off; attributed to team, reader and segment. The Workflows page, the KPIs
-- 异常报告及时率 / 消缺及时率 (marts.kpi_levels_month) and the assessment's REPORT_LATE and bonus items
-- read it.
-- partition: month
-- key: report_no
-- inputs: core.field_anomalies, ops.deliveries, marts.meters_due
-- param immediate_types: targets.toml anomaly_report_rate.immediate_types
-- param immediate_hours: targets.toml anomaly_report_rate.immediate_hours
-- param defect_types: targets.toml defect_closure_rate.defect_types
-- param defect_days_lv: targets.toml defect_closure_rate.working_days_lv
-- param defect_days_hv: targets.toml defect_closure_rate.working_days_hv
-- param unattributed: errors.toml unattributed
-- count by: anomaly_type
--
-- In force: a report number delivered twice counts once, from the latest delivery.
-- Attribution (attributed_by): the report's own 班组 / 报告人 / 抄表段 where it names them, else the
-- customer's home among the month's meters due (its first meter due), else '(未指定)'.
-- Reporting: hours from 发现时间 to 上报时间. A report without 上报时间 is not in time (it was never
-- reported, as far as the export says) and its age runs to the cut-off.
-- Closure: working days (Mon–Fri, no holiday calendar) after the day it was reported (发现 when never
-- reported) up to 处理完成时间, or up to the cut-off while it is open. The cut-off is the export's latest
-- time stamp: a defect open then and within its days is pending (not yet due), open past them overdue.
insert into marts.workflow_reports by name
with anomalies as (
    select a.*, d.file_name
    from core.field_anomalies a
    join ops.deliveries d using (delivery_id)
    where a.period = $period
    qualify row_number() over (partition by a.report_no order by d.seq desc, a.source_row) = 1
),
cutoff as (
    select max(greatest(found_at, reported_at, handed_over_at, closed_at)) as at from anomalies
),
homes as (
    -- each customer's first meter due, where every 户-count of it goes (as marts.kpi_levels_month)
    select customer_key,
           arg_min(struct_pack(team := team, reader := reader, segment_no := segment_no,
                               customer_class := customer_class),
                   (segment_no, meter_key, team, reader))                                  as home
    from marts.meters_due
    where period = $period
    group by customer_key
),
attributed as (
    select a.*,
           coalesce(a.team, h.home.team, $unattributed)                                    as team_,
           coalesce(a.reporter, h.home.reader, $unattributed)                              as reader_,
           coalesce(a.segment_no, h.home.segment_no, $unattributed)                        as segment_,
           case when a.reporter is not null then 'report'
                when h.home.reader is not null then 'customer' else 'none' end             as attributed_by,
           coalesce(a.customer_class, h.home.customer_class)                               as class_,
           k.at                                                                            as cutoff_at
    from anomalies a
    left join homes h on h.customer_key = a.customer_no
    cross join cutoff k
),
timed as (
    select *,
           list_contains($immediate_types, anomaly_type)                                   as immediate,
           list_contains($defect_types, anomaly_type)                                      as is_defect,
           case when class_ = 'HV' then $defect_days_hv else $defect_days_lv end           as days_allowed,
           date_diff('minute', found_at, reported_at) / 60.0                               as report_hours,
           coalesce(reported_at, found_at)::date                                           as reported_on,
           closed_at::date                                                                 as closed_on
    from attributed
),
aged as (
    select *,
           case when reported_at is null then false
                when immediate then reported_at <= found_at + to_hours($immediate_hours::integer)
                else reported_at::date <= found_at::date end                               as reported_in_time,
           len(list_filter(generate_series(reported_on + 1, coalesce(closed_on, reported_on), interval 1 day),
                           lambda x: isodow(x) < 6))                                       as days_to_close,
           len(list_filter(generate_series(reported_on + 1, coalesce(cutoff_at::date, reported_on), interval 1 day),
                           lambda x: isodow(x) < 6))                                       as days_open
    from timed
),
final as (
    select $period                                                                         as period,
           report_no, team_ as team, reader_ as reader, segment_ as segment_no, attributed_by,
           customer_no, meter_no, class_ as customer_class, anomaly_type, reporter,
           found_at, reported_at, handed_over_at, closed_at, outcome,
           immediate,
           case when immediate then $immediate_hours::integer end                          as report_limit_hours,
           report_hours,
           reported_in_time,
           case when not reported_in_time then
               case when reported_at is null then date_diff('minute', found_at, cutoff_at) / 60.0
                    when immediate then report_hours - $immediate_hours::integer
                    else date_diff('minute', date_trunc('day', found_at) + interval 1 day, reported_at) / 60.0
               end
           end                                                                             as report_late_hours,
           is_defect,
           case when is_defect then days_allowed end                                       as closure_days_allowed,
           case when is_defect and closed_on is not null then days_to_close end            as closure_working_days,
           case when not is_defect then null
                when closed_on is not null and days_to_close <= days_allowed then 'CLOSED_IN_TIME'
                when closed_on is not null then 'CLOSED_LATE'
                when days_open > days_allowed then 'OPEN_OVERDUE'
                else 'OPEN_PENDING' end                                                    as closure_state,
           case when closed_on is null then days_open end                                  as open_working_days,
           not reported_in_time or (is_defect and closed_on is null and days_open > days_allowed)
                                                                                           as overdue,
           cutoff_at,
           delivery_id, sheet, source_row, file_name,
           $config_version                                                                 as config_version,
           now()                                                                           as computed_at
    from aged
)
select * from final
