-- Every review finding in force for the month (core.review_findings) is in marts.error_findings exactly
-- once, and nothing else is: the rows returned are the finding numbers missing, doubled or unknown.
with in_force as (
    select distinct finding_no from core.review_findings where period = $period
),
listed as (
    select finding_no, count(*) as n from marts.error_findings where period = $period group by finding_no
)
select coalesce(f.finding_no, l.finding_no) as finding_no, l.n as rows_in_mart, f.finding_no is not null as in_force
from in_force f
full join listed l using (finding_no)
where l.n is null or l.n <> 1 or f.finding_no is null
