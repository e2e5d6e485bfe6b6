-- A month without review findings delivered has no error counts and no rates (null, never 0), with the
-- reason NO_FINDINGS; a month with them has the counts. Rows returned: those that break either.
select *
from marts.error_stats_reader_month
where period = $period
  and (not findings_delivered and (null_reason is distinct from 'NO_FINDINGS' or total_customers is not null
                                   or customers_with_error is not null or kwh_error is not null
                                   or error_rate is not null or error_rate_meter is not null
                                   or error_rate_kwh is not null or errors_per_10k is not null)
       or findings_delivered and (total_customers is null or findings is null or null_reason = 'NO_FINDINGS'))
