"""Prepare step of marts.reader_forensics (warehouse/sql/reader_forensics.sql).

The window (12 months of marts.meter_readings, up to ~1M readings a month) is aggregated in DuckDB,
never pulled into Python: one query counts readings per reader, team, month and last digit (with the
DIGIT_SLIP flags of those readings), one computes the median absolute deviation of the residuals
ln(use / expected) per reader in two passes (median, then median of |r − median|) over the residuals
computed once (a MATERIALIZED CTE: inlined, the 12-month join would run twice), the readings joined to
their context on (period, mp_id): mp_id is the hash of mp_key in both marts, and an integer joins
faster than the string. What comes back
is a few rows per reader; checks/forensics.py does the statistics, peers, ranks and flags.
"""

from __future__ import annotations

import duckdb
import polars as pl

from checks.forensics import RESIDUALS_SCHEMA, Limits, forensics, load_limits, reader_totals, window_start

# The on-site readings of the window: 已抄, not remote (no mode: per config), with the reading's team
# and reader and its last integer digit (null when not counted).
SCOPE = """
scope as (
    select m.period, m.team, m.reader, m.delivery_id, m.sheet, m.source_row, m.mp_id,
           case when $exclude_unchanged and m.this_read = m.last_read then null
                when m.this_read >= 0 then (floor(m.this_read)::bigint % 10)::integer
           end                                                            as digit
    from marts.meter_readings m
    where m.period between $start and $period
      and m.read_status = $read_status
      and (m.read_mode <> $remote_mode or (m.read_mode is null and $unknown_mode_on_site))
)"""

CELLS = f"""
with {SCOPE},
slips as (
    select period, delivery_id, sheet, source_row, count(*) as n
    from marts.reading_flags
    where period between $start and $period and rule_id = $slip_rule
    group by all
)
select s.reader, s.team, s.period, s.digit,
       count(*)                   as reads,
       coalesce(sum(f.n), 0)::bigint as slips
from scope s
left join slips f
  on f.period = s.period and f.delivery_id = s.delivery_id and f.source_row = s.source_row
 and f.sheet is not distinct from s.sheet
group by all
"""

RESIDUALS = f"""
with {SCOPE},
residuals as materialized (
    select s.reader,
           case when s.reader = $unattributed then s.team end             as team_key,
           ln(c.use_kwh / c.expected_smooth)                              as r
    from scope s
    join marts.reading_context c on c.period = s.period and c.mp_id = s.mp_id
    where c.period between $start and $period and c.use_kwh > 0 and c.expected_smooth > 0
),
centres as (
    select reader, team_key, median(r) as centre, count(*) as n
    from residuals
    group by all
)
select r.reader, r.team_key,
       any_value(c.n)::bigint            as residual_reads,
       median(abs(r.r - c.centre))       as residual_mad
from residuals r
join centres c on c.reader = r.reader and c.team_key is not distinct from r.team_key
group by all
"""


def query_values(values: dict[str, object], limits: Limits) -> dict[str, object]:
    period = str(values["period"])
    return {
        "period": period,
        "start": window_start(period, limits.window_months),
        "read_status": limits.read_status,
        "remote_mode": limits.remote_mode,
        "unknown_mode_on_site": limits.unknown_mode_on_site,
        "exclude_unchanged": limits.exclude_unchanged,
    }


def prepare(conn: duckdb.DuckDBPyConnection, values: dict[str, object]) -> dict[str, pl.DataFrame]:
    limits = load_limits()
    params = query_values(values, limits)
    cells = conn.sql(CELLS, params={**params, "slip_rule": limits.slip_rule}).pl()
    residuals = conn.sql(RESIDUALS, params={**params, "unattributed": limits.unattributed}).pl()
    if residuals.is_empty():
        residuals = pl.DataFrame(schema=RESIDUALS_SCHEMA)
    totals = reader_totals(cells, str(values["period"]), limits.unattributed)
    return {"reader_forensics_rows": forensics(totals, residuals.cast(RESIDUALS_SCHEMA), limits)}
