"""Recheck sampling (checks/sampling.py): the sizes a reader's error-rate interval needs, the caps, the
weighted and reproducible draw, and the inclusion probabilities an unbiased estimate rests on."""

from __future__ import annotations

import copy
import hashlib
import math
from typing import Any

import numpy as np
import polars as pl
import pytest

from checks.sampling import (
    draw_recheck,
    estimate_error_rate,
    inclusion_probabilities,
    reader_digest,
    reader_sample_sizes,
    recheck_config,
    sample_size,
    standard_error,
    uniforms,
    z_value,
)

Z95 = 1.959963984540054

CFG: dict[str, Any] = {
    "version": "test.1",
    "seed": 20261201,
    "size": {"confidence": 0.95, "half_width": 0.01, "drift_factor": 1.5, "min_per_reader": 20, "max_share": 0.15},
    "prior": {"strength": 2000, "p_min": 0.001, "p_fallback": 0.005},
    "flagged_weight": {"info": 1.0, "warn": 3.0, "fail": 6.0},
}


def readers_frame(rows: list[tuple[str, str, int, int, int, bool]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["team", "reader", "reads", "reads_12m", "errors_12m", "drifting"],
                        orient="row")


def readings_frame(counts: dict[tuple[str, str], tuple[int, int, int]]) -> pl.DataFrame:
    """Candidate readings: per (team, reader), (unflagged, warn, fail) rows."""
    rows = []
    for (team, reader), (plain, warn, fail) in counts.items():
        severities = [None] * plain + ["warn"] * warn + ["fail"] * fail
        rows += [(team, reader, f"{reader}-C{i:06d}", f"M{i:06d}", sev, ["HIGH"] if sev else None, "dlv-1", i)
                 for i, sev in enumerate(severities)]
    return pl.DataFrame(rows, schema={"team": pl.String, "reader": pl.String, "customer_no": pl.String,
                                      "meter_no": pl.String, "flag_severity": pl.String,
                                      "rule_ids": pl.List(pl.String), "delivery_id": pl.String,
                                      "source_row": pl.Int64}, orient="row")


def sizes_for(readings: pl.DataFrame, n: dict[str, int]) -> pl.DataFrame:
    pairs = readings.select("team", "reader").unique(maintain_order=True)
    return pairs.with_columns(n=pl.col("reader").replace_strict(n, return_dtype=pl.Int64))


# --- sample_size ---------------------------------------------------------------------------------------

def test_z_is_the_two_sided_normal_quantile() -> None:
    assert z_value(0.95) == pytest.approx(Z95, rel=1e-12)
    assert z_value(0.99) == pytest.approx(2.5758293035489, rel=1e-12)
    with pytest.raises(ValueError):
        z_value(1.0)


def test_sample_size_is_the_wald_size_with_the_finite_population_correction() -> None:
    # the docs' typical reader: p = 0.3 %, ±1 pp at 95 %, 1,700 reads
    n0 = Z95**2 * 0.003 * 0.997 / 0.01**2                       # 114.898
    assert n0 == pytest.approx(114.898, abs=1e-3)
    assert n0 / (1 + (n0 - 1) / 1700) == pytest.approx(107.683, abs=1e-3)
    assert sample_size(0.003, 0.01, 0.95, 1700) == 108
    assert sample_size(0.003, 0.01, 0.95, 10**9) == 115        # no correction to speak of: ⌈n0⌉
    assert sample_size(0.003, 0.01, 0.95, 100) == 54            # 114.898 / (1 + 113.898/100) = 53.72
    # ±0.1 pp would need n0 ≈ 11,490 > 1,700: the correction turns it into 1,482 of 1,700, a near census
    assert sample_size(0.003, 0.001, 0.95, 1700) == 1482
    # a drifting reader: e / 1.5 → n0 = 258.52, n = 224.51
    assert sample_size(0.003, 0.01 / 1.5, 0.95, 1700) == 225


def test_sample_size_is_capped_at_the_population_and_zero_without_one() -> None:
    assert sample_size(0.5, 0.01, 0.95, 50) == 50                # n0 = 9,604: 49.74 → 50, at most N
    assert sample_size(0.5, 0.01, 0.95, 1) == 1
    assert sample_size(0.003, 0.01, 0.95, 0) == 0
    assert sample_size(0.0, 0.01, 0.95, 1700) == 0               # p = 0: nothing to estimate
    with pytest.raises(ValueError):
        sample_size(0.003, 0.0, 0.95, 1700)
    with pytest.raises(ValueError):
        sample_size(1.2, 0.01, 0.95, 1700)


def test_sample_size_takes_arrays_and_agrees_with_the_scalar_form() -> None:
    p = np.array([0.001, 0.003, 0.005, 0.5, 0.003])
    e = np.array([0.01, 0.01, 0.01 / 1.5, 0.05, 0.01])
    big_n = np.array([1700, 1700, 1700, 40, 0])
    out = sample_size(p, e, 0.95, big_n)
    assert out.dtype == np.int64
    assert out.tolist() == [sample_size(float(a), float(b), 0.95, int(c)) for a, b, c in zip(p, e, big_n, strict=True)]
    assert out.tolist() == [38, 108, 344, 37, 0]            # 384.1 / (1 + 383.1/40) = 36.3


# --- reader_sample_sizes ---------------------------------------------------------------------------------

def test_reader_sizes_follow_the_formula_then_the_share_cap_the_floor_and_n() -> None:
    readers = readers_frame([
        ("甲", "typical", 1700, 20_400, 61, False),
        ("乙", "sloppy", 1700, 20_000, 1000, False),     # 5 %: the formula asks 881, the cap allows 255
        ("丙", "small", 60, 6_000, 18, False),           # the formula asks 40, the cap allows 9, the floor 20
        ("丁", "tiny", 12, 1_200, 4, False),             # fewer reads than the floor: all of them
        ("戊", "away", 0, 20_000, 60, False),            # no reads this month
    ])
    out = {r["reader"]: r for r in reader_sample_sizes(readers, CFG).iter_rows(named=True)}

    t = out["typical"]                                   # alone in the team: the prior is the own rate
    p = 61 / 20_400
    assert t["p_team"] == pytest.approx(p) and t["p_prior"] == pytest.approx(p)
    n0 = Z95**2 * p * (1 - p) / 0.01**2
    assert t["n_required"] == t["n"] == math.ceil(n0 / (1 + (n0 - 1) / 1700)) == 108
    assert t["reasons"] == []
    assert t["half_width_achieved"] == pytest.approx(Z95 * math.sqrt(p * (1 - p) / 108 * (1700 - 108) / 1699))
    assert t["half_width_achieved"] <= 0.01

    s = out["sloppy"]
    n0 = Z95**2 * 0.05 * 0.95 / 0.01**2                   # 1,824.7 → 1,824.7 / (1 + 1,823.7/1,700) = 880.1
    assert s["n_required"] == math.ceil(n0 / (1 + (n0 - 1) / 1700)) == 881
    assert s["n"] == 255 and s["reasons"] == ["CAPPED"]  # ⌊0.15 · 1,700⌋
    assert s["half_width_achieved"] == pytest.approx(Z95 * math.sqrt(0.05 * 0.95 / 255 * 1445 / 1699))
    assert s["half_width_achieved"] > 0.02               # says what the capped reader actually gets

    sm = out["small"]
    assert sm["n_required"] == 40                        # 114.9 / (1 + 113.9/60) = 39.6
    assert sm["n"] == 20 and sm["reasons"] == ["CAPPED", "MIN"]

    ti = out["tiny"]
    assert ti["n"] == 12 and "CENSUS" in ti["reasons"] and ti["half_width_achieved"] == 0.0

    aw = out["away"]
    assert aw["n_required"] == aw["n"] == 0 and aw["reasons"] == ["NO_READS"]
    assert aw["half_width_achieved"] is None


def test_the_prior_shrinks_the_readers_rate_toward_the_teams() -> None:
    readers = readers_frame([
        ("甲", "high", 1700, 2_000, 20, False),          # 1.0 %
        ("甲", "low", 1700, 18_000, 18, False),          # 0.1 %
        ("甲", "new", 1700, 0, 0, False),                # no history: the team's rate
        ("甲", "veteran", 1700, 200_000, 2000, False),   # 1.0 % over far more reads: barely moved
    ])
    out = {r["reader"]: r for r in reader_sample_sizes(readers, CFG).iter_rows(named=True)}
    team = (20 + 18 + 0 + 2000) / (2_000 + 18_000 + 0 + 200_000)
    assert all(r["p_team"] == pytest.approx(team) for r in out.values())
    m = CFG["prior"]["strength"]
    assert out["high"]["p_prior"] == pytest.approx((20 + m * team) / (2_000 + m))
    assert team < out["high"]["p_prior"] < 0.01
    assert 0.001 < out["low"]["p_prior"] < team
    assert out["new"]["p_prior"] == pytest.approx(team) and "NO_HISTORY" in out["new"]["reasons"]
    assert abs(out["veteran"]["p_prior"] - 0.01) < abs(out["high"]["p_prior"] - 0.01)


def test_the_prior_is_floored_and_a_team_without_history_takes_the_centres_rate() -> None:
    readers = readers_frame([
        ("甲", "clean", 1700, 20_000, 0, False),
        ("乙", "new1", 1700, 0, 0, False),
        ("丙", "old", 1700, 10_000, 40, False),
    ])
    out = {r["reader"]: r for r in reader_sample_sizes(readers, CFG).iter_rows(named=True)}
    assert out["clean"]["p_prior"] == 0.001 and "PRIOR_FLOOR" in out["clean"]["reasons"]
    assert out["new1"]["p_team"] == pytest.approx(40 / 30_000)       # the centre's pooled rate
    nobody = reader_sample_sizes(readers_frame([("甲", "a", 1700, 0, 0, False)]), CFG).row(0, named=True)
    assert nobody["p_prior"] == pytest.approx(0.005)                  # p_fallback


def test_a_drifting_reader_gets_a_tighter_interval_and_a_larger_sample() -> None:
    readers = readers_frame([("甲", "steady", 1700, 20_400, 61, False), ("乙", "drifts", 1700, 20_400, 61, True)])
    out = {r["reader"]: r for r in reader_sample_sizes(readers, CFG).iter_rows(named=True)}
    d, s = out["drifts"], out["steady"]
    assert d["half_width_used"] == pytest.approx(0.01 / 1.5) and s["half_width_used"] == 0.01
    assert d["n_required"] == sample_size(61 / 20_400, 0.01 / 1.5, 0.95, 1700)
    assert d["n"] > 2 * s["n"] and d["reasons"] == ["DRIFT"]
    assert d["half_width_achieved"] < s["half_width_achieved"]


def test_n_never_exceeds_the_reads_nor_the_share_beyond_the_floor() -> None:
    rng = np.random.default_rng(5)
    k = 500
    reads = rng.integers(0, 3000, k)
    reads[:20] = np.arange(20)                           # the small ones, 0 included
    reads_12m = rng.integers(0, 30_000, k)
    readers = pl.DataFrame({
        "team": rng.choice(["甲", "乙", "丙"], k), "reader": [f"r{i}" for i in range(k)], "reads": reads,
        "reads_12m": reads_12m, "errors_12m": rng.binomial(reads_12m, rng.uniform(0, 0.05, k)),
        "drifting": rng.random(k) < 0.2})
    out = reader_sample_sizes(readers, CFG)
    n, big_n = out["n"].to_numpy(), out["reads"].to_numpy()
    assert (n >= 0).all() and (n <= big_n).all()
    assert (n <= np.maximum(np.floor(0.15 * big_n + 1e-9), np.minimum(20, big_n))).all()
    assert (n >= np.minimum(20, big_n)).all()
    assert (out.filter(pl.col("reads") == 0)["n"] == 0).all()


def test_reader_sizes_refuse_impossible_counts() -> None:
    with pytest.raises(ValueError, match="errors_12m > reads_12m"):
        reader_sample_sizes(readers_frame([("甲", "a", 100, 10, 11, False)]), CFG)
    with pytest.raises(ValueError, match="missing columns"):
        reader_sample_sizes(pl.DataFrame({"team": ["甲"], "reader": ["a"]}), CFG)


# --- draw_recheck ------------------------------------------------------------------------------------------

def test_inclusion_probabilities_sum_to_n_and_match_a_simulated_draw() -> None:
    w = np.array([1.0] * 30 + [3.0] * 6 + [6.0] * 4)
    pi = inclusion_probabilities(w, 12)
    assert pi.sum() == pytest.approx(12)
    assert (np.diff(pi[np.argsort(w)]) >= -1e-12).all()      # a heavier read is never less likely
    rng = np.random.default_rng(3)
    reps = 20_000
    keys = np.log(rng.random((reps, len(w)))) / w            # the draw's keys, simulated
    top = np.argpartition(-keys, 11, axis=1)[:, :12]
    freq = np.bincount(top.ravel(), minlength=len(w)) / reps
    for c in (1.0, 3.0, 6.0):
        assert freq[w == c].mean() == pytest.approx(pi[w == c][0], abs=0.01)
    assert inclusion_probabilities(np.ones(50), 10) == pytest.approx(np.full(50, 0.2))
    assert inclusion_probabilities(w, 0).sum() == 0 and (inclusion_probabilities(w, 40) == 1).all()


def test_flagged_reads_are_over_represented_as_their_weights_say() -> None:
    readings = readings_frame({("甲", "张三"): (17_000, 2_000, 1_000)})
    drawn = draw_recheck(readings, sizes_for(readings, {"张三": 600}), "2026-12", CFG)
    assert drawn.height == 600 and drawn["draw_rank"].to_list() == list(range(1, 601))
    counts = {sev: drawn.filter(pl.col("flag_severity").eq_missing(sev)).height for sev in (None, "warn", "fail")}
    # the approximation's expected counts (Σ π per class), ±4 binomial standard deviations
    w = np.array([1.0] * 17_000 + [3.0] * 2_000 + [6.0] * 1_000)
    pi = inclusion_probabilities(w, 600)
    for sev, m in ((None, w == 1), ("warn", w == 3), ("fail", w == 6)):
        expected = pi[m].sum()
        assert abs(counts[sev] - expected) <= 4 * math.sqrt(expected * (1 - expected / 600)), (sev, counts)
    share_fail, share_plain = counts["fail"] / 1_000, counts[None] / 17_000
    assert 4.5 < share_fail / share_plain < 7.5                       # six times as likely, give or take
    assert counts["fail"] / 600 > 3 * 1_000 / 20_000                  # far above the 5 % of the population
    got = drawn.filter(pl.col("flag_severity") == "fail")["inclusion_probability"]
    assert got.to_numpy() == pytest.approx(pi[w == 6][0])


def test_the_draw_does_not_depend_on_row_order() -> None:
    readings = readings_frame({("甲", "张三"): (400, 30, 10), ("甲", "李四"): (300, 0, 5), ("乙", "王五"): (50, 5, 0)})
    sizes = sizes_for(readings, {"张三": 40, "李四": 25, "王五": 20})
    first = draw_recheck(readings, sizes, "2026-12", CFG)
    shuffled = readings.sample(fraction=1.0, shuffle=True, seed=99)
    assert shuffled["customer_no"].to_list() != readings["customer_no"].to_list()
    again = draw_recheck(shuffled, sizes.reverse(), "2026-12", CFG)
    assert again.equals(first)
    assert first.group_by("reader").len().sort("reader").rows() == [("张三", 40), ("李四", 25), ("王五", 20)]


def test_another_seed_or_month_draws_another_list() -> None:
    readings = readings_frame({("甲", "张三"): (400, 30, 10)})
    sizes = sizes_for(readings, {"张三": 40})
    base = set(draw_recheck(readings, sizes, "2026-12", CFG)["customer_no"])
    other_seed = set(draw_recheck(readings, sizes, "2026-12", {**CFG, "seed": 20261202})["customer_no"])
    other_month = set(draw_recheck(readings, sizes, "2027-01", CFG)["customer_no"])
    assert other_seed != base and other_month != base
    assert len(base & other_seed) < 30                               # not the same list with a few swaps
    assert set(draw_recheck(readings, sizes, "2026-12", copy.deepcopy(CFG))["customer_no"]) == base


def test_the_readers_key_is_a_stable_sha256() -> None:
    """Pinned: a change here changes every list ever drawn (and makes old lists unreproducible)."""
    digest = reader_digest(20261201, "2026-12", "甲", "张三")
    assert digest.hex()[:16] == _sha_prefix("20261201\x1f2026-12\x1f甲\x1f张三") == "d9a6feb10c6be174"
    u = uniforms(digest, ["C1\x1fM1\x1fd\x1f1", "C2\x1fM2\x1fd\x1f2"])
    assert ((u > 0) & (u < 1)).all() and u[0] != u[1]
    assert u[0] == pytest.approx(0.7985831222468587, abs=1e-15)
    assert uniforms(digest, ["C1\x1fM1\x1fd\x1f1"])[0] == u[0]


def _sha_prefix(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def test_one_readers_new_reading_leaves_the_other_readers_list_alone() -> None:
    readings = readings_frame({("甲", "张三"): (400, 30, 10), ("甲", "李四"): (300, 0, 5)})
    sizes = sizes_for(readings, {"张三": 40, "李四": 25})
    before = draw_recheck(readings, sizes, "2026-12", CFG)
    extra = readings_frame({("甲", "张三"): (1, 0, 0)}).with_columns(customer_no=pl.lit("late-1"),
                                                                    source_row=pl.lit(9_999, pl.Int64))
    after = draw_recheck(pl.concat([readings, extra]), sizes, "2026-12", CFG)
    li = pl.col("reader") == "李四"
    assert after.filter(li).equals(before.filter(li))
    assert len(set(after.filter(~li)["customer_no"]) ^ set(before.filter(~li)["customer_no"])) <= 2


def test_readers_without_reads_or_with_fewer_candidates_than_n() -> None:
    readings = readings_frame({("甲", "张三"): (10, 2, 0), ("甲", "李四"): (30, 0, 0)})
    sizes = pl.concat([sizes_for(readings, {"张三": 20, "李四": 0}),
                       pl.DataFrame({"team": ["乙"], "reader": ["away"], "n": [0]})])   # 0 reads: no candidates
    drawn = draw_recheck(readings, sizes, "2026-12", CFG)
    assert set(drawn["reader"]) == {"张三"}
    assert drawn.height == 12 and (drawn["n_drawn"] == 12).all() and (drawn["n_planned"] == 20).all()
    assert (drawn["inclusion_probability"] == 1.0).all()
    with pytest.raises(ValueError, match="without a size"):
        draw_recheck(readings, sizes.filter(pl.col("reader") != "李四"), "2026-12", CFG)
    none = draw_recheck(readings.head(0), sizes, "2026-12", CFG)
    assert none.is_empty() and "inclusion_probability" in none.columns


def test_an_unknown_severity_is_an_error_not_weight_one() -> None:
    readings = readings_frame({("甲", "张三"): (10, 0, 0)}).with_columns(flag_severity=pl.lit("critical"))
    with pytest.raises(ValueError, match="critical"):
        draw_recheck(readings, sizes_for(readings, {"张三": 5}), "2026-12", CFG)


# --- estimate_error_rate --------------------------------------------------------------------------------------

def test_horvitz_thompson_undoes_the_weighting_that_the_plain_mean_does_not() -> None:
    """Errors sit mostly in the flagged reads, which the draw favours: the plain share of errors in the
    sample overstates the reader's rate, the inclusion-weighted estimates do not (on average)."""
    plain, fail = 1_800, 200
    readings = readings_frame({("甲", "张三"): (plain, 0, fail)})
    failed, row = pl.col("flag_severity").eq_missing("fail"), pl.col("source_row")
    truth = readings.with_columns(error=failed & (row % 10 == 0) | ~failed & (row % 200 == 0))
    true_rate = truth["error"].mean()                                 # (20 + 9) / 2000 = 1.45 %
    assert true_rate == pytest.approx(29 / 2000)
    sizes = sizes_for(readings, {"张三": 200})
    est, naive = [], []
    for seed in range(150):
        drawn = draw_recheck(readings, sizes, "2026-12", {**CFG, "seed": seed})
        res = drawn.join(truth.select("customer_no", "error"), on="customer_no")
        row = estimate_error_rate(res, CFG).row(0, named=True)
        est.append((row["p_ht"], row["p_hajek"]))
        naive.append(res["error"].mean())
    ht, hajek = np.mean(est, axis=0)
    assert np.mean(naive) > 2 * true_rate
    assert ht == pytest.approx(true_rate, rel=0.1) and hajek == pytest.approx(true_rate, rel=0.1)


def test_the_estimate_formulas_and_an_interval_above_zero_without_errors() -> None:
    res = pl.DataFrame({"team": ["甲"] * 4, "reader": ["张三"] * 4, "inclusion_probability": [0.5, 0.5, 0.1, 0.1],
                        "candidates": [40] * 4, "error": [True, False, False, False]})
    row = estimate_error_rate(res, CFG).row(0, named=True)
    assert row["p_ht"] == pytest.approx(2 / 40) and row["p_hajek"] == pytest.approx(2 / 24)
    assert row["n_eff"] == pytest.approx(24**2 / (4 + 4 + 100 + 100))
    assert row["lower"] < row["p_hajek"] < row["upper"]
    clean = estimate_error_rate(res.with_columns(error=pl.lit(False)), CFG).row(0, named=True)
    assert clean["p_ht"] == 0 and clean["lower"] == 0 and clean["upper"] > 0.05


# --- the shipped config -------------------------------------------------------------------------------------

def test_the_shipped_config_sizes_the_typical_reader_as_docs_recheck_says() -> None:
    cfg = recheck_config()
    assert cfg["version"] == "2026.12.1" and isinstance(cfg["seed"], int)
    size = cfg["size"]
    assert sample_size(0.003, size["half_width"], size["confidence"], 1700) == 108
    assert sample_size(0.003, size["half_width"] / size["drift_factor"], size["confidence"], 1700) == 225
    assert Z95 * standard_error(0.003, 108, 1700) == pytest.approx(0.00997, abs=5e-5)
    readers = readers_frame([("甲", "a", 1700, 20_400, 61, False), ("甲", "b", 1700, 20_400, 61, True)])
    out = reader_sample_sizes(readers, cfg)
    assert out["n"].to_list() == [108, 224]                        # p = 61/20,400 = 0.299 %
    weights = cfg["flagged_weight"]
    assert set(weights) >= {"warn", "fail"} and weights["fail"] >= weights["warn"] > 1
