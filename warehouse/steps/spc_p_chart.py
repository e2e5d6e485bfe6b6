"""Prepare step of marts.spc_p_chart: the teams' rates of the month against p-chart limits."""

from __future__ import annotations

import duckdb
import polars as pl

from checks.spc import p_chart_rows
from readq.config import load_toml
from warehouse.steps.spc_rates import month_rates


def prepare(conn: duckdb.DuckDBPyConnection, values: dict[str, object]) -> dict[str, pl.DataFrame]:
    cfg = load_toml("spc.toml")
    rates = month_rates(conn, str(values["period"]), ("team",))
    return {"spc_p_chart_rows": p_chart_rows(rates, float(cfg["p_chart"]["z"]))}
