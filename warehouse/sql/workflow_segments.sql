-- marts.workflow_segments: per 抄表段 and month, how its on-site round kept the schedule: the reads off
-- the 例日 (the segment counts as read off plan when at least segment_off_plan_share of its dated reads
-- are), and the handheld uploads after their deadline (the read day + upload_timely.max_days), with the
-- latest upload's delay in hours. Remote (AMI) reads are the collection system's, not the reader's, and
-- are left out. The Workflows page and the assessment's OFF_PLAN and UPLOAD_LATE items read it.
-- partition: month
-- key: team, reader, segment_no
-- inputs: marts.meters_due, ops.deliveries
-- param off_plan_share: targets.toml on_time_rate.segment_off_plan_share
-- param upload_days: targets.toml upload_timely.max_days
-- count by: team
--
-- A segment read by two readers in a month (a hand-over mid-month) has a row per reader. The evidence
-- row (delivery_id, sheet, source_row) is the segment's worst reading: the latest upload when an
-- upload was late, else the read furthest off the 例日.
insert into marts.workflow_segments by name
with onsite as (
    select d.*,
           d.upload_time - (d.read_date + to_days($upload_days::integer + 1))             as past_deadline
    from marts.meters_due d
    where d.period = $period and d.read_status = 'READ' and coalesce(d.read_mode, '') <> 'REMOTE'
),
segments as (
    select team, reader, segment_no,
           count(*)                                                                        as reads,
           count(days_off)                                                                 as reads_dated,
           count(*) filter (where not on_time)                                             as reads_off_plan,
           min(plan_date)                                                                  as plan_date,
           min(read_date)                                                                  as first_read_date,
           max(read_date)                                                                  as last_read_date,
           max(abs(days_off))                                                              as max_days_off,
           count(upload_time)                                                              as uploads_known,
           count(*) filter (where past_deadline > interval 0 second)                       as uploads_late,
           max(upload_time)                                                                as last_upload,
           greatest(max(epoch(past_deadline)) / 3600.0, 0)                                 as upload_late_hours,
           arg_max(struct_pack(delivery_id := delivery_id, sheet := sheet, source_row := source_row),
                   (coalesce(epoch(past_deadline), -1e18), abs(coalesce(days_off, 0)), -source_row))
                                                                                           as worst
    from onsite
    group by all
),
final as (
    select $period                                                                         as period,
           s.team, s.reader, s.segment_no,
           s.reads, s.reads_dated, s.reads_off_plan,
           s.reads_off_plan / nullif(s.reads_dated, 0)                                     as off_plan_share,
           coalesce(s.reads_off_plan >= $off_plan_share * s.reads_dated and s.reads_dated > 0, false)
                                                                                           as off_plan,
           s.plan_date, s.first_read_date, s.last_read_date, s.max_days_off,
           s.uploads_known, s.uploads_late, s.last_upload,
           case when s.uploads_late > 0 then s.upload_late_hours end                       as upload_late_hours,
           s.worst.delivery_id                                                             as delivery_id,
           s.worst.sheet                                                                   as sheet,
           s.worst.source_row                                                              as source_row,
           d.file_name,
           $config_version                                                                 as config_version,
           now()                                                                           as computed_at
    from segments s
    join ops.deliveries d on d.delivery_id = s.worst.delivery_id
)
select * from final
