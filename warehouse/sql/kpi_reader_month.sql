-- marts.kpi_reader_month: every KPI of the product brief §4 per reader (抄表员) and month, with the counts behind
-- each rate, its target, met, MoM / YoY change and null reason (the 'reader' level of marts.kpi_levels_month).
-- partition: month
-- key: team, reader
-- inputs: marts.kpi_levels_month
--
-- How each KPI is counted: warehouse/sql/kpi_levels_month.sql and docs/kpis.md.
insert into marts.kpi_reader_month by name
with reader_level as (
    select * exclude (level, segment_no)
    from marts.kpi_levels_month
    where period = $period and level = 'reader'
),
final as (
    select * from reader_level
)
select * from final
