"""Control limits that know volume (checks/spc.py): the p-chart, funnel and CUSUM numbers a director's
"is this team really worse?" rests on."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from checks.spc import (
    centre_rate,
    cusum,
    cusum_rows,
    funnel_bands,
    funnel_limit,
    funnel_rows,
    funnel_signal,
    p_chart_limits,
    p_chart_rows,
)


def test_p_chart_limits_are_three_sigma_of_the_units_own_volume() -> None:
    lower, upper = p_chart_limits(0.01, np.array([100.0, 10_000.0]), 3.0)
    assert upper[0] == pytest.approx(0.01 + 3 * np.sqrt(0.01 * 0.99 / 100))
    assert upper[1] == pytest.approx(0.01 + 3 * np.sqrt(0.01 * 0.99 / 10_000))
    assert lower[0] == 0.0                         # clipped: a rate cannot be negative
    assert lower[1] == pytest.approx(0.01 - 3 * np.sqrt(0.01 * 0.99 / 10_000))


def test_same_rate_is_noise_for_a_small_team_and_a_signal_for_a_big_one() -> None:
    rates = pl.DataFrame({
        "period": ["2024-05"] * 4, "level": ["team"] * 4, "team": ["小队", "大队", "甲", "乙"],
        "reader": [None] * 4, "metric": ["error_rate"] * 4,
        "numerator": [2.0, 200.0, 100.0, 100.0], "denominator": [100.0, 10_000.0, 20_000.0, 20_000.0],
    })
    rows = {r["team"]: r for r in p_chart_rows(rates, 3.0).iter_rows(named=True)}
    assert rows["大队"]["centre_rate"] == pytest.approx(402 / 50_100)
    assert rows["小队"]["rate"] == rows["大队"]["rate"] == pytest.approx(0.02)
    assert rows["小队"]["signal"] == "in_control"
    assert rows["大队"]["signal"] == "above"
    assert rows["甲"]["signal"] == "below"


def test_funnel_limits_hold_their_coverage_under_the_binomial() -> None:
    p, n = 0.004, np.array([50.0, 500.0, 5_000.0, 50_000.0])
    up = funnel_limit(p, n, 0.999)
    lo = funnel_limit(p, n, 0.001)
    # the limit sits within the last count step below the exact quantile r (P(X > r) ≤ the tail)
    for i, ni in enumerate(n):
        r = stats.binom.ppf(0.999, ni, p)
        assert stats.binom.sf(r, ni, p) <= 0.001
        assert r - 1 <= up[i] * ni <= r
    # the funnel narrows with volume and approaches the normal approximation for large n
    assert np.all(np.diff(up) < 0) and np.all(np.diff(lo[1:]) >= 0)
    normal = p + stats.norm.ppf(0.999) * np.sqrt(p * (1 - p) / n[-1])
    assert up[-1] == pytest.approx(normal, rel=0.03)


def test_funnel_signal_names_the_widest_limit_crossed() -> None:
    n = np.array([10_000.0, 10_000.0, 10_000.0, 10_000.0, 0.0])
    bands = funnel_bands(0.01, n, (0.95, 0.998))
    inner_hi, outer_hi = bands.upper[0.95][0], bands.upper[0.998][0]
    rate = np.array([0.01, (0.01 + inner_hi) / 2 + (inner_hi - 0.01) / 2 + 1e-4, outer_hi + 1e-3, 0.0, np.nan])
    assert rate[1] < outer_hi
    assert funnel_signal(rate, bands) == ["in_control", "above_950", "above_998", "below_998", "no_volume"]


def test_funnel_rows_judge_teams_and_readers_against_their_own_level() -> None:
    rates = pl.DataFrame({
        "period": ["2024-05"] * 3, "level": ["team", "reader", "reader"], "team": ["甲", "甲", "甲"],
        "reader": [None, "张三", "李四"], "metric": ["flag_rate"] * 3,
        "numerator": [30.0, 29.0, 1.0], "denominator": [1_000.0, 500.0, 500.0],
    })
    rows = funnel_rows(rates, [0.998, 0.95])          # order of the coverages does not matter
    team = rows.filter(pl.col("level") == "team").row(0, named=True)
    assert team["centre_rate"] == pytest.approx(0.03) and team["signal"] == "in_control"
    readers = {r["reader"]: r for r in rows.filter(pl.col("level") == "reader").iter_rows(named=True)}
    assert readers["张三"]["centre_rate"] == pytest.approx(0.03)
    assert readers["张三"]["signal"] == "above_998" and readers["李四"]["signal"] == "below_998"
    assert team["inner_coverage"] == 0.95 and team["outer_coverage"] == 0.998


def test_funnel_refuses_a_config_with_other_than_two_coverages() -> None:
    rates = pl.DataFrame({"period": ["2024-05"], "level": ["team"], "team": ["甲"], "reader": [None],
                          "metric": ["flag_rate"], "numerator": [1.0], "denominator": [10.0]})
    with pytest.raises(ValueError, match="two shares"):
        funnel_rows(rates, [0.95])


def test_cusum_finds_a_step_rise_and_its_start_month() -> None:
    rng = np.random.default_rng(7)
    n = np.full(24, 4_000.0)
    p = np.full(24, 0.005)
    x = rng.binomial(4_000, 0.005, 24).astype(float)
    x[15:] = rng.binomial(4_000, 0.010, 9)         # the rate doubles from month 15 on
    res = cusum(x, n, p, k=0.5, h=4.0)
    assert res.signal == "rise"
    assert res.start is not None and abs(res.start - 15) <= 1
    assert res.months == 24


def test_cusum_reports_the_newer_change_when_both_sums_are_over_the_limit() -> None:
    """A long rise (S+ builds far above h) followed by a recent fall: both sums end over h, and the
    signal is the fall, with its own start month, not the older rise."""
    n = np.full(24, 10_000.0)
    p = np.full(24, 0.01)
    x = np.full(24, 100.0)
    x[2:18] = 140.0                                    # the rate rises by 40 % for 16 months (z ≈ 4)
    x[18:] = 85.0                                      # then falls 15 % below the reference (z ≈ −1.5)
    res = cusum(x, n, p, k=0.5, h=4.0)
    assert res.up > 4.0 and res.down > 4.0
    assert res.signal == "fall" and res.start == 18
    older = cusum(x[:18], n[:18], p[:18], k=0.5, h=4.0)
    assert older.signal == "rise" and older.start == 2


def test_cusum_stays_quiet_in_control_and_skips_months_without_volume() -> None:
    rng = np.random.default_rng(11)
    quiet = [cusum(rng.binomial(2_000, 0.01, 24).astype(float), np.full(24, 2_000.0), np.full(24, 0.01), 0.5, 4.0)
             for _ in range(200)]
    false_alarms = sum(r.signal != "none" for r in quiet)
    assert false_alarms <= 30                          # ARL ≈ 170 months each way: ~25 % of 24-month series at most
    gap = cusum([5.0, np.nan, 5.0], [1_000.0, 0.0, 1_000.0], [0.005, 0.005, 0.005], 0.5, 4.0)
    assert gap.months == 2


def test_cusum_rows_label_the_start_month_and_keep_the_readers_team() -> None:
    months = [f"2023-{m:02d}" for m in range(1, 13)] + [f"2024-{m:02d}" for m in range(1, 13)]
    rows = []
    for i, m in enumerate(months):
        bad = 60.0 if i >= 18 else 20.0            # 张三 triples from 2024-07
        rows += [(m, "reader", "甲", "张三", "error_rate", bad, 5_000.0),
                 (m, "reader", "甲" if i < 20 else "乙", "李四", "error_rate", 20.0, 5_000.0),
                 (m, "reader", "乙", "王五", "error_rate", 20.0, 5_000.0),
                 (m, "reader", "乙", "赵六", "error_rate", 40.0, 5_000.0)]      # always double: no change
        rows += [(m, "reader", "丙", f"稳定{j}", "error_rate", 20.0, 5_000.0) for j in range(12)]
    rates = pl.DataFrame(rows, schema=["period", "level", "team", "reader", "metric", "numerator", "denominator"],
                         orient="row")
    out = {r["reader"]: r for r in cusum_rows(rates, "2024-12", 0.5, 4.0, 3).iter_rows(named=True)}
    assert out["张三"]["signal"] == "rise"
    assert out["张三"]["start_month"] in {"2024-06", "2024-07", "2024-08"}
    assert out["张三"]["run_months"] == months.index("2024-12") - months.index(out["张三"]["start_month"]) + 1
    assert out["李四"]["team"] == "乙"                   # the team of the judged month
    assert out["王五"]["signal"] in {"none", "fall"}
    assert out["赵六"]["signal"] == "none"           # a standing gap is the funnel's signal, not a change point
    assert centre_rate([1, 2], [10, 10]) == pytest.approx(0.15)


def test_one_extreme_month_is_the_p_charts_signal_two_in_a_row_are_a_change() -> None:
    n, p = np.full(12, 1_000.0), np.full(12, 0.01)
    spike = np.full(12, 10.0)
    spike[5] = 300.0                                 # one month of a wrong read date on every reading
    assert cusum(spike, n, p, 0.5, 4.0, z_cap=3.0).signal == "none"
    assert cusum(spike, n, p, 0.5, 4.0).signal == "rise"      # uncapped, it would still signal 6 months on
    shift = np.full(12, 10.0)
    shift[9:] = 300.0
    res = cusum(shift, n, p, 0.5, 4.0, z_cap=3.0)
    assert res.signal == "rise" and res.start == 9
