"""LOW: use below the expected band and at least the absolute floor below expected (zero use is
ZERO_ACTIVE's, a deeper drop VERY_LOW's)."""

from __future__ import annotations

from typing import Any

import polars as pl

from checks.rules.base import flags, history_evidence, ratio_to_expected
from checks.rules.high import JUDGED


def low(f: pl.DataFrame, p: dict[str, Any], ctx: dict[str, Any]) -> pl.DataFrame:
    very = ctx["cfg"]["rules"]["VERY_LOW"]
    above_very = ~pl.lit(very["enabled"]) | (ratio_to_expected() > very["factor"])
    when = JUDGED & (pl.col("use_kwh") < pl.col("band_low")) & above_very
    return flags(f, when, p, observed=pl.col("use_kwh"), expected=pl.col("expected_kwh"), ratio=ratio_to_expected(),
                 history_months=pl.col("history_months"), use_kwh=pl.col("use_kwh").round(2),
                 band_low=pl.col("band_low").round(2), **history_evidence())
