-- marts.spc_funnel_limits: the funnel curves of the month (the limits of marts.spc_funnel tabulated
-- over volume, from the smallest unit's volume to the largest), so the funnel plot only reads a table.
-- partition: month
-- key: level, metric, volume
-- inputs: marts.kpi_team_month, marts.kpi_reader_month, marts.meter_readings, marts.reading_flags
-- prepare: spc_funnel_limits
--
-- One row per level, metric and volume (config/spc.toml [funnel] grid_points, geometric).
-- Rows: checks/spc.py funnel_curve_rows.
insert into marts.spc_funnel_limits by name
with rows as (
    select * from spc_funnel_limits_rows
),
final as (
    select $period               as period,
           level,
           metric,
           volume,
           centre_rate,
           inner_coverage,
           outer_coverage,
           lower_inner,
           upper_inner,
           lower_outer,
           upper_outer,
           $config_version       as config_version,
           now()::timestamp      as computed_at
    from rows
)
select * from final
