-- One row per unit of each level and month (a reader of a team, a segment of a team, a team, the
-- centre): the rows returned are the units counted twice. The kpi_<level>_month marts copy these rows.
select level, team, reader, segment_no, count(*) as n
from marts.kpi_levels_month
where period = $period
group by all
having count(*) > 1
