"""A real-shaped month end to end: one `.xls` per 抄表段, no team or date column, the month given with
--period (historic, this month, next month); reader and team from the assignments; and a load whose
marts failed after it committed is finished by the next run."""

from __future__ import annotations

import duckdb
import pytest

from checks.periods import current_month, shift_month
from readq.build import build
from readq.config import Home
from readq.ingest import ingest_files, refresh_months
from tests.sg186 import meters, segment_no, write_assignments, write_segment
from warehouse import marts

SIZES = {"070": 12, "283": 9, "322": 14, "478": 3}


def write_month(h: Home, period: str = "2019-10", *, with_assignments: bool = True) -> None:
    for code, n in SIZES.items():  # segment 478's export lacks the 抄表员 column
        write_segment(h.landing, code, meters(code, n), with_reader=code != "478")
    if with_assignments:
        write_assignments(h.landing, period, {"070": ("城东", "袁莉娟"), "283": ("城东", "袁莉娟"),
                                              "322": ("城西", "李四"), "478": ("城西", "李四")})


def kpis(h: Home, period: str) -> dict[str, tuple]:
    with duckdb.connect(str(h.published), read_only=True) as con:
        return {r[0]: r[1:] for r in con.execute(
            "select team, customers_due, customers_team_from_assignment from marts.kpi_team_month "
            "where period = ? order by team", [period]).fetchall()}


def test_a_month_of_per_segment_files_loads_whole_and_builds(data_home: Home) -> None:
    write_month(data_home)
    results = ingest_files(data_home, [data_home.landing], period="2019-10")
    assert [(r.file, r.status, r.rows_loaded) for r in results] == [
        ("070.xls", "loaded", 12), ("283.xls", "loaded", 9), ("322.xls", "loaded", 14), ("478.xls", "loaded", 3),
        ("抄表派工_2019-10.csv", "loaded", 4)]
    assert refresh_months(data_home) == {}
    with duckdb.connect(str(data_home.warehouse), read_only=True) as con:
        held = dict(con.execute("select segment_no, count(*) from core.readings where period = '2019-10' "
                                "group by 1").fetchall())
    assert held == {segment_no(code): n for code, n in SIZES.items()}
    # no team column in the exports: each segment's team comes from its assignment
    assert kpis(data_home, "2019-10") == {"城东": (21, 21), "城西": (17, 17)}


def test_without_assignments_the_rows_load_and_count_as_unattributed(data_home: Home) -> None:
    write_month(data_home, with_assignments=False)
    ingest_files(data_home, [data_home.landing], period="2019-10")
    assert refresh_months(data_home) == {}
    assert kpis(data_home, "2019-10") == {"(未指定)": (38, 0)}


@pytest.mark.parametrize("months_ahead", [0, 1], ids=["this month", "next month"])
def test_this_month_and_next_month_load_and_build(data_home: Home, months_ahead: int) -> None:
    period = shift_month(current_month(), months_ahead)
    write_month(data_home, period)
    results = ingest_files(data_home, [data_home.landing], period=period)
    assert {r.status for r in results} == {"loaded"} and {r.period for r in results} == {period}
    assert refresh_months(data_home) == {}
    assert kpis(data_home, period) == {"城东": (21, 21), "城西": (17, 17)}


def test_the_month_after_next_is_refused(data_home: Home) -> None:
    period = shift_month(current_month(), 2)
    write_segment(data_home.landing, "070", meters("070", 2))
    [res] = ingest_files(data_home, [data_home.landing], period=period)
    assert res.status == "rejected" and "outside the months this warehouse accepts" in res.message
    assert (data_home.landing / "070.xls").exists()  # a rejected file stays where the user put it


def test_a_load_whose_marts_failed_is_finished_by_the_next_run(data_home: Home, monkeypatch) -> None:
    write_month(data_home)
    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    ingest_files(data_home, [data_home.landing], period="2019-10")
    with monkeypatch.context() as m:
        m.setattr("pipelines.defs.marts.assets.replace_month", disk_full)
        failed = refresh_months(data_home)
    assert list(failed) == ["2019-10"] and "No space left on device" in failed["2019-10"]
    with duckdb.connect(str(data_home.warehouse), read_only=True) as con:
        assert marts.stale_months(con) == ["2019-10"]    # committed rows, marts not built: found ...
        assert con.execute("select distinct status from ops.deliveries").fetchall() == [("loaded",)]

    write_segment(data_home.root / "again", "070", meters("070", 12))  # the user tries again: a duplicate
    [again] = ingest_files(data_home, [data_home.root / "again" / "070.xls"], period="2019-10")
    assert again.status == "duplicate"
    assert refresh_months(data_home) == {}                         # ... and finished
    assert kpis(data_home, "2019-10") == {"城东": (21, 21), "城西": (17, 17)}
    with duckdb.connect(str(data_home.warehouse), read_only=True) as con:
        assert marts.stale_months(con) == [] and not marts.unpublished(con)


def test_build_repairs_a_stale_month_and_records_files_of_no_accepted_month(data_home: Home, monkeypatch) -> None:
    write_month(data_home)
    ingest_files(data_home, [data_home.landing], period="2019-10")   # committed; the marts never ran (killed)
    write_segment(data_home.landing, "703", meters("703", 2), name="抄表明细_1999-05.xls")
    write_segment(data_home.landing, "735", meters("735", 2))         # no month anywhere
    report = build(data_home)
    assert report.failed == {} and report.periods == ["2019-10"] and report.repaired == ["2019-10"]
    assert sorted((r.file, r.status) for r in report.unplaced) == [("735.xls", "rejected"),
                                                                  ("抄表明细_1999-05.xls", "rejected")]
    messages = {r.file: r.message for r in report.unplaced}
    assert "cannot tell the billing month" in messages["735.xls"]
    assert "the billing month 1999-05 (from the file name) is outside" in messages["抄表明细_1999-05.xls"]
    assert kpis(data_home, "2019-10") == {"城东": (21, 21), "城西": (17, 17)}
    with duckdb.connect(str(data_home.published), read_only=True) as con:   # the dashboards see the rejections
        assert con.execute("select count(*) from ops.deliveries where status = 'rejected'").fetchall() == [(2,)]


def test_readq_ingest_of_a_per_segment_month_exits_0_and_a_failed_build_says_what_comes_next(
        data_home: Home, monkeypatch, capsys) -> None:
    from readq.cli import main

    write_month(data_home)
    with monkeypatch.context() as m:
        m.setattr("pipelines.defs.marts.assets.replace_month",
                  lambda *a, **k: (_ for _ in ()).throw(OSError("No space left on device")))
        assert main(["ingest", str(data_home.landing), "--period", "2019-10"]) == 1
    said = capsys.readouterr()
    assert "the marts of 2019-10 could not be built: OSError: No space left on device" in said.err
    assert "the next `readq ingest` or `readq build` finishes the job" in said.err
    assert main(["build"]) == 0                      # finds the stale month and finishes it
    assert "repaired" in capsys.readouterr().out
    assert kpis(data_home, "2019-10") == {"城东": (21, 21), "城西": (17, 17)}
