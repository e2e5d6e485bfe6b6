-- Every in-force reading of the month is in marts.meter_readings exactly once (meter + read type):
-- the rows returned are the meters missing or doubled.
with core_keys as (
    select distinct meter_no, read_type from core.readings where period = $period
),
mart_keys as (
    select meter_no, read_type, count(*) as n from marts.meter_readings where period = $period group by all
)
select coalesce(c.meter_no, m.meter_no) as meter_no, coalesce(c.read_type, m.read_type) as read_type, m.n
from core_keys c
full join mart_keys m on m.meter_no = c.meter_no and m.read_type is not distinct from c.read_type
where m.n is null or m.n <> 1 or c.meter_no is null
