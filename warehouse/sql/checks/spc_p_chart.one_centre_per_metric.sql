-- Every team of a metric is charted against the same centre line, the centre's pooled rate, with its
-- limits around it: the rows returned break that.
with pooled as (
    select metric, sum(numerator) / nullif(sum(denominator), 0) as p, count(distinct centre_rate) as centres
    from marts.spc_p_chart
    where period = $period
    group by metric
)
select c.team, c.metric, c.centre_rate, p.p as pooled, p.centres, c.lcl, c.ucl
from marts.spc_p_chart c
join pooled p using (metric)
where c.period = $period
  and (p.centres > 1 or abs(c.centre_rate - p.p) > 1e-12 or c.lcl > c.centre_rate or c.ucl < c.centre_rate)
