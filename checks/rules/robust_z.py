"""ROBUST_Z: |use − median| / (1.4826·MAD) of the deseasonalised use per day over 12–24 months."""

from __future__ import annotations

from typing import Any

import polars as pl

from checks.rules.base import NOT_MISSED, flags


def robust_z(f: pl.DataFrame, p: dict[str, Any], ctx: dict[str, Any]) -> pl.DataFrame:
    median_kwh = pl.col("robust_median") * pl.col("season_index") * pl.col("period_days").fill_null(
        round(ctx["cfg"]["history"]["days_per_month"]))
    when = (NOT_MISSED & ~pl.col("meter_changed") & (pl.col("use_kwh") > 0)
            & (pl.col("robust_months") >= p["min_months"]) & (pl.col("robust_z") > p["threshold"])
            & ((pl.col("use_kwh") - median_kwh).abs() >= p["floor_kwh"]))
    return flags(f, when, p, observed=pl.col("use_kwh"), expected=median_kwh,
                 ratio=pl.when(median_kwh > 0).then(pl.col("use_kwh") / median_kwh),
                 history_months=pl.col("robust_months"),
                 z=pl.col("robust_z").round(2), median_per_day=pl.col("robust_median").round(4),
                 mad_per_day=pl.col("robust_mad").round(4), season_index=pl.col("season_index").round(3),
                 months=pl.col("robust_months"), threshold=pl.lit(p["threshold"]))
