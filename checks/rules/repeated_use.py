"""REPEATED_USE: use equal to the previous two periods' within the tolerance, per day or per period
(ECAP USE5): a possible unflagged estimate."""

from __future__ import annotations

from typing import Any

import polars as pl

from checks.rules.base import NOT_MISSED, flags


def repeated_use(f: pl.DataFrame, p: dict[str, Any], ctx: dict[str, Any]) -> pl.DataFrame:
    tol = p["tolerance_share"]
    u, u1, u2 = pl.col("use_kwh"), pl.col("repeat_kwh1"), pl.col("repeat_kwh2")
    d, d1, d2 = pl.col("period_days"), pl.col("repeat_days1"), pl.col("repeat_days2")

    def same(a: pl.Expr, b: pl.Expr) -> pl.Expr:
        return (a - b).abs() <= tol * a.abs()

    per_period = same(u, u1) & same(u, u2)
    per_day = same(u / d, u1 / d1) & same(u / d, u2 / d2)
    when = NOT_MISSED & (u >= p["min_kwh"]) & (per_period | per_day)
    return flags(f, when, p, observed=u, expected=u1, ratio=u / u1,
                 use_kwh=u, previous_kwh=u1, before_kwh=u2, days=d, previous_days=d1, before_days=d2,
                 basis=pl.when(per_period).then(pl.lit("per period")).otherwise(pl.lit("per day")),
                 read_status=pl.col("read_status"))
