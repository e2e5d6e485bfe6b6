"""FALSE_ROLLOVER: the billing system took a decrease for a roll-over and billed an implausible use
(a real export billed ~10^6 kWh for meters that were in fact missing: product brief §2). Judged
whatever the read status: in the real SG186 export those rows are 未抄 (code 89), and their bill is
wrong all the same."""

from __future__ import annotations

from typing import Any

import polars as pl

from checks.rules.base import DECREASE, flags


def false_rollover(f: pl.DataFrame, p: dict[str, Any], ctx: dict[str, Any]) -> pl.DataFrame:
    tol = ctx["cfg"]["rules"]["ARITHMETIC"]
    mult = pl.col("reading_multiplier").fill_null(pl.col("multiplier")).fill_null(1)
    billed_wrap = (pl.col("this_read") - pl.col("last_read") + pl.col("span")) * mult
    is_wrap_bill = (pl.col("kwh") - billed_wrap).abs() <= pl.max_horizontal(
        pl.lit(tol["tolerance_kwh"]), billed_wrap.abs() * tol["tolerance_share"])
    implausible = pl.col("use_kwh").is_null() | (pl.col("kwh") > p["max_span_share"] * pl.col("span") * mult)
    when = DECREASE & is_wrap_bill & implausible & pl.col("kwh").is_not_null()
    return flags(f, when, p, observed=pl.col("kwh"), expected=pl.col("expected_kwh"),
                 ratio=pl.when(pl.col("expected_kwh") > 0).then(pl.col("kwh") / pl.col("expected_kwh")),
                 history_months=pl.col("history_months"),
                 billed_kwh=pl.col("kwh"), register_top=pl.col("span"), last_read=pl.col("last_read"),
                 this_read=pl.col("this_read"), expected_kwh=pl.col("expected_kwh").round(2),
                 meter_changed=pl.col("meter_changed"), read_status=pl.col("read_status"))
