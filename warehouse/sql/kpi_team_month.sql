-- marts.kpi_team_month for one billing month ($period): 实抄率, 漏抄率, 估抄率 and 差错率
-- (by customer, by meter, by energy) per team, with the counts behind every rate.
-- A customer with several meters counts once in 户-based rates: read only when every meter
-- was read, missed when any meter was missed. 差错户数 is NULL (no data) when no review
-- findings were delivered for the month: a missing ledger is not a perfect month.
insert into marts.kpi_team_month
with meters as (
    select coalesce(team, '(未指定)') as team, customer_no, meter_no, read_status, read_mode,
           coalesce(kwh, 0) as kwh
    from core.readings
    where period = $period
),
customers as (
    select team, customer_no,
           bool_and(read_status = 'READ')                                   as is_read,
           bool_or(read_status = 'MISSED')                                  as is_missed,
           bool_or(read_status = 'ESTIMATED') and not bool_or(read_status = 'MISSED') as is_estimated,
           bool_and(read_status = 'READ') and bool_or(read_mode = 'REMOTE') as is_remote
    from meters
    group by team, customer_no
),
findings_delivered as (
    select count(*) > 0 as yes
    from ops.deliveries
    where kind = 'review_findings' and period = $period and status = 'loaded'
),
findings as (
    select customer_no, meter_no, abs(coalesce(kwh_impact, 0)) as kwh_impact
    from core.review_findings
    where period = $period
),
customer_errors as (
    select c.team, count(distinct c.customer_no) as n
    from customers c join (select distinct customer_no from findings) f using (customer_no)
    group by c.team
),
meter_errors as (
    select m.team, count(distinct m.meter_no) as n
    from meters m join (select distinct customer_no, meter_no from findings) f
      on f.customer_no = m.customer_no and (f.meter_no is null or f.meter_no = m.meter_no)
    group by m.team
),
kwh_errors as (
    select c.team, sum(f.kwh_impact) as kwh
    from findings f join customers c using (customer_no)
    group by c.team
),
per_team as (
    select c.team,
           count(*)                                   as customers_due,
           count(*) filter (where c.is_read)          as customers_read,
           count(*) filter (where c.is_missed)        as customers_missed,
           count(*) filter (where c.is_estimated)     as customers_estimated,
           count(*) filter (where c.is_remote)        as customers_remote
    from customers c
    group by c.team
),
per_team_meters as (
    select team, count(*) as meters_due, sum(kwh) as kwh_due from meters group by team
)
select $period as period,
       t.team,
       t.customers_due, t.customers_read, t.customers_missed, t.customers_estimated, t.customers_remote,
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
