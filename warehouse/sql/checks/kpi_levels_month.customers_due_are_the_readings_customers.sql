-- 应抄户数 is every customer of the month's reading exports: the customers of core.readings plus those
-- of the rows in quarantine (read back from raw.readings; a row without a customer number counts as
-- its own customer, as in marts.meters_due), less only customers the master gives a status (closed and
-- suspended customers are not due). The rows returned are the customers left out without a master
-- status, and the centre's customers_due when it differs from that count.
-- (The quarantined lines are found as in meters_due.sql, written again on purpose: a check that
-- called the code it checks would pass with it.)
with quarantined_lines as (
    select distinct q.delivery_id, q.sheet, q.source_row
    from quarantine.rows q
    join ops.deliveries d using (delivery_id)
    where q.kind = 'readings' and q.period = $period and q.superseded_by is null and q.stage <> 'read'
      and d.status not in ('rejected', 'superseded')
),
listed as (
    select distinct customer_no as customer_key from core.readings where period = $period
    union
    select coalesce(rq_text_of(r.customer_no), '?' || r.delivery_id || ':' || r.source_row)
    from raw.readings r
    semi join quarantined_lines l
      on l.delivery_id = r.delivery_id and l.source_row = r.source_row and l.sheet is not distinct from r.sheet
),
due as (
    select distinct customer_key from marts.meters_due where period = $period
),
left_out as (
    select l.customer_key,
           exists (select 1 from core.customers c
                   where c.customer_no = l.customer_key and c.period <= $period
                     and c.customer_status is not null)                        as has_status
    from listed l
    anti join due d using (customer_key)
),
centre as (
    select customers_due from marts.kpi_levels_month where period = $period and level = 'centre'
),
expected as (
    select (select count(*) from listed) - (select count(*) from left_out where has_status) as n
)
select customer_key as problem, null::bigint as customers_due, null::bigint as expected
from left_out
where not has_status
union all
select 'centre customers_due', c.customers_due, e.n
from centre c, expected e
where c.customers_due <> e.n
