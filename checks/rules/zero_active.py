"""ZERO_ACTIVE: zero use while read — residential after 3 consecutive zero cycles, non-residential at
once, remote reads after 3 (configurable per class and for remote)."""

from __future__ import annotations

from typing import Any

import polars as pl

from checks.rules.base import flags


def required_cycles(p: dict[str, Any]) -> pl.Expr:
    by_class = pl.col("customer_class").replace_strict(p["cycles"], default=max(p["cycles"].values()),
                                                       return_dtype=pl.Int32)
    return pl.when(pl.col("read_mode") == "REMOTE").then(pl.lit(p["remote_cycles"])).otherwise(by_class)


def zero_active(f: pl.DataFrame, p: dict[str, Any], ctx: dict[str, Any]) -> pl.DataFrame:
    need = required_cycles(p)
    when = (pl.col("read_status") == "READ") & (pl.col("use_kwh") == 0) & (pl.col("zero_cycles") >= need)
    return flags(f, when, p, observed=pl.col("use_kwh"), expected=pl.col("expected_kwh"),
                 history_months=pl.col("history_months"),
                 zero_cycles=pl.col("zero_cycles"), required_cycles=need, customer_class=pl.col("customer_class"),
                 read_mode=pl.col("read_mode"), expected_kwh=pl.col("expected_kwh").round(2))
