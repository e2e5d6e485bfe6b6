-- marts.reading_flags: one row per plausibility rule that fired on a reading of the month, with its
-- evidence, the reading's file and line, and the config version (rules: config/rules.toml, checks/rules/).
-- partition: month
-- key: delivery_id, sheet?, source_row, rule_id
-- inputs: marts.meter_readings, marts.reading_context
-- prepare: reading_flags
-- count by: rule_id, severity
--
-- The prepare step (warehouse/steps/reading_flags.py) runs every enabled rule of checks/rules/ on the
-- month's readings joined with their context and hands the flags over as `rule_flags`.
insert into marts.reading_flags by name
with flags as (
    select * from rule_flags
),
final as (
    select period, team, reader, segment_no, customer_no, meter_no, mp_key, rule_id, severity,
           observed, expected, ratio, history_months, evidence::json as evidence,
           delivery_id, sheet, source_row,
           $config_version    as config_version,
           now()::timestamp   as computed_at
    from flags
)
select * from final
