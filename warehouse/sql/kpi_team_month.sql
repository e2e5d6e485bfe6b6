-- marts.kpi_team_month: 实抄率, 漏抄率, 估抄率, 差错率 (by customer, by meter, by energy) and every other KPI of
-- the product brief §4 per team and month, with the counts behind every rate, its target, met, MoM / YoY
-- change and null reason (the 'team' level of marts.kpi_levels_month).
-- partition: month
-- key: team
-- inputs: marts.kpi_levels_month
--
-- How each KPI is counted: warehouse/sql/kpi_levels_month.sql and docs/kpis.md.
insert into marts.kpi_team_month by name
with team_level as (
    select * exclude (level, reader, segment_no)
    from marts.kpi_levels_month
    where period = $period and level = 'team'
),
final as (
    select * from team_level
)
select * from final
