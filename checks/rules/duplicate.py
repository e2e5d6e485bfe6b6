"""DUPLICATE: the same meter twice in one month — held in force twice with different values (warn), or
an exact repeat that the ingest dropped (info: the repeat is named, the reading kept once)."""

from __future__ import annotations

from typing import Any

import polars as pl

from checks.rules.base import flags


def duplicate(f: pl.DataFrame, p: dict[str, Any], ctx: dict[str, Any]) -> pl.DataFrame:
    differ = (pl.col("copies") > 1) & pl.col("copies_differ")
    sev = pl.when(differ).then(pl.lit(p["severity"])).otherwise(pl.lit(p["repeat_severity"]))
    when = (pl.col("copies") > 1) | (pl.col("repeats_dropped") > 0)
    return flags(f, when, p, severity=sev, observed=(pl.col("copies") + pl.col("repeats_dropped")).cast(pl.Float64),
                 copies_in_force=pl.col("copies"), values_differ=pl.col("copies_differ"),
                 exact_repeats_dropped=pl.col("repeats_dropped"))
