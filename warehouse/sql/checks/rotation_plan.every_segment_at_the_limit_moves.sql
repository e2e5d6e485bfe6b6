-- Every non-exempt segment whose holder would reach max_months next month is moved by the plan or named
-- in an unresolved row: the rows returned are the segments the plan leaves at the limit unsaid.
select s.team, s.segment_no, s.tenure_months
from marts.rotation_segments s
where s.period = $period and s.status <> 'exempt' and s.tenure_months + 1 >= s.max_months
  and not exists (select 1 from marts.rotation_plan p
                  where p.period = $period and p.team = s.team
                    and ((p.kind = 'move' and p.segment_no = s.segment_no)
                         or (p.kind = 'unresolved' and (p.segment_no = s.segment_no or p.segment_no is null))))
