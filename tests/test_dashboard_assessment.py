"""The Assessment and Workflows pages, driven through Streamlit's AppTest on a snapshot published from a
hand-built month (tests/test_assessment.py `centre`: the real ingest, marts and publish). The numbers the
pages show are checked against the marts: the ranking, a reader's ledger rows, the evidence down to the
delivered row, the XLSX downloads (names masked), the version comparison, and crafted URL values."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

import polars as pl
import pytest

from readq.config import home
from tests.conftest import open_page
from tests.test_assessment import centre
from tests.test_assessment import cfg as cfg  # the fixture, for this module's tests
from tests.test_cli_assessment import published as published  # the fixture: with rotation and recheck
from warehouse.connection import connect
from warehouse.publish import publish

ASSESSMENT, WORKFLOWS = "views/assessment.py", "views/workflows.py"


@pytest.fixture
def snapshot(streamlit_isolated, cfg: Path, tmp_path: Path) -> Path:
    with connect(tmp_path / "warehouse.duckdb") as conn:
        centre((conn, tmp_path), cfg)
        publish(conn, home().published)
    return home().published


@pytest.fixture
def offered(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Every file the page offers through st.download_button, by file name (a workbook written on click,
    `data` a callable, is written here as the click would)."""
    import streamlit as st

    files: dict[str, bytes] = {}
    original = st.download_button

    def spy(label, data, *args, **kwargs):
        files[kwargs.get("file_name", label)] = data() if callable(data) else data
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", spy)
    return files


def frame(at, column: str, nth: int = 0) -> pl.DataFrame:
    """The nth table the page shows that has `column`."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) > nth, [list(d.value.columns) for d in at.dataframe]
    return pl.from_pandas(found[nth])


def texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info])


def test_the_ranking_shows_the_marts_scores_and_offers_the_workbooks(snapshot, offered) -> None:
    at = open_page(ASSESSMENT)
    ranking = frame(at, "抄表员加权平均")
    assert ranking["抄表队"].to_list() == ["A队", "B队"]
    assert ranking["得分"].to_list() == [pytest.approx(57.0), 0.0]
    assert ranking["名次"].to_list() == [1, 2]
    records = pl.read_excel(BytesIO(offered["经济责任制考核记录_2024-03.xlsx"]), sheet_name="考核记录",
                            read_options={"header_row": 1})
    assert {"考核项目", "分值", "来源文件", "行号", "依据编号"} <= set(records.columns)
    assert set(records["抄表员"].drop_nulls().to_list()) == {"甲***", "乙***", "丙***", "丁***"}   # masked
    assert records.filter(pl.col("依据编号") == "F1")["分值"].to_list() == [-5.0]
    summary = pl.read_excel(BytesIO(offered["经济责任制考核记录_2024-03.xlsx"]), sheet_name="考核汇总",
                            read_options={"header_row": 1})
    assert dict(zip(summary["抄表员"], summary["得分"], strict=True))["甲***"] == pytest.approx(90.5)
    ranked = pl.read_excel(BytesIO(offered["班组排名_2024-03.xlsx"]), read_options={"header_row": 1})
    ranked = ranked.filter(pl.col("抄表队").is_not_null())                         # not the notes under it
    assert ranked["抄表队"].to_list() == ["A队", "B队"] and ranked["名次"].cast(pl.Int64).to_list() == [1, 2]


def test_a_reader_s_rows_open_their_evidence_and_the_delivered_row(snapshot) -> None:
    at = open_page(ASSESSMENT, focus="A队", reader="甲", entry="READING_ERROR:reader:A队:甲:C1")
    readers = frame(at, "队内名次")
    assert dict(zip(readers["抄表员"], readers["得分"], strict=True)) == {
        "甲": pytest.approx(90.5), "乙": 0.0, "丙": 94.0}
    ledger = frame(at, "考核项目")
    assert ledger["分值"].sum() == pytest.approx(-9.5)
    assert ledger.height == 6          # F1, F2 (C2 once), F4, F5, Y2 and the Y1 bonus
    shown = texts(at)
    assert "findings\\_2024-03.csv，工作表 —，第 2 行" in shown           # markdown-escaped file name
    raw = frame(at, "finding_no")
    assert raw["finding_no"].to_list() == ["F1"] and raw["customer_no"].to_list() == ["C1"]


def test_a_vetoed_reader_says_so_and_crafted_values_give_messages(snapshot) -> None:
    at = open_page(ASSESSMENT, focus="A队", reader="乙")
    assert any("一票否决" in w.value for w in at.warning)
    at = open_page(ASSESSMENT, focus="<b>x</b>", reader="'; drop table x", entry="../../etc/passwd")
    assert any("没有考核得分" in i.value for i in at.info)
    at = open_page(ASSESSMENT, focus="A队", reader="甲", entry="no-such-row")
    assert any("不在所选抄表员" in i.value for i in at.info)


def test_two_versions_side_by_side_on_the_page(snapshot, cfg: Path) -> None:
    from readq.config import config_version

    # the recorded version is the build's; 'current' is the file in force, edited after the build
    recorded = config_version()
    text = (cfg / "assessment.toml").read_text(encoding="utf-8")
    (cfg / "assessment.toml").write_text(text.replace("min_customers = 3", "min_customers = 4"), encoding="utf-8")
    at = open_page(ASSESSMENT, v_old=recorded, v_new="current")
    teams = frame(at, "变化")
    row = teams.filter(pl.col("抄表队") == "A队").row(0, named=True)
    assert row["变化"] == pytest.approx(94 * 3 / 8)               # 乙 no longer vetoed: 100 − 6 = 94
    assert any("4 名抄表员中有 1 名得分不同" in c.value for c in at.caption)


def test_the_page_in_english(snapshot) -> None:
    at = open_page(ASSESSMENT, lang="en", focus="A队")
    assert at.title[0].value == "Reader assessment (考核)"
    assert "Rank" in frame(at, "Readers' weighted mean").columns


def test_workflows_show_the_overdue_list_and_the_rounds(snapshot) -> None:
    at = open_page(WORKFLOWS)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["报告单"] == "2" and metrics["异常报告及时率"] == "50.0%" and metrics["超期"] == "1"
    overdue = frame(at, "报告单编号")
    assert overdue["报告单编号"].to_list() == ["Y2"] and overdue["行号"].to_list() == [3]
    rounds = frame(at, "上装超时（小时）")
    assert rounds["抄表段"].to_list() == ["S3"]
    assert rounds["上装超时（小时）"].to_list() == [pytest.approx(15.0)]
    figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    uploads = [f for f in figs if f["layout"]["title"]["text"].startswith("上装不及时的抄表段次")]
    assert uploads and uploads[0]["data"][0]["x"] == [pytest.approx(15.0)]
    at = open_page(WORKFLOWS, lang="en", team="B队")
    assert any("No field anomaly reports" in i.value for i in at.info)


def test_pages_without_the_tables_point_to_a_build(streamlit_isolated, tmp_path: Path) -> None:
    from warehouse.schema import ensure_schema

    target = home().published
    target.parent.mkdir(parents=True, exist_ok=True)
    with connect(target) as conn:
        ensure_schema(conn)
        conn.execute("drop table marts.assessment_ledger")
        conn.execute("drop table marts.workflow_reports")
    assert any("readq build" in i.value for i in open_page(ASSESSMENT).info)
    assert any("readq build" in i.value for i in open_page(WORKFLOWS).info)


def test_readers_and_segments_rotation_and_recheck_tabs(published, offered) -> None:
    import streamlit as st

    st.cache_data.clear()
    at = open_page("views/readers.py", segment="S1")
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["抄表段"], metrics["超期违规"]) == ("4", "1")
    due = frame(at, "距上限（月）")
    assert due["抄表段"].to_list() == ["S1"] and due["连续月数"].to_list() == [24]
    moves = frame(at, "新抄表员组")
    assert "S1" in moves["抄表段"].to_list()
    timeline = [c for c in at.get("plotly_chart") if "S1" in c.proto.spec]
    assert timeline                                         # the segment's holders over the months
    sizes = frame(at, "复核数量")
    assert sizes["复核数量"].sum() == frame(at, "抽取顺序").height == 9     # a census of 9 on-site reads
    assert {"轮换计划_2024-03.xlsx", "复核清单_2024-03.xlsx"} <= set(offered)
    at = open_page("views/readers.py", lang="en", reader="甲 · A队")
    assert any(m.label == "Assessment score" and m.value == "90.50" for m in at.metric)
    st.cache_data.clear()


def test_a_month_without_findings_or_reports_says_which_items_have_no_data(streamlit_isolated, cfg: Path,
                                                                           tmp_path: Path, capsys) -> None:
    from readq.cli import main
    from tests.test_assessment import READINGS, build, read
    from tests.test_kpi_marts import deliver

    with connect(tmp_path / "warehouse.duckdb") as conn:
        deliver((conn, tmp_path), "readings_2024-03.csv", READINGS, [read("2024-03", "A队", "S1", "甲", "C1")],
                period="2024-03")
        build(conn, "2024-03")
        publish(conn, home().published)
    at = open_page(ASSESSMENT)
    warnings = [w.value for w in at.warning]
    assert any("未交付复核差错记录" in w and "一票否决" in w for w in warnings)
    assert any("未交付异常报告单" in w for w in warnings)
    assert main(["assess", "--period", "2024-03"]) == 0
    assert "no review_findings delivered for 2024-03" in capsys.readouterr().out
    notes = pl.read_excel(home().reports / "2024-03" / "经济责任制考核记录_2024-03.xlsx", sheet_name="考核汇总",
                          has_header=False)
    assert any("本月未交付 review_findings" in str(v) for v in notes.to_series(0).to_list())
