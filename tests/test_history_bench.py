"""Smoke test of benchmarks/history_bench.py's pure parts: the synthetic warehouse at a tiny size, the
summary and its ratios, and the statement timer used to profile reading_context."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import duckdb
import pytest

from benchmarks.history_bench import (
    BEFORE_END,
    BEFORE_START,
    cumulative_season,
    generate,
    instrument,
    kept_before,
    periods,
    report,
    summarise,
)


@pytest.fixture(scope="module")
def tiny() -> Iterator[duckdb.DuckDBPyConnection]:
    conn = duckdb.connect(":memory:")
    generate(conn, 3000, 4)
    yield conn
    conn.close()


def test_periods_and_season() -> None:
    assert periods("2024-11", 4) == ["2024-11", "2024-12", "2025-01", "2025-02"]
    cum = cumulative_season(periods("2024-01", 12))
    assert cum[0] == 0 and len(cum) == 13
    assert all(b > a for a, b in itertools.pairwise(cum))


def test_generator_shapes_the_warehouse(tiny: duckdb.DuckDBPyConnection) -> None:
    per_month = dict(tiny.execute("select period, count(*) from core.readings group by all").fetchall())
    assert per_month == dict.fromkeys(periods("2024-01", 4), 3000)
    # every reading joins its delivery (6 teams a month), which the marts order by seq
    joined = tiny.execute("select count(*), count(distinct delivery_id) from core.readings r "
                          "join ops.deliveries d using (delivery_id) where d.kind = 'readings'").fetchall()[0]
    assert joined == (12000, 24)
    assert tiny.execute("select count(distinct seq) from ops.deliveries").fetchall()[0][0] == 28
    # classes 85/12/3 %, 50 segments per 10,000 meters, 6 teams
    shares = dict(tiny.execute("select customer_class, count(*) / 12000 from core.readings group by all").fetchall())
    assert abs(shares["LV_RES"] - 0.85) < 0.03 and abs(shares["LV_NONRES"] - 0.12) < 0.03
    assert abs(shares["HV"] - 0.03) < 0.015
    segs, teams = tiny.execute("select count(distinct segment_no), count(distinct team) from core.readings"
                               ).fetchall()[0]
    assert (segs, teams) == (15, 6)
    assert tiny.execute("select count(*) from core.assignments").fetchall()[0][0] == 15 * 4


def test_generator_registers_are_plausible(tiny: duckdb.DuckDBPyConnection) -> None:
    missed, bad_missed, decreases, bad_kwh, no_date = tiny.execute("""
        select count(*) filter (where read_status = 'MISSED'),
               count(*) filter (where read_status = 'MISSED' and (this_read <> last_read or kwh <> 0)),
               count(*) filter (where this_read < last_read),
               count(*) filter (where read_status <> 'MISSED' and this_read >= last_read
                                 and abs(kwh - (this_read - last_read) * multiplier) > 0.5),
               count(*) filter (where read_status <> 'MISSED' and read_date is null)
        from core.readings""").fetchall()[0]
    assert 0.01 < missed / 12000 < 0.03
    assert bad_missed == 0 and bad_kwh == 0 and no_date == 0
    assert decreases < 12000 * 0.01           # roll-overs only
    # the register continues: this month's 上次 is last month's 本次 for a meter read both months
    broken = tiny.execute("""
        select count(*) from core.readings a join core.readings b
          on b.mp_no = a.mp_no and b.period = '2024-03' and a.period = '2024-02'
        where a.read_status = 'READ' and b.meter_no = a.meter_no and b.last_read <> a.this_read""").fetchall()[0][0]
    keyed = tiny.execute("select count(*) from core.readings where period = '2024-02'").fetchall()[0][0]
    assert broken <= keyed * 0.005            # the ×10 keying errors (corrected the next month)


def test_summarise_takes_medians_and_ratios() -> None:
    def month(a: float, b: float) -> dict[str, dict[str, float]]:
        return {"x": {"seconds": a, "check_seconds": 0.1, "peak_rss_mb": 100.0, "rows_out": 1.0},
                "y": {"seconds": b, "check_seconds": 0.1, "peak_rss_mb": 200.0, "rows_out": 1.0}}

    runs = {"m3": [month(1.0, 2.0), month(1.2, 2.0), month(9.0, 2.0)],
            "m27": [month(1.5, 2.0), month(1.8, 4.0), month(1.5, 2.0)]}
    out = {s["mart"]: s for s in summarise(runs, "m3", "m27", {"m3": 1000, "m27": 1000})}
    assert out["x"]["base_s"] == 1.2 and out["x"]["last_s"] == 1.5
    assert math.isclose(out["x"]["ratio"], 1.25)
    assert out["y"]["ratio"] == 1.0
    assert out["total"]["base_s"] == 3.2 and out["total"]["last_s"] == 3.5   # median of the run totals
    assert math.isclose(out["total"]["last_rows_s"], 1000 / 3.5)
    assert out["total"]["base_rss_mb"] == 200.0


def _sample(n: int) -> int:
    """A function to time (docstring skipped)."""
    total = 0
    for k in range(n):
        total += k
    if n < 0:
        return -1
    return total * 2


def test_instrument_times_each_statement() -> None:
    fn, times, text = instrument(_sample)
    assert fn(10) == 90 and fn(-1) == -1
    starts = sorted(s for s, _ in times)
    assert len(starts) == 4                   # total =, for, if, return
    assert any(t.startswith("for k in range") for t in text.values())


def test_the_earlier_results_are_kept_when_the_section_is_rewritten() -> None:
    earlier = "### Before\n\n| mart | month 3 s |\n|---|---|\n| total | 72.36 |\n"
    doc = (f"# Benchmarks\n\n<!-- history:start -->\nold text\n{BEFORE_START}\n{earlier}{BEFORE_END}\n"
           "<!-- history:end -->\n")
    assert kept_before(doc).strip() == earlier.strip()
    assert kept_before("# Benchmarks\n") == ""
    section = report([], {}, 3, kept_before(doc))
    assert section.startswith("## A month with 24 months of history")
    assert kept_before(section).strip() == earlier.strip()          # written again, unchanged, once
    assert section.count(BEFORE_START) == 1 and section.rstrip().endswith(BEFORE_END)
    assert BEFORE_START not in report([], {}, 3)
