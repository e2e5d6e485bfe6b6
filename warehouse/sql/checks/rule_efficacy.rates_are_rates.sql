-- Precision and recall are shares of their counts: the rows returned break that.
select rule_id, flags, flags_confirmed, precision, confirmed_errors, errors_flagged, recall
from marts.rule_efficacy
where period = $period
  and (precision not between 0 and 1 or recall not between 0 and 1
       or flags_confirmed > flags or errors_flagged > confirmed_errors)
