-- marts.spc_p_chart: each team's error and flag rate of the month against p-chart control limits.
-- partition: month
-- key: metric, team
-- inputs: marts.kpi_team_month, marts.meter_readings, marts.reading_flags
-- prepare: spc_p_chart
-- count by: metric, signal
--
-- Centre line: the centre's pooled rate of the month (Σ numerators / Σ denominators over the teams);
-- limits p̄ ± z·√(p̄(1 − p̄)/n) with n the team's own volume (config/spc.toml [p_chart] z), so a small
-- team's wider swing is not mistaken for a worse month. signal: above | below | in_control | no_volume.
-- error_rate = customers_with_error / customers_read (marts.kpi_team_month; a month without review
-- findings has no row), flag_rate = reads with a warn/fail flag / reads not 未抄. The unattributed team
-- is not charted. Rows: checks/spc.py p_chart_rows via warehouse/steps/spc_p_chart.py.
insert into marts.spc_p_chart by name
with rows as (
    select * from spc_p_chart_rows
),
final as (
    select $period               as period,
           team,
           metric,
           numerator,
           denominator,
           rate,
           centre_rate,
           lcl,
           ucl,
           signal,
           $config_version       as config_version,
           now()::timestamp      as computed_at
    from rows
)
select * from final
