"""Prepare step of marts.reading_flags: every enabled rule of checks/rules/ on the month's readings
(marts.meter_readings) and their history context (marts.reading_context)."""

from __future__ import annotations

import duckdb

from checks.rules import run_rules
from readq.config import load_toml


def prepare(conn: duckdb.DuckDBPyConnection, values: dict[str, object]) -> dict[str, object]:
    period = str(values["period"])
    readings = conn.sql("select * exclude (config_version, computed_at) from marts.meter_readings where period = ?",
                        params=[period]).pl()
    context = conn.sql("select * exclude (config_version, computed_at) from marts.reading_context where period = ?",
                       params=[period]).pl()
    return {"rule_flags": run_rules(readings, context, load_toml("rules.toml"))}
