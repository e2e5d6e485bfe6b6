"""Prepare step of marts.spc_funnel: every team and reader of the month at its volume, against the
funnel's exact binomial limits around the centre's rate."""

from __future__ import annotations

import duckdb
import polars as pl

from checks.spc import funnel_rows
from readq.config import load_toml
from warehouse.steps.spc_rates import month_rates


def prepare(conn: duckdb.DuckDBPyConnection, values: dict[str, object]) -> dict[str, pl.DataFrame]:
    cfg = load_toml("spc.toml")
    rates = month_rates(conn, str(values["period"]), ("team", "reader"))
    return {"spc_funnel_rows": funnel_rows(rates, cfg["funnel"]["coverages"])}
