-- marts.spc_funnel: every team and reader of the month, rate against volume, with funnel-plot limits.
-- partition: month
-- key: level, metric, team, reader?
-- inputs: marts.kpi_team_month, marts.kpi_reader_month, marts.meter_readings, marts.reading_flags
-- prepare: spc_funnel
-- count by: level, metric, signal
--
-- Limits: exact binomial quantiles around the centre's pooled rate at the unit's volume, interpolated
-- (Spiegelhalter 2005), at the inner and outer coverage of config/spc.toml [funnel] (95 % and 99.8 %).
-- signal: above_<‰> / below_<‰> for the widest coverage crossed (above_998: outside 99.8 %), in_control,
-- no_volume. Teams and readers are judged separately (level), each against the centre's rate of
-- its level. The unattributed team and reader are not charted. Rows: checks/spc.py funnel_rows.
insert into marts.spc_funnel by name
with rows as (
    select * from spc_funnel_rows
),
final as (
    select $period               as period,
           level,
           team,
           reader,
           metric,
           numerator,
           denominator,
           rate,
           centre_rate,
           inner_coverage,
           outer_coverage,
           lower_inner,
           upper_inner,
           lower_outer,
           upper_outer,
           signal,
           $config_version       as config_version,
           now()::timestamp      as computed_at
    from rows
)
select * from final
