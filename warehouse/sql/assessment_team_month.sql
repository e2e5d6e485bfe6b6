-- marts.assessment_team_month: each team's monthly assessment score and its place in the centre
-- ranking: the customer-weighted mean of its readers' scores, minus the team-level items, floored —
-- base + the sum of team_points over the team's rows in marts.assessment_ledger — with the rank and
-- its change on the previous month.
-- partition: month
-- key: team
-- history: 1
-- inputs: marts.assessment_ledger, marts.kpi_levels_month
-- param base: assessment.toml base
-- param scoring_version: assessment.toml version
-- param scoring_hash: assessment.toml @sha256
-- param unattributed: errors.toml unattributed
--
-- Teams: every team with customers due (marts.kpi_levels_month, level team), and any the ledger names.
-- '(未指定)' is scored, not ranked. The previous month's rank is recomputed from that month's ledger.
insert into marts.assessment_team_month by name
with months as (
    select $period as period, 'cur' as role
    union all
    select strftime(strptime($period || '-01', '%Y-%m-%d') - interval 1 month, '%Y-%m'), 'prev'
),
teams as (
    select period, team, customers_due
    from marts.kpi_levels_month
    semi join months using (period)
    where level = 'team'
    union all
    select distinct l.period, l.team, 0
    from marts.assessment_ledger l
    semi join months using (period)
    where not exists (select 1 from marts.kpi_levels_month k
                      where k.period = l.period and k.level = 'team' and k.team = l.team)
),
readers as (
    select period, team, count(*) as readers
    from marts.kpi_levels_month
    semi join months using (period)
    where level = 'reader'
    group by all
),
sums as (
    select period, team,
           coalesce(sum(team_points) filter (where level = 'reader'), 0)                   as from_readers,
           coalesce(sum(team_points) filter (where level = 'team' and item <> 'FLOOR'), 0) as team_items,
           bool_or(level = 'team' and item = 'FLOOR')                                      as floored,
           sum(team_points)                                                                as total
    from marts.assessment_ledger
    semi join months using (period)
    group by all
),
scored as (
    select t.period, t.team, t.customers_due, coalesce(r.readers, 0) as readers,
           t.team <> $unattributed                                                         as ranked,
           $base::double + coalesce(s.from_readers, 0)                                     as reader_mean,
           coalesce(s.team_items, 0)                                                       as team_items,
           coalesce(s.floored, false)                                                      as floored,
           $base::double + coalesce(s.total, 0)                                            as score
    from teams t
    left join readers r using (period, team)
    left join sums s using (period, team)
),
ranked as (
    select *,
           case when ranked then rank() over (partition by period, ranked order by score desc) end as rank
    from scored
),
final as (
    select c.period, c.team, c.customers_due, c.readers, $base::double as base, c.reader_mean, c.team_items,
           c.floored, c.score, c.rank,
           p.score                                                                         as prev_score,
           c.score - p.score                                                               as score_change,
           p.rank                                                                          as prev_rank,
           p.rank - c.rank                                                                 as rank_change,
           $scoring_version                                                                as scoring_version,
           $scoring_hash                                                                   as scoring_hash,
           $config_version                                                                 as config_version,
           now()                                                                           as computed_at
    from ranked c
    left join ranked p on p.team = c.team and p.period = (select period from months where role = 'prev')
    where c.period = $period
)
select * from final
