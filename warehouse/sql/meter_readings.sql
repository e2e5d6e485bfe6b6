-- marts.meter_readings: every in-force reading of the month, attributed to reader and team and
-- enriched from the customer/meter master: the analysis model the plausibility rules read.
-- partition: month
-- key: meter_no, read_type?
-- inputs: core.readings, core.assignments, core.customers, ops.deliveries, ops.skipped_rows
-- count by: team_source, reader_source
--
-- Attribution: team and reader from the export when it names them, else from the assignment
-- (抄表派工) valid for the segment that month (the latest up to the month), else '(未指定)':
-- unattributed readings are kept and counted, never dropped; team_source / reader_source say which.
-- History key: 计量点编号 when delivered, else customer + 示数类型, so a new meter number on the same
-- metering point continues its history (the register restarts; that is not a decrease).
-- Class, multiplier, register digits (抄表位数 6.2) and contract capacity come from the latest master
-- row of the meter up to the month when one was delivered, else from the reading.
-- A meter held twice in force (two segment files) keeps the row of the latest delivery; `copies`
-- and `copies_differ` say so (DUPLICATE). Exact repeats dropped at ingest are counted back from
-- ops.skipped_rows ("exact repeat of line N" / "repeat of line N (same values)").
insert into marts.meter_readings by name
with in_force as (
    select r.*, d.seq,
           count(*) over (partition by r.meter_no, r.read_type)                       as copies,
           count(distinct (r.last_read, r.this_read, r.kwh, r.read_status))
               over (partition by r.meter_no, r.read_type) > 1                          as copies_differ
    from core.readings r
    join ops.deliveries d using (delivery_id)
    where r.period = $period
),
readings as (
    select *
    from in_force
    qualify row_number() over (partition by meter_no, read_type order by seq desc, source_row) = 1
),
assignment as (
    select segment_no, team, reader, plan_day
    from core.assignments a
    join ops.deliveries d using (delivery_id)
    where a.period <= $period
    qualify row_number() over (partition by a.segment_no order by a.period desc, d.seq desc) = 1
),
master as (
    select meter_no, customer_class, multiplier, digits, contract_capacity
    from core.customers c
    join ops.deliveries d using (delivery_id)
    where c.period <= $period and c.meter_no is not null
    qualify row_number() over (partition by c.meter_no order by c.period desc, d.seq desc) = 1
),
repeats as (
    select s.delivery_id, s.sheet,
           try_cast(regexp_extract(s.reason, 'repeat of line (\d+)', 1) as integer) as source_row,
           count(*)                                                                 as n
    from ops.skipped_rows s
    join (select distinct delivery_id from readings) r using (delivery_id)
    where s.reason like '%repeat of line %'
    group by all
),
enriched as (
    select r.period, r.delivery_id, r.sheet, r.source_row,
           coalesce(r.team, a.team, '(未指定)')                                       as team,
           coalesce(r.reader, a.reader, '(未指定)')                                   as reader,
           case when r.team is not null then 'export'
                when a.team is not null then 'assignment' else 'none' end              as team_source,
           case when r.reader is not null then 'export'
                when a.reader is not null then 'assignment' else 'none' end            as reader_source,
           r.segment_no,
           coalesce(r.plan_day, a.plan_day)                                            as plan_day,
           r.customer_no,
           coalesce(r.mp_no, r.customer_no || '/' || coalesce(r.read_type, ''))        as mp_key,
           r.meter_no, r.read_type,
           coalesce(m.customer_class, r.customer_class)                                as customer_class,
           coalesce(m.multiplier, r.multiplier)                                        as multiplier,
           r.multiplier                                                                as reading_multiplier,
           coalesce(m.digits, r.digits)                                                as digits,
           m.contract_capacity,
           case when m.meter_no is not null then 'master' else 'reading' end           as master_source,
           r.last_read, r.this_read, r.kwh, r.read_status, r.read_mode, r.read_date, r.upload_time,
           r.anomaly_type, r.copies::integer as copies, r.copies_differ,
           coalesce(p.n, 0)::integer                                                   as repeats_dropped
    from readings r
    left join assignment a using (segment_no)
    left join master m using (meter_no)
    left join repeats p
      on p.delivery_id = r.delivery_id and p.source_row = r.source_row
     and p.sheet is not distinct from r.sheet
),
final as (
    select period, delivery_id, sheet, source_row, team, reader, team_source, reader_source,
           segment_no, plan_day, customer_no, mp_key, hash(mp_key) as mp_id, meter_no, read_type,
           customer_class, multiplier, reading_multiplier,
           try_cast(split_part(digits, '.', 1) as integer)                             as digits_int,
           coalesce(try_cast(nullif(split_part(digits, '.', 2), '') as integer), 0)    as digits_dec,
           contract_capacity, master_source,
           last_read, this_read, kwh, read_status, read_mode, read_date, upload_time, anomaly_type,
           copies, copies_differ, repeats_dropped,
           $config_version                                                             as config_version,
           now()::timestamp                                                            as computed_at
    from enriched
)
select * from final
