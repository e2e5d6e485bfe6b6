-- marts.assessment_reader_month: each reader's monthly assessment score (考核得分): base + the points of
-- their rows in marts.assessment_ledger, with the deductions, bonuses, veto and floor apart, their
-- customers due (the weight in the team score), and their rank in the team and the centre with the
-- change on the previous month.
-- partition: month
-- key: team, reader
-- history: 1
-- inputs: marts.assessment_ledger, marts.kpi_levels_month, marts.rotation_segments
-- param base: assessment.toml base
-- param scoring_version: assessment.toml version
-- param scoring_hash: assessment.toml @sha256
-- param unattributed: errors.toml unattributed
--
-- Readers: every reader with customers due (marts.kpi_levels_month, level reader), every reader and
-- partner (同组抄表员) the month's assignment lists name (marts.rotation_segments: the lists in force), and any the ledger names: each is scored every
-- month they work, a partner who read nothing with 0 customers (no weight in the team score). A reader
-- without a ledger row scores the base. '(未指定)' (readings no export or assignment
-- names a reader for) is scored like a reader, so its deductions stay visible, but is not ranked.
-- The previous month's rank is recomputed the same way from that month's ledger.
insert into marts.assessment_reader_month by name
with months as (
    select $period as period, 'cur' as role
    union all
    select strftime(strptime($period || '-01', '%Y-%m-%d') - interval 1 month, '%Y-%m'), 'prev'
),
due as (
    select k.period, k.team, k.reader, k.customers_due
    from marts.kpi_levels_month k
    semi join months m using (period)
    where k.level = 'reader'
),
assigned as (
    select period, team, reader, partner from marts.rotation_segments semi join months using (period)
),
named as (
    select distinct l.period, l.team, l.reader from marts.assessment_ledger l
    semi join months m using (period)
    where l.level = 'reader'
    union
    select period, team, reader from assigned
    union
    select period, team, partner from assigned where partner is not null
),
readers as (
    select * from due
    union all
    select n.period, n.team, n.reader, 0
    from named n
    anti join due d on d.period = n.period and d.team = n.team and d.reader = n.reader
),
sums as (
    select period, team, reader,
           count(*) filter (where item not in ('VETO', 'FLOOR', 'BONUS'))                  as deduction_rows,
           coalesce(sum(points) filter (where item not in ('VETO', 'FLOOR', 'BONUS')), 0)  as deductions,
           coalesce(sum(points) filter (where item = 'BONUS'), 0)                          as bonus,
           bool_or(item = 'VETO')                                                          as vetoed,
           bool_or(item = 'FLOOR')                                                         as floored,
           sum(points)                                                                     as total
    from marts.assessment_ledger
    semi join months using (period)
    where level = 'reader'
    group by all
),
scored as (
    select r.period, r.team, r.reader, r.customers_due,
           r.reader <> $unattributed                                                       as ranked,
           coalesce(s.deduction_rows, 0)                                                   as deduction_rows,
           coalesce(s.deductions, 0)                                                       as deductions,
           coalesce(s.bonus, 0)                                                            as bonus,
           coalesce(s.vetoed, false)                                                       as vetoed,
           coalesce(s.floored, false)                                                      as floored,
           $base::double + coalesce(s.total, 0)                                            as score
    from readers r
    left join sums s using (period, team, reader)
),
ranked as (
    select *,
           case when ranked then rank() over (partition by period, team, ranked order by score desc) end
                                                                                           as rank_in_team,
           case when ranked then rank() over (partition by period, ranked order by score desc) end
                                                                                           as rank_in_centre
    from scored
),
final as (
    select c.period, c.team, c.reader, c.customers_due, c.deduction_rows, c.deductions, c.bonus, c.vetoed,
           c.floored, $base::double as base, c.score, c.rank_in_team, c.rank_in_centre,
           p.score                                                                         as prev_score,
           c.score - p.score                                                               as score_change,
           p.rank_in_centre                                                                as prev_rank_in_centre,
           p.rank_in_centre - c.rank_in_centre                                             as rank_change,
           $scoring_version                                                                as scoring_version,
           $scoring_hash                                                                   as scoring_hash,
           $config_version                                                                 as config_version,
           now()                                                                           as computed_at
    from ranked c
    left join ranked p on p.team = c.team and p.reader = c.reader
                      and p.period = (select period from months where role = 'prev')
    where c.period = $period
)
select * from final
