-- marts.rule_efficacy: each plausibility rule against the confirmed review findings (复核差错) of the
-- month: flags per 1,000 reads, precision (flags on a reading a finding confirmed / flags) and recall
-- (confirmed errors the rule flagged / confirmed errors), plus 'ALL' (any rule at warn or fail).
-- partition: month
-- key: rule_id
-- inputs: marts.reading_flags, marts.meter_readings, core.review_findings, ops.deliveries
-- prepare: rule_catalogue
--
-- A finding names a customer and, usually, a meter; a finding without a meter confirms every reading of
-- that customer. When no review findings were delivered for the month, precision and recall are null
-- (no data), never 0. A confirmed error of a kind no reading shows (代抄, 不到位 …) still counts in the
-- denominator of recall: the table says how much of the review's work the rules could have pointed to.
insert into marts.rule_efficacy by name
with rules as (
    select rule_id, severity from rule_catalogue where enabled
),
reads as (
    select count(*) filter (where read_status <> 'MISSED') as n
    from marts.meter_readings
    where period = $period
),
delivered as (
    select exists (select 1 from ops.deliveries
                   where kind = 'review_findings' and period = $period and status <> 'rejected')
        or exists (select 1 from core.review_findings where period = $period) as yes
),
findings as (
    select distinct customer_no, meter_no
    from core.review_findings
    where period = $period and customer_no is not null
),
flags as (
    select f.rule_id, f.severity, f.customer_no, f.meter_no,
           exists (select 1 from findings g
                   where g.customer_no = f.customer_no and (g.meter_no is null or g.meter_no = f.meter_no)) as confirmed
    from marts.reading_flags f
    where f.period = $period
),
errors_flagged as (
    select f.rule_id, count(distinct (g.customer_no, g.meter_no)) as n
    from findings g
    join flags f on f.customer_no = g.customer_no and (g.meter_no is null or g.meter_no = f.meter_no)
    group by f.rule_id
),
per_rule as (
    select r.rule_id, r.severity,
           count(f.rule_id)                          as flags,
           count(f.rule_id) filter (where f.confirmed) as flags_confirmed
    from rules r
    left join flags f using (rule_id)
    group by r.rule_id, r.severity
),
any_rule as (
    select 'ALL' as rule_id, null::varchar as severity,
           count(distinct (customer_no, meter_no))                          as flags,
           count(distinct (customer_no, meter_no)) filter (where confirmed) as flags_confirmed
    from flags
    where severity in ('warn', 'fail')
),
any_flagged as (
    select 'ALL' as rule_id, count(distinct (g.customer_no, g.meter_no)) as n
    from findings g
    join flags f on f.customer_no = g.customer_no and (g.meter_no is null or g.meter_no = f.meter_no)
    where f.severity in ('warn', 'fail')
),
combined as (
    select p.*, coalesce(e.n, 0) as errors_flagged from per_rule p left join errors_flagged e using (rule_id)
    union all by name
    select a.*, coalesce(e.n, 0) as errors_flagged from any_rule a left join any_flagged e using (rule_id)
),
final as (
    select $period                                                             as period,
           c.rule_id, c.severity, reads.n                                      as reads,
           c.flags,
           1000.0 * c.flags / nullif(reads.n, 0)                               as flags_per_1000,
           d.yes                                                               as findings_delivered,
           case when d.yes then c.flags_confirmed end                          as flags_confirmed,
           case when d.yes then c.flags_confirmed / nullif(c.flags, 0) end     as precision,
           case when d.yes then (select count(*) from findings) end            as confirmed_errors,
           case when d.yes then c.errors_flagged end                           as errors_flagged,
           case when d.yes then c.errors_flagged / nullif((select count(*) from findings), 0) end as recall,
           $config_version                                                     as config_version,
           now()::timestamp                                                    as computed_at
    from combined c
    cross join reads
    cross join delivered d
)
select * from final
