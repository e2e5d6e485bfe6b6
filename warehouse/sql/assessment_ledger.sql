-- marts.assessment_ledger: the 经济责任制考核记录 — one row per deduction, bonus, veto or floor of the
-- month's assessment (考核), per reader (level 'reader') or per team (level 'team'), each with its points,
-- its evidence (the finding, report, segment round or KPI behind it, with the source file and line) and
-- the scoring version. A reader's score is base + the sum of their rows' points; a team's is base + the
-- sum of team_points over all its rows. Scoring: config/assessment.toml; docs/assessment.md.
-- partition: month
-- key: ledger_id
-- inputs: marts.error_findings, marts.meter_readings, marts.meters_due, marts.workflow_segments, marts.workflow_reports, marts.kpi_levels_month, ops.deliveries
-- param scoring_version: assessment.toml version
-- param scoring_hash: assessment.toml @sha256
-- param base: assessment.toml base
-- param floor: assessment.toml floor
-- param large_classes: assessment.toml size.large_classes
-- param large_multiplier: assessment.toml size.large_multiplier_above
-- param finding_items: assessment.toml finding_items
-- param off_plan_points: assessment.toml off_plan.points
-- param upload_points: assessment.toml upload_late.points
-- param upload_step_hours: assessment.toml upload_late.step_hours
-- param report_points: assessment.toml report_late.points
-- param report_points_by_type: assessment.toml report_late.points_by_type
-- param read_level: assessment.toml actual_read_shortfall.level
-- param read_step: assessment.toml actual_read_shortfall.step
-- param read_points: assessment.toml actual_read_shortfall.points
-- param error_level: assessment.toml error_rate_excess.level
-- param error_step: assessment.toml error_rate_excess.step
-- param error_points: assessment.toml error_rate_excess.points
-- param veto_types: assessment.toml veto.error_types
-- param veto_min: assessment.toml veto.min_customers
-- param bonus_types: assessment.toml bonus.types
-- count by: item
--
-- points: the change to the score (a deduction is negative, a bonus positive). Reader items: the
-- confirmed findings put on the reader (finding_items, per 户 or per finding; a large customer costs
-- points_large), the segment rounds read off the 例日 (OFF_PLAN) or uploaded late (UPLOAD_LATE, per
-- started step_hours), the anomaly reports not made in time (REPORT_LATE), the confirmed thefts and
-- violations the reader reported (BONUS), and a KPI item whose level is 'reader'. Then VETO (the score
-- goes to 0 exactly: its points are minus the rest) or FLOOR (gives back what went below the floor).
-- team_points: a reader row's points × the reader's share of the team's customers due (the team score is
-- the customer-weighted mean of its readers' scores), a team row's points as they are. Team rows: the
-- KPI items whose level is 'team', then the team's FLOOR.
insert into marts.assessment_ledger by name
with finding_items as (
    select unnest($finding_items, recursive := true)
),
report_points as (
    select unnest($report_points_by_type, recursive := true)
),
bonus_types as (
    select unnest($bonus_types, recursive := true)
),
customer_size as (
    -- a customer is large when its class is, or any of its meters has a multiplier above the limit;
    -- a customer whose rows sit in quarantine is sized by the class its raw row gives
    select customer_no,
           bool_or(list_contains($large_classes, customer_class)
                   or coalesce(multiplier, 1) > $large_multiplier)                       as large
    from (select customer_no, customer_class, multiplier from marts.meter_readings where period = $period
          union all
          select customer_no, customer_class, null from marts.meters_due
          where period = $period and in_quarantine and customer_no is not null)
    group by customer_no
),
findings as (
    select f.*, i.code as item, i.per, i.points_small, i.points_large,
           coalesce(s.large, false)                                                        as large,
           case when i.per = 'customer' then f.customer_no else f.finding_no end           as unit_key
    from marts.error_findings f
    join finding_items i on list_contains(i.error_types, f.error_type)
    left join customer_size s using (customer_no)
    where f.period = $period and f.in_scope and f.responsible = 'READER'
),
finding_rows as (
    select 'reader' as level, team, reader, item, unit_key,
           -max(case when large then points_large else points_small end)                   as points,
           1.0                                                                             as quantity,
           any_value(per)                                                                  as unit,
           min(finding_no)                                                                 as evidence_id,
           arg_min(delivery_id, finding_no)                                                as delivery_id,
           arg_min(sheet, finding_no)                                                      as sheet,
           arg_min(source_row, finding_no)                                                 as source_row,
           arg_min(segment_no, finding_no)                                                 as segment_no,
           any_value(customer_no) filter (where per = 'customer')                          as customer_no,
           json_object('findings', list(finding_no order by finding_no),
                       'error_types', list(distinct error_type order by error_type),
                       'size', case when bool_or(large) then 'large' else 'small' end,
                       'kwh_impact', sum(kwh_impact))                                      as evidence
    from findings
    group by team, reader, item, unit_key
),
segments as (
    select * from marts.workflow_segments where period = $period
),
segment_rows as (
    select 'reader' as level, team, reader, 'OFF_PLAN' as item, segment_no as unit_key,
           -$off_plan_points::double                                                       as points,
           1.0 as quantity, 'segment' as unit,
           segment_no as evidence_id, delivery_id, sheet, source_row, segment_no, null::varchar as customer_no,
           json_object('reads_dated', reads_dated, 'reads_off_plan', reads_off_plan,
                       'off_plan_share', off_plan_share, 'plan_date', plan_date,
                       'first_read_date', first_read_date, 'last_read_date', last_read_date,
                       'max_days_off', max_days_off)                                      as evidence
    from segments
    where off_plan
    union all
    select 'reader', team, reader, 'UPLOAD_LATE', segment_no,
           -$upload_points::double * ceil(upload_late_hours / $upload_step_hours),
           ceil(upload_late_hours / $upload_step_hours), 'half_day',
           segment_no, delivery_id, sheet, source_row, segment_no, null,
           json_object('uploads_known', uploads_known, 'uploads_late', uploads_late,
                       'last_upload', last_upload, 'upload_late_hours', round(upload_late_hours, 2),
                       'step_hours', $upload_step_hours)
    from segments
    where upload_late_hours > 0
),
reports as (
    select * from marts.workflow_reports where period = $period
),
report_rows as (
    select 'reader' as level, r.team, r.reader, 'REPORT_LATE' as item, r.report_no as unit_key,
           -coalesce(p.points, $report_points)::double                                     as points,
           1.0 as quantity, 'case' as unit,
           r.report_no as evidence_id, r.delivery_id, r.sheet, r.source_row, r.segment_no, r.customer_no,
           json_object('report_no', r.report_no, 'anomaly_type', r.anomaly_type,
                       'found_at', r.found_at, 'reported_at', r.reported_at,
                       'report_limit_hours', r.report_limit_hours,
                       'report_late_hours', round(r.report_late_hours, 2))                 as evidence
    from reports r
    left join report_points p using (anomaly_type)
    where not r.reported_in_time
    union all
    select 'reader', r.team, r.reader, 'BONUS', r.report_no, b.points::double, 1.0, 'case',
           r.report_no, r.delivery_id, r.sheet, r.source_row, r.segment_no, r.customer_no,
           json_object('report_no', r.report_no, 'anomaly_type', r.anomaly_type,
                       'found_at', r.found_at, 'closed_at', r.closed_at, 'outcome', r.outcome)
    from reports r
    join bonus_types b using (anomaly_type)
    where r.attributed_by = 'report' and r.closed_at is not null
),
kpi as (
    select * from marts.kpi_levels_month where period = $period and level in ('reader', 'team')
),
kpi_rows as (
    select level, team, reader, 'ACTUAL_READ_SHORTFALL' as item, 'actual_read_rate' as unit_key,
           floor(round((actual_read_rate_target - actual_read_rate) / $read_step, 6))     as quantity,
           json_object('rate', actual_read_rate, 'target', actual_read_rate_target,
                       'customers_read', customers_read, 'customers_due', customers_due,
                       'customers_quarantined', customers_quarantined, 'step', $read_step) as evidence,
           $read_points::double                                                            as per_step
    from kpi
    where level = $read_level and actual_read_rate < actual_read_rate_target
    union all
    select level, team, reader, 'ERROR_RATE_EXCESS', 'errors_per_10k',
           floor(round((errors_per_10k - errors_per_10k_target) / $error_step, 6)),
           json_object('errors_per_10k', errors_per_10k, 'target', errors_per_10k_target,
                       'customers_with_error', customers_with_error, 'customers_read', customers_read,
                       'step', $error_step),
           $error_points::double
    from kpi
    where level = $error_level and errors_per_10k > errors_per_10k_target
),
kpi_items as (
    select level, team, reader, item, unit_key, -per_step * quantity as points, quantity, 'step' as unit,
           unit_key as evidence_id, null::varchar as delivery_id, null::varchar as sheet,
           null::integer as source_row, null::varchar as segment_no, null::varchar as customer_no, evidence
    from kpi_rows
    where quantity >= 1
),
reader_items as (
    select *, 'finding' as evidence_kind from finding_rows
    union all by name
    select *, 'segment' as evidence_kind from segment_rows
    union all by name
    select *, 'report' as evidence_kind from report_rows
    union all by name
    select *, 'kpi' as evidence_kind from kpi_items where level = 'reader'
),
readers as (
    -- every reader with customers due, and any other an item names (e.g. a reporter who read nothing)
    select coalesce(k.team, i.team) as team, coalesce(k.reader, i.reader) as reader,
           coalesce(k.customers_due, 0) as customers_due
    from (select team, reader, customers_due from kpi where level = 'reader') k
    full join (select distinct team, reader from reader_items) i on i.team = k.team and i.reader = k.reader
),
reader_totals as (
    select r.team, r.reader, $base::double + coalesce(sum(i.points), 0) as score_before
    from readers r
    left join reader_items i on i.team = r.team and i.reader = r.reader
    group by r.team, r.reader
),
vetoed as (
    select team, reader, count(distinct customer_no) as customers,
           list(distinct finding_no order by finding_no) as finding_nos,
           min(finding_no) as first_finding, arg_min(delivery_id, finding_no) as delivery_id,
           arg_min(sheet, finding_no) as sheet, arg_min(source_row, finding_no) as source_row,
           arg_min(segment_no, finding_no) as segment_no, arg_min(customer_no, finding_no) as customer_no
    from marts.error_findings
    where period = $period and in_scope and responsible = 'READER' and list_contains($veto_types, error_type)
    group by team, reader
    having count(distinct customer_no) >= $veto_min
),
adjustments as (
    select 'reader' as level, t.team, t.reader, 'VETO' as item, 'veto' as unit_key,
           -t.score_before as points, 1.0 as quantity, 'score' as unit,
           v.first_finding as evidence_id, v.delivery_id, v.sheet, v.source_row, v.segment_no, v.customer_no,
           json_object('findings', v.finding_nos, 'customers', v.customers,
                       'min_customers', $veto_min, 'score_before', t.score_before)        as evidence,
           'finding' as evidence_kind
    from reader_totals t
    join vetoed v on v.team = t.team and v.reader = t.reader
    union all
    select 'reader', t.team, t.reader, 'FLOOR', 'floor', $floor::double - t.score_before, 1.0, 'score',
           'floor', null, null, null, null, null,
           json_object('score_before', t.score_before, 'floor', $floor), 'score'
    from reader_totals t
    anti join vetoed v on v.team = t.team and v.reader = t.reader
    where t.score_before < $floor
),
reader_rows as (
    select * from reader_items
    union all by name
    select * from adjustments
),
weights as (
    select team, reader,
           case when sum(customers_due) over (partition by team) > 0
                then customers_due / sum(customers_due) over (partition by team)
                else 1.0 / count(*) over (partition by team) end                           as weight
    from readers
),
weighted as (
    select r.*, r.points * w.weight as team_points, w.weight
    from reader_rows r
    join weights w on w.team = r.team and w.reader = r.reader
),
team_items as (
    select *, points as team_points, null::double as weight, 'kpi' as evidence_kind
    from kpi_items
    where level = 'team'
),
teams as (
    select team from kpi where level = 'team'
    union
    select team from weighted
),
team_totals as (
    select t.team, $base::double + coalesce(sum(x.team_points), 0) as score_before
    from teams t
    left join (select team, team_points from weighted
               union all select team, team_points from team_items) x on x.team = t.team
    group by t.team
),
team_floor as (
    select 'team' as level, team, null::varchar as reader, 'FLOOR' as item, 'floor' as unit_key,
           $floor::double - score_before as points, 1.0 as quantity, 'score' as unit,
           'floor' as evidence_id, null::varchar as delivery_id, null::varchar as sheet,
           null::integer as source_row, null::varchar as segment_no, null::varchar as customer_no,
           json_object('score_before', score_before, 'floor', $floor)                      as evidence,
           $floor::double - score_before as team_points, null::double as weight,
           'score' as evidence_kind
    from team_totals
    where score_before < $floor
),
rows as (
    select * from weighted
    union all by name select * from team_items
    union all by name select * from team_floor
),
final as (
    select $period                                                                         as period,
           concat_ws(':', r.item, r.level, r.team, coalesce(r.reader, ''), r.unit_key)     as ledger_id,
           r.level, r.team, r.reader, r.item,
           r.points, r.team_points, r.weight, r.quantity, r.unit,
           r.evidence_kind, r.evidence_id, r.segment_no, r.customer_no, r.delivery_id, r.sheet, r.source_row,
           d.file_name,
           r.evidence::json                                                                as evidence,
           $scoring_version                                                                as scoring_version,
           $scoring_hash                                                                   as scoring_hash,
           $config_version                                                                 as config_version,
           now()                                                                           as computed_at
    from rows r
    left join ops.deliveries d on d.delivery_id = r.delivery_id
)
select * from final
