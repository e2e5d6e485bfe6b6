"""A month materializes on a temporary warehouse, and its KPIs equal a hand computation."""

from __future__ import annotations

import re

import dagster as dg
import duckdb
import polars as pl
import pytest
import xlsxwriter

from pipelines.defs.ingest.assets import ingest_month
from pipelines.defs.marts.assets import MART_ASSETS
from pipelines.defs.publish.assets import published_warehouse
from pipelines.defs.resources import build_resources
from readq.config import Home

READING_HEADER = ["电费年月", "抄表班组", "抄表段编号", "抄表员", "用户编号", "用户名称", "电能表编号",
                  "上次示数", "本次示数", "抄见电量", "综合倍率", "抄表状态", "抄表方式", "抄表日期"]

# 城东: C1 read; C2 two meters, both read; C3 未抄; C4 估抄; C5 read remotely  -> 应抄 5, 实抄 3
EAST = [
    ["2024-03", "城东", "S1", "张三", "C1", "王一", "M1", "100", "150", "50", "1", "已抄", "抄表机", "2024-03-05"],
    ["2024-03", "城东", "S1", "张三", "C2", "王二", "M2a", "10", "20", "10", "1", "已抄", "抄表机", "2024-03-05"],
    ["2024-03", "城东", "S1", "张三", "C2", "王二", "M2b", "5", "6", "30", "30", "已抄", "抄表机", "2024-03-05"],
    ["2024-03", "城东", "S1", "张三", "C3", "王三", "M3", "70", "70", "0", "1", "未抄", "抄表机", "2024-03-05"],
    ["2024-03", "城东", "S1", "张三", "C4", "王四", "M4", "1,000", "1,100", "100", "1", "估抄", "抄表机", "2024/3/5"],
    ["2024-03", "城东", "S2", "李四", "C5", "王五", "M5", "８", "18", "10", "1", "已抄", "远程", "20240305"],
]
# 城西 (an XLSX with a title row): C6 read; C7 code 89 (未抄); C8's register is not a number -> quarantined
WEST = [
    ["2024-03", "城西", "S3", "赵六", "C6", "刘一", "M6", "1", "2", "1", "1", "已抄", "手工", "2024-03-06"],
    ["2024-03", "城西", "S3", "赵六", "C7", "刘二", "M7", "3", "3", "0", "1", "89", "手工", "2024-03-06"],
    ["2024-03", "城西", "S3", "赵六", "C8", "刘三", "M8", "abc", "9", "0", "1", "已抄", "手工", "2024-03-06"],
]
FINDINGS_HEADER = ["工单编号", "电费年月", "用户编号", "电能表编号", "差错类型", "差错电量", "责任人"]
FINDINGS = [["F1", "2024-03", "C2", "M2a", "错抄", "-90", "张三"]]


def write_month(landing, with_findings: bool = True) -> None:
    rows = [",".join(READING_HEADER)] + [",".join(f'"{v}"' if "," in v else v for v in r) for r in EAST]
    (landing / "抄表明细_2024-03_城东.csv").write_bytes(("\n".join(rows) + "\n").encode("gbk"))
    wb = xlsxwriter.Workbook(str(landing / "抄表明细_2024-03_城西.xlsx"))
    ws = wb.add_worksheet("抄表明细")
    ws.write(0, 0, "XX供电公司抄表明细")
    ws.write_row(1, 0, READING_HEADER)
    for i, r in enumerate(WEST):
        ws.write_row(2 + i, 0, r)
    wb.close()
    if with_findings:
        text = "\n".join(",".join(r) for r in [FINDINGS_HEADER, *FINDINGS]) + "\n"
        (landing / "复核差错记录_2024-03.csv").write_text("\ufeff" + text, encoding="utf-8")


def materialize_month(h: Home, partition: str = "2024-03-01") -> dg.ExecuteInProcessResult:
    return dg.materialize([ingest_month, *MART_ASSETS], partition_key=partition,
                          resources=build_resources(h), raise_on_error=False)


def kpis(h: Home) -> dict[str, dict]:
    with duckdb.connect(str(h.warehouse), read_only=True) as con:
        rows = con.sql("select * from marts.kpi_team_month where period = '2024-03'").pl().to_dicts()
    return {r["team"]: r for r in rows}


def test_month_kpis_equal_hand_computation(data_home: Home) -> None:
    write_month(data_home.landing)
    result = materialize_month(data_home)
    assert result.success
    k = kpis(data_home)
    east, west = k["城东"], k["城西"]
    assert (east["customers_due"], east["customers_read"], east["customers_missed"],
            east["customers_estimated"], east["customers_remote"]) == (5, 3, 1, 1, 1)
    assert east["actual_read_rate"] == pytest.approx(3 / 5)
    assert east["customers_with_error"] == 1
    assert east["error_rate"] == pytest.approx(1 / 3)
    assert east["meters_due"] == 6 and east["meters_with_error"] == 1
    assert east["kwh_due"] == pytest.approx(50 + 10 + 30 + 0 + 100 + 10)
    assert east["error_rate_kwh"] == pytest.approx(90 / 200)
    # 2 manual-read + 1 remote customers read: target weighted by the read mode
    assert east["error_rate_target"] == pytest.approx((2 * 0.001 + 1 * 0.0001) / 3)
    # C8 is quarantined: still due (应抄), its status unknown; 1 read (89 means not read)
    assert (west["customers_due"], west["customers_quarantined"], west["customers_read"],
            west["customers_missed"]) == (3, 1, 1, 1)
    assert west["actual_read_rate"] == pytest.approx(1 / 3)
    assert west["customers_with_error"] == 0


def test_every_row_is_loaded_or_quarantined(data_home: Home) -> None:
    write_month(data_home.landing)
    result = materialize_month(data_home)
    evaluations = {e.asset_key.path[-1]: e for e in result.get_asset_check_evaluations()}
    assert evaluations["readings"].passed and evaluations["review_findings"].passed
    per_delivery = evaluations["readings"].metadata["per_delivery"].value
    assert "| 抄表明细_2024-03_城西.xlsx | 抄表明细 | loaded | 3 | 2 | 2 (2) | 1 (1) | ✓ |" in per_delivery
    # the raw asset lists this run's files with where each one's time went
    raw = next(m for m in result.asset_materializations_for_node("ingest_month")
               if m.asset_key.path == ["raw", "readings"])
    files = raw.metadata["deliveries"].value
    assert "| seconds (read/check/write) |" in files
    timed = r"\| 抄表明细_2024-03_城西\.xlsx \| 抄表明细 \| loaded \| 3 \| 2 \| 1 \| [0-9.]+/[0-9.]+/[0-9.]+ \|"
    assert re.search(timed, files)
    with duckdb.connect(str(data_home.warehouse), read_only=True) as con:
        q = con.sql("select source_row, column_name, check_name, raw_value from quarantine.rows").pl()
        deliveries = con.sql("select file_name, rows_read, rows_loaded, rows_quarantined, rows_skipped "
                             "from ops.deliveries where kind = 'readings' order by file_name").pl()
        lineage = con.sql("select source_row from core.readings where customer_no = 'C5'").fetchall()
    # the XLSX title is row 1, the header row 2, so C8 sits on row 5 of the sheet
    assert q.to_dicts() == [{"source_row": 5, "column_name": "last_read", "check_name": "cast:float",
                             "raw_value": "abc"}]
    assert deliveries.to_dicts() == [
        {"file_name": "抄表明细_2024-03_城东.csv", "rows_read": 6, "rows_loaded": 6, "rows_quarantined": 0,
         "rows_skipped": 0},
        {"file_name": "抄表明细_2024-03_城西.xlsx", "rows_read": 3, "rows_loaded": 2, "rows_quarantined": 1,
         "rows_skipped": 1},
    ]
    assert lineage == [(7,)]  # C5 is on line 7 of the CSV (header on line 1)
    # processed files leave the landing folder for the archive
    assert not list(data_home.landing.iterdir())
    assert len(list((data_home.archive / "2024-03").iterdir())) == 3


def test_rematerializing_a_month_is_idempotent(data_home: Home) -> None:
    write_month(data_home.landing)
    assert materialize_month(data_home).success
    first = kpis(data_home)
    assert materialize_month(data_home).success
    second = kpis(data_home)
    strip = lambda d: {t: {k: v for k, v in r.items() if k != "computed_at"} for t, r in d.items()}  # noqa: E731
    assert strip(first) == strip(second)


def test_month_without_findings_reports_no_data_not_zero(data_home: Home) -> None:
    write_month(data_home.landing, with_findings=False)
    assert materialize_month(data_home).success
    east = kpis(data_home)["城东"]
    assert east["customers_with_error"] is None and east["error_rate"] is None
    assert east["actual_read_rate"] == pytest.approx(3 / 5)


def test_corrected_redelivery_supersedes_the_earlier_one(data_home: Home) -> None:
    write_month(data_home.landing)
    assert materialize_month(data_home).success
    # a corrected export for 城东: C3 was read after all
    fixed = [r[:] for r in EAST]
    fixed[3][8], fixed[3][9], fixed[3][11] = "75", "5", "已抄"
    rows = [",".join(READING_HEADER)] + [",".join(f'"{v}"' if "," in v else v for v in r) for r in fixed]
    (data_home.landing / "抄表明细_2024-03_城东_更正.csv").write_bytes(("\n".join(rows) + "\n").encode("gbk"))
    assert materialize_month(data_home).success
    assert kpis(data_home)["城东"]["customers_read"] == 4
    with duckdb.connect(str(data_home.warehouse), read_only=True) as con:
        statuses = dict(con.sql("select file_name, status from ops.deliveries where kind='readings'").fetchall())
        core_rows = con.sql("select count(*) from core.readings where team = '城东'").fetchall()[0][0]
        raw_rows = con.sql("select count(*) from raw.readings").fetchall()[0][0]
    assert statuses["抄表明细_2024-03_城东.csv"] == "superseded"
    assert statuses["抄表明细_2024-03_城东_更正.csv"] == "loaded"
    assert core_rows == 6            # the warehouse reflects the latest delivery only
    assert raw_rows == 6 + 3 + 6     # history kept in raw


def test_publish_writes_a_snapshot_the_dashboard_can_open_while_the_pipeline_writes(data_home: Home) -> None:
    write_month(data_home.landing)
    assert materialize_month(data_home).success
    resources = build_resources(data_home)
    assert dg.materialize([published_warehouse], resources=resources).success
    writer = duckdb.connect(str(data_home.warehouse))  # the pipeline holds its file ...
    try:
        with duckdb.connect(str(data_home.published), read_only=True) as con:  # ... the dashboard reads its own
            teams = con.sql("select team, customers_due from marts.kpi_team_month order by team").pl()
            deliveries = con.sql("select count(*) from ops.deliveries").fetchall()[0][0]
    finally:
        writer.close()
    assert teams.to_dicts() == [{"team": "城东", "customers_due": 5}, {"team": "城西", "customers_due": 3}]
    with duckdb.connect(str(data_home.published), read_only=True) as con:  # values as delivered stay home
        columns = [r[0] for r in con.sql("describe quarantine.rows").fetchall()]
    assert "raw_value" not in columns and "masked_value" in columns
    assert deliveries == 3
    assert isinstance(teams, pl.DataFrame)


def test_the_balance_check_fails_and_blocks_the_marts_when_rows_go_missing(data_home: Home) -> None:
    write_month(data_home.landing)
    assert materialize_month(data_home).success
    with duckdb.connect(str(data_home.warehouse)) as con:  # a row disappears from core behind the registry's back
        con.execute("delete from core.readings where customer_no = 'C1'")
    result = materialize_month(data_home)
    evaluations = {e.asset_key.path[-1]: e for e in result.get_asset_check_evaluations()}
    assert not evaluations["readings"].passed
    assert "| 抄表明细_2024-03_城东.csv |  | loaded | 6 | 6 | 6 (5) | 0 (0) | ✗ |" in evaluations["readings"].metadata[
        "per_delivery"].value
    assert not result.success                                   # blocking: the KPI mart was not rebuilt
    assert result.asset_materializations_for_node("marts__kpi_team_month") == []
