"""Recheck sampling (复核抽样): how many of each reader's readings to recheck on site, and which; pure
functions (the one I/O is `recheck_config`, which reads config/recheck.toml).

- `sample_size`: the Wald size n0 = z²·p(1 − p)/e² for a half-width e at confidence 1 − α
  (z = Φ⁻¹(1 − α/2)), with the finite-population correction n = n0 / (1 + (n0 − 1)/N), rounded up,
  capped at N; scalars or numpy arrays.
- `reader_sample_sizes`: per reader, the assumed rate p (the reader's 12-month rate shrunk toward the
  team's pooled rate, floored), the half-width (divided by `drift_factor` for readers whose flags
  drift), the formula's n, the n after the floor / share / N caps, the half-width that n achieves, and
  reason codes.
- `draw_recheck`: n readings per reader without replacement, flagged reads weighted up
  (Efraimidis–Spirakis: the n largest keys u^(1/w)), each row's u from sha256 of the seed, month,
  team, reader and the row's identity, so the list does not depend on row order, numpy's version or
  Python's hash seed; each drawn row carries its inclusion probability (Rosén's approximation for
  order sampling), for a Horvitz–Thompson estimate.
- `inclusion_probabilities`: that approximation, π_i = 1 − exp(−w_i·ξ) with Σ π_i = n.
- `estimate_error_rate`: per reader, the Horvitz–Thompson and Hájek error rates of a rechecked sample
  and a Wilson interval on the Hájek rate at Kish's effective sample size.

Every domain number (confidence, half-width, prior, caps, weights, seed) comes from the config dict.
"""

from __future__ import annotations

import hashlib
from typing import Any, overload

import numpy as np
import polars as pl
from scipy import optimize, stats

from readq.config import load_toml

# Reason codes of reader_sample_sizes, in the order they are listed.
REASONS = ("NO_READS", "NO_HISTORY", "PRIOR_FLOOR", "DRIFT", "CAPPED", "MIN", "CENSUS")
READER_COLUMNS = ("team", "reader", "reads", "reads_12m", "errors_12m", "drifting")
READING_COLUMNS = ("team", "reader", "customer_no", "meter_no", "flag_severity", "rule_ids", "delivery_id",
                   "source_row")
# The columns that tell one candidate reading from another: each row's uniform u hashes them.
IDENTITY_COLUMNS = ("customer_no", "meter_no", "delivery_id", "source_row")
_SEP = "\x1f"                                   # unit separator: cannot occur in a customer number
_NULL = "\x00"                                  # a null identity field, distinct from the empty string


def recheck_config() -> dict[str, Any]:
    """config/recheck.toml (a copy: the caller may change it)."""
    return load_toml("recheck.toml")


def z_value(confidence: float) -> float:
    """The two-sided normal quantile z = Φ⁻¹(1 − α/2) for a confidence 1 − α (0.95 → 1.95996…)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return float(stats.norm.ppf(1 - (1 - confidence) / 2))


@overload
def sample_size(p: float, half_width: float, confidence: float, population: int) -> int: ...
@overload
def sample_size(p: np.ndarray, half_width: float | np.ndarray, confidence: float,
                population: np.ndarray) -> np.ndarray: ...
def sample_size(p: Any, half_width: Any, confidence: float, population: Any) -> Any:
    """Readings to recheck so that the Wald interval p̂ ± e on a rate near `p` has half-width
    `half_width` at `confidence`, out of `population` readings:

        n0 = z²·p(1 − p)/e²,   n = n0 / (1 + (n0 − 1)/N),   rounded up, at most N (0 when N = 0).

    Scalars give an int; any array argument gives an int64 array (arguments broadcast)."""
    scalar = all(np.ndim(a) == 0 for a in (p, half_width, population))
    pp = np.asarray(p, dtype=float)
    e = np.asarray(half_width, dtype=float)
    big_n = np.asarray(population, dtype=float)
    if np.any(~np.isfinite(pp)) or np.any((pp < 0) | (pp > 1)):
        raise ValueError("p must be a rate in [0, 1]")
    if np.any(~(e > 0)):
        raise ValueError("half_width must be > 0")
    if np.any(~(big_n >= 0)) or np.any(big_n != np.floor(big_n)):
        raise ValueError("population must be a whole number ≥ 0")
    z = z_value(confidence)
    n0 = z**2 * pp * (1 - pp) / e**2
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.where(big_n > 0, n0 / (1 + (n0 - 1) / np.where(big_n > 0, big_n, 1)), 0.0)
    # rounded up; the 1e-9 keeps a float just above a whole number (108.0000000001) from asking one more
    # (n0 = 0 with N = 1 is 0/0: nothing to estimate, nothing asked)
    n = np.where(np.isfinite(n), n, 0.0)
    out = np.minimum(np.ceil(np.maximum(n, 0.0) - 1e-9), big_n).astype(np.int64)
    return int(out) if scalar else out


def standard_error(p: np.ndarray | float, n: np.ndarray | float, population: np.ndarray | float) -> np.ndarray:
    """√(p(1 − p)/n · (N − n)/(N − 1)): the standard error of a rate near p from n of N readings drawn
    at random (z times it is the achieved half-width). 0 when n ≥ N (a census), nan when n = 0."""
    pp, nn, big_n = (np.asarray(a, dtype=float) for a in (p, n, population))
    with np.errstate(divide="ignore", invalid="ignore"):
        fpc = np.where(big_n > 1, (big_n - nn) / (big_n - 1), 0.0)
        se = np.sqrt(pp * (1 - pp) / nn * np.clip(fpc, 0.0, 1.0))
    return np.where(nn > 0, np.where(nn >= big_n, 0.0, se), np.nan)


def reader_sample_sizes(readers: pl.DataFrame, config: dict[str, Any]) -> pl.DataFrame:
    """Next month's recheck size per reader.

    `readers`: one row per reader with team, reader, reads (this month's readings: the population N),
    reads_12m, errors_12m (confirmed errors in the last 12 months) and drifting (bool). Adds:

    - p_team: the team's pooled 12-month rate Σ errors_12m / Σ reads_12m (the centre's when the team
      has no history, `[prior] p_fallback` when nobody has);
    - p_prior: (errors_12m + m·p_team) / (reads_12m + m), m = `[prior] strength`, at least `p_min`;
    - half_width_used: `[size] half_width`, divided by `drift_factor` for a drifting reader;
    - n_required: `sample_size(p_prior, half_width_used, confidence, reads)`;
    - n: n_required cut to ⌊max_share·N⌋, then raised to min_per_reader, then at most N;
    - half_width_achieved: z·√(p(1 − p)/n · (N − n)/(N − 1)) at p_prior (0 for a census, null for n = 0);
    - reasons: list of NO_READS, NO_HISTORY (no 12-month reads: the team's rate), PRIOR_FLOOR, DRIFT,
      CAPPED (max_share cut it), MIN (raised to min_per_reader), CENSUS (every reading)."""
    _require(readers, READER_COLUMNS, "readers")
    size, prior = config["size"], config["prior"]
    confidence, e = float(size["confidence"]), float(size["half_width"])
    drift, floor_n, share = float(size["drift_factor"]), int(size["min_per_reader"]), float(size["max_share"])
    strength, p_min, p_fallback = float(prior["strength"]), float(prior["p_min"]), float(prior["p_fallback"])
    if drift < 1 or floor_n < 0 or not 0 < share <= 1 or strength < 0 or not 0 <= p_min < 1:
        raise ValueError("recheck.toml: needs drift_factor ≥ 1, min_per_reader ≥ 0, 0 < max_share ≤ 1, "
                         "strength ≥ 0, 0 ≤ p_min < 1")
    r = readers.with_columns(
        pl.col("reads").fill_null(0).cast(pl.Int64), pl.col("reads_12m").fill_null(0).cast(pl.Int64),
        pl.col("errors_12m").fill_null(0).cast(pl.Int64), pl.col("drifting").fill_null(False).cast(pl.Boolean))
    bad = r.filter((pl.col("reads") < 0) | (pl.col("reads_12m") < 0) | (pl.col("errors_12m") < 0)
                   | (pl.col("errors_12m") > pl.col("reads_12m")))
    if not bad.is_empty():
        raise ValueError(f"readers: negative counts or errors_12m > reads_12m for {bad['reader'].to_list()}")

    total_reads, total_errors = r["reads_12m"].sum(), r["errors_12m"].sum()
    centre = total_errors / total_reads if total_reads > 0 else p_fallback
    r = r.with_columns(
        p_team=pl.when(pl.col("reads_12m").sum().over("team") > 0)
        .then(pl.col("errors_12m").sum().over("team") / pl.col("reads_12m").sum().over("team"))
        .otherwise(pl.lit(centre)).cast(pl.Float64))
    den = (r["reads_12m"].to_numpy() + strength).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        shrunk = np.where(den > 0, (r["errors_12m"].to_numpy() + strength * r["p_team"].to_numpy()) / den,
                          r["p_team"].to_numpy())
    p_prior = np.maximum(shrunk, p_min)
    drifting = r["drifting"].to_numpy()
    e_used = np.where(drifting, e / drift, e)
    big_n = r["reads"].to_numpy()
    n_req = sample_size(p_prior, e_used, confidence, big_n)
    cap = np.floor(share * big_n + 1e-9).astype(np.int64)
    n = np.minimum(np.maximum(np.minimum(n_req, cap), floor_n), big_n)
    achieved = z_value(confidence) * standard_error(p_prior, n, big_n)

    codes = {
        "NO_READS": big_n == 0,
        "NO_HISTORY": r["reads_12m"].to_numpy() == 0,
        "PRIOR_FLOOR": shrunk < p_min,
        "DRIFT": drifting,
        "CAPPED": (n < n_req) & (big_n > 0),
        "MIN": (n > np.minimum(n_req, cap)) & (big_n > 0),
        "CENSUS": (n == big_n) & (big_n > 0),
    }
    reasons = [[c for c in REASONS if codes[c][i]] for i in range(r.height)]
    return r.with_columns(
        p_prior=pl.Series(p_prior, dtype=pl.Float64),
        half_width_used=pl.Series(e_used, dtype=pl.Float64),
        n_required=pl.Series(n_req, dtype=pl.Int64),
        n=pl.Series(n, dtype=pl.Int64),
        half_width_achieved=pl.Series(achieved, dtype=pl.Float64, nan_to_null=True),
        reasons=pl.Series(reasons, dtype=pl.List(pl.String)),
    )


def severity_weights(severity: pl.Series, config: dict[str, Any]) -> np.ndarray:
    """The draw weight of each reading: 1 unflagged (null), `[flagged_weight]` for a severity."""
    weights = {str(k): float(v) for k, v in config["flagged_weight"].items()}
    if any(not w > 0 for w in weights.values()):
        raise ValueError("recheck.toml [flagged_weight]: every weight must be > 0")
    unknown = sorted(set(severity.drop_nulls().unique().to_list()) - set(weights))
    if unknown:
        raise ValueError(f"flag_severity {unknown} has no weight in recheck.toml [flagged_weight]")
    return severity.replace_strict(weights, default=1.0, return_dtype=pl.Float64).fill_null(1.0).to_numpy()


def reader_digest(seed: int, period: str, team: str, reader: str) -> bytes:
    """The key of a reader's draw: sha256 over (seed, period, team, reader), stable across processes,
    machines and library versions (unlike Python's hash())."""
    text = _SEP.join((str(int(seed)), period, team, reader))
    return hashlib.sha256(text.encode("utf-8")).digest()


def uniforms(digest: bytes, identities: list[str]) -> np.ndarray:
    """One u in (0, 1) per row: the first 53 bits of sha256(reader digest ‖ row identity), centred in
    its cell (k + ½)/2⁵³, so never 0 or 1."""
    out = np.empty(len(identities), dtype=float)
    for i, ident in enumerate(identities):
        k = int.from_bytes(hashlib.sha256(digest + ident.encode("utf-8")).digest()[:8], "big") >> 11
        out[i] = (k + 0.5) / 2.0**53
    return out


def inclusion_probabilities(weights: np.ndarray, n: int) -> np.ndarray:
    """Approximate first-order inclusion probabilities of drawing `n` of these units by
    Efraimidis–Spirakis keys (= order sampling with exponential ranking variables −log(u)/w, Rosén
    1997): π_i = 1 − exp(−w_i·ξ), with ξ solving Σ π_i = n, so the π sum to n. Exact for n = 0, n = N
    and equal weights (π = n/N); otherwise an asymptotic approximation, within a few percent of the
    simulated frequencies for the sizes here (tests/test_sampling.py)."""
    w = np.asarray(weights, dtype=float)
    big_n = len(w)
    if n <= 0:
        return np.zeros(big_n)
    if n >= big_n:
        return np.ones(big_n)

    def excess(xi: float) -> float:
        return float(np.sum(-np.expm1(-w * xi))) - n

    hi = 1.0 / w.min()
    while excess(hi) < 0:
        hi *= 2
    xi = optimize.brentq(excess, 0.0, hi, xtol=1e-14, rtol=1e-12)
    return -np.expm1(-w * xi)


def draw_recheck(readings: pl.DataFrame, sizes: pl.DataFrame, period: str, config: dict[str, Any]) -> pl.DataFrame:
    """Next month's recheck list: for each reader, `n` (from `sizes`, as `reader_sample_sizes` gives it)
    of their candidate `readings`, drawn without replacement with weight w (`severity_weights`).

    Each row's key is log(u)/w, the log of Efraimidis–Spirakis' u^(1/w) (same order, no underflow); the n
    largest keys are drawn, `draw_rank` 1 the largest. u hashes the reader's digest (seed, period, team,
    reader) with the row's identity (customer_no, meter_no, delivery_id, source_row), so the same seed,
    period and readings give the same list in any row order, and adding a reading to one reader leaves
    every other reader's list (and the keys of the reader's other rows) unchanged.

    A reader with fewer candidates than n has them all drawn (`n_drawn` < `n_planned` says so); a
    reader of `readings` missing from `sizes` is an error. Adds: weight, draw_rank,
    inclusion_probability (`inclusion_probabilities`; 1 when every candidate is drawn), candidates,
    n_planned, n_drawn, period, seed, recheck_version."""
    _require(readings, READING_COLUMNS, "readings")
    _require(sizes, ("team", "reader", "n"), "sizes")
    for name, frame in (("readings", readings), ("sizes", sizes)):
        if frame.select(pl.any_horizontal(pl.col("team").is_null(), pl.col("reader").is_null()).any()).item():
            raise ValueError(f"{name}: team and reader must not be null (use the unattributed name)")
    if sizes.select(pl.struct("team", "reader").is_duplicated().any()).item():
        raise ValueError("sizes: one row per team and reader")
    seed = int(config["seed"])
    plan = sizes.select("team", "reader", pl.col("n").cast(pl.Int64).alias("n_planned"))
    r = readings.join(plan, on=["team", "reader"], how="left")
    missing = r.filter(pl.col("n_planned").is_null()).select("team", "reader").unique()
    if not missing.is_empty():
        raise ValueError(f"readers without a size: {missing.rows()}")
    r = r.with_columns(
        weight=pl.Series(severity_weights(r["flag_severity"], config), dtype=pl.Float64),
        _identity=pl.concat_str([pl.col(c).cast(pl.String).fill_null(_NULL) for c in IDENTITY_COLUMNS],
                                separator=_SEP),
    )
    out = []
    for (team, reader), g in r.group_by("team", "reader"):
        u = uniforms(reader_digest(seed, period, str(team), str(reader)), g["_identity"].to_list())
        n_planned = int(g["n_planned"][0])
        n_drawn = min(max(n_planned, 0), g.height)
        # the identity breaks ties of equal keys (identical rows), so the order is total
        g = (g.with_columns(_key=pl.Series(np.log(u) / g["weight"].to_numpy()))
             .sort(["_key", "_identity"], descending=[True, False]))
        pi = inclusion_probabilities(g["weight"].to_numpy(), n_drawn)
        g = g.with_columns(
            draw_rank=pl.int_range(1, g.height + 1, dtype=pl.Int64),
            inclusion_probability=pl.Series(pi, dtype=pl.Float64),
            candidates=pl.lit(g.height, pl.Int64), n_drawn=pl.lit(n_drawn, pl.Int64))
        out.append(g.head(n_drawn))
    columns = [*readings.columns, "weight", "draw_rank", "inclusion_probability", "candidates", "n_planned",
               "n_drawn"]
    if not out:
        drawn = r.head(0).with_columns(draw_rank=pl.lit(0, pl.Int64), inclusion_probability=pl.lit(0.0),
                                       candidates=pl.lit(0, pl.Int64), n_drawn=pl.lit(0, pl.Int64))
    else:
        drawn = pl.concat(out)
    return (drawn.select(columns)
            .with_columns(period=pl.lit(period), seed=pl.lit(seed, pl.Int64),
                          recheck_version=pl.lit(str(config.get("version", ""))))
            .sort("team", "reader", "draw_rank"))


def estimate_error_rate(results: pl.DataFrame, config: dict[str, Any]) -> pl.DataFrame:
    """Per reader, the error rate of the candidates from a rechecked sample.

    `results`: the rows of `draw_recheck` (team, reader, inclusion_probability, candidates) with
    `error` (bool: the recheck confirmed an error). Gives rechecked, errors_found, p_ht (Horvitz–
    Thompson: Σ y/π / N, N = candidates), p_hajek (Σ y/π / Σ 1/π), n_eff (Kish: (Σ 1/π)² / Σ 1/π²)
    and a Wilson interval (lower, upper) on p_hajek at n_eff and `[size] confidence`. The interval ignores
    the finite-population correction and the joint inclusion probabilities: slightly wide for a census-like
    sample, approximate otherwise; Wilson, so a sample without errors still has an upper bound above 0."""
    _require(results, ("team", "reader", "inclusion_probability", "candidates", "error"), "results")
    z = z_value(float(config["size"]["confidence"]))
    g = (results.with_columns(d=1.0 / pl.col("inclusion_probability"), y=pl.col("error").cast(pl.Float64))
         .group_by("team", "reader")
         .agg(rechecked=pl.len().cast(pl.Int64), errors_found=pl.col("y").sum().cast(pl.Int64),
              candidates=pl.col("candidates").first(), sum_dy=(pl.col("d") * pl.col("y")).sum(),
              sum_d=pl.col("d").sum(), sum_d2=(pl.col("d") ** 2).sum())
         .with_columns(p_ht=pl.col("sum_dy") / pl.col("candidates"), p_hajek=pl.col("sum_dy") / pl.col("sum_d"),
                       n_eff=pl.col("sum_d") ** 2 / pl.col("sum_d2")))
    p, n_eff = g["p_hajek"].to_numpy(), g["n_eff"].to_numpy()
    lower, upper = wilson(p, n_eff, z)
    return (g.with_columns(lower=pl.Series(lower, dtype=pl.Float64), upper=pl.Series(upper, dtype=pl.Float64))
            .select("team", "reader", "candidates", "rechecked", "errors_found", "p_ht", "p_hajek", "n_eff",
                    "lower", "upper")
            .sort("team", "reader"))


def wilson(p: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval (lower, upper) for a rate p from n (possibly fractional) trials."""
    p, n = np.asarray(p, dtype=float), np.asarray(n, dtype=float)
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def _require(frame: pl.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing columns {missing}")


__all__ = ["REASONS", "draw_recheck", "estimate_error_rate", "inclusion_probabilities",
           "reader_digest", "reader_sample_sizes", "recheck_config", "sample_size", "severity_weights",
           "standard_error", "uniforms", "wilson", "z_value"]
