"""Prepare step of marts.recheck_sample: next month's recheck list, drawn per reader."""

from __future__ import annotations

import duckdb
import polars as pl

from checks.sampling import draw_recheck, recheck_config
from warehouse.steps.recheck_inputs import month_sizes


def prepare(conn: duckdb.DuckDBPyConnection, values: dict[str, object]) -> dict[str, pl.DataFrame]:
    period = str(values["period"])
    candidates, sizes = month_sizes(conn, period)
    return {"recheck_rows": draw_recheck(candidates, sizes, period, recheck_config())}
