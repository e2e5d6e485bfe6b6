-- marts.error_stats_reader_month: the 差错统计表 per reader (抄表员) and month, as marts.error_stats_month
-- per team: for each error type its 户数 and 电量, the totals, the three 差错率 and per 万户.
-- partition: month
-- key: team, reader, party
-- inputs: marts.error_findings, marts.meters_due, marts.error_stats_month, ops.deliveries, quarantine.rows
-- param parties: errors.toml parties
--
-- A reader's row counts the errors attributed to the reader (responsible READER) on the customers
-- the reader read (marts.error_findings: the reading's reader), against the reader's own meters due.
-- The clerk's and the system's errors (responsible CLERK / SYSTEM) never count against a reader: they
-- are listed, per team, under the rows '(核算员)' and '(采集系统)' (party CLERK / SYSTEM; names from
-- config/errors.toml parties), whose denominators and rates are null (null_reason 'NOT_A_READER'). So
-- a team's reader rows plus its clerk and system rows add up to its row of marts.error_stats_month.
-- Counting, rates, out-of-scope findings and the null rules are those of marts.error_stats_month.
-- (marts.error_stats_month is an input so that the check rows_sum_to_team meets this month's team rows.)
insert into marts.error_stats_reader_month by name
with parties as (
    select unnest($parties, recursive := true)
),
delivered as (
    select exists (select 1 from ops.deliveries
                   where kind = 'review_findings' and period = $period and status <> 'rejected') as yes
),
quarantined as (
    select count(distinct (delivery_id, sheet, source_row)) as n
    from quarantine.rows
    where kind = 'review_findings' and period = $period and superseded_by is null
),
due as (
    select team, reader, segment_no, customer_key, customer_no, meter_key, meter_no, read_status, in_quarantine, kwh
    from marts.meters_due
    where period = $period
),
customers as (
    -- a customer counts once, at its home: its first meter due (by segment, meter), as marts.kpi_levels_month
    -- counts 户; read when every meter is READ, unknown when one sits in quarantine
    select customer_key,
           arg_min(struct_pack(team := team, reader := reader, segment_no := segment_no),
                   (segment_no, meter_key, team, reader))                                as home,
           bool_and(read_status = 'READ')                                                as is_read,
           bool_or(in_quarantine)                                                        as is_unknown
    from due
    group by customer_key
),
customer_volume as (
    select home.team as team, home.reader as reader,
           count(*)                            as customers_due,
           count(*) filter (where is_read)     as customers_read,
           count(*) filter (where is_unknown)  as customers_unknown
    from customers
    group by all
),
volume as (
    -- 只 where each meter is attributed; 应抄电量 of the meters that loaded (a quarantined row's kWh is unverified)
    select 'READER' as party, team, reader,
           count(distinct meter_key)                                                     as meters_due,
           coalesce(sum(kwh) filter (where not in_quarantine), 0)                        as kwh_due
    from due
    group by team, reader
),
findings as (
    select f.* exclude (reader),
           case when f.responsible = 'READER' then f.reader else p.row end   as reader,
           f.responsible                                                     as party
    from marts.error_findings f
    join parties p on p.code = f.responsible
    where f.period = $period
),
in_scope as (
    select * from findings where in_scope
),
error_meters as (
    select f.team, f.reader, f.party, count(distinct d.meter_key) as meters_with_error
    from in_scope f
    join due d on d.customer_no = f.customer_no and (not f.meter_due or d.meter_no = f.meter_no)
    group by f.team, f.reader, f.party
),
out_of_scope as (
    select team, reader, party, count(*) as findings_out_of_scope
    from findings
    where not in_scope
    group by team, reader, party
),
keys as (
    select team, reader, party from volume
    union
    select team, reader, party from findings
),
counts as (
    select k.team, k.reader, k.party,
           count(distinct f.customer_no) filter (where f.error_type = 'MISREAD')            as misread_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'MISREAD'), 0)        as misread_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'MISSED')             as missed_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'MISSED'), 0)         as missed_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'ESTIMATED')          as estimated_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'ESTIMATED'), 0)      as estimated_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'PROXY')              as proxy_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'PROXY'), 0)          as proxy_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'CROSSED')            as crossed_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'CROSSED'), 0)        as crossed_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'NOT_ON_SITE')        as not_on_site_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'NOT_ON_SITE'), 0)    as not_on_site_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'DATE_CHANGE')        as date_change_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'DATE_CHANGE'), 0)    as date_change_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'INFO_MISMATCH')      as info_mismatch_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'INFO_MISMATCH'), 0)  as info_mismatch_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'MULTIPLIER')         as multiplier_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'MULTIPLIER'), 0)     as multiplier_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'ENTRY')              as entry_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'ENTRY'), 0)          as entry_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'DATA_PREP')          as data_prep_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'DATA_PREP'), 0)      as data_prep_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'AUTO_COLLECT')       as auto_collect_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'AUTO_COLLECT'), 0)   as auto_collect_kwh,
           count(distinct f.customer_no) filter (where f.error_type = 'UNREPORTED')         as unreported_customers,
           coalesce(sum(f.kwh_impact) filter (where f.error_type = 'UNREPORTED'), 0)     as unreported_kwh,
           count(distinct (f.customer_no, f.error_type)) filter (where f.finding_no is not null) as total_customers,
           count(distinct f.customer_no)                                                 as customers_with_error,
           coalesce(sum(f.kwh_impact), 0)                                                as kwh_error,
           count(f.finding_no)                                                           as findings,
           count(distinct f.customer_no) filter (where f.responsible = 'READER')         as reader_customers,
           count(distinct f.customer_no) filter (where f.responsible = 'CLERK')          as clerk_customers,
           count(distinct f.customer_no) filter (where f.responsible = 'SYSTEM')         as system_customers,
           coalesce(sum(f.kwh_impact) filter (where f.responsible = 'READER'), 0)        as reader_kwh,
           coalesce(sum(f.kwh_impact) filter (where f.responsible = 'CLERK'), 0)         as clerk_kwh,
           coalesce(sum(f.kwh_impact) filter (where f.responsible = 'SYSTEM'), 0)        as system_kwh,
           count(f.finding_no) filter (where f.kwh_impact is null)                       as findings_without_kwh,
           coalesce(max(e.meters_with_error), 0)                                         as meters_with_error,
           coalesce(max(o.findings_out_of_scope), 0)                                     as findings_out_of_scope
    from keys k
    left join in_scope f using (team, reader, party)
    left join error_meters e using (team, reader, party)
    left join out_of_scope o using (team, reader, party)
    group by k.team, k.reader, k.party
),
final as (
    select $period                                                                     as period,
           k.team, k.reader, k.party,
           case when k.party = 'READER' then coalesce(u.customers_due, 0) end          as customers_due,
           case when k.party = 'READER' then coalesce(u.customers_read, 0) end         as customers_read,
           case when k.party = 'READER' then coalesce(u.customers_unknown, 0) end      as customers_unknown,
           case when k.party = 'READER' then coalesce(v.meters_due, 0) end             as meters_due,
           case when k.party = 'READER' then coalesce(v.kwh_due, 0) end                as kwh_due,
           d.yes                                                                       as findings_delivered,
           c.* exclude (team, reader, party),
           c.customers_with_error / nullif(u.customers_read, 0)                        as error_rate,
           c.meters_with_error / nullif(v.meters_due, 0)                               as error_rate_meter,
           c.kwh_error / nullif(v.kwh_due, 0)                                          as error_rate_kwh,
           10000.0 * c.customers_with_error / nullif(u.customers_read, 0)              as errors_per_10k,
           q.n                                                                         as findings_quarantined,
           case when not d.yes then 'NO_FINDINGS'
                when k.party <> 'READER' then 'NOT_A_READER'
                when coalesce(v.meters_due, 0) = 0 then 'NO_VOLUME'
                when coalesce(u.customers_read, 0) = 0 then 'NO_READS'
                when coalesce(v.kwh_due, 0) = 0 then 'NO_KWH' end                     as null_reason,
           $config_version                                                             as config_version,
           now()::timestamp                                                            as computed_at
    from keys k
    cross join delivered d
    cross join quarantined q
    left join volume v on v.party = k.party and v.team = k.team and v.reader = k.reader
    left join customer_volume u on k.party = 'READER' and u.team = k.team and u.reader = k.reader
    left join counts c on d.yes and c.team = k.team and c.reader = k.reader and c.party = k.party
)
select * from final
