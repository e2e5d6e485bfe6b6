-- marts.error_stats_month: the 差错统计表 per team and month (the seed's 差错分析制度): for each error
-- type its 户数 and 电量, the totals, the three 差错率 (by customer, by meter, by energy) and per 万户,
-- and the errors by responsible party, with the counts behind every rate.
-- partition: month
-- key: team
-- inputs: marts.error_findings, marts.meters_due, ops.deliveries, quarantine.rows
--
-- Counted: the month's findings in scope (their customer is among the meters due; marts.error_findings),
-- whoever is responsible: a team's row holds every error on its customers, and says how many were the
-- reader's, the clerk's and the system's (the per-reader table keeps the clerk's and the system's out
-- of the readers' rates). <type>_customers: customers with a finding of that type; total_customers
-- their sum over the types (a customer with errors of two types counts in both, as the paper table
-- adds up); customers_with_error: distinct customers, the numerator of the per-customer rate.
-- meters_with_error: the meters the findings name, or every meter due of the customer when a finding
-- names none (or one not due). kWh: |差错电量|; a finding without one adds 0 and is counted in
-- findings_without_kwh. Findings on customers not due this month: findings_out_of_scope only.
-- Rates: error_rate = customers_with_error / customers_read (实抄户数); error_rate_meter =
-- meters_with_error / meters_due (应抄电能表只数); error_rate_kwh = kwh_error / kwh_due (应抄电量);
-- errors_per_10k = 10,000 × error_rate. Denominators from marts.meters_due, as marts.kpi_levels_month
-- counts them: a customer (户, customer_key) once, at its first meter due (by segment, meter), read when
-- every meter is READ; customers_unknown = customers with a meter whose row sits in quarantine (in 应抄,
-- never in 实抄); 只 (meter_key) where each meter is attributed; kWh of the total-active register of the
-- meters that loaded (a quarantined row's kWh is unverified).
-- When no review findings were delivered for the month, every error count and rate is null and
-- null_reason 'NO_FINDINGS' (no data, never 0); a row with nothing due has null rates ('NO_VOLUME'),
-- one with meters due but no customer read a null per-customer rate ('NO_READS'), one whose kWh due
-- is 0 a null per-kWh rate ('NO_KWH').
insert into marts.error_stats_month by name
with delivered as (
    select exists (select 1 from ops.deliveries
                   where kind = 'review_findings' and period = $period and status <> 'rejected') as yes
),
quarantined as (
    select count(distinct (delivery_id, sheet, source_row)) as n
    from quarantine.rows
    where kind = 'review_findings' and period = $period and superseded_by is null
),
due as (
    select team, reader, segment_no, customer_key, customer_no, meter_key, meter_no, read_status, in_quarantine, kwh
    from marts.meters_due
    where period = $period
),
customers as (
    -- a customer counts once, at its home: its first meter due (by segment, meter), as marts.kpi_levels_month
    -- counts 户; read when every meter is READ, unknown when one sits in quarantine
    select customer_key,
           arg_min(struct_pack(team := team, reader := reader, segment_no := segment_no),
                   (segment_no, meter_key, team, reader))                                as home,
           bool_and(read_status = 'READ')                                                as is_read,
           bool_or(in_quarantine)                                                        as is_unknown
    from due
    group by customer_key
),
customer_volume as (
    select home.team as team,
           count(*)                            as customers_due,
           count(*) filter (where is_read)     as customers_read,
           count(*) filter (where is_unknown)  as customers_unknown
    from customers
    group by all
),
volume as (
    -- 只 where each meter is attributed; 应抄电量 of the meters that loaded (a quarantined row's kWh is unverified)
    select team,
           count(distinct meter_key)                                                     as meters_due,
           coalesce(sum(kwh) filter (where not in_quarantine), 0)                        as kwh_due
    from due
    group by team
),
findings as (
    select * from marts.error_findings where period = $period
),
in_scope as (
    select * from findings where in_scope
),
error_meters as (
    select f.team, count(distinct d.meter_key) as meters_with_error
    from in_scope f
    join due d on d.customer_no = f.customer_no and (not f.meter_due or d.meter_no = f.meter_no)
    group by f.team
),
out_of_scope as (
    select team, count(*) as findings_out_of_scope
    from findings
    where not in_scope
    group by team
),
keys as (
    select team from volume
    union
    select team from findings
),
counts as (
    select k.team,
           count(distinct f.customer_no) filter (where f.error_type = 'MISREAD')            as misread_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'MISREAD'), 0)        as misread_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'MISSED')             as missed_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'MISSED'), 0)         as missed_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'ESTIMATED')          as estimated_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'ESTIMATED'), 0)      as estimated_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'PROXY')              as proxy_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'PROXY'), 0)          as proxy_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'CROSSED')            as crossed_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'CROSSED'), 0)        as crossed_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'NOT_ON_SITE')        as not_on_site_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'NOT_ON_SITE'), 0)    as not_on_site_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'DATE_CHANGE')        as date_change_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'DATE_CHANGE'), 0)    as date_change_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'INFO_MISMATCH')      as info_mismatch_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'INFO_MISMATCH'), 0)  as info_mismatch_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'MULTIPLIER')         as multiplier_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'MULTIPLIER'), 0)     as multiplier_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'ENTRY')              as entry_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'ENTRY'), 0)          as entry_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'DATA_PREP')          as data_prep_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'DATA_PREP'), 0)      as data_prep_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'AUTO_COLLECT')       as auto_collect_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'AUTO_COLLECT'), 0)   as auto_collect_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'UNREPORTED')         as unreported_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'UNREPORTED'), 0)     as unreported_kwh,
           count(distinct (f.customer_no, f.error_type)) filter (where f.finding_no is not null) as total_customers,
           count(distinct f.customer_no)                                                 as customers_with_error,
           coalesce(sum(f.kwh_impact), 0)                                                as kwh_error,
           count(f.finding_no)                                                           as findings,
           count(distinct f.customer_no) filter (where f.responsible = 'READER')         as reader_customers,
           count(distinct f.customer_no) filter (where f.responsible = 'CLERK')          as clerk_customers,
           count(distinct f.customer_no) filter (where f.responsible = 'SYSTEM')         as system_customers,
           coalesce(sum(f.kwh_impact) filter (where f.responsible = 'READER'), 0)        as reader_kwh,
           coalesce(sum(f.kwh_impact) filter (where f.responsible = 'CLERK'), 0)         as clerk_kwh,
           coalesce(sum(f.kwh_impact) filter (where f.responsible = 'SYSTEM'), 0)        as system_kwh,
           count(f.finding_no) filter (where f.kwh_impact is null)                       as findings_without_kwh,
           coalesce(max(e.meters_with_error), 0)                                         as meters_with_error,
           coalesce(max(o.findings_out_of_scope), 0)                                     as findings_out_of_scope
    from keys k
    left join in_scope f using (team)
    left join error_meters e using (team)
    left join out_of_scope o using (team)
    group by k.team
),
final as (
    select $period                                                                     as period,
           k.team,
           coalesce(u.customers_due, 0)                                                as customers_due,
           coalesce(u.customers_read, 0)                                               as customers_read,
           coalesce(u.customers_unknown, 0)                                            as customers_unknown,
           coalesce(v.meters_due, 0)                                                   as meters_due,
           coalesce(v.kwh_due, 0)                                                      as kwh_due,
           d.yes                                                                       as findings_delivered,
           c.* exclude (team),
           c.customers_with_error / nullif(u.customers_read, 0)                        as error_rate,
           c.meters_with_error / nullif(v.meters_due, 0)                               as error_rate_meter,
           c.kwh_error / nullif(v.kwh_due, 0)                                          as error_rate_kwh,
           10000.0 * c.customers_with_error / nullif(u.customers_read, 0)              as errors_per_10k,
           q.n                                                                         as findings_quarantined,
           case when not d.yes then 'NO_FINDINGS'
                when coalesce(v.meters_due, 0) = 0 then 'NO_VOLUME'
                when coalesce(u.customers_read, 0) = 0 then 'NO_READS'
                when coalesce(v.kwh_due, 0) = 0 then 'NO_KWH' end                     as null_reason,
           $config_version                                                             as config_version,
           now()::timestamp                                                            as computed_at
    from keys k
    cross join delivered d
    cross join quarantined q
    left join volume v using (team)
    left join customer_volume u using (team)
    left join counts c on d.yes and c.team = k.team
)
select * from final
