-- marts.kpi_centre_month: every KPI of the product brief §4 for the whole centre per month, with the counts behind
-- each rate, its target, met, MoM / YoY change and null reason (the 'centre' level of marts.kpi_levels_month).
-- partition: month
-- key: period
-- inputs: marts.kpi_levels_month
--
-- How each KPI is counted: warehouse/sql/kpi_levels_month.sql and docs/kpis.md.
insert into marts.kpi_centre_month by name
with centre_level as (
    select * exclude (level, team, reader, segment_no)
    from marts.kpi_levels_month
    where period = $period and level = 'centre'
),
final as (
    select * from centre_level
)
select * from final
