"""checks.history's two ways in agree: the warehouse step (the month from marts.meter_readings, its history
from marts.point_history, in the warehouse's DuckDB) and the pure `reading_context(window, …)` (the same
SQL over the frame, in memory),
on a hand-built window with a meter change, two rows of a point in a month, months without a row, a
missed read, null read dates and 例日, and rows older than the window. The numbers a reviewer relies on
(which row a month keeps, the previous reading, the read period's days) are checked by hand."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pytest

from checks.history import CONTEXT_SCHEMA, adhoc_history, history_matrices, month_points, reading_context
from tests.rule_cases import Row, cfg, chain, noisy, reading, shift, window
from warehouse.marts import replace_month
from warehouse.steps.reading_context import prepare

END = "2026-03"


def _cases() -> list[Row]:
    rows: list[Row] = []
    # a new meter from END: its register restarts, the month is judged as a meter change
    swap = chain(noisy(300.0, 12), end=shift(END, -1), mp_key="SWAP", meter_no="OLD", read_day=12)
    rows += [*swap, reading(END, 0.0, 310.0, mp_key="SWAP", meter_no="NEW", read_date=date(2026, 3, 12))]
    # two rows in END (old meter's last read, new meter's first) and, two months back, two copies with the
    # same 本次 on different meter numbers: the month keeps the higher 本次, a tie the lower meter number
    twin = chain(noisy(200.0, 12), end=END, mp_key="TWIN", meter_no="B-2", read_day=5)
    tie = next(r for r in twin if r["period"] == shift(END, -2))
    rows += [
        *twin,
        {**tie, "meter_no": "A-1", "last_read": tie["last_read"] - 40.0, "source_row": 98},
        {**twin[-1], "this_read": twin[-1]["this_read"] - 150.0, "meter_no": "A-1", "source_row": 99},
    ]
    # months without a row (END-3 … END-1), a missed read, no read dates: the period runs 例日 to 例日 (the
    # 15th when none is known; a 例日 beyond the month's end is its last day)
    gap = chain([250.0, 260.0, None, 240.0, 255.0, 245.0, 250.0, 900.0], end=END, mp_key="GAP", plan_day=31)
    gap = [r for r in gap if r["period"] not in {shift(END, -3), shift(END, -2), shift(END, -1)}]
    gap[-1] = {**gap[-1], "plan_day": None}
    rows += gap
    # thirty months of history: only the last 24 count; and a point not read in END has no context
    rows += chain(noisy(400.0, 31), end=END, mp_key="LONG", read_day=20)
    rows += chain(noisy(100.0, 6), end=shift(END, -1), mp_key="GONE")
    return rows


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return window(_cases())


def _warehouse(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> None:
    con.register("cases", frame)
    con.execute("insert into marts.meter_readings by name select *, 'test' as config_version, "
                "now()::timestamp as computed_at from cases")
    con.unregister("cases")
    for period in frame["period"].unique().sort():
        replace_month(con, "point_history", period)


def test_the_warehouse_step_and_the_pure_function_give_the_same_context(
        con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> None:
    _warehouse(con, frame)
    stepped = prepare(con, {"period": END})["context_rows"]
    assert isinstance(stepped, pl.DataFrame)
    # the frame's order does not matter: shuffled, the pure path keeps the same rows
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=7)
    pure = reading_context(shuffled, END, cfg())
    assert pure.schema == stepped.schema == pl.Schema(CONTEXT_SCHEMA)
    assert pure["mp_key"].to_list() == stepped["mp_key"].to_list() == ["GAP", "LONG", "SWAP", "TWIN"]
    assert pure.equals(stepped, null_equal=True)


def _ctx(frame: pl.DataFrame, mp_key: str) -> dict[str, Any]:
    return reading_context(frame, END, cfg()).filter(pl.col("mp_key") == mp_key).row(0, named=True)


def test_a_month_with_two_rows_keeps_the_higher_reading_and_a_tie_the_lower_meter_number(
        frame: pl.DataFrame) -> None:
    twin = _ctx(frame, "TWIN")
    rows = frame.filter(pl.col("mp_key") == "TWIN", pl.col("period") == END).sort("this_read")
    kept = rows.row(1, named=True)
    assert twin["meter_no"] == kept["meter_no"] == "B-2"
    assert twin["use_kwh"] == pytest.approx(kept["this_read"] - kept["last_read"])
    # END-2 kept meter A-1 (the lower number of the tie), so END-1 (meter B-2) came after a meter change and is
    # no evidence; the previous reading of END is END-1's, on the same meter as END: no change now
    assert twin["prev_period"] == shift(END, -1) and twin["meter_changed"] is False
    assert twin["history_months"] == 9          # 11 read months before END, less END-2 and END-1


def test_a_meter_change_a_gap_and_the_days_from_plan_days(frame: pl.DataFrame) -> None:
    swap = _ctx(frame, "SWAP")
    assert swap["meter_changed"] is True and swap["use_kwh"] == pytest.approx(310.0)
    assert swap["period_days"] == (date(2026, 3, 12) - date(2026, 2, 12)).days
    gap = _ctx(frame, "GAP")
    # the previous reading is END-4's (END-3 … END-1 have no row); no read dates: the period runs from that
    # month's 例日 31 (clipped to November's 30th) to END's unknown 例日, the 15th
    assert gap["prev_period"] == shift(END, -4) == "2025-11"
    assert gap["cycle_months"] == 4
    assert gap["period_days"] == (date(2026, 3, 15) - date(2025, 11, 30)).days
    assert _ctx(frame, "LONG")["history_months"] == 24


def test_history_matrices_hold_one_row_per_point_and_month(con: duckdb.DuckDBPyConnection,
                                                           frame: pl.DataFrame) -> None:
    _warehouse(con, frame)
    points = month_points(con, "marts.meter_readings", END)
    assert points["mp_key"].to_list() == ["GAP", "LONG", "SWAP", "TWIN"]
    mats = history_matrices(con, "marts.point_history", points, END, 24)
    assert all(m.shape == (4, 25) for m in mats.values())
    # the same matrices straight from marts.meter_readings, encoded on the fly (the pure path's way)
    adhoc = history_matrices(con, adhoc_history("marts.meter_readings"), points, END, 24)
    for name, m in mats.items():
        np.testing.assert_array_equal(m, adhoc[name], err_msg=name)
    gap = 0
    # GAP: rows in END-7 … END-4 (END-5 missed), none in END-3 … END-1, a row in END
    assert mats["status"][gap, -8:].tolist() == [1, 1, 2, 1, 0, 0, 0, 1]
    assert np.isnan(mats["this_read"][gap, -4:-1]).all() and not mats["dated"][gap].any()
    # read day: 例日 31 clipped to the month (END-4 = November: the 30th), END's 例日 unknown: the 15th
    assert mats["read_day"][gap, -5] == (date(2025, 11, 30) - date(1970, 1, 1)).days
    assert mats["read_day"][gap, -1] == (date(2026, 3, 15) - date(1970, 1, 1)).days
    twin = 3
    meters = mats["meter"][twin]
    assert meters[-3] != meters[-2] == meters[-1] >= 0       # END-2 kept A-1, END-1 and END are B-2
    assert mats["this_read"][twin, -1] == frame.filter(pl.col("mp_key") == "TWIN", pl.col("period") == END
                                                       )["this_read"].max()


def test_point_history_keeps_one_row_per_point_and_month(con: duckdb.DuckDBPyConnection,
                                                          frame: pl.DataFrame) -> None:
    _warehouse(con, frame)
    rows = con.execute("select period, count(*), count(distinct mp_id) from marts.point_history "
                       "group by period order by period").fetchall()
    points = frame.group_by("period").agg(pl.col("mp_key").n_unique()).sort("period").rows()
    assert [(p, n, n) for p, n in points] == rows
    # TWIN's END: of its two rows the higher 本次 (meter B-2); the month index and status are numbers
    twin = frame.filter(pl.col("mp_key") == "TWIN", pl.col("period") == END)
    kept = con.execute("select h.this_read, h.month, h.status from marts.point_history h join marts.meter_readings m "
                       "on m.period = h.period and hash(m.mp_key) = h.mp_id where m.mp_key = 'TWIN' and h.period = ? "
                       "limit 1", [END]).fetchall()[0]
    assert kept == (twin["this_read"].max(), 2026 * 12 + 2, 1)
