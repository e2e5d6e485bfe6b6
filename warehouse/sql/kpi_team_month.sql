-- marts.kpi_team_month: 实抄率, 漏抄率, 估抄率 and 差错率 (by customer, by meter, by energy) per team and
-- month, with the counts behind every rate.
-- partition: month
-- inputs: core.readings, core.review_findings, core.assignments, ops.deliveries
-- param actual_read_target: targets.toml actual_read_rate.target
-- param error_target_manual: targets.toml error_rate.target_manual
-- param error_target_remote: targets.toml error_rate.target_remote
--
-- A reading's team is the export's own team column when it has one, else the team of the assignment
-- (抄表派工) valid for its segment that month (the latest assignment up to the month), else
-- '(未指定)' (unattributed). A meter held by two deliveries in force (listed under two segments)
-- counts once, from the latest delivery. A customer with several meters counts once in 户-based
-- rates: read only when every meter was read, missed when any meter was missed. 差错户数 is NULL
-- (no data) when no review findings were delivered for the month: a missing ledger is not a
-- perfect month.
insert into marts.kpi_team_month by name
with readings as (
    select r.*
    from core.readings r
    join ops.deliveries d using (delivery_id)
    where r.period = $period
    qualify row_number() over (partition by r.meter_no, r.read_type order by d.seq desc, r.source_row) = 1
),
assignment as (
    select segment_no, team
    from core.assignments a
    join ops.deliveries d using (delivery_id)
    where a.period <= $period
    qualify row_number() over (partition by a.segment_no order by a.period desc, d.seq desc) = 1
),
meters as (
    select coalesce(r.team, a.team, '(未指定)')                       as team,
           r.team is null and a.team is not null                     as by_assignment,
           r.customer_no, r.meter_no, r.read_status, r.read_mode,
           coalesce(r.kwh, 0)                                        as kwh
    from readings r
    left join assignment a using (segment_no)
),
customers as (
    select team, customer_no,
           bool_and(read_status = 'READ')                                   as is_read,
           bool_or(read_status = 'MISSED')                                  as is_missed,
           bool_or(read_status = 'ESTIMATED') and not bool_or(read_status = 'MISSED') as is_estimated,
           bool_and(read_status = 'READ') and bool_or(read_mode = 'REMOTE') as is_remote,
           bool_or(by_assignment)                                           as by_assignment
    from meters
    group by team, customer_no
),
findings_delivered as (
    select count(*) > 0 as yes
    from ops.deliveries
    where kind = 'review_findings' and period = $period and status <> 'rejected'
),
findings as (
    select customer_no, meter_no, abs(coalesce(kwh_impact, 0)) as kwh_impact
    from core.review_findings
    where period = $period
),
customer_errors as (
    select c.team, count(distinct c.customer_no) as n
    from customers c
    join (select distinct customer_no from findings) f using (customer_no)
    group by c.team
),
meter_errors as (
    select m.team, count(distinct m.meter_no) as n
    from meters m
    join (select distinct customer_no, meter_no from findings) f
      on f.customer_no = m.customer_no and (f.meter_no is null or f.meter_no = m.meter_no)
    group by m.team
),
kwh_errors as (
    select c.team, sum(f.kwh_impact) as kwh
    from findings f
    join customers c using (customer_no)
    group by c.team
),
per_team as (
    select team,
           count(*)                                   as customers_due,
           count(*) filter (where is_read)            as customers_read,
           count(*) filter (where is_missed)          as customers_missed,
           count(*) filter (where is_estimated)       as customers_estimated,
           count(*) filter (where is_remote)          as customers_remote,
           count(*) filter (where by_assignment)      as customers_team_from_assignment
    from customers
    group by team
),
per_team_meters as (
    select team, count(distinct meter_no) as meters_due, sum(kwh) as kwh_due
    from meters
    group by team
),
final as (
    select $period                                                                   as period,
           t.team,
           t.customers_due, t.customers_read, t.customers_missed, t.customers_estimated, t.customers_remote,
           t.customers_team_from_assignment,
           case when fd.yes then coalesce(ce.n, 0) end                                  as customers_with_error,
           m.meters_due,
           case when fd.yes then coalesce(me.n, 0) end                                  as meters_with_error,
           m.kwh_due,
           case when fd.yes then coalesce(ke.kwh, 0) end                                as kwh_error,
           t.customers_read / nullif(t.customers_due, 0)                                as actual_read_rate,
           t.customers_missed / nullif(t.customers_due, 0)                              as missed_rate,
           t.customers_estimated / nullif(t.customers_due, 0)                           as estimated_rate,
           case when fd.yes then coalesce(ce.n, 0) / nullif(t.customers_read, 0) end    as error_rate,
           case when fd.yes then coalesce(me.n, 0) / nullif(m.meters_due, 0) end        as error_rate_meter,
           case when fd.yes then coalesce(ke.kwh, 0) / nullif(m.kwh_due, 0) end         as error_rate_kwh,
           case when fd.yes then 10000.0 * coalesce(ce.n, 0) / nullif(t.customers_read, 0) end as errors_per_10k,
           $actual_read_target                                                          as actual_read_rate_target,
           coalesce(((t.customers_read - t.customers_remote) * $error_target_manual
                     + t.customers_remote * $error_target_remote) / nullif(t.customers_read, 0),
                    $error_target_manual)                                               as error_rate_target,
           $config_version                                                              as config_version,
           now()::timestamp                                                             as computed_at
    from per_team t
    join per_team_meters m using (team)
    cross join findings_delivered fd
    left join customer_errors ce using (team)
    left join meter_errors me using (team)
    left join kwh_errors ke using (team)
)
select * from final
