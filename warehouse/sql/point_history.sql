-- marts.point_history: each metering point's kept reading of the month in numbers (month index, status code, register values, read day, meter code): the history marts.reading_context reads, narrow so that 24 months of it scan fast.
-- partition: month
-- key: mp_id
-- inputs: marts.meter_readings
-- prepare: point_history
--
-- One row per metering point (mp_key) read in the month: its kept row (checks/history.py KEEP_ORDER: the
-- highest 本次, then the lowest meter number) encoded by checks/history.py POINT_MONTHS_SQL, the same text
-- that reading_context's pure path runs over a frame. A month of reading_context reads its own month and
-- the [history] months before it from here, joined on mp_id, instead of re-encoding up to 25 months of
-- marts.meter_readings each time. The key check on mp_id also proves that no two points of a month share
-- a hash. Rows in mp_key order (the order the month's points are read in: the history lands in order).
insert into marts.point_history by name
with points as (
    select * from point_history_rows
),
final as (
    select period, mp_id, month, status, this_read, last_read, multiplier, digits, read_day, dated, meter,
           $config_version    as config_version,
           now()::timestamp   as computed_at
    from points
)
select * from final
