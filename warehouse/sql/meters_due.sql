-- marts.meters_due: 应抄电能表 — one row per meter due in the month: every meter the month's reading
-- exports list, those whose rows sit in quarantine included (status UNKNOWN), closed and suspended
-- customers excluded. The base of every KPI mart.
-- partition: month
-- key: meter_key
-- inputs: marts.meter_readings, quarantine.rows, raw.readings, core.assignments, core.customers, ops.deliveries
-- param max_days_off: targets.toml on_time_rate.max_days_off
-- param upload_max_days: targets.toml upload_timely.max_days
-- param excluded_statuses: kpis.toml due.excluded_statuses
-- param total_active_types: kpis.toml due.total_active_read_types
-- prepare: meters_due
-- count by: read_status
--
-- Loaded meters come from marts.meter_readings (one row per metering point and 示数类型, attributed
-- there: team and reader from the export, else the assignment of the segment, else '(未指定)').
-- A quarantined row (quarantine.rows of the month, not superseded) is read back from raw.readings
-- with the ingest's own value macros and attributed the same way; it makes its meter UNKNOWN unless
-- the same meter and 示数类型 loaded from another delivery. A line too broken to be parsed (stage
-- 'read') has no row in raw and cannot be placed: it is counted on the Quality page, not here.
-- Per meter: the total-active register's row (示数类型 in kpis.toml due.total_active_read_types, or
-- none) gives kwh, dates and attribution (else the first 示数类型); the status is MISSED when any
-- register was missed, else ESTIMATED when any was estimated, else READ.
insert into marts.meters_due by name
with loaded as (
    select period, team, team_source, reader, reader_source, segment_no, plan_day, customer_no, meter_no,
           read_type, customer_class, read_mode, read_status, kwh, read_date, upload_time,
           delivery_id, sheet, source_row, false as quarantined
    from marts.meter_readings
    where period = $period
),
quarantined_lines as (
    select distinct q.delivery_id, q.sheet, q.source_row
    from quarantine.rows q
    join ops.deliveries d using (delivery_id)
    where q.kind = 'readings' and q.period = $period and q.superseded_by is null and q.stage <> 'read'
      and d.status not in ('rejected', 'superseded')
),
quarantined_raw as (
    select r.delivery_id, r.sheet, r.source_row,
           rq_text_of(r.team)                        as team,
           rq_text_of(r.reader)                      as reader,
           rq_text_of(r.segment_no)                  as segment_no,
           rq_int_of(r.plan_day)                     as plan_day,
           rq_text_of(r.customer_no)                 as customer_no,
           rq_text_of(r.meter_no)                    as meter_no,
           rq_text_of(r.read_type)                   as read_type,
           rq_code_customer_class_of(r.customer_class) as customer_class,
           rq_code_read_mode_of(r.read_mode)         as read_mode,
           rq_float_of(r.kwh)                        as kwh,
           rq_date_of(r.read_date)                   as read_date,
           rq_datetime_of(r.upload_time)             as upload_time
    from raw.readings r
    semi join quarantined_lines l
      on l.delivery_id = r.delivery_id and l.source_row = r.source_row and l.sheet is not distinct from r.sheet
),
assignment as (
    select segment_no, team, reader, plan_day
    from core.assignments a
    join ops.deliveries d using (delivery_id)
    where a.period <= $period
    qualify row_number() over (partition by a.segment_no order by a.period desc, d.seq desc) = 1
),
master_rows as (
    select c.period, d.seq, c.source_row, c.meter_no, c.customer_no, c.customer_class, c.customer_status
    from core.customers c
    join ops.deliveries d using (delivery_id)
    where c.period <= $period
),
master as (
    select meter_no, customer_no, customer_class, customer_status
    from master_rows
    where meter_no is not null
    qualify row_number() over (partition by meter_no order by period desc, seq desc) = 1
),
quarantined as (
    select $period                                                                    as period,
           coalesce(q.team, a.team, '(未指定)')                                       as team,
           case when q.team is not null then 'export'
                when a.team is not null then 'assignment' else 'none' end              as team_source,
           coalesce(q.reader, a.reader, '(未指定)')                                   as reader,
           case when q.reader is not null then 'export'
                when a.reader is not null then 'assignment' else 'none' end            as reader_source,
           coalesce(q.segment_no, '(未指定)')                                          as segment_no,
           coalesce(q.plan_day, a.plan_day)                                            as plan_day,
           q.customer_no, q.meter_no, q.read_type,
           coalesce(m.customer_class, q.customer_class)                                as customer_class,
           q.read_mode, null::varchar as read_status, q.kwh, q.read_date, q.upload_time,
           q.delivery_id, q.sheet, q.source_row, true as quarantined
    from quarantined_raw q
    left join assignment a using (segment_no)
    left join master m using (meter_no)
    -- the same meter and register in force from another delivery: its reading is known
    anti join loaded l on l.meter_no = q.meter_no and l.read_type is not distinct from q.read_type
),
registers as (
    select *,
           coalesce(meter_no, '?' || delivery_id || ':' || source_row)                 as meter_key,
           read_type is null
               or list_contains($total_active_types, rq_half_width(trim(read_type)))   as total_active
    from (select * from loaded union all by name select * from quarantined)
),
meters as (
    select meter_key,
           -- the meter's row: the total-active register's (loaded before quarantined), else the first
           arg_min(struct_pack(team, team_source, reader, reader_source, segment_no, plan_day, customer_no,
                               meter_no, customer_class, read_mode, read_date, upload_time,
                               delivery_id, sheet, source_row),
                   (not total_active, quarantined, read_type, delivery_id, source_row))  as r,
           bool_or(quarantined)                                                        as in_quarantine,
           count(*)::integer                                                           as read_types,
           sum(kwh) filter (where total_active and not quarantined)                    as kwh_loaded,
           sum(kwh) filter (where total_active)                                        as kwh_any,
           case when bool_or(quarantined) then 'UNKNOWN'
                when bool_or(read_status = 'MISSED') then 'MISSED'
                when bool_or(read_status = 'ESTIMATED') then 'ESTIMATED'
                else 'READ' end                                                        as read_status
    from registers
    group by meter_key
),
customer_status as (
    -- a customer's status: its latest master row up to the month (status is the customer's, not the meter's)
    select customer_no, customer_status
    from master_rows
    where customer_no is not null
    qualify row_number() over (partition by customer_no order by period desc, seq desc, source_row desc) = 1
),
flat as (
    select unnest(r), meter_key, in_quarantine, read_types, read_status,
           case when in_quarantine and kwh_loaded is null then kwh_any else kwh_loaded end as kwh
    from meters
),
dated as (
    select f.*,
           coalesce(cs.customer_status, ms.customer_status)                            as customer_status,
           case when f.plan_day between 1 and 31 then
               least(strptime($period || '-01', '%Y-%m-%d')::date + (f.plan_day - 1)::integer,
                     last_day(strptime($period || '-01', '%Y-%m-%d')::date)) end        as plan_date
    from flat f
    left join master ms on ms.meter_no = f.meter_no
    left join customer_status cs on cs.customer_no = f.customer_no
),
final as (
    select $period                                                                    as period,
           team, team_source, reader, reader_source, segment_no,
           customer_no,
           coalesce(customer_no, '?' || delivery_id || ':' || source_row)               as customer_key,
           meter_no, meter_key, customer_class, read_mode, read_status, in_quarantine, read_types, kwh,
           read_date, plan_day, plan_date,
           (read_date - plan_date)::integer                                             as days_off,
           abs(read_date - plan_date) < $max_days_off                                   as on_time,
           upload_time,
           (upload_time::date - read_date)::integer                                     as upload_days,
           (upload_time::date - read_date) <= $upload_max_days                          as upload_timely,
           customer_status,
           delivery_id, sheet, source_row,
           $config_version                                                              as config_version,
           now()::timestamp                                                             as computed_at
    from dated
    where customer_status is null or not list_contains($excluded_statuses, customer_status)
)
select * from final
