"""Prepare step of marts.rotation_segments: each segment's holding, tenure and rotation status."""

from __future__ import annotations

import duckdb
import polars as pl

from warehouse.steps.rotation_inputs import month_status


def prepare(conn: duckdb.DuckDBPyConnection, values: dict[str, object]) -> dict[str, pl.DataFrame]:
    _, status = month_status(conn, str(values["period"]))
    return {"rotation_status_rows": status}
