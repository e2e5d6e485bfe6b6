"""CONSEC_ESTIMATES: consecutive 估抄 on one metering point — warn at 2, fail at 3 (未抄 months between
them neither count nor break the run)."""

from __future__ import annotations

from typing import Any

import polars as pl

from checks.rules.base import flags


def consec_estimates(f: pl.DataFrame, p: dict[str, Any], ctx: dict[str, Any]) -> pl.DataFrame:
    n = pl.col("estimate_cycles")
    sev = pl.when(n >= p["fail_at"]).then(pl.lit("fail")).otherwise(pl.lit("warn"))
    return flags(f, n >= p["warn_at"], p, severity=sev, observed=n.cast(pl.Float64),
                 consecutive_estimates=n, warn_at=pl.lit(p["warn_at"]), fail_at=pl.lit(p["fail_at"]))
