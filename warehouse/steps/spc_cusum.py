"""Prepare step of marts.spc_cusum: the CUSUM of each team's and reader's monthly counts over the
series ending with the month (config/spc.toml [cusum])."""

from __future__ import annotations

import duckdb
import polars as pl

from checks.spc import cusum_rows
from readq.config import load_toml
from warehouse.steps.spc_rates import window_rates


def prepare(conn: duckdb.DuckDBPyConnection, values: dict[str, object]) -> dict[str, pl.DataFrame]:
    c = load_toml("spc.toml")["cusum"]
    period = str(values["period"])
    rates = window_rates(conn, period, ("team", "reader"))
    return {"spc_cusum_rows": cusum_rows(rates, period, float(c["k"]), float(c["h"]), int(c["min_months"]),
                                             float(c["z_cap"]))}
