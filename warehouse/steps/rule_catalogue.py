"""Prepare step of marts.rule_efficacy: the rules of config/rules.toml (ID, severity, enabled), so a rule
that fired nowhere still gets its row (0 flags) rather than vanishing."""

from __future__ import annotations

import duckdb
import polars as pl

from checks.rules import RULES, check_config
from readq.config import load_toml


def catalogue() -> pl.DataFrame:
    cfg = load_toml("rules.toml")
    check_config(cfg)
    return pl.DataFrame({
        "rule_id": list(RULES),
        "severity": [cfg["rules"][r]["severity"] for r in RULES],
        "enabled": [bool(cfg["rules"][r]["enabled"]) for r in RULES],
    })


def prepare(conn: duckdb.DuckDBPyConnection, values: dict[str, object]) -> dict[str, object]:
    return {"rule_catalogue": catalogue()}
