"""The director's monthly report (pipelines/reports/monthly.py, the asset reports/monthly, `readq report`):
every figure it states is the marts' figure, the HTML opens offline, the workbook carries the seed's sheets
with reader names masked, and an empty month says so instead of showing zeros."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from checks.kpis import kpi
from pipelines.reports.monthly import file_names, fmt_value, gather, narrative, render_html, write_report
from pipelines.reports.sheets import item_label
from readq.config import Home, load_toml
from tests.test_assessment import cfg as cfg  # the fixture, for this module's tests
from tests.test_cli_assessment import published as published  # the fixture: scores, rotation and recheck
from warehouse.connection import connect
from warehouse.marts import marts, replace_month
from warehouse.publish import publish

PERIOD = "2024-03"


@pytest.fixture
def built(published: Home, tmp_path: Path) -> Home:
    """The hand-built centre with every mart of its months built, as `readq build` leaves it, published."""
    with connect(tmp_path / "warehouse.duckdb") as conn:
        periods = [r[0] for r in conn.execute("select distinct period from core.readings order by 1").fetchall()]
        conn.execute("begin")
        for period in periods:
            for m in marts():
                replace_month(conn, m.name, period)
        conn.execute("commit")
        publish(conn, published.published)
    return published


@pytest.fixture
def snapshot(built: Home) -> Iterator[duckdb.DuckDBPyConnection]:
    with connect(built.published, read_only=True) as conn:
        yield conn


def test_the_report_states_the_marts_figures(snapshot: duckdb.DuckDBPyConnection) -> None:
    fig = gather(snapshot, PERIOD)
    centre = snapshot.sql("select * from marts.kpi_centre_month where period = ?", params=[PERIOD]).pl().row(
        0, named=True)
    text = " ".join(narrative(fig, "zh"))
    # the centre's 实抄率 as the mart holds it, with its target
    assert f"实抄率为 {centre['actual_read_rate']:.2%}" in text
    if centre["actual_read_rate_target"] is not None:
        assert f"{centre['actual_read_rate_target']:.2%}" in text
    # the lowest team score and its team
    worst = snapshot.sql("select team, score from marts.assessment_team_month where period = ? and score is not null "
                         "order by score, team limit 1", params=[PERIOD]).fetchall()[0]
    assert f"考核得分最低的是{worst[0]}（{worst[1]:.2f} 分" in text
    # per KPI, the teams off target and the one furthest from it
    teams = snapshot.execute("select count(*) from marts.kpi_team_month where period = ?", [PERIOD]).fetchall()[0][0]
    named = 0
    for k in (kpi(i) for i in load_toml("report.toml")["kpis"]):
        off = snapshot.execute(f"select team, {k.id}, count(*) over () from marts.kpi_team_month "
                               f"where period = ? and not {k.column('met')} "
                               f"order by abs({k.id} - {k.column('target')}) desc, team limit 1", [PERIOD]).fetchall()
        if off:
            named += 1
            worst_team = f"{off[0][0]}（{fmt_value(k, off[0][1])}）"
            assert f"{k.name('zh')} {off[0][2]} 个队（共 {teams} 个），差距最大的是{worst_team}" in text
    assert named                                         # the hand-built centre has teams off target
    # the lowest team's largest deduction, from its ledger
    item, rows, points = snapshot.execute(
        "select item, count(*), sum(points) from marts.assessment_ledger where period = ? and team = ? "
        "and points < 0 group by item order by sum(points), item limit 1", [PERIOD, worst[0]]).fetchall()[0]
    assert f"其考核记录中扣分最多的是{item_label(item)}（{rows:,} 条，合计 {points:.2f} 分）" in text
    # the recheck list's size and the month's files, rows and quarantined rows
    drawn = snapshot.execute("select count(*), count(distinct reader) from marts.recheck_sample where period = ?",
                             [PERIOD]).fetchall()[0]
    assert drawn[0] > 0 and f"次月复核抽取 {drawn[0]:,} 条抄表记录，涉及 {drawn[1]} 名抄表员" in text
    files, rows, quarantined = snapshot.execute(
        "select count(*), sum(rows_loaded), sum(rows_quarantined) from ops.deliveries "
        "where period = ? and status <> 'rejected'", [PERIOD]).fetchall()[0]
    assert f"本月交付文件 {files:,} 个，入库 {rows:,} 行，隔离 {quarantined:,} 行" in text
    # flags per rule, this month against last
    flags = snapshot.execute("select count(*) from marts.reading_flags where period = ?", [PERIOD]).fetchall()[0][0]
    assert (f"共标记 {flags:,} 条" in text) if flags else ("没有校核规则标记" in text)
    english = " ".join(narrative(fig, "en"))
    assert f"Actual-read rate was {centre['actual_read_rate']:.2%}" in english


def test_the_html_opens_offline_and_escapes_what_it_shows(snapshot: duckdb.DuckDBPyConnection) -> None:
    fig = gather(snapshot, PERIOD)
    fig.scores = fig.scores.with_columns(pl.lit("<script>alert(1)</script>").alias("team"))
    page = render_html(fig, "zh")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # plotly.js inline, nothing fetched from the network
    assert not re.search(r"<script[^>]+src=", page) and "Plotly.newPlot" in page
    assert "抄表质量月报（2024-03）" in page and 'lang="zh-CN"' in page


def test_the_files_are_written_with_the_seed_sheets_and_masked_readers(built: Home) -> None:
    with connect(built.published, read_only=True) as conn:
        written = write_report(conn, PERIOD, built.reports)
        readers = {r[0] for r in conn.execute("select distinct reader from marts.recheck_sample where period = ?",
                                              [PERIOD]).fetchall()}
    html_name, xlsx_name = file_names(PERIOD, "zh")
    assert written.html == built.reports / PERIOD / html_name and written.html.exists()
    assert written.xlsx == built.reports / PERIOD / xlsx_name
    assert not list((built.reports / PERIOD).glob("*.tmp"))
    sheets = pl.read_excel(written.xlsx, sheet_id=0)
    assert {"差错统计表", "指标", "班组排名", "考核汇总", "考核记录", "数据覆盖"} <= set(sheets)
    summary = pl.read_excel(written.xlsx, sheet_name="考核汇总", read_options={"header_row": 1})
    shown = set(summary["抄表员"].drop_nulls().to_list())
    assert shown and not (shown & readers - {"(未指定)"})        # every reader name masked
    coverage = pl.read_excel(written.xlsx, sheet_name="数据覆盖", read_options={"header_row": 1})
    assert "readings" in coverage["数据类型"].to_list()


def test_a_month_without_data_says_so(snapshot: duckdb.DuckDBPyConnection) -> None:
    fig = gather(snapshot, "2019-01")
    assert fig.empty
    assert narrative(fig, "zh") == ["2019-01 没有数据：先导入该月的导出文件（readq ingest）或运行 readq demo。"]
    assert "2019-01 has no data" in render_html(fig, "en")


def test_the_asset_writes_the_month_into_the_data_folder(built: Home, tmp_path: Path) -> None:
    import dagster as dg

    from pipelines.defs.reports.assets import monthly_report
    from pipelines.defs.resources import ReadqHome, WarehouseResource
    from warehouse.connection import connection_config

    resources = {"duckdb": WarehouseResource(database=str(tmp_path / "warehouse.duckdb"),
                                             connection_config=connection_config()),
                 "readq_home": ReadqHome(root=str(built.root))}
    result = dg.materialize([monthly_report], partition_key=f"{PERIOD}-01", resources=resources)
    assert result.success
    html_name, xlsx_name = file_names(PERIOD, "zh")      # config/report.toml lang = "zh"
    folder = built.reports / PERIOD
    assert (folder / html_name).exists() and (folder / xlsx_name).exists()
    meta = result.asset_materializations_for_node("reports__monthly")[0].metadata
    assert meta["html"].value == str(folder / html_name)
    with connect(built.published, read_only=True) as conn:
        first = narrative(gather(conn, PERIOD), "zh")[0]
    assert first in meta["narrative"].value          # the pipeline's warehouse and the snapshot agree


def test_readq_report_writes_english_on_request_and_refuses_a_month_without_data(built: Home, tmp_path: Path,
                                                                                 capsys: pytest.CaptureFixture) -> None:
    from readq.cli import main

    out = tmp_path / "out"
    assert main(["report", "--period", "2024-3", "--lang", "en", "--out", str(out)]) == 0
    html_name, xlsx_name = file_names(PERIOD, "en")
    assert (out / PERIOD / html_name).exists() and (out / PERIOD / xlsx_name).exists()
    said = capsys.readouterr().out
    assert "Actual-read rate was" in said and html_name in said.replace("\n", "")
    assert main(["report", "--period", "2019-01"]) == 64
    assert "no data for 2019-01" in capsys.readouterr().err
    assert not (built.reports / "2019-01").exists()
