"""READ_DATE: read date off the plan (|Δ例日| ≥ 2 days), in the future, before the previous read, or a
read period outside 25–35 days per billing month of the cycle."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from checks.rules.base import flags


def read_date(f: pl.DataFrame, p: dict[str, Any], ctx: dict[str, Any]) -> pl.DataFrame:
    today: date = ctx["today"]
    rd = pl.col("read_date")
    first = pl.col("period").str.to_date("%Y-%m")
    day = pl.min_horizontal(pl.col("plan_day"), first.dt.month_end().dt.day())
    plan = pl.when(pl.col("plan_day").is_not_null()).then(first.dt.offset_by((day - 1).cast(pl.String) + "d"))
    offset = (rd - plan).dt.total_days()
    cycle = pl.col("cycle_months").fill_null(1)
    off_plan = pl.col("plan_day").is_not_null() & (offset.abs() >= p["max_plan_offset_days"])
    future = rd > pl.lit(today)
    before_prev = pl.col("prev_read_date").is_not_null() & (rd < pl.col("prev_read_date"))
    days = pl.col("period_days")
    too_short, too_long = days < p["min_days_per_month"] * cycle, days > p["max_days_per_month"] * cycle
    bad_period = days.is_not_null() & (too_short | too_long)
    reasons = pl.concat_list(
        pl.when(off_plan).then(pl.lit("off plan day")),
        pl.when(future).then(pl.lit("in the future")),
        pl.when(before_prev).then(pl.lit("before the previous read")),
        pl.when(bad_period).then(pl.lit("read period length")),
    ).list.drop_nulls()
    when = rd.is_not_null() & (off_plan | future | before_prev | bad_period)
    return flags(f, when, p, observed=offset.cast(pl.Float64), expected=pl.lit(0.0),
                 reasons=reasons, read_date=rd.cast(pl.String), plan_date=plan.cast(pl.String),
                 offset_days=offset, previous_read_date=pl.col("prev_read_date").cast(pl.String),
                 period_days=days, cycle_months=cycle)
