"""MULTIPLIER_SHIFT: the billed use is the register advance times another standard 综合倍率 (a CT ratio),
or the reading's multiplier differs from the master's."""

from __future__ import annotations

from typing import Any

import polars as pl

from checks.rules.base import NOT_MISSED, flags


def implied_standard(p: dict[str, Any]) -> pl.Expr:
    """The standard multiplier that the billed use implies (抄见电量 / register advance), when it is one and
    differs from the reading's; else null."""
    mult = pl.col("reading_multiplier").fill_null(pl.col("multiplier")).fill_null(1)
    advance = pl.col("this_read") - pl.col("last_read")
    implied = pl.when((advance > 0) & (pl.col("kwh") > 0)).then(pl.col("kwh") / advance)
    out: pl.Expr = pl.lit(None, dtype=pl.Float64)
    for s in sorted(p["standard"], reverse=True):
        near = (implied - s).abs() <= s * p["tolerance_share"]
        out = pl.when(near & ((mult - s).abs() > s * p["tolerance_share"])).then(pl.lit(float(s))).otherwise(out)
    return out


def multiplier_shift(f: pl.DataFrame, p: dict[str, Any], ctx: dict[str, Any]) -> pl.DataFrame:
    implied = implied_standard(p)
    reading_mult = pl.col("reading_multiplier")
    master_differs = ((pl.col("master_source") == "master") & reading_mult.is_not_null()
                      & pl.col("multiplier").is_not_null() & (reading_mult != pl.col("multiplier")))
    when = NOT_MISSED & (implied.is_not_null() | master_differs)
    return flags(f, when, p, observed=pl.col("kwh"), expected=pl.col("expected_kwh"),
                 ratio=pl.when(pl.col("expected_kwh") > 0).then(pl.col("kwh") / pl.col("expected_kwh")),
                 history_months=pl.col("history_months"),
                 implied_multiplier=implied, reading_multiplier=reading_mult,
                 master_multiplier=pl.when(pl.col("master_source") == "master").then(pl.col("multiplier")),
                 billed_kwh=pl.col("kwh"), register_advance=(pl.col("this_read") - pl.col("last_read")).round(4))
