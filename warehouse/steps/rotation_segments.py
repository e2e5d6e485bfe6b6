"""Prepare step of marts.rotation_segments: each segment's holding, tenure and rotation status."""

from __future__ import annotations

import duckdb
import polars as pl

from warehouse.steps.rotation_inputs import month_status


def prepare(conn: duckdb.DuckDBPyConnection, values: dict[str, object]) -> dict[str, pl.DataFrame]:
    _, status = month_status(conn, str(values["period"]))
    if status.is_empty():
        status = pl.DataFrame(schema={"period": pl.String, "team": pl.String, "segment_no": pl.String,
                                      "segment_name": pl.String,
                                      "reader": pl.String, "partner": pl.String, "segment_read_mode": pl.String,
                                      "customer_count": pl.Int64, "reader_tenure": pl.Int64,
                                      "partner_tenure": pl.Int64, "tenure_months": pl.Int64, "since": pl.String,
                                      "status": pl.String, "months_left": pl.Int64})
    return {"rotation_status_rows": status}
