-- marts.spc_cusum: CUSUM change points of each team's and reader's error and flag rate over the months
-- up to the month: a sustained rise (or fall) against the centre's rate, with the month it started.
-- partition: month
-- key: level, metric, team, reader?
-- inputs: marts.kpi_team_month, marts.kpi_reader_month, marts.meter_readings, marts.reading_flags
-- prepare: spc_cusum
-- history: spc.toml cusum.months_before
-- count by: level, metric, signal
--
-- z_t = (x_t − n_t p_t) / √(n_t p_t (1 − p_t)), with p_t = r̂ · p̄_t: p̄_t the median unit's rate of
-- month t, r̂ the unit's usual level (the median over the months of x / (n·p̄)); so a unit always above
-- the others (the funnel's signal) is not a change point, and the centre's own swings cancel out;
-- z_t capped at ±z_cap (one extreme month is the p-chart's signal); S⁺_t = max(0, S⁺_{t−1} + z_t − k), S⁻ likewise downward; signal 'rise' when S⁺ > h at the month
-- ('fall' for S⁻), 'none', or 'too_few_months' (fewer than [cusum] min_months with volume).
-- start_month: the first month of the run that carries the signal; run_months counts from it to the
-- month. A unit gets a row when it has volume in the month. Rows: checks/spc.py cusum_rows.
insert into marts.spc_cusum by name
with rows as (
    select * from spc_cusum_rows
),
final as (
    select $period               as period,
           level,
           team,
           reader,
           metric,
           months,
           cusum_up,
           cusum_down,
           signal,
           start_month,
           run_months,
           numerator,
           denominator,
           $config_version       as config_version,
           now()::timestamp      as computed_at
    from rows
)
select * from final
