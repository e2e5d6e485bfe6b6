-- marts.zero_checks: 零电量核实 — every remote-read (AMI) customer whose use has been zero for the
-- configured consecutive cycles, the on-site check sample its class requires (HV 100 %, LV
-- non-residential 80 %, residential 20 %: the longest zero runs first), and whether a visit this month
-- is on record for it (a field anomaly report or a review finding naming the customer).
-- partition: month
-- key: customer_no
-- inputs: marts.meters_due, marts.reading_context, marts.workflow_reports, marts.error_findings
-- param cycles: targets.toml zero_check_rate.cycles
-- param target_hv: targets.toml zero_check_rate.target_hv
-- param target_lv_nonres: targets.toml zero_check_rate.target_lv_nonres
-- param target_lv_res: targets.toml zero_check_rate.target_lv_res
-- count by: customer_class, selected
--
-- A customer counts when any of its remote meters has `cycles` consecutive zero cycles up to the month
-- (marts.reading_context zero_cycles, the count marts.kpi_levels_month uses). required_share is the
-- class's target; per team and class, ceil(share × customers) are selected, the longest runs first
-- (then by customer number): the list to check on site. No export delivers on-site check records, so
-- `visited` is the evidence the warehouse has of someone at the customer this month; a selected customer
-- without it is still to be checked. docs/workflows.md.
insert into marts.zero_checks by name
with due as (
    select * from marts.meters_due where period = $period and customer_no is not null
),
zero as (
    select meter_no, max(zero_cycles) as zero_cycles
    from marts.reading_context
    where period = $period
    group by meter_no
),
customers as (
    select d.customer_no,
           arg_min(struct_pack(team := d.team, reader := d.reader, segment_no := d.segment_no,
                               customer_class := d.customer_class), (d.segment_no, d.meter_key)) as home,
           max(z.zero_cycles) filter (where d.read_mode = 'REMOTE')                        as zero_cycles,
           list(distinct d.meter_no order by d.meter_no) filter (where d.read_mode = 'REMOTE') as meters
    from due d
    left join zero z on z.meter_no = d.meter_no
    group by d.customer_no
),
runs as (
    select customer_no, home.team as team, home.reader as reader, home.segment_no as segment_no,
           home.customer_class as customer_class, zero_cycles, meters,
           case home.customer_class when 'HV' then $target_hv when 'LV_NONRES' then $target_lv_nonres
                else $target_lv_res end::double                                           as required_share
    from customers
    where zero_cycles >= $cycles
),
ranked as (
    select *,
           row_number() over (partition by team, customer_class order by zero_cycles desc, customer_no) as check_rank,
           count(*) over (partition by team, customer_class)                                as class_customers
    from runs
),
visits as (
    select customer_no, min(report_no) as evidence_id, 'report' as evidence_kind
    from marts.workflow_reports where period = $period group by customer_no
    union all
    select customer_no, min(finding_no), 'finding'
    from marts.error_findings where period = $period group by customer_no
),
visit as (
    -- a field anomaly report (someone reported from the site) before a review finding
    select customer_no, arg_min(evidence_id, (evidence_kind <> 'report', evidence_id)) as evidence_id,
           arg_min(evidence_kind, (evidence_kind <> 'report', evidence_id)) as evidence_kind
    from visits group by customer_no
),
final as (
    select $period                                                                         as period,
           r.team, r.reader, r.segment_no, r.customer_no, r.customer_class, r.meters, r.zero_cycles,
           r.required_share, r.class_customers,
           ceil(round(r.required_share * r.class_customers, 9))::bigint                    as class_required,
           r.check_rank,
           r.check_rank <= ceil(round(r.required_share * r.class_customers, 9))            as selected,
           v.customer_no is not null                                                       as visited,
           v.evidence_kind                                                                 as visit_kind,
           v.evidence_id                                                                   as visit_id,
           $config_version                                                                 as config_version,
           now()                                                                           as computed_at
    from ranked r
    left join visit v using (customer_no)
)
select * from final
