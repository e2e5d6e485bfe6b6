-- The outer (99.8 %) limits hold the inner (95 %) ones, which hold the centre line, and a unit's signal
-- agrees with where its rate lies: the rows returned break that.
select level, team, reader, metric, rate, centre_rate, lower_outer, lower_inner, upper_inner, upper_outer, signal
from marts.spc_funnel
where period = $period
  and (lower_outer > lower_inner or lower_inner > centre_rate or centre_rate > upper_inner
       or upper_inner > upper_outer
       or (signal = 'in_control' and (rate > upper_inner or rate < lower_inner))
       or (signal like 'above_%' and rate <= upper_inner)
       or (signal like 'below_%' and rate >= lower_inner))
