-- Every reader's score is the base plus the points of their rows in marts.assessment_ledger, exactly
-- (to 1e-9): the rows returned are the readers whose score the ledger does not explain, and ledger
-- rows of a reader without a score.
with ledger as (
    select team, reader, sum(points) as points
    from marts.assessment_ledger
    where period = $period and level = 'reader'
    group by all
)
select s.team, s.reader, s.score, s.base + coalesce(l.points, 0) as from_ledger
from marts.assessment_reader_month s
left join ledger l using (team, reader)
where s.period = $period
  and abs(s.score - (s.base + coalesce(l.points, 0))) > 1e-9
union all
select l.team, l.reader, null, l.points
from ledger l
anti join marts.assessment_reader_month s on s.period = $period and s.team = l.team and s.reader = l.reader
