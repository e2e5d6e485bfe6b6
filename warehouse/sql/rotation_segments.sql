-- marts.rotation_segments: who holds each 抄表段 in the month and for how long (轮换制度): the tenure of
-- the reader and the partner (consecutive months, across gaps and reassignments), and the status —
-- ok, due (≥ warn_months), violation (≥ max_months) or exempt (remote-read segments).
-- partition: month
-- key: segment_no
-- inputs: core.assignments, ops.deliveries
-- prepare: rotation_segments
-- history: rotation.toml history_months
-- param max_months: rotation.toml max_months
-- param rotation_version: rotation.toml version
-- count by: status
--
-- From the assignment lists (抄表派工) in force up to the month (checks/rotation.py tenure: a month no
-- assignment list arrived for is bridged and counted, a month that shows another holder or not the
-- segment breaks the run, `held_since` extends a run back to before the first list). The rows:
-- rotation_status of checks/rotation.py; docs/rotation.md.
insert into marts.rotation_segments by name
with rows as (
    select * from rotation_status_rows
),
final as (
    select $period                                                                         as period,
           team, segment_no, segment_name, reader, partner, segment_read_mode, customer_count,
           reader_tenure, partner_tenure, tenure_months, since, status, months_left,
           $max_months::integer                                                            as max_months,
           $rotation_version                                                               as rotation_version,
           $config_version                                                                 as config_version,
           now()                                                                           as computed_at
    from rows
)
select * from final
