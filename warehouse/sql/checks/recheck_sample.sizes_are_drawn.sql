-- Every reader gets the size marts.recheck_readers planned, or every candidate when fewer: the rows
-- returned are the readers whose list is longer or shorter than that.
with drawn as (
    select team, reader, count(*) as n from marts.recheck_sample where period = $period group by all
)
select r.team, r.reader, r.n as planned, r.reads, coalesce(d.n, 0) as drawn
from marts.recheck_readers r
left join drawn d using (team, reader)
where r.period = $period and coalesce(d.n, 0) <> least(r.n, r.reads)
