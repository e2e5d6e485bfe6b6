"""Prepare step of marts.spc_funnel_limits: the funnel curves of the month, tabulated over volume."""

from __future__ import annotations

import duckdb
import polars as pl

from checks.spc import funnel_curve_rows
from readq.config import load_toml
from warehouse.steps.spc_rates import month_rates


def prepare(conn: duckdb.DuckDBPyConnection, values: dict[str, object]) -> dict[str, pl.DataFrame]:
    cfg = load_toml("spc.toml")
    rates = month_rates(conn, str(values["period"]), ("team", "reader"))
    curve = funnel_curve_rows(rates, cfg["funnel"]["coverages"], int(cfg["funnel"]["grid_points"]))
    return {"spc_funnel_limits_rows": curve}
