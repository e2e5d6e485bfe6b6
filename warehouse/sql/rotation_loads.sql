-- marts.rotation_loads: each reader pair's workload (segments, customers) this month and after the
-- suggested rotation, against the team's mean pair load and the balance tolerance.
-- partition: month
-- key: team, pair
-- inputs: core.assignments, ops.deliveries
-- prepare: rotation_loads
-- history: rotation.toml history_months
-- param tolerance: rotation.toml balance_tolerance
-- param rotation_version: rotation.toml version
--
-- Rows: plan_rotation of checks/rotation.py (docs/rotation.md).
insert into marts.rotation_loads by name
with rows as (
    select * from rotation_load_rows
),
final as (
    select $period                                                                         as period,
           team, pair, reader, partner, segments_before, segments_after, customers_before, customers_after,
           mean_customers, share_of_mean_before, share_of_mean_after, within_tolerance_after,
           $tolerance::double                                                              as tolerance,
           $rotation_version                                                               as rotation_version,
           $config_version                                                                 as config_version,
           now()                                                                           as computed_at
    from rows
)
select * from final
