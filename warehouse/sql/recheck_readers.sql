-- marts.recheck_readers: how many of each reader's readings of the month go on next month's recheck
-- list (复核抽样): enough for the reader's error rate to be known within the configured interval (the
-- Wald size with the finite-population correction, at a prior rate shrunk toward the team's), tighter
-- for a reader whose flag or error rate drifts (a CUSUM rise), within the floor and the workload cap.
-- partition: month
-- key: team, reader
-- inputs: marts.meter_readings, marts.reading_flags, marts.kpi_levels_month, marts.spc_cusum
-- prepare: recheck_readers
-- history: 11
-- param confidence: recheck.toml size.confidence
-- param recheck_version: recheck.toml version
--
-- Candidates: the reader's on-site readings (remote reads are the system's). reads_12m / errors_12m:
-- customers read and customers with a confirmed error over the month and the 11 before it
-- (marts.kpi_levels_month). Formula and defaults: docs/recheck.md; rows: checks/sampling.py.
insert into marts.recheck_readers by name
with rows as (
    select * from recheck_size_rows
),
final as (
    select $period                                                                         as period,
           team, reader, reads, reads_12m, errors_12m, drifting, p_team, p_prior, half_width_used,
           n_required, n, half_width_achieved, reasons,
           $confidence::double                                                             as confidence,
           $recheck_version                                                                as recheck_version,
           $config_version                                                                 as config_version,
           now()                                                                           as computed_at
    from rows
)
select * from final
