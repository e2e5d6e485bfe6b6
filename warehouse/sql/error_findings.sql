-- marts.error_findings: the 差错台账 — one row per confirmed review finding (复核差错 / 审核工作单) in force
-- for the month, attributed to team, reader and segment and to the party responsible for it.
-- partition: month
-- key: finding_no
-- inputs: core.review_findings, core.assignments, ops.deliveries, marts.meter_readings, marts.meters_due
-- param types: errors.toml types
-- param parties: errors.toml parties
-- param unattributed: errors.toml unattributed
--
-- In force: core holds the rows of the deliveries still in force (a corrected export of a team's
-- findings replaces that team's); a finding number held by two of them counts once, from the latest.
-- Team, reader and segment (attributed_by): the month's reading of the finding's meter
-- (marts.meter_readings, itself attributed export → assignment → '(未指定)'), else a reading of the
-- finding's customer, else the customer's row among the meters due whose reading sits in quarantine
-- (marts.meters_due), else the finding's own 责任班组 / 抄表段 (the reader from that segment's
-- assignment, when it is the same team's), else '(未指定)'. The reader is whoever read the customer,
-- whoever is responsible.
-- Responsible (READER | CLERK | SYSTEM): the finding's 责任岗位 when delivered (the reviewer's judgement
-- of the case), else the default of its error type in config/errors.toml (DATA_PREP → the clerk,
-- AUTO_COLLECT → the system, a field error → the reader); responsible_source says which.
-- in_scope: the finding's customer is among the month's meters due. Findings outside it stay listed
-- here, and are counted apart (findings_out_of_scope) by the 差错统计表, never in its rates.
insert into marts.error_findings by name
with types as (
    select unnest($types, recursive := true)
),
parties as (
    select unnest($parties, recursive := true)
),
in_force as (
    select f.*
    from core.review_findings f
    join ops.deliveries d using (delivery_id)
    where f.period = $period
    qualify row_number() over (partition by f.finding_no order by d.seq desc, f.source_row) = 1
),
readings as (
    select customer_no, meter_no, team, reader, segment_no
    from marts.meter_readings
    where period = $period
),
by_meter as (
    select *
    from readings
    qualify row_number() over (partition by customer_no, meter_no order by segment_no, team, reader) = 1
),
by_customer as (
    select *
    from readings
    qualify row_number() over (partition by customer_no order by segment_no, meter_no, team, reader) = 1
),
due as (
    select customer_no, meter_no, team, reader, segment_no, meter_key
    from marts.meters_due
    where period = $period and customer_no is not null
),
due_customer as (
    select *
    from due
    qualify row_number() over (partition by customer_no order by segment_no, meter_key, team, reader) = 1
),
due_meters as (
    select distinct customer_no, meter_no from due where meter_no is not null
),
assignment as (
    select a.segment_no, a.team, a.reader
    from core.assignments a
    join ops.deliveries d using (delivery_id)
    where a.period <= $period
    qualify row_number() over (partition by a.segment_no order by a.period desc, d.seq desc) = 1
),
matched as (
    select f.*,
           case when m.customer_no is not null then 'reading_meter'
                when c.customer_no is not null then 'reading_customer'
                when q.customer_no is not null then 'due_quarantined'
                when f.team is not null or f.segment_no is not null then 'finding'
                else 'none' end                                                     as attributed_by,
           m.team as m_team, m.reader as m_reader, m.segment_no as m_segment,
           c.team as c_team, c.reader as c_reader, c.segment_no as c_segment,
           q.team as q_team, q.reader as q_reader, q.segment_no as q_segment,
           a.team as a_team, a.reader as a_reader,
           q.customer_no is not null                                                   as in_scope,
           dm.meter_no is not null                                                     as meter_due
    from in_force f
    left join by_meter m on m.customer_no = f.customer_no and m.meter_no = f.meter_no
    left join by_customer c on c.customer_no = f.customer_no
    left join due_customer q on q.customer_no = f.customer_no
    left join due_meters dm on dm.customer_no = f.customer_no and dm.meter_no = f.meter_no
    left join assignment a on a.segment_no = f.segment_no
),
attributed as (
    select m.*,
           case attributed_by when 'reading_meter' then m_team
                              when 'reading_customer' then c_team
                              when 'due_quarantined' then q_team
                              else coalesce(team, a_team, $unattributed) end           as team_attr,
           case attributed_by when 'reading_meter' then m_reader
                              when 'reading_customer' then c_reader
                              when 'due_quarantined' then q_reader
                              else coalesce(case when team is null or a_team = team then a_reader end,
                                            $unattributed) end                         as reader_attr,
           case attributed_by when 'reading_meter' then m_segment
                              when 'reading_customer' then c_segment
                              when 'due_quarantined' then q_segment
                              else coalesce(segment_no, $unattributed) end             as segment_attr
    from matched m
),
final as (
    select $period                                                                     as period,
           a.finding_no,
           a.team_attr                                                                 as team,
           a.reader_attr                                                               as reader,
           a.segment_attr                                                              as segment_no,
           a.attributed_by,
           a.customer_no, a.meter_no, a.meter_due,
           a.error_type,
           case when p.code is not null then p.code else t.responsible end            as responsible,
           case when p.code is not null then 'finding' else 'error_type' end          as responsible_source,
           a.responsible_role,
           abs(a.kwh_impact)                                                           as kwh_impact,
           a.found_by, a.found_date,
           a.in_scope,
           a.delivery_id, a.sheet, a.source_row,
           $config_version                                                             as config_version,
           now()::timestamp                                                            as computed_at
    from attributed a
    left join types t on t.code = a.error_type
    left join parties p on p.code = a.responsible_role
)
select * from final
