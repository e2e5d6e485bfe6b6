"""The plausibility rules (product brief §6), one function per rule ID, one module per function
(checks/rules/<id>.py); thresholds in config/rules.toml. `run_rules` applies every enabled rule to
the month's readings and their history context and returns one row per flag."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import polars as pl

from checks.rules.arithmetic import arithmetic
from checks.rules.base import FLAG_SCHEMA
from checks.rules.capacity import capacity
from checks.rules.consec_estimates import consec_estimates
from checks.rules.digit_slip import digit_slip
from checks.rules.duplicate import duplicate
from checks.rules.false_rollover import false_rollover
from checks.rules.high import high
from checks.rules.low import low
from checks.rules.multiplier_shift import multiplier_shift
from checks.rules.read_date import read_date
from checks.rules.reg_decrease import reg_decrease
from checks.rules.repeated_use import repeated_use
from checks.rules.robust_z import robust_z
from checks.rules.rollover import rollover
from checks.rules.sustained_drop import sustained_drop
from checks.rules.very_high import very_high
from checks.rules.very_low import very_low
from checks.rules.zero_active import zero_active

Rule = Callable[[pl.DataFrame, dict[str, Any], dict[str, Any]], pl.DataFrame]

RULES: dict[str, Rule] = {
    "REG_DECREASE": reg_decrease,
    "ROLLOVER": rollover,
    "FALSE_ROLLOVER": false_rollover,
    "ARITHMETIC": arithmetic,
    "MULTIPLIER_SHIFT": multiplier_shift,
    "ZERO_ACTIVE": zero_active,
    "HIGH": high,
    "LOW": low,
    "VERY_HIGH": very_high,
    "VERY_LOW": very_low,
    "ROBUST_Z": robust_z,
    "CAPACITY": capacity,
    "REPEATED_USE": repeated_use,
    "CONSEC_ESTIMATES": consec_estimates,
    "SUSTAINED_DROP": sustained_drop,
    "DIGIT_SLIP": digit_slip,
    "READ_DATE": read_date,
    "DUPLICATE": duplicate,
}
SEVERITIES = ("info", "warn", "fail")
# The reading's columns each flag carries (those the readings frame has).
READING_COLUMNS = ("period", "team", "reader", "segment_no", "customer_no", "meter_no", "mp_key",
                   "delivery_id", "sheet", "source_row")


def check_config(cfg: dict[str, Any]) -> None:
    """Every rule of RULES has its table in config/rules.toml with `enabled` and a known severity, and
    the file names no rule that does not exist."""
    problems = []
    tables = cfg.get("rules", {})
    for rule_id in RULES:
        t = tables.get(rule_id)
        if t is None:
            problems.append(f"[rules.{rule_id}] is missing")
        elif not isinstance(t.get("enabled"), bool) or t.get("severity") not in SEVERITIES:
            problems.append(f"[rules.{rule_id}] needs enabled = true|false and severity = one of {SEVERITIES}")
    problems += [f"[rules.{name}] is no rule (known: {', '.join(RULES)})" for name in tables if name not in RULES]
    if problems:
        raise ValueError("config/rules.toml: " + "; ".join(problems))


def rule_frame(readings: pl.DataFrame, context: pl.DataFrame) -> pl.DataFrame:
    """The readings of the month joined with their history context, with `row` and `span` (10^digits)."""
    ctx_cols = [c for c in context.columns if c not in ("period", "config_version", "computed_at", "mp_id")]
    f = readings.join(context.select(ctx_cols), on=["mp_key", "meter_no"], how="left", maintain_order="left")
    return f.with_row_index("row").with_columns(
        span=pl.lit(10.0).pow(pl.col("digits_int").cast(pl.Float64)),
        meter_changed=pl.col("meter_changed").fill_null(False),
        prev_suspect=pl.col("prev_suspect").fill_null(False),
        zero_cycles=pl.col("zero_cycles").fill_null(0),
        estimate_cycles=pl.col("estimate_cycles").fill_null(0),
    )


def run_rules(readings: pl.DataFrame, context: pl.DataFrame, cfg: dict[str, Any], *,
              today: date | None = None) -> pl.DataFrame:
    """Every enabled rule on the month's readings: the readings' own columns (row, keys, lineage) plus
    rule_id and the flag's columns, one row per flag."""
    check_config(cfg)
    f = rule_frame(readings, context)
    ctx = {"cfg": cfg, "today": today or date.today()}
    comp = cfg.get("compensation", {})
    parts = []
    for rule_id, fn in RULES.items():
        p = cfg["rules"][rule_id]
        if not p["enabled"]:
            continue
        found = fn(f, p, ctx)
        if found.height:
            parts.append(found.with_columns(rule_id=pl.lit(rule_id)))
    out = pl.concat(parts, how="vertical") if parts else pl.DataFrame(schema={**FLAG_SCHEMA, "rule_id": pl.String})
    out = out.join(f.select("row", "prev_suspect", "prev_period"), on="row", how="left")
    downgrade = pl.col("rule_id").is_in(comp.get("rules", [])) & pl.col("prev_suspect")
    out = out.with_columns(
        severity=pl.when(downgrade).then(pl.lit(comp.get("severity", "info"))).otherwise(pl.col("severity")),
        evidence=pl.when(downgrade).then(
            pl.col("evidence").str.replace(r"\}$", ',"compensates_previous":"') + pl.col("prev_period") + '"}')
        .otherwise(pl.col("evidence")),
    ).drop("prev_suspect", "prev_period")
    keep = [c for c in READING_COLUMNS if c in f.columns]
    return out.join(f.select("row", *keep), on="row", how="left").select(
        *keep, "rule_id", *[c for c in FLAG_SCHEMA if c != "row"], "row")
