"""The inputs of next month's recheck list (复核抽样; checks/sampling.py, docs/recheck.md): each reader's
on-site readings of the month with their worst flag, their 12-month reads and confirmed errors, and
whether their flag or error rate drifts (a CUSUM rise). Shared by the prepare steps of
marts.recheck_readers and marts.recheck_sample."""

from __future__ import annotations

import duckdb
import polars as pl

from checks.periods import shift_month
from checks.sampling import reader_sample_sizes, recheck_config

CANDIDATES_SQL = """
with reads as (
    -- one candidate per meter read on site this month (remote reads are the system's, not a reader's)
    select team, reader, customer_no, meter_no,
           arg_min(delivery_id, source_row) as delivery_id, min(source_row) as source_row
    from marts.meter_readings
    where period = ? and read_status in ('READ', 'ESTIMATED') and coalesce(read_mode, '') <> 'REMOTE'
    group by all
),
flags as (
    select team, reader, meter_no,
           case max(case severity when 'fail' then 3 when 'warn' then 2 when 'info' then 1 else 0 end)
                when 3 then 'fail' when 2 then 'warn' when 1 then 'info' end  as flag_severity,
           list(distinct rule_id order by rule_id)                            as rule_ids
    from marts.reading_flags
    where period = ?
    group by all
)
select r.*, f.flag_severity, f.rule_ids
from reads r
left join flags f using (team, reader, meter_no)
"""
READERS_SQL = """
with history as (
    select team, reader, sum(customers_read) as reads_12m, sum(coalesce(customers_with_error, 0)) as errors_12m
    from marts.kpi_levels_month
    where level = 'reader' and period between ? and ?
    group by all
),
drift as (
    select team, reader, bool_or(signal = 'rise') as drifting
    from marts.spc_cusum
    where period = ? and level = 'reader' and metric in ('flag_rate', 'error_rate')
    group by all
)
select team, reader, count(*) as reads, coalesce(any_value(h.reads_12m), 0) as reads_12m,
       coalesce(any_value(h.errors_12m), 0) as errors_12m, coalesce(any_value(d.drifting), false) as drifting
from candidates c
left join history h using (team, reader)
left join drift d using (team, reader)
group by team, reader
"""


def month_candidates(conn: duckdb.DuckDBPyConnection, period: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the month's candidate readings, one row per reader with reads, reads_12m, errors_12m, drifting)."""
    candidates = conn.sql(CANDIDATES_SQL, params=[period, period]).pl()
    conn.register("candidates", candidates)
    try:
        readers = conn.sql(READERS_SQL, params=[shift_month(period, -11), period, period]).pl()
    finally:
        conn.unregister("candidates")
    return candidates, readers


def month_sizes(conn: duckdb.DuckDBPyConnection, period: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the candidate readings, each reader's recheck size)."""
    candidates, readers = month_candidates(conn, period)
    return candidates, reader_sample_sizes(readers, recheck_config())
