-- marts.rotation_plan: the suggested rotation for the month after: one row per segment to move (reason
-- LIMIT: its holder would reach max_months; BALANCE: a counter-move that keeps the pairs' workloads
-- within balance_tolerance), with the pair it goes to, and one row per thing the plan could not achieve
-- (kind 'unresolved': NO_OTHER_PAIR, COOLING_OFF, UNBALANCED) or should say (kind 'note').
-- partition: month
-- key: row_id
-- inputs: core.assignments, ops.deliveries
-- prepare: rotation_plan
-- history: rotation.toml history_months
-- param rotation_version: rotation.toml version
-- count by: kind, reason
--
-- The plan keeps pairs together, moves segments only within their team, never back to a pair that held
-- them within cooling_off_months, and moves as few segments as the balance allows (checks/rotation.py
-- plan_rotation; docs/rotation.md). The month after is `next_period`.
insert into marts.rotation_plan by name
with moves as (
    select 'move' as kind, team, segment_no, segment_name, customer_count, from_reader, from_partner,
           to_reader, to_partner, tenure_months, status, reason, reason_zh, reason_en,
           null::varchar as pair, null::varchar as code
    from rotation_moves
),
messages as (
    select kind, team, segment_no, null::varchar as segment_name, null::bigint as customer_count,
           null::varchar as from_reader, null::varchar as from_partner, null::varchar as to_reader,
           null::varchar as to_partner, null::integer as tenure_months, null::varchar as status,
           null::varchar as reason, message_zh as reason_zh, message_en as reason_en, pair, code
    from rotation_messages
),
final as (
    select $period                                                                         as period,
           strftime(strptime($period || '-01', '%Y-%m-%d') + interval 1 month, '%Y-%m')    as next_period,
           concat_ws(':', kind, team, coalesce(segment_no, ''), coalesce(pair, ''), coalesce(code, ''))
                                                                                           as row_id,
           r.*,
           $rotation_version                                                               as rotation_version,
           $config_version                                                                 as config_version,
           now()                                                                           as computed_at
    from (select * from moves union all by name select * from messages) r
)
select * from final
