-- In every row of the month: the types' 户数 add up to total_customers (合计户数) and their 电量 to
-- kwh_error (合计电量); the reader's, clerk's and system's kWh add up to kwh_error; the distinct
-- customers with an error are at most the sum over the types and at most the sum over the parties.
-- Rows returned: the row's key and the totals that disagree.
with sums as (
    select team, reader, party, total_customers, kwh_error, customers_with_error,
           list_sum(list_value(*columns(lambda c: regexp_matches(c, '_customers$')
               and c not in ('total_customers', 'reader_customers', 'clerk_customers', 'system_customers'))))
                                                                        as type_customers,
           list_sum(list_value(*columns(lambda c: regexp_matches(c, '_kwh$') and c not in
               ('error_rate_kwh', 'reader_kwh', 'clerk_kwh', 'system_kwh', 'findings_without_kwh'))))
                                                                        as type_kwh,
           reader_customers + clerk_customers + system_customers        as party_customers,
           reader_kwh + clerk_kwh + system_kwh                          as party_kwh
    from marts.error_stats_reader_month
    where period = $period and findings_delivered
)
select *
from sums
where type_customers <> total_customers
   or abs(type_kwh - kwh_error) > 1e-6 * greatest(1, abs(kwh_error))
   or abs(party_kwh - kwh_error) > 1e-6 * greatest(1, abs(kwh_error))
   or customers_with_error > total_customers
   or customers_with_error > party_customers
   or total_customers is null or kwh_error is null
