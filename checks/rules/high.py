"""HIGH: use above the expected band (SAP-style, by consumption size) and at least the absolute floor
above expected; VERY_HIGH's when it reaches that factor."""

from __future__ import annotations

from typing import Any

import polars as pl

from checks.rules.base import NOT_MISSED, flags, history_evidence, ratio_to_expected

JUDGED = NOT_MISSED & ~pl.col("meter_changed") & (pl.col("use_kwh") > 0) & (pl.col("expected_kwh") > 0)


def high(f: pl.DataFrame, p: dict[str, Any], ctx: dict[str, Any]) -> pl.DataFrame:
    very = ctx["cfg"]["rules"]["VERY_HIGH"]
    below_very = ~pl.lit(very["enabled"]) | (ratio_to_expected() < very["factor"])
    when = JUDGED & (pl.col("use_kwh") > pl.col("band_high")) & below_very
    return flags(f, when, p, observed=pl.col("use_kwh"), expected=pl.col("expected_kwh"), ratio=ratio_to_expected(),
                 history_months=pl.col("history_months"), use_kwh=pl.col("use_kwh").round(2),
                 band_high=pl.col("band_high").round(2), **history_evidence())
