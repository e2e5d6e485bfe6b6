-- Each team's segment rows add up to its row of marts.error_stats_month: findings (counted, out of
-- scope, without kWh), customers due, read and unknown (each at its first meter), meters and kWh due,
-- the kWh of every type, in total and per party, and the 户数 of every type, in total, with an error
-- and per party — those once the customers counted under two of the team's segments (two meters in
-- two segments) are allowed for. Rows returned: team, column, the team's value, the sum of its rows,
-- the customers counted twice.
with per_row as (
    -- the *_customers and *_kwh columns: every type's, the totals, the parties', findings_without_kwh
    unpivot (select team, findings, findings_out_of_scope, customers_due, customers_read,
                    customers_unknown, meters_due, kwh_due, customers_with_error,
                    columns(lambda c: regexp_matches(c, '_(customers|kwh)$') and c <> 'error_rate_kwh')
             from marts.error_stats_segment_month
             where period = $period)
    on columns(* exclude (team)) into name col value v
),
rows_sum as (
    select team, col, sum(v) as v from per_row group by team, col
),
team_row as (
    -- the *_customers and *_kwh columns: every type's, the totals, the parties', findings_without_kwh
    unpivot (select team, findings, findings_out_of_scope, customers_due, customers_read,
                    customers_unknown, meters_due, kwh_due, customers_with_error,
                    columns(lambda c: regexp_matches(c, '_(customers|kwh)$') and c <> 'error_rate_kwh')
             from marts.error_stats_month
             where period = $period)
    on columns(* exclude (team)) into name col value v
),
findings as (
    select team, customer_no, error_type, responsible,
           segment_no                                                        as row_key
    from marts.error_findings
    where period = $period and in_scope
),
twice_by_type as (
    select team, lower(error_type) || '_customers' as col, sum(n - 1) as n
    from (select team, customer_no, error_type, count(distinct row_key) as n from findings group by all)
    group by all
),
twice as (
    select * from twice_by_type
    union all
    select team, 'total_customers', sum(n) from twice_by_type group by team
    union all
    select team, 'customers_with_error', sum(n - 1)
    from (select team, customer_no, count(distinct row_key) as n from findings group by all)
    group by team
    union all
    select team, lower(responsible) || '_customers', sum(n - 1)
    from (select team, responsible, customer_no, count(distinct row_key) as n from findings group by all)
    group by all
),
compared as (
    select coalesce(t.team, r.team) as team, coalesce(t.col, r.col) as col, t.v as team_value,
           r.v as rows_sum, coalesce(w.n, 0) as counted_twice
    from team_row t
    full join rows_sum r on r.team = t.team and r.col = t.col
    left join twice w on w.team = coalesce(t.team, r.team) and w.col = coalesce(t.col, r.col)
)
select *
from compared
where team_value is null or rows_sum is null
   or abs(rows_sum - counted_twice - team_value) > 1e-6 * greatest(1, abs(team_value))
