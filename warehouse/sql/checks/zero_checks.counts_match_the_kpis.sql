-- The customers listed per known class are those marts.kpi_levels_month counts as remote zero runs (centre
-- level), and each team and class selects exactly ceil(share × customers): the rows returned are the
-- classes whose counts differ, or the teams whose sample is the wrong size.
with listed as (
    select customer_class, count(*) as n
    from marts.zero_checks where period = $period and customer_class is not null group by all
),
kpi as (
    select unnest(['HV', 'LV_NONRES', 'LV_RES']) as customer_class,
           unnest([zero_runs_hv, zero_runs_lv_nonres, zero_runs_lv_res]) as n
    from marts.kpi_levels_month where period = $period and level = 'centre'
),
sizes as (
    select team, customer_class, count(*) filter (where selected) as selected, any_value(class_required) as required
    from marts.zero_checks where period = $period group by all
)
select k.customer_class, k.n as kpi_customers, coalesce(l.n, 0) as listed, null::varchar as team
from kpi k
left join listed l using (customer_class)
where k.n <> coalesce(l.n, 0)
union all
select customer_class, null, selected, team
from sizes
where selected <> required
