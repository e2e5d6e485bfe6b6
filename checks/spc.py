"""Control limits that know volume: pure functions, no I/O.

A rate (errors per customer read, flagged reads per read) of a small team swings more than a big one's
for the same underlying quality, so teams are compared against limits that widen as volume shrinks:

- p-chart (Shewhart, attribute chart): centre line p̄ = the centre's rate of the month (Σ numerators /
  Σ denominators), limits p̄ ± z·√(p̄(1 − p̄)/n) for a unit of volume n, clipped to [0, 1];
- funnel plot (Spiegelhalter 2005, "Funnel plots for comparing institutional performance"): exact
  binomial limits at coverage q (95 % and 99.8 %) around p̄ for every volume n, with the interpolation
  of that paper so that the limits are smooth in n rather than steps;
- CUSUM (Page 1954) on the standardised counts z_t = (x_t − n_t p_t) / √(n_t p_t (1 − p_t)), where the
  reference p_t is the median unit's rate of month t scaled by the unit's own level over the series
  (`own_reference`, so that the CUSUM finds a change of level, not a standing gap):
  S⁺_t = max(0, S⁺_{t−1} + z_t − k) signals a rise when S⁺_t > h (and S⁻ likewise a fall); the change
  point is the first month of the run that carries the signal (the month after S last stood at 0).

Every threshold (z, coverages, k, h) comes from config/spc.toml.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy import stats


def centre_rate(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """The pooled rate Σx / Σn (nan when there is no volume)."""
    den = float(np.nansum(np.asarray(denominators, dtype=float)))
    return float(np.nansum(np.asarray(numerators, dtype=float))) / den if den > 0 else float("nan")


def p_chart_limits(p: float, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) p-chart limits around `p` for volumes `n` (nan where n ≤ 0 or p unknown)."""
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = z * np.sqrt(p * (1 - p) / n)
    ok = (n > 0) & np.isfinite(p)
    lower = np.where(ok, np.clip(p - half, 0.0, 1.0), np.nan)
    upper = np.where(ok, np.clip(p + half, 0.0, 1.0), np.nan)
    return lower, upper


def funnel_limit(p: float, n: np.ndarray, tail: float) -> np.ndarray:
    """The exact binomial limit with probability `tail` below it (0.001, 0.025, 0.975, 0.999 …) for
    volumes `n`, as a rate: Spiegelhalter's interpolated quantile (r_q − α) / n, where r_q is the
    binomial quantile and α = (F(r_q) − q) / (F(r_q) − F(r_q − 1))."""
    n = np.asarray(n, dtype=float)
    out = np.full(n.shape, np.nan)
    ok = (n > 0) & np.isfinite(p)
    if not ok.any():
        return out
    nn = n[ok]
    if p <= 0 or p >= 1:
        out[ok] = p
        return out
    r = stats.binom.ppf(tail, nn, p)
    f_r = stats.binom.cdf(r, nn, p)
    f_below = stats.binom.cdf(r - 1, nn, p)
    step = f_r - f_below
    alpha = np.where(step > 0, (f_r - tail) / np.where(step > 0, step, 1), 0.0)
    out[ok] = np.clip((r - alpha) / nn, 0.0, 1.0)
    return out


@dataclass(frozen=True)
class FunnelBands:
    """Lower and upper limits at each coverage, keyed by coverage (0.95, 0.998)."""
    lower: dict[float, np.ndarray]
    upper: dict[float, np.ndarray]


def funnel_bands(p: float, n: np.ndarray, coverages: Sequence[float]) -> FunnelBands:
    lower = {q: funnel_limit(p, n, (1 - q) / 2) for q in coverages}
    upper = {q: funnel_limit(p, n, 1 - (1 - q) / 2) for q in coverages}
    return FunnelBands(lower, upper)


def funnel_signal(rate: np.ndarray, bands: FunnelBands) -> list[str]:
    """'above_<q>' / 'below_<q>' for the widest coverage q the rate lies outside, else 'in_control';
    'no_volume' when the rate is unknown. Coverage labels are per mille (95 % → 950, 99.8 % → 998)."""
    rate = np.asarray(rate, dtype=float)
    out = np.where(np.isfinite(rate), "in_control", "no_volume").astype(object)
    for q in sorted(bands.upper):                       # narrowest first, so the widest crossed wins
        label = f"{round(q * 1000)}"
        out = np.where(np.isfinite(rate) & (rate > bands.upper[q]), f"above_{label}", out)
        out = np.where(np.isfinite(rate) & (rate < bands.lower[q]), f"below_{label}", out)
    return [str(s) for s in out]


def volume_grid(n_min: float, n_max: float, points: int) -> np.ndarray:
    """Volumes at which to draw the funnel: geometric from n_min to n_max (integers, distinct)."""
    lo = max(1.0, float(n_min))
    hi = max(lo, float(n_max))
    return np.unique(np.round(np.geomspace(lo, hi, max(points, 2))))


@dataclass(frozen=True)
class Cusum:
    up: float            # S⁺ at the last month
    down: float          # S⁻ at the last month
    signal: str          # 'rise' | 'fall' | 'none'
    start: int | None    # index (into the series) of the first month of the signalling run
    months: int          # months in the series that had volume


def cusum(x: Sequence[float], n: Sequence[float], p: Sequence[float], k: float, h: float,
          z_cap: float = float("inf")) -> Cusum:
    """Two-sided tabular CUSUM of counts `x` on volumes `n` against reference rates `p` (one per month).
    Each month's z is winsorised at ±`z_cap`, so one extreme month (the p-chart's signal) cannot carry
    the CUSUM alone. Months without volume or without a reference rate are skipped (they neither add
    nor reset)."""
    xs, ns, ps = (np.asarray(a, dtype=float) for a in (x, n, p))
    up = down = 0.0
    up_start: int | None = None
    down_start: int | None = None
    months = 0
    for t in range(len(xs)):
        if not (ns[t] > 0 and np.isfinite(xs[t]) and 0 < ps[t] < 1):
            continue
        months += 1
        z = (xs[t] - ns[t] * ps[t]) / np.sqrt(ns[t] * ps[t] * (1 - ps[t]))
        z = min(max(z, -z_cap), z_cap)
        new_up = max(0.0, up + z - k)
        new_down = max(0.0, down - z - k)
        if new_up > 0 and up == 0:
            up_start = t
        if new_down > 0 and down == 0:
            down_start = t
        up, down = new_up, new_down
        if up == 0:
            up_start = None
        if down == 0:
            down_start = None
    rises, falls = up > h, down > h
    if rises and falls:  # an older shift still in one sum, a newer one in the other: the newer is the news
        rises = (up_start or 0) >= (down_start or 0)
        falls = not rises
    if rises:
        return Cusum(up, down, "rise", up_start, months)
    if falls:
        return Cusum(up, down, "fall", down_start, months)
    return Cusum(up, down, "none", None, months)


# --- frames: the rows of the marts.spc_* tables from the rates (numerator, denominator per unit) ---------

RATE_KEYS = ("period", "level", "metric")


def _signal_p(rate: float, lower: float, upper: float) -> str:
    if not np.isfinite(rate):
        return "no_volume"
    if rate > upper:
        return "above"
    if rate < lower:
        return "below"
    return "in_control"


def p_chart_rows(rates: pl.DataFrame, z: float) -> pl.DataFrame:
    """marts.spc_p_chart: each unit's rate against p-chart limits around the month's pooled rate."""
    out = []
    for _, g in rates.group_by(RATE_KEYS, maintain_order=True):
        num, den = g["numerator"].to_numpy(), g["denominator"].to_numpy()
        p = centre_rate(num, den)
        lower, upper = p_chart_limits(p, den, z)
        rate = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
        out.append(g.with_columns(
            rate=pl.Series(rate, nan_to_null=True), centre_rate=pl.lit(p if np.isfinite(p) else None, pl.Float64),
            lcl=pl.Series(lower, nan_to_null=True), ucl=pl.Series(upper, nan_to_null=True),
            signal=pl.Series([_signal_p(r, lo, hi) for r, lo, hi in zip(rate, lower, upper, strict=True)]),
        ))
    return pl.concat(out) if out else _empty(P_CHART_SCHEMA)


def funnel_rows(rates: pl.DataFrame, coverages: Sequence[float]) -> pl.DataFrame:
    """marts.spc_funnel: each unit at its volume against the funnel's inner and outer limits."""
    inner, outer = _two(coverages)
    out = []
    for _, g in rates.group_by(RATE_KEYS, maintain_order=True):
        num, den = g["numerator"].to_numpy(), g["denominator"].to_numpy()
        p = centre_rate(num, den)
        bands = funnel_bands(p, den, (inner, outer))
        rate = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
        out.append(g.with_columns(
            rate=pl.Series(rate, nan_to_null=True), centre_rate=pl.lit(p if np.isfinite(p) else None, pl.Float64),
            inner_coverage=pl.lit(inner), outer_coverage=pl.lit(outer),
            lower_inner=pl.Series(bands.lower[inner], nan_to_null=True),
            upper_inner=pl.Series(bands.upper[inner], nan_to_null=True),
            lower_outer=pl.Series(bands.lower[outer], nan_to_null=True),
            upper_outer=pl.Series(bands.upper[outer], nan_to_null=True),
            signal=pl.Series(funnel_signal(rate, bands)),
        ))
    return pl.concat(out) if out else _empty(FUNNEL_SCHEMA)


def funnel_curve_rows(rates: pl.DataFrame, coverages: Sequence[float], points: int) -> pl.DataFrame:
    """marts.spc_funnel_limits: the funnel's limits tabulated over volume, from the smallest to the
    largest unit of the month (what a funnel plot draws as its curves)."""
    inner, outer = _two(coverages)
    out = []
    for (period, level, metric), g in rates.group_by(RATE_KEYS, maintain_order=True):
        num, den = g["numerator"].to_numpy(), g["denominator"].to_numpy()
        p = centre_rate(num, den)
        if not np.isfinite(p) or not (den > 0).any():
            continue
        grid = volume_grid(den[den > 0].min(), den.max(), points)
        bands = funnel_bands(p, grid, (inner, outer))
        out.append(pl.DataFrame({
            "period": period, "level": level, "metric": metric, "volume": grid, "centre_rate": p,
            "inner_coverage": inner, "outer_coverage": outer,
            "lower_inner": bands.lower[inner], "upper_inner": bands.upper[inner],
            "lower_outer": bands.lower[outer], "upper_outer": bands.upper[outer],
        }))
    return pl.concat(out) if out else _empty(FUNNEL_LIMITS_SCHEMA)


def cusum_rows(rates: pl.DataFrame, period: str, k: float, h: float, min_months: int,
               z_cap: float = float("inf")) -> pl.DataFrame:
    """marts.spc_cusum: per unit (team, or reader: the reader's team is that of the judged month) and
    metric, the two-sided CUSUM of its monthly counts against its own reference rate (`own_reference`),
    judged at `period`. Units without volume in `period` get no row."""
    # the centre's trend: the median unit's rate of each month (one team's bad month moves it little)
    pooled = rates.filter(pl.col("denominator") > 0).group_by("period", "level", "metric").agg(
        (pl.col("numerator") / pl.col("denominator")).median().alias("p"))
    r = rates.join(pooled, on=["period", "level", "metric"], how="left")
    r = r.with_columns(unit=pl.when(pl.col("level") == "team").then(pl.col("team")).otherwise(pl.col("reader")))
    months = sorted(r["period"].unique().to_list())
    out: list[dict[str, Any]] = []
    current = r.filter((pl.col("period") == period) & (pl.col("denominator") > 0))
    for (level, metric, unit), g in r.group_by("level", "metric", "unit", maintain_order=True):
        now = current.filter((pl.col("level") == level) & (pl.col("metric") == metric) & (pl.col("unit") == unit))
        if now.is_empty():
            continue
        by_month = g.group_by("period").agg(pl.col("numerator").sum(), pl.col("denominator").sum(),
                                            pl.col("p").first())
        series = pl.DataFrame({"period": months}).join(by_month, on="period", how="left").sort("period")
        x = series["numerator"].fill_null(np.nan).to_numpy()
        nn = series["denominator"].fill_null(0).to_numpy()
        res = cusum(x, nn, own_reference(x, nn, series["p"].fill_null(np.nan).to_numpy()), k, h, z_cap)
        enough = res.months >= min_months
        start = months[res.start] if enough and res.start is not None else None
        out.append({
            "period": period, "level": level, "metric": metric, "team": now["team"][0],
            "reader": now["reader"][0], "months": res.months,
            "cusum_up": res.up, "cusum_down": res.down,
            "signal": res.signal if enough else "too_few_months",
            "start_month": start,
            "run_months": (months.index(period) - res.start + 1) if start is not None else None,
            "numerator": float(now["numerator"][0]), "denominator": float(now["denominator"][0]),
        })
    return pl.DataFrame(out, schema=CUSUM_SCHEMA) if out else _empty(CUSUM_SCHEMA)


def own_reference(x: np.ndarray, n: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """The reference rate of each month for a unit's CUSUM: the centre's trend (`centre`: the median
    unit's rate of the month) scaled by the unit's own usual level: the median over the months of
    x / (n·p̄), so the months of a change (or a few extreme ones) do not move the level they are
    judged against. A team that is always 20 % above the centre is
    the funnel's business; its CUSUM signals when it moves away from its own usual level (a change
    point), while the centre's month-to-month swings (season, a new rule) cancel out."""
    expected = n * centre
    ok = (n > 0) & np.isfinite(x) & np.isfinite(centre) & (expected > 0)
    level = float(np.median(x[ok] / expected[ok])) if ok.any() else float("nan")
    return np.clip(level * centre, 0.0, 1.0 - 1e-12)


def _two(coverages: Sequence[float]) -> tuple[float, float]:
    qs = sorted(float(q) for q in coverages)
    if len(qs) != 2 or not all(0 < q < 1 for q in qs):
        raise ValueError(f"spc.toml [funnel] coverages must be two shares in (0, 1), got {list(coverages)}")
    return qs[0], qs[1]


def _empty(schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


_RATE = {"period": pl.String, "level": pl.String, "team": pl.String, "reader": pl.String, "metric": pl.String,
         "numerator": pl.Float64, "denominator": pl.Float64}
P_CHART_SCHEMA: dict[str, Any] = {**_RATE, "rate": pl.Float64, "centre_rate": pl.Float64, "lcl": pl.Float64,
                                  "ucl": pl.Float64, "signal": pl.String}
FUNNEL_SCHEMA: dict[str, Any] = {**_RATE, "rate": pl.Float64, "centre_rate": pl.Float64,
                                 "inner_coverage": pl.Float64, "outer_coverage": pl.Float64,
                                 "lower_inner": pl.Float64, "upper_inner": pl.Float64,
                                 "lower_outer": pl.Float64, "upper_outer": pl.Float64, "signal": pl.String}
FUNNEL_LIMITS_SCHEMA: dict[str, Any] = {
    "period": pl.String, "level": pl.String, "metric": pl.String, "volume": pl.Float64, "centre_rate": pl.Float64,
    "inner_coverage": pl.Float64, "outer_coverage": pl.Float64, "lower_inner": pl.Float64,
    "upper_inner": pl.Float64, "lower_outer": pl.Float64, "upper_outer": pl.Float64}
CUSUM_SCHEMA: dict[str, Any] = {
    "period": pl.String, "level": pl.String, "metric": pl.String, "team": pl.String, "reader": pl.String,
    "months": pl.Int32, "cusum_up": pl.Float64, "cusum_down": pl.Float64, "signal": pl.String,
    "start_month": pl.String, "run_months": pl.Int32, "numerator": pl.Float64, "denominator": pl.Float64}
