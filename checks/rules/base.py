"""What every rule function shares: the frame it reads and the flags it returns.

A rule is a function `rule(f, p, ctx) -> pl.DataFrame` named after its ID (REG_DECREASE ->
`reg_decrease` in checks/rules/reg_decrease.py). `f` is the rule frame: one row per reading of the
month, the columns of marts.meter_readings and marts.reading_context plus `row` (its position) and
`span` (10^digits); `p` is the rule's table of config/rules.toml; `ctx` holds the whole config
(`cfg`) and `today`. It returns the flagged rows through `flags(...)`: `row`, `severity`,
`observed`, `expected`, `ratio`, `history_months` and `evidence` (a struct, stored as JSON).
"""

from __future__ import annotations

from typing import Any

import polars as pl

FLAG_SCHEMA: dict[str, Any] = {
    "row": pl.UInt32, "severity": pl.String, "observed": pl.Float64, "expected": pl.Float64,
    "ratio": pl.Float64, "history_months": pl.Int32, "evidence": pl.String,
}

NOT_MISSED = pl.col("read_status").is_in(["READ", "ESTIMATED"])
DECREASE = pl.col("this_read") < pl.col("last_read")


def flags(f: pl.DataFrame, when: pl.Expr, p: dict[str, Any], *, observed: pl.Expr | None = None,
          expected: pl.Expr | None = None, ratio: pl.Expr | None = None, history_months: pl.Expr | None = None,
          severity: pl.Expr | None = None, **evidence: pl.Expr) -> pl.DataFrame:
    """The rows of `f` where `when` holds, as flags with their evidence."""
    hit = f.filter(when.fill_null(False))
    if hit.height == 0:
        return pl.DataFrame(schema=FLAG_SCHEMA)
    none = pl.lit(None, dtype=pl.Float64)
    ev = pl.struct(**evidence).struct.json_encode() if evidence else pl.lit("{}")
    return hit.select(
        pl.col("row").cast(pl.UInt32),
        (severity if severity is not None else pl.lit(p["severity"])).cast(pl.String).alias("severity"),
        (observed if observed is not None else none).cast(pl.Float64).alias("observed"),
        (expected if expected is not None else none).cast(pl.Float64).alias("expected"),
        (ratio if ratio is not None else none).cast(pl.Float64).alias("ratio"),
        (history_months if history_months is not None else pl.lit(None, dtype=pl.Int32)).cast(pl.Int32)
        .alias("history_months"),
        ev.alias("evidence"),
    )


def ratio_to_expected() -> pl.Expr:
    return pl.when(pl.col("expected_kwh") > 0).then(pl.col("use_kwh") / pl.col("expected_kwh"))


def history_evidence() -> dict[str, pl.Expr]:
    """The expected value's own evidence: how it was made, from how much history."""
    return {
        "expected_kwh": pl.col("expected_kwh").round(2),
        "expected_trailing_per_day": pl.col("expected_trailing").round(4),
        "expected_yoy_per_day": pl.col("expected_yoy").round(4),
        "season_index": pl.col("season_index").round(3),
        "period_days": pl.col("period_days"),
    }
