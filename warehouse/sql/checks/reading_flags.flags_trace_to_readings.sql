-- Every flag leads back to a reading of the month and its source line: the rows returned are flags
-- whose delivery, sheet and line are not a reading in marts.meter_readings.
select f.rule_id, f.meter_no, f.delivery_id, f.source_row
from marts.reading_flags f
anti join marts.meter_readings r
  on r.period = f.period and r.delivery_id = f.delivery_id and r.source_row = f.source_row
 and r.sheet is not distinct from f.sheet
where f.period = $period
