-- Every meter due is in marts.meters_due once, and a meter of marts.meter_readings is left out only
-- when the customer master gives its customer a status (closed and suspended customers are not
-- due): the rows returned are the meters doubled, or dropped without a master status.
with due as (
    select meter_key, count(*) as n from marts.meters_due where period = $period group by all
),
read as (
    select distinct meter_no, customer_no from marts.meter_readings where period = $period
)
select d.meter_key, d.n, null::varchar as dropped_meter
from due d
where d.n <> 1
union all
select null, null, r.meter_no
from read r
anti join due d on d.meter_key = r.meter_no
where not exists (select 1 from core.customers c
                  where c.customer_no = r.customer_no and c.period <= $period and c.customer_status is not null)
