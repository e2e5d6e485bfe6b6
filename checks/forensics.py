"""Digit forensics and fabrication signatures per meter reader (product brief §8): pure functions.

The heavy part (12 months of readings) is aggregated in DuckDB by warehouse/steps/reader_forensics.py;
what arrives here is small: per reader, team, month and last digit a count (`reader_totals`), and per
reader the median absolute deviation of the residuals ln(use / expected). `forensics` turns those into
the rows of marts.reader_forensics (without period, config_version, computed_at):

- heaping: share of last integer digits of 本次示数 in [digits] heaped (0, 5) over the expected share;
- last-digit uniformity: chi-square of the ten digit counts against uniform (9 d.f.);
- digit slips: DIGIT_SLIP flags per reading;
- fabrication signature: the median dispersion of the reader's peers (other ranked readers of the
  team, else of the centre) over the reader's own; high = readings suspiciously close to expected.

Limits come from config/forensics.toml (`load_limits`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from readq.config import load_toml

DIGITS = 10                                   # last digits 0 … 9 (decimal registers)
REASONS = ("HEAPING", "LAST_DIGIT", "DIGIT_SLIP", "FABRICATION")

# What reader_totals returns and forensics adds (the mart's columns, in order, with their types).
TOTALS_SCHEMA: dict[str, Any] = {
    "team": pl.String, "reader": pl.String, "team_key": pl.String, "unattributed": pl.Boolean,
    "reads": pl.Int64, "reads_month": pl.Int64, "months": pl.Int32,
    "digit_counts": pl.List(pl.Int64), "digit_slip_flags": pl.Int64,
}
RESIDUALS_SCHEMA: dict[str, Any] = {
    "reader": pl.String, "team_key": pl.String, "residual_reads": pl.Int64, "residual_mad": pl.Float64,
}
FORENSICS_SCHEMA: dict[str, Any] = {
    "team": pl.String, "reader": pl.String,
    "reads": pl.Int64, "reads_month": pl.Int64, "months": pl.Int32,
    "digit_counts": pl.List(pl.Int64),
    "heaping_share": pl.Float64, "heaping_index": pl.Float64,
    "last_digit_chi2": pl.Float64, "last_digit_p": pl.Float64,
    "digit_slip_flags": pl.Int64, "digit_slip_share": pl.Float64,
    "residual_reads": pl.Int64, "residual_dispersion": pl.Float64, "peer_dispersion": pl.Float64,
    "signature": pl.Float64, "signature_rank": pl.Int32, "signature_pct": pl.Float64,
    "flagged": pl.Boolean, "flag_reasons": pl.List(pl.String),
}


@dataclass(frozen=True)
class Limits:
    """config/forensics.toml, typed."""

    window_months: int
    read_status: str
    remote_mode: str
    unknown_mode_on_site: bool
    unattributed: str
    current_readers_only: bool
    heaped: tuple[int, ...]
    expected_share: float
    digits_min_reads: int
    exclude_unchanged: bool
    mad_scale: float
    residuals_min_reads: int
    dispersion_floor: float
    min_team_peers: int
    heaping_min_index: float
    heaping_min_reads: int
    last_digit_max_p: float
    slip_max_share: float
    slip_min_flags: int
    slip_rule: str
    fabrication_min_signature: float


def limits_from(config: Mapping[str, Any]) -> Limits:
    """Limits from the parsed forensics.toml."""
    scope, digits, res, flags = config["scope"], config["digits"], config["residuals"], config["flags"]
    return Limits(
        window_months=int(scope["window_months"]),
        read_status=str(scope["read_status"]),
        remote_mode=str(scope["remote_mode"]),
        unknown_mode_on_site=bool(scope["unknown_mode_on_site"]),
        unattributed=str(scope["unattributed"]),
        current_readers_only=bool(scope["current_readers_only"]),
        heaped=tuple(int(d) for d in digits["heaped"]),
        expected_share=float(digits["expected_share"]),
        digits_min_reads=int(digits["min_reads"]),
        exclude_unchanged=bool(digits["exclude_unchanged"]),
        mad_scale=float(res["mad_scale"]),
        residuals_min_reads=int(res["min_reads"]),
        dispersion_floor=float(res["dispersion_floor"]),
        min_team_peers=int(res["min_team_peers"]),
        heaping_min_index=float(flags["HEAPING"]["min_index"]),
        heaping_min_reads=int(flags["HEAPING"]["min_reads"]),
        last_digit_max_p=float(flags["LAST_DIGIT"]["max_p"]),
        slip_max_share=float(flags["DIGIT_SLIP"]["max_share"]),
        slip_min_flags=int(flags["DIGIT_SLIP"]["min_flags"]),
        slip_rule=str(flags["DIGIT_SLIP"]["rule_id"]),
        fabrication_min_signature=float(flags["FABRICATION"]["min_signature"]),
    )


def load_limits() -> Limits:
    return limits_from(load_toml("forensics.toml"))


def window_start(period: str, months: int) -> str:
    """The first billing month of the `months`-month window ending with `period` ('YYYY-MM')."""
    year, month = (int(p) for p in period.split("-"))
    index = year * 12 + (month - 1) - (months - 1)
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


# ---------------------------------------------------------------------------------------------
# Statistics


def last_digit_test(counts: Sequence[int] | np.ndarray) -> tuple[float, float]:
    """Pearson chi-square of digit counts against uniform and its p-value (len(counts) − 1 d.f.):
    scipy.stats.chisquare."""
    observed = np.asarray(counts, dtype=float)
    if observed.sum() <= 0:
        return math.nan, math.nan
    result = stats.chisquare(observed)
    return float(result.statistic), float(result.pvalue)


def heaping(counts: Sequence[int] | np.ndarray, heaped: Sequence[int], expected_share: float) -> tuple[float, float]:
    """(share of counts on the heaped digits, that share / expected_share)."""
    observed = np.asarray(counts, dtype=float)
    total = observed.sum()
    if total <= 0:
        return math.nan, math.nan
    share = float(observed[list(heaped)].sum() / total)
    return share, share / expected_share


def dispersion(residuals: Sequence[float] | np.ndarray, mad_scale: float) -> float:
    """mad_scale × median(|r − median(r)|): the robust σ of residuals (what the SQL computes)."""
    r = np.asarray(residuals, dtype=float)
    if r.size == 0:
        return math.nan
    return float(mad_scale * np.median(np.abs(r - np.median(r))))


def peer_dispersions(teams: Sequence[str], dispersions: np.ndarray, peers: np.ndarray,
                     min_team_peers: int) -> np.ndarray:
    """For each reader, the median dispersion of the *other* peer readers (`peers` true) of the same
    team, or of the whole centre when the team has fewer than `min_team_peers` others; NaN when there
    is nobody to compare with."""
    team = np.asarray(teams, dtype=object)
    out = np.full(len(team), np.nan)
    for i in range(len(team)):
        others = peers.copy()
        others[i] = False
        same = others & (team == team[i])
        pool = same if same.sum() >= min_team_peers else others
        if pool.any():
            out[i] = float(np.median(dispersions[pool]))
    return out


def rank_signatures(signatures: np.ndarray, ranked: np.ndarray,
                    tie_keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Rank 1 = highest signature among `ranked` (ties broken by `tie_keys`, so reruns agree) and
    rank / number ranked; NaN for readers not ranked."""
    rank = np.full(len(signatures), np.nan)
    idx = [i for i in range(len(signatures)) if ranked[i]]
    idx.sort(key=lambda i: (-signatures[i], tie_keys[i]))
    for position, i in enumerate(idx, start=1):
        rank[i] = position
    return rank, rank / len(idx) if idx else rank


# ---------------------------------------------------------------------------------------------
# Frames


def reader_totals(cells: pl.DataFrame, period: str, unattributed: str) -> pl.DataFrame:
    """One row per reader (per team for the unattributed reader) from cells of
    (reader, team, period, digit [null: no digit counted], reads, slips).

    A reader's team is the team of their latest month in the window (a team other than the
    unattributed one preferred, then the team with most readings that month, then by name)."""
    if cells.is_empty():
        return pl.DataFrame(schema=TOTALS_SCHEMA)
    cells = cells.with_columns(
        team_key=pl.when(pl.col("reader") == unattributed).then(pl.col("team")).otherwise(None).cast(pl.String))
    keys = ["reader", "team_key"]
    team = (cells.group_by([*keys, "team", "period"]).agg(pl.col("reads").sum())
            .sort([(pl.col("team") == unattributed), "period", "reads", "team"],
                  descending=[False, True, True, False])
            .group_by(keys, maintain_order=True).agg(pl.col("team").first()))
    digit_sums = [pl.col("reads").filter(pl.col("digit") == d).sum() for d in range(DIGITS)]
    totals = cells.group_by(keys).agg(
        reads=pl.col("reads").sum(),
        reads_month=pl.col("reads").filter(pl.col("period") == period).sum(),
        months=pl.col("period").n_unique().cast(pl.Int32),
        digit_counts=pl.concat_list(digit_sums),
        digit_slip_flags=pl.col("slips").sum(),
    )
    out = totals.join(team, on=keys, how="left", nulls_equal=True).with_columns(
        unattributed=pl.col("reader") == unattributed)
    return out.select([pl.col(c).cast(t) for c, t in TOTALS_SCHEMA.items()]).sort(["team", "reader"])


def forensics(totals: pl.DataFrame, residuals: pl.DataFrame, limits: Limits) -> pl.DataFrame:
    """The rows of marts.reader_forensics (FORENSICS_SCHEMA) from `reader_totals` and the residual
    statistics per reader (reader, team_key, residual_reads, residual_mad)."""
    if limits.current_readers_only:
        totals = totals.filter(pl.col("reads_month") > 0)
    if totals.is_empty():
        return pl.DataFrame(schema=FORENSICS_SCHEMA)
    frame = (totals.join(residuals.select(list(RESIDUALS_SCHEMA)), on=["reader", "team_key"], how="left",
                         nulls_equal=True)
             .with_columns(pl.col("residual_reads").fill_null(0))
             .sort(["team", "reader"]))
    n = frame.height
    person = ~frame["unattributed"].to_numpy()
    counts = np.array(frame["digit_counts"].to_list(), dtype=np.int64).reshape(n, DIGITS)
    counted = counts.sum(axis=1)

    share, index, chi2, p = (np.full(n, np.nan) for _ in range(4))
    for i in np.flatnonzero(counted >= limits.digits_min_reads):
        share[i], index[i] = heaping(counts[i], limits.heaped, limits.expected_share)
        chi2[i], p[i] = last_digit_test(counts[i])

    reads = frame["reads"].to_numpy()
    slips = frame["digit_slip_flags"].to_numpy()
    slip_share = slips / reads

    residual_reads = frame["residual_reads"].to_numpy()
    mad = frame["residual_mad"].to_numpy().astype(float)
    own = np.where(residual_reads > 0, limits.mad_scale * mad, np.nan)
    floored = np.maximum(own, limits.dispersion_floor)
    ranked = person & (residual_reads >= limits.residuals_min_reads) & ~np.isnan(own)
    peer = np.where(person, peer_dispersions(frame["team"].to_list(), floored, ranked, limits.min_team_peers), np.nan)
    signature = np.where(ranked, peer / floored, np.nan)
    ranked &= ~np.isnan(signature)
    rank, pct = rank_signatures(signature, ranked, [f"{t}\x00{r}" for t, r in frame.select("team", "reader").rows()])

    raised = {
        "HEAPING": person & (counted >= limits.heaping_min_reads) & (np.nan_to_num(index) >= limits.heaping_min_index),
        "LAST_DIGIT": person & ~np.isnan(p) & (np.nan_to_num(p, nan=1.0) < limits.last_digit_max_p),
        "DIGIT_SLIP": person & (slips >= limits.slip_min_flags) & (slip_share > limits.slip_max_share),
        "FABRICATION": ranked & (np.nan_to_num(signature) >= limits.fabrication_min_signature),
    }
    reasons = [[r for r in REASONS if raised[r][i]] for i in range(n)]

    def column(values: np.ndarray) -> list[float | None]:
        return [None if math.isnan(v) else float(v) for v in values]

    out = frame.with_columns(
        pl.Series("heaping_share", column(share), pl.Float64),
        pl.Series("heaping_index", column(index), pl.Float64),
        pl.Series("last_digit_chi2", column(chi2), pl.Float64),
        pl.Series("last_digit_p", column(p), pl.Float64),
        pl.Series("digit_slip_share", column(slip_share.astype(float)), pl.Float64),
        pl.Series("residual_dispersion", column(own), pl.Float64),
        pl.Series("peer_dispersion", column(peer), pl.Float64),
        pl.Series("signature", column(signature), pl.Float64),
        pl.Series("signature_rank", [None if math.isnan(v) else int(v) for v in rank], pl.Int32),
        pl.Series("signature_pct", column(pct), pl.Float64),
        pl.Series("flag_reasons", reasons, pl.List(pl.String)),
        pl.Series("flagged", [bool(r) for r in reasons], pl.Boolean),
    )
    return out.select([pl.col(c).cast(t) for c, t in FORENSICS_SCHEMA.items()])
