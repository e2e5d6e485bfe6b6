-- The suggested rotation for the month after: moves and what the plan could not achieve.
-- SQL: warehouse/sql/rotation_plan.sql; docs/rotation.md.
create table if not exists marts.rotation_plan (
    period            varchar not null,    -- the month planned from
    next_period       varchar not null,    -- the month the moves take effect
    row_id            varchar not null,
    kind              varchar not null,    -- move | unresolved | note
    team              varchar not null,
    segment_no        varchar,
    segment_name      varchar,
    customer_count    bigint,
    from_reader       varchar,
    from_partner      varchar,
    to_reader         varchar,
    to_partner        varchar,
    tenure_months     integer,             -- the holding pair's tenure this month
    status            varchar,             -- the segment's status this month
    reason            varchar,             -- LIMIT | BALANCE (moves)
    reason_zh         varchar,             -- why, in words (moves) / what (unresolved, notes)
    reason_en         varchar,
    pair              varchar,             -- the pair a message is about
    code              varchar,             -- NO_OTHER_PAIR | COOLING_OFF | UNBALANCED | NULL_CUSTOMERS
    rotation_version  varchar not null,
    config_version    varchar not null,
    computed_at       timestamp not null
);
