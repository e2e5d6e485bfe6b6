-- One row per reader and team, with counts that add up: the rows returned are readers listed twice, or whose
-- digit counts exceed their readings, or whose rank falls outside the ranked readers.
with rows as (
    select *, count(*) over (partition by team, reader) as copies,
           count(signature_rank) over () as ranked
    from marts.reader_forensics
    where period = $period
)
select team, reader, copies, reads, signature_rank, ranked
from rows
where copies > 1
   or list_sum(digit_counts) > reads
   or (signature_rank is not null and (signature_rank < 1 or signature_rank > ranked))
