"""REG_DECREASE: 本次示数 < 上次示数, not a plausible roll-over and not a new meter (product brief §6)."""

from __future__ import annotations

from typing import Any

import polars as pl

from checks.rules.base import DECREASE, NOT_MISSED, flags


def reg_decrease(f: pl.DataFrame, p: dict[str, Any], ctx: dict[str, Any]) -> pl.DataFrame:
    when = NOT_MISSED & DECREASE & ~pl.col("meter_changed") & pl.col("use_kwh").is_null()
    return flags(f, when, p,
                 observed=(pl.col("this_read") - pl.col("last_read")) * pl.col("multiplier").fill_null(1),
                 expected=pl.col("expected_kwh"), history_months=pl.col("history_months"),
                 last_read=pl.col("last_read"), this_read=pl.col("this_read"),
                 decrease=(pl.col("last_read") - pl.col("this_read")).round(4),
                 register_top=pl.col("span"), wrapped_kwh=pl.col("wrapped_kwh").round(2),
                 expected_kwh=pl.col("expected_kwh").round(2),
                 why=pl.lit("the register went back; a roll-over is implausible (previous reading not near the "
                            "top, or the wrapped use far above expected)"))
