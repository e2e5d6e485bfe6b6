-- Every metering point read this month has its history context: the rows returned are points of
-- marts.meter_readings without a row in marts.reading_context.
select r.mp_key, r.meter_no
from (select distinct mp_key, meter_no from marts.meter_readings where period = $period) r
anti join (select mp_key from marts.reading_context where period = $period) c using (mp_key)
