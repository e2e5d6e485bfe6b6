-- Every team's score is the base plus the team_points of its rows in marts.assessment_ledger, exactly
-- (to 1e-9): the rows returned are the teams whose score the ledger does not explain, or whose reader
-- weights do not add up to 1.
with ledger as (
    select team, sum(team_points) as points from marts.assessment_ledger where period = $period group by all
),
weights as (
    select team, sum(weight) as weight
    from (select distinct team, reader, weight from marts.assessment_ledger
          where period = $period and level = 'reader')
    group by all
)
select s.team, s.score, s.base + coalesce(l.points, 0) as from_ledger, null::double as weight
from marts.assessment_team_month s
left join ledger l using (team)
where s.period = $period and abs(s.score - (s.base + coalesce(l.points, 0))) > 1e-9
union all
select w.team, null, null, w.weight
from weights w
where w.weight > 1 + 1e-9
