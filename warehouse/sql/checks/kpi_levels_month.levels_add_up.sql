-- The levels add up: for every count that adds (customers, meters, kWh, reports, defects …), the
-- readers of a team and the segments of a team sum to the team's row, and the teams to the centre's.
-- (差错户数 / 差错只数 count distinct customers and meters and a reader's row holds only the reader's
-- own errors, so they are not among them; 差错电量 adds up over segments and teams.)
-- The rows returned are the sums that differ.
with measures as (
    unpivot (
        select level, team,
               customers_due::double as customers_due, customers_quarantined::double as customers_quarantined,
               customers_read::double as customers_read, customers_missed::double as customers_missed,
               customers_estimated::double as customers_estimated, customers_remote::double as customers_remote,
               customers_on_time::double as customers_on_time,
               customers_upload_timely::double as customers_upload_timely,
               meters_due::double as meters_due, meters_quarantined::double as meters_quarantined,
               kwh_due::double as kwh_due, coalesce(reports, 0)::double as reports,
               coalesce(reports_in_time, 0)::double as reports_in_time,
               coalesce(defects_due, 0)::double as defects_due,
               coalesce(defects_closed_in_time, 0)::double as defects_closed_in_time,
               coalesce(customers_new_changed, 0)::double as customers_new_changed,
               zero_runs_hv::double as zero_runs_hv, zero_runs_lv_nonres::double as zero_runs_lv_nonres,
               zero_runs_lv_res::double as zero_runs_lv_res,
               case when level = 'reader' then null else coalesce(kwh_error, 0) end::double as kwh_error
        from marts.kpi_levels_month
        where period = $period
    ) on columns(* exclude (level, team)) into name measure value value
),
parents as (
    select level, team, measure, value from measures where level in ('team', 'centre')
),
sums as (
    select 'reader' as child, team, measure, sum(value) as value from measures where level = 'reader' group by all
    union all
    select 'segment', team, measure, sum(value) from measures where level = 'segment' group by all
    union all
    select 'team', null, measure, sum(value) from measures where level = 'team' group by all
)
select s.child, s.team, s.measure, s.value as children, p.value as parent
from sums s
join parents p on p.measure = s.measure and p.level = case when s.child = 'team' then 'centre' else 'team' end
              and p.team is not distinct from s.team
where abs(s.value - p.value) > 1e-6 * greatest(1, abs(p.value))
