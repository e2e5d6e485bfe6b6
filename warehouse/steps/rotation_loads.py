"""Prepare step of marts.rotation_loads: each pair's workload before and after next month's plan."""

from __future__ import annotations

import duckdb
import polars as pl

from checks.rotation import LOAD_SCHEMA
from warehouse.steps.rotation_inputs import month_plan


def prepare(conn: duckdb.DuckDBPyConnection, values: dict[str, object]) -> dict[str, pl.DataFrame]:
    plan = month_plan(conn, str(values["period"]))
    return {"rotation_load_rows": plan.loads if plan is not None else pl.DataFrame(schema=LOAD_SCHEMA)}
