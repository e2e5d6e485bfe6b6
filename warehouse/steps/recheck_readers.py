"""Prepare step of marts.recheck_readers: each reader's recheck size for next month."""

from __future__ import annotations

import duckdb
import polars as pl

from warehouse.steps.recheck_inputs import month_sizes


def prepare(conn: duckdb.DuckDBPyConnection, values: dict[str, object]) -> dict[str, pl.DataFrame]:
    _, sizes = month_sizes(conn, str(values["period"]))
    return {"recheck_size_rows": sizes}
