"""`readq assess`, `readq recheck` and `readq rotation` on a snapshot published from hand-built months
(tests/test_assessment.py `centre`, plus an assignment list and the recheck and rotation marts): the
workbooks they write hold the marts' rows under the seed's column names, reader names masked unless
--unmasked, and a bad version, month or team is a usage error (exit 64) that says why."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from readq.cli import main
from readq.config import Home
from tests.test_assessment import centre
from tests.test_assessment import cfg as cfg  # the fixture, for this module's tests
from tests.test_kpi_marts import deliver
from warehouse.connection import connect
from warehouse.marts import replace_month
from warehouse.publish import publish

ASSIGNMENTS = ["period", "team", "segment_no", "plan_day", "reader", "partner", "held_since", "segment_read_mode",
               "customer_count"]


@pytest.fixture
def published(data_home: Home, cfg: Path, tmp_path: Path) -> Home:
    with connect(tmp_path / "warehouse.duckdb") as conn:
        centre((conn, tmp_path), cfg)
        # A队 has two pairs; 甲/乙's S1 has been theirs since 2022-04: 24 months in 2024-03, a violation
        deliver((conn, tmp_path), "assignments_2024-03.csv", ASSIGNMENTS, [
            ["2024-03", "A队", "S1", 5, "甲", "乙", "2022-04", "手工", 4],
            ["2024-03", "A队", "S2", 5, "乙", "甲", "2024-01", "手工", 3],
            ["2024-03", "A队", "S3", 5, "丙", "戊", "2023-09", "手工", 4],
            ["2024-03", "A队", "S5", 5, "丙", "戊", "2023-09", "手工", 3],
        ], period="2024-03")
        conn.execute("begin")
        for name in ("reading_context", "reading_flags", "reader_forensics", "recheck_readers", "recheck_sample",
                     "rotation_segments", "rotation_plan", "rotation_loads",
                     # the assignment list names 戊: the scores are rebuilt with the month's data, as a build does
                     "assessment_ledger", "assessment_reader_month", "assessment_team_month"):
            replace_month(conn, name, "2024-03")
        conn.execute("commit")
        publish(conn, data_home.published)
    return data_home


def sheet(path: Path, name: str | None = None) -> pl.DataFrame:
    frame = pl.read_excel(path, sheet_name=name, read_options={"header_row": 1}) if name else \
        pl.read_excel(path, read_options={"header_row": 1})
    return frame.filter(pl.col(frame.columns[0]).is_not_null() & pl.col(frame.columns[1]).is_not_null())


def test_assess_writes_the_record_and_the_ranking(published: Home, capsys) -> None:
    assert main(["assess", "--period", "2024-03"]) == 0
    out = capsys.readouterr().out
    assert "A队" in out and "57.00" in out
    folder = published.reports / "2024-03"
    summary = sheet(folder / "经济责任制考核记录_2024-03.xlsx", "考核汇总")
    # 戊, 丙's partner, read nothing this month: scored all the same, with no weight in the team's score
    assert dict(zip(summary["抄表员"], summary["得分"], strict=True)) == {
        "甲***": pytest.approx(90.5), "乙***": 0.0, "丙***": 94.0, "丁***": 0.0, "戊***": 100.0}
    assert dict(zip(summary["抄表员"], summary["应抄户数"], strict=True))["戊***"] == 0
    records = sheet(folder / "经济责任制考核记录_2024-03.xlsx", "考核记录")
    assert records.filter(pl.col("依据编号") == "Y2")["来源文件"].to_list() == ["field_anomalies_2024-03.csv"]
    assert sheet(folder / "班组排名_2024-03.xlsx")["抄表队"].to_list() == ["A队", "B队"]
    assert main(["assess", "--period", "2024-03", "--reader", "甲", "--unmasked"]) == 0
    one = sheet(folder / "经济责任制考核记录_2024-03_甲.xlsx", "考核记录")
    assert set(one["抄表员"].to_list()) == {"甲"}


def test_assess_compares_two_versions_and_refuses_an_unknown_one(published: Home, cfg: Path, tmp_path,
                                                                 capsys) -> None:
    alt = tmp_path / "alt.toml"
    alt.write_text((cfg / "assessment.toml").read_text(encoding="utf-8").replace("min_customers = 3",
                                                                                 "min_customers = 4"),
                   encoding="utf-8")
    assert main(["assess", "--period", "2024-03", "--compare", "current", str(alt)]) == 0
    assert "1 of 5 readers score differently" in capsys.readouterr().out
    compared = sheet(published.reports / "2024-03" / "考核版本对比_2024-03.xlsx", "抄表员")
    row = compared.filter(pl.col("抄表员") == "乙***").row(0, named=True)
    assert (row["变化"], row["名次（新）"]) == (94.0, 2)                       # after 戊 (100), tied with 丙
    assert main(["assess", "--period", "2024-03", "--compare", "current", "v-nope"]) == 64
    assert "neither 'current', a recorded config version" in capsys.readouterr().err
    assert main(["assess", "--period", "2023-01"]) == 64
    assert "months built: 2024-03 .. 2024-03" in capsys.readouterr().err


def test_recheck_list_per_team_and_rotation_plan(published: Home, capsys) -> None:
    assert main(["recheck", "--period", "2024-03"]) == 0
    book = published.reports / "2024-03" / "复核清单_2024-03.xlsx"
    a = sheet(book, "A队")
    # every reader of A队 with on-site reads gets a census (fewer reads than the floor)
    assert sorted(a["抄表员"].unique().to_list()) == ["丙***", "乙***", "甲***"]
    assert a.height == 8 and {"用户编号", "入样概率", "来源文件", "复核结果（填写）"} <= set(a.columns)
    assert main(["recheck", "--period", "2024-03", "--team", "Z队"]) == 64
    capsys.readouterr()
    assert main(["rotation", "--period", "2024-03"]) == 0
    assert "2 moves suggested" in capsys.readouterr().out
    plan = published.reports / "2024-03" / "轮换计划_2024-03.xlsx"
    moves = {r["抄表段编号"]: r for r in sheet(plan, "轮换建议").iter_rows(named=True)}
    # S1 (4 customers) goes to 丙/戊; one of theirs comes back so both pairs keep 7 customers
    assert moves.pop("S1")["新抄表员"] == "丙***"
    (back,) = moves.values()
    assert back["抄表段编号"] in ("S3", "S5") and back["新抄表员"] in ("甲***", "乙***")
    assert "均衡" in back["原因"] or "balance" in back["原因"].lower()
    assert sheet(plan, "到期与违规")["状态"].to_list() == ["violation"]


def test_rotation_without_an_assignment_list_says_what_to_deliver(published: Home, capsys) -> None:
    assert main(["rotation", "--period", "2024-02"]) == 64
    assert "rotation is planned from the assignment lists (抄表派工)" in capsys.readouterr().err
