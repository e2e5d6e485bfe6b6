"""Prepare step of marts.reading_context: the month's readings and their history (at most
`[history].months` months back) from marts.meter_readings, through checks.history.reading_context."""

from __future__ import annotations

import duckdb
import polars as pl

from checks.history import WINDOW_COLUMNS, month_index, period_of_index, reading_context
from readq.config import load_toml


def window(conn: duckdb.DuckDBPyConnection, period: str, months: int) -> pl.DataFrame:
    first = period_of_index(month_index(period) - months)
    cols = ", ".join(WINDOW_COLUMNS)
    # ordered, so that a point with two rows in a month (old and new meter) always keeps the same one
    return conn.sql(f"select {cols} from marts.meter_readings where period between ? and ? "
                    "order by period, mp_key, this_read desc nulls last, meter_no",
                    params=[first, period]).pl()


def prepare(conn: duckdb.DuckDBPyConnection, values: dict[str, object]) -> dict[str, object]:
    cfg = load_toml("rules.toml")
    period = str(values["period"])
    return {"context_rows": reading_context(window(conn, period, int(cfg["history"]["months"])), period, cfg)}
