"""SUSTAINED_DROP: a sustained drop of use (theft, a slow meter) — the CUSUM change point of the
deseasonalised use (checks/history.py), or months below half of the level before; gives the start month."""

from __future__ import annotations

from typing import Any

import polars as pl

from checks.rules.base import flags


def sustained_drop(f: pl.DataFrame, p: dict[str, Any], ctx: dict[str, Any]) -> pl.DataFrame:
    when = pl.col("drop_start").is_not_null() & ~pl.col("meter_changed")
    return flags(f, when, p, observed=pl.col("use_kwh"), expected=pl.col("expected_kwh"), ratio=pl.col("drop_ratio"),
                 history_months=pl.col("history_months"),
                 start_month=pl.col("drop_start"), drop_ratio=pl.col("drop_ratio").round(3),
                 t=pl.col("drop_t").round(2), months_since_start=pl.col("drop_months"),
                 method=pl.when(pl.col("drop_t").is_not_null()).then(pl.lit("CUSUM change point"))
                 .otherwise(pl.lit("months below half of the level before")))
