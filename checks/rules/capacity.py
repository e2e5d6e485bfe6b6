"""CAPACITY: use above contract capacity × hours of the read period × factor (the most the installation
could draw)."""

from __future__ import annotations

from typing import Any

import polars as pl

from checks.rules.base import NOT_MISSED, flags


def capacity(f: pl.DataFrame, p: dict[str, Any], ctx: dict[str, Any]) -> pl.DataFrame:
    days = pl.col("period_days").fill_null(round(ctx["cfg"]["history"]["days_per_month"]))
    hours = days * 24
    limit = pl.col("contract_capacity") * hours * p["factor"]
    billed = pl.col("kwh").fill_null(pl.col("use_kwh"))
    when = NOT_MISSED & (pl.col("contract_capacity") > 0) & (billed > limit)
    return flags(f, when, p, observed=billed, expected=limit, ratio=billed / limit,
                 billed_kwh=billed, contract_capacity=pl.col("contract_capacity"), hours=hours,
                 limit_kwh=limit.round(2), factor=pl.lit(p["factor"]))
