"""VERY_LOW: use above zero but at most `factor` (0.25) × expected and at least the absolute floor below."""

from __future__ import annotations

from typing import Any

import polars as pl

from checks.rules.base import flags, history_evidence, ratio_to_expected
from checks.rules.high import JUDGED


def very_low(f: pl.DataFrame, p: dict[str, Any], ctx: dict[str, Any]) -> pl.DataFrame:
    floor = ctx["cfg"]["rules"]["HIGH"]["floor_kwh"]
    when = (JUDGED & (ratio_to_expected() <= p["factor"])
            & (pl.col("expected_kwh") - pl.col("use_kwh") >= floor))
    return flags(f, when, p, observed=pl.col("use_kwh"), expected=pl.col("expected_kwh"), ratio=ratio_to_expected(),
                 history_months=pl.col("history_months"), use_kwh=pl.col("use_kwh").round(2),
                 factor=pl.lit(p["factor"]), **history_evidence())
