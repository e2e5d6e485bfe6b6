"""Prepare step of marts.reading_context: the month's readings from marts.meter_readings and their history
(at most `[history].months` months back) from marts.point_history, through checks.history.context_from
(the history's SQL runs here, in the warehouse; the statistics in numpy)."""

from __future__ import annotations

import duckdb

from checks.history import context_from
from readq.config import load_toml


def prepare(conn: duckdb.DuckDBPyConnection, values: dict[str, object]) -> dict[str, object]:
    cfg = load_toml("rules.toml")
    return {"context_rows": context_from(conn, "marts.meter_readings", str(values["period"]), cfg,
                                         history="marts.point_history")}
