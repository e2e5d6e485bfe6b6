"""ROLLOVER: the register wrapped at 10^digits and the wrapped use is plausible (computed here)."""

from __future__ import annotations

from typing import Any

import polars as pl

from checks.rules.base import DECREASE, NOT_MISSED, flags, ratio_to_expected


def rollover(f: pl.DataFrame, p: dict[str, Any], ctx: dict[str, Any]) -> pl.DataFrame:
    when = NOT_MISSED & DECREASE & ~pl.col("meter_changed") & pl.col("use_kwh").is_not_null()
    return flags(f, when, p, observed=pl.col("use_kwh"), expected=pl.col("expected_kwh"), ratio=ratio_to_expected(),
                 history_months=pl.col("history_months"),
                 wrapped_use_kwh=pl.col("use_kwh").round(2), register_top=pl.col("span"),
                 last_read=pl.col("last_read"), this_read=pl.col("this_read"),
                 billed_kwh=pl.col("kwh"), expected_kwh=pl.col("expected_kwh").round(2))
