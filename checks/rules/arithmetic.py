"""ARITHMETIC: 抄见电量 ≠ (本次 − 上次) × 倍率, roll-overs (billed as wrapped), multiplier shifts
(MULTIPLIER_SHIFT's) and a new meter's first row (上次 still the old meter's) excepted. Computed with the
multiplier the reading carries: the billing system's."""

from __future__ import annotations

from typing import Any

import polars as pl

from checks.rules.base import NOT_MISSED, flags
from checks.rules.multiplier_shift import implied_standard


def arithmetic(f: pl.DataFrame, p: dict[str, Any], ctx: dict[str, Any]) -> pl.DataFrame:
    mult = pl.col("reading_multiplier").fill_null(pl.col("multiplier")).fill_null(1)
    straight = (pl.col("this_read") - pl.col("last_read")) * mult
    wrapped = (pl.col("this_read") - pl.col("last_read") + pl.col("span")) * mult

    def off(computed: pl.Expr) -> pl.Expr:
        return (pl.col("kwh") - computed).abs() > pl.max_horizontal(pl.lit(p["tolerance_kwh"]),
                                                                    computed.abs() * p["tolerance_share"])

    shift = implied_standard(ctx["cfg"]["rules"]["MULTIPLIER_SHIFT"]).is_not_null()
    # a new meter whose row still carries the old meter's 上次: the bill counts from the new register
    new_meter = pl.col("meter_changed") & (pl.col("this_read") < pl.col("last_read"))
    when = (NOT_MISSED & pl.col("kwh").is_not_null() & off(straight) & (wrapped.is_null() | off(wrapped)) & ~shift
            & ~new_meter)
    return flags(f, when, p, observed=pl.col("kwh"), expected=straight,
                 ratio=pl.when(straight != 0).then(pl.col("kwh") / straight),
                 billed_kwh=pl.col("kwh"), computed_kwh=straight.round(4),
                 difference_kwh=(pl.col("kwh") - straight).round(4),
                 multiplier=mult, last_read=pl.col("last_read"), this_read=pl.col("this_read"))
