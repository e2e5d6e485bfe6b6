-- marts.recheck_sample: next month's recheck list (复核抽样): for each reader, the n readings of
-- marts.recheck_readers drawn without replacement, a flagged reading more likely than an unflagged one
-- (by its worst severity), reproducible from the seed, the month and the readings, with each row's
-- inclusion probability (for an unbiased error-rate estimate from the recheck results).
-- partition: month
-- key: team, reader, customer_no, meter_no
-- inputs: marts.meter_readings, marts.reading_flags, marts.kpi_levels_month, marts.spc_cusum, ops.deliveries
-- prepare: recheck_sample
-- history: 11
-- count by: team
--
-- Efraimidis–Spirakis keys u^(1/w), u from sha256 of (seed, month, team, reader, the row's identity):
-- checks/sampling.py draw_recheck; docs/recheck.md.
insert into marts.recheck_sample by name
with rows as (
    select * from recheck_rows
),
final as (
    select $period                                                                         as period,
           r.team, r.reader, r.draw_rank, r.customer_no, r.meter_no, m.segment_no, r.flag_severity,
           r.rule_ids, r.weight, r.inclusion_probability, r.candidates, r.n_planned, r.n_drawn,
           r.delivery_id, r.source_row, d.file_name, r.seed, r.recheck_version,
           $config_version                                                                 as config_version,
           now()                                                                           as computed_at
    from rows r
    left join ops.deliveries d on d.delivery_id = r.delivery_id
    left join (select distinct delivery_id, source_row, segment_no from marts.meter_readings where period = $period) m
      on m.delivery_id = r.delivery_id and m.source_row = r.source_row
)
select * from final
