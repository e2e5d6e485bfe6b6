-- marts.kpi_segment_month: every KPI of the product brief §4 per segment (抄表段) and month, with the counts behind
-- each rate, its target, met, MoM / YoY change and null reason (the 'segment' level of marts.kpi_levels_month).
-- partition: month
-- key: team, segment_no
-- inputs: marts.kpi_levels_month
--
-- How each KPI is counted: warehouse/sql/kpi_levels_month.sql and docs/kpis.md.
insert into marts.kpi_segment_month by name
with segment_level as (
    select * exclude (level, reader)
    from marts.kpi_levels_month
    where period = $period and level = 'segment'
),
final as (
    select * from segment_level
)
select * from final
