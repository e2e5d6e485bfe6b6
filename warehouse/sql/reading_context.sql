-- marts.reading_context: what each reading's metering-point history says (at most 24 months back): read
-- period in days, use, expected use and its band, robust statistics, runs of zeros and estimates, the
-- CUSUM change point of a sustained drop.
-- partition: month
-- key: mp_key
-- inputs: marts.meter_readings, marts.point_history
-- prepare: reading_context
-- history: rules.toml history.months
--
-- The prepare step (warehouse/steps/reading_context.py) reads the month from marts.meter_readings and its
-- history from marts.point_history (the same rows in numbers, one per point and month), and computes
-- `context_rows` with checks/history.py (pure numpy).
insert into marts.reading_context by name
with context as (
    select * from context_rows
),
final as (
    select period, mp_key, hash(mp_key) as mp_id, meter_no, prev_period, prev_read_date, prev_this_read,
           meter_changed, period_days, cycle_months, use_kwh, wrapped_kwh, use_per_day, expected_kwh,
           expected_per_day, expected_trailing, expected_yoy, expected_smooth, season_index, history_months, band_low, band_high,
           robust_median, robust_mad, robust_z, robust_months, zero_cycles, estimate_cycles,
           repeat_kwh1, repeat_kwh2, repeat_days1, repeat_days2, drop_start, drop_ratio, drop_t, drop_months,
           prev_suspect,
           $config_version    as config_version,
           now()::timestamp   as computed_at
    from context
)
select * from final
