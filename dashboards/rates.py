"""The KPI rates of the dashboard — 实抄率, 漏抄率, 估抄率, 差错率 — aggregated over teams, formatted,
compared with last month and with their targets (pure functions, no Streamlit; the page is
dashboards/views/kpis.py).

Centre (or multi-team) rates are computed by summing counts across teams and then dividing —
never by averaging team rates. A team whose `customers_with_error` is NULL delivered no review
findings: its error figures are "no data", never 0, and it is left out of the error-rate sums.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

READ_DIGITS = 2  # 实抄率 / 漏抄率 / 估抄率: 98.33%
ERROR_DIGITS = 3  # 差错率: 0.271% (targets are 0.1% and 0.01%)
PER_10K_DIGITS = 1  # 差错户数 per 万户: 27.1
_EPS = 1e-12


@dataclass(frozen=True)
class CentreKpis:
    teams: int
    due: int
    read: int
    missed: int
    estimated: int
    errors: int | None  # None: no team delivered review findings
    error_base: int  # customers read in the teams that did
    teams_with_errors: int
    actual_read_rate: float | None
    missed_rate: float | None
    estimated_rate: float | None
    error_rate: float | None
    errors_per_10k: float | None
    actual_read_target: float | None
    error_target: float | None


def ratio(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or den == 0:
        return None
    return num / den


def _weighted(values: pl.Series, weights: pl.Series) -> float | None:
    total = float(weights.sum())
    return None if total == 0 else float((values * weights).sum()) / total


def centre_kpis(rows: pl.DataFrame) -> CentreKpis | None:
    """Aggregate one month's team rows (already filtered to the teams in scope)."""
    if rows.height == 0:
        return None
    due = int(rows["customers_due"].sum())
    read = int(rows["customers_read"].sum())
    missed = int(rows["customers_missed"].sum())
    estimated = int(rows["customers_estimated"].sum())
    with_err = rows.filter(pl.col("customers_with_error").is_not_null())
    errors = int(with_err["customers_with_error"].sum()) if with_err.height else None
    error_base = int(with_err["customers_read"].sum())
    error_rate = ratio(errors, error_base)
    # Targets: the share each team's target would allow, summed, over the same denominator.
    target_rows = with_err if with_err.height else rows
    return CentreKpis(
        teams=rows.height,
        due=due,
        read=read,
        missed=missed,
        estimated=estimated,
        errors=errors,
        error_base=error_base,
        teams_with_errors=with_err.height,
        actual_read_rate=ratio(read, due),
        missed_rate=ratio(missed, due),
        estimated_rate=ratio(estimated, due),
        error_rate=error_rate,
        errors_per_10k=None if error_rate is None else error_rate * 10_000,
        actual_read_target=_weighted(rows["actual_read_rate_target"], rows["customers_due"]),
        error_target=_weighted(target_rows["error_rate_target"], target_rows["customers_read"]),
    )


def previous_month(month: str) -> str:
    """'2026-01' -> '2025-12'."""
    year, mon = (int(p) for p in month.split("-"))
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def fmt_pct(value: float | None, digits: int) -> str | None:
    """0.98333 -> '98.33%' (digits after the point); None stays None."""
    return None if value is None else f"{value * 100:.{digits}f}%"


def fmt_num(value: float | None, digits: int) -> str | None:
    return None if value is None else f"{value:.{digits}f}"


def delta_pp(cur: float | None, prev: float | None, digits: int, unit: str) -> str | None:
    """Change of a rate in percentage points, e.g. '+0.33 pp'; None when either side is missing."""
    if cur is None or prev is None:
        return None
    d = (cur - prev) * 100
    return f"{0.0 if abs(d) < _EPS else d:+.{digits}f} {unit}".rstrip()


def delta_num(cur: float | None, prev: float | None, digits: int) -> str | None:
    if cur is None or prev is None:
        return None
    d = cur - prev
    return f"{0.0 if abs(d) < _EPS else d:+.{digits}f}"


def meets_max(value: float | None, target: float | None) -> bool | None:
    """value ≤ target (for rates where lower is better); None when either is missing."""
    if value is None or target is None:
        return None
    return value <= target + _EPS


def meets_min(value: float | None, target: float | None) -> bool | None:
    if value is None or target is None:
        return None
    return value >= target - _EPS


def team_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """One month's team rows with the error figures nulled where no findings were delivered."""
    no_err = pl.col("customers_with_error").is_null()
    return rows.sort("team").select(
        "team",
        "customers_due",
        "customers_read",
        "customers_missed",
        "customers_estimated",
        "customers_with_error",
        "actual_read_rate",
        pl.when(no_err).then(None).otherwise(pl.col("error_rate")).alias("error_rate"),
        "error_rate_target",
        pl.when(no_err)
        .then(None)
        .otherwise(pl.col("error_rate") <= pl.col("error_rate_target") + _EPS)
        .alias("meets_error_target"),
        "config_version",
    )


def trend_frame(df: pl.DataFrame) -> pl.DataFrame:
    """Per month per team: actual-read and error rates (error null when no findings)."""
    return df.sort("period", "team").select(
        "period",
        "team",
        "actual_read_rate",
        pl.when(pl.col("customers_with_error").is_null())
        .then(None)
        .otherwise(pl.col("error_rate"))
        .alias("error_rate"),
    )


def target_by_month(df: pl.DataFrame) -> pl.DataFrame:
    """Per month: the scope's actual-read and error targets (weighted as in `centre_kpis`)."""
    out = []
    for (period,), rows in df.group_by("period", maintain_order=True):
        c = centre_kpis(rows)
        if c is not None:
            out.append(
                {
                    "period": period,
                    "actual_read_target": c.actual_read_target,
                    "error_target": c.error_target,
                    "has_errors": c.errors is not None,
                }
            )
    schema = {
        "period": pl.String,
        "actual_read_target": pl.Float64,
        "error_target": pl.Float64,
        "has_errors": pl.Boolean,
    }
    return pl.DataFrame(out, schema=schema).sort("period")
