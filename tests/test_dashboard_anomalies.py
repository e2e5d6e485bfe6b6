"""The anomalies dashboard page, driven through Streamlit's AppTest on a tiny hand-made snapshot.

Reads (marts.meter_readings, read_status not MISSED) and flags (marts.reading_flags), hand counts:

  month    team      rows  missed  reads   flags (rule severity meter)
  2026-01  抄表一队    10     0      10     — (flags never computed: no build, no flag)
           抄表二队    10     0      10
  2026-02  抄表一队    10     0      10     HIGH warn MP-A01
           抄表二队    10     0      10
  2026-03  抄表一队    12     2      10     HIGH warn MP-A01, ROBUST_Z warn MP-A01, HIGH warn MP-A02,
                                            REG_DECREASE fail MP-A03, CONSEC_ESTIMATES fail MP-A04
           抄表二队     8     0       8     HIGH warn MP-B01, CONSEC_ESTIMATES warn MP-B02
           (未指定)     2     0       2     DUPLICATE info MP-U01

2026-03, whole centre (20 reads): 8 flags = 400.00 per 1,000, 2 fail; HIGH 3 = 150.00,
CONSEC_ESTIMATES 2 (1 fail, 1 warn) = 100.00, REG_DECREASE / ROBUST_Z / DUPLICATE 1 = 50.00 each.
Team 抄表二队 only (8 reads): HIGH 1 = 125.00. HIGH by month: 2026-01 gap, 2026-02 1/20 = 50.00.
Heatmap (warn + fail per 1,000): 2026-03 一队 5/10 = 500.00, 二队 2/8 = 250.00, (未指定) 0/2 = 0.00
(its one flag is info); 2026-02 一队 1/10 = 100.00, 二队 0; 2026-01 none (not computed).
Efficacy 2026-03: ALL 4/7 = 57.1%, recall 4/5 = 80.0%; HIGH 2/3 = 66.7%, 2/5 = 40.0%; ZERO_ACTIVE no
flags. 2026-02: no review findings delivered.
MP-A01: history 2026-01..03 (use 100, 110, 300), flags 2026-02 HIGH and 2026-03 HIGH, ROBUST_Z; its
2026-03 reading is line 1 of 抄表明细_2026-03.csv, delivered for customer 张三丰 (masked 张***).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import anomalies as an
from readq.config import home
from tests.conftest import open_page, publish_copy, run_dashboard
from warehouse.schema import ensure_schema

PAGE = "views/anomalies.py"
VERSION = "2026.12.1+test0001"
COMPUTED = datetime(2026, 4, 2, 8, 30)
ONE, TWO, NONE = "抄表一队", "抄表二队", "(未指定)"
CODES = {ONE: "A", TWO: "B", NONE: "U"}
READERS = {ONE: "张伟", TWO: "李娜", NONE: NONE}
DELIVERY = {"2026-01": "d1d1d1d1d1d1d1d1", "2026-02": "d2d2d2d2d2d2d2d2", "2026-03": "d3d3d3d3d3d3d3d3"}
FILES = {p: f"抄表明细_{p}.csv" for p in DELIVERY}
# (period, team) -> statuses of the readings, meter 1, 2, …
STATUSES = {
    ("2026-01", ONE): ["READ"] * 10, ("2026-01", TWO): ["READ"] * 10,
    ("2026-02", ONE): ["READ"] * 10, ("2026-02", TWO): ["READ"] * 10,
    ("2026-03", ONE): ["READ"] * 3 + ["ESTIMATED"] + ["READ"] * 6 + ["MISSED"] * 2,
    ("2026-03", TWO): ["READ"] * 8,
    ("2026-03", NONE): ["READ"] * 2,
}
HIGH_EVIDENCE = {"use_kwh": 300.0, "expected_kwh": 120.0, "band_high": 192.0, "history_months": 14}
# period, meter key, rule, severity, observed, expected, ratio, evidence
FLAGS = [
    ("2026-02", "MP-A01", "HIGH", "warn", 110.0, 60.0, 1.8333, {"use_kwh": 110.0, "expected_kwh": 60.0}),
    ("2026-03", "MP-A01", "HIGH", "warn", 300.0, 120.0, 2.5, HIGH_EVIDENCE),
    ("2026-03", "MP-A01", "ROBUST_Z", "warn", 4.2, 3.5, None, {"z": 4.2, "median_per_day": 3.61}),
    ("2026-03", "MP-A02", "HIGH", "warn", 250.0, 100.0, 2.5, {"use_kwh": 250.0}),
    ("2026-03", "MP-A03", "REG_DECREASE", "fail", -40.0, None, None, {"last_read": 5040.0, "this_read": 5000.0}),
    ("2026-03", "MP-A04", "CONSEC_ESTIMATES", "fail", 3.0, None, None, {"estimate_cycles": 3}),
    ("2026-03", "MP-B01", "HIGH", "warn", 400.0, 150.0, 2.6667, {"use_kwh": 400.0}),
    ("2026-03", "MP-B02", "CONSEC_ESTIMATES", "warn", 2.0, None, None, {"estimate_cycles": 2}),
    ("2026-03", "MP-U01", "DUPLICATE", "info", 2.0, None, None, {"copies": 2, "differ": False}),
]
# period, rule, severity, reads, flags, per 1,000, delivered, confirmed, precision, errors, flagged, recall
EFFICACY = [
    ("2026-03", "ALL", None, 20, 7, 350.0, True, 4, 4 / 7, 5, 4, 0.8),
    ("2026-03", "HIGH", "warn", 20, 3, 150.0, True, 2, 2 / 3, 5, 2, 0.4),
    ("2026-03", "REG_DECREASE", "fail", 20, 1, 50.0, True, 1, 1.0, 5, 1, 0.2),
    ("2026-03", "ZERO_ACTIVE", "warn", 20, 0, 0.0, True, 0, None, 5, 0, 0.0),
    ("2026-02", "ALL", None, 20, 1, 50.0, False, None, None, None, None, None),
    ("2026-02", "HIGH", "warn", 20, 1, 50.0, False, None, None, None, None, None),
]
# MP-A01's history: period, use, expected, band low, band high
HISTORY = [("2026-01", 100.0, 105.0, 63.0, 178.5), ("2026-02", 110.0, 60.0, 36.0, 102.0),
           ("2026-03", 300.0, 120.0, 72.0, 192.0)]


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    for row in rows:
        cols = ", ".join(row)
        con.execute(f"insert into {table} ({cols}) values ({', '.join('?' * len(row))})", list(row.values()))


def readings() -> list[dict]:
    rows, line = [], {p: 0 for p in DELIVERY}
    for (period, team), statuses in STATUSES.items():
        for i, status in enumerate(statuses, 1):
            line[period] += 1
            mp = f"MP-{CODES[team]}{i:02d}"
            rows.append({
                "period": period, "delivery_id": DELIVERY[period], "sheet": None, "source_row": line[period],
                "team": team, "reader": READERS[team], "team_source": "none" if team == NONE else "export",
                "reader_source": "none" if team == NONE else "export", "segment_no": f"S-{CODES[team]}",
                "customer_no": f"C-{CODES[team]}{i:02d}", "mp_key": mp, "mp_id": i, "meter_no": f"E-{mp[3:]}",
                "master_source": "reading", "read_status": status, "last_read": 1000.0, "this_read": 1100.0,
                "kwh": 100.0, "copies": 1, "copies_differ": False, "repeats_dropped": 0,
                "config_version": VERSION, "computed_at": COMPUTED,
            })
    return rows


def build_snapshot(path: Path, *, drop: tuple[str, ...] = ()) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        ensure_schema(con)
        reading_rows = readings()
        insert(con, "marts.meter_readings", reading_rows)
        by_mp = {(r["period"], r["mp_key"]): r for r in reading_rows}
        insert(con, "marts.reading_flags", [
            {"period": p, "team": by_mp[(p, mp)]["team"], "reader": by_mp[(p, mp)]["reader"],
             "segment_no": by_mp[(p, mp)]["segment_no"], "customer_no": by_mp[(p, mp)]["customer_no"],
             "meter_no": by_mp[(p, mp)]["meter_no"], "mp_key": mp, "rule_id": rule, "severity": sev,
             "observed": obs, "expected": exp, "ratio": ratio, "history_months": 14, "evidence": json.dumps(ev),
             "delivery_id": DELIVERY[p], "sheet": None, "source_row": by_mp[(p, mp)]["source_row"],
             "config_version": VERSION, "computed_at": COMPUTED}
            for p, mp, rule, sev, obs, exp, ratio, ev in FLAGS
        ])
        insert(con, "marts.rule_efficacy", [
            dict(zip(("period", "rule_id", "severity", "reads", "flags", "flags_per_1000", "findings_delivered",
                      "flags_confirmed", "precision", "confirmed_errors", "errors_flagged", "recall"), row,
                     strict=True)) | {"config_version": VERSION, "computed_at": COMPUTED}
            for row in EFFICACY
        ])
        insert(con, "marts.reading_context", [
            {"period": p, "mp_key": "MP-A01", "mp_id": 1, "meter_no": "E-A01", "meter_changed": False,
             "use_kwh": use, "expected_kwh": exp, "band_low": low, "band_high": high, "zero_cycles": 0,
             "estimate_cycles": 0, "prev_suspect": False, "config_version": VERSION, "computed_at": COMPUTED}
            for p, use, exp, low, high in HISTORY
        ])
        insert(con, "ops.mart_builds", [
            {"mart": mart, "period": p, "data_seq": 1, "seq": 2, "config_version": VERSION, "built_at": COMPUTED}
            for mart in ("meter_readings", "reading_flags") for p in DELIVERY
            if not (mart == "reading_flags" and p == "2026-01")
        ])
        insert(con, "ops.deliveries", [
            {"delivery_id": did, "file_name": FILES[p], "source_path": f"/landing/{FILES[p]}", "sha256": did * 4,
             "size_bytes": 100, "kind": "readings", "period": p, "status": "loaded", "config_version": VERSION,
             "received_at": datetime(2026, int(p[-2:]) + 1, 3, 9, 0), "seq": i}
            for i, (p, did) in enumerate(DELIVERY.items(), 1)
        ])
        a01 = by_mp[("2026-03", "MP-A01")]
        raw = {"delivery_id": DELIVERY["2026-03"], "sheet": None, "source_row": a01["source_row"],
               "period": "2026-03", "team": ONE, "segment_no": "S-A", "reader": "张伟", "customer_no": "C-A01",
               "customer_name": "张三丰", "phone": "13812345678", "address": "城关镇人民路88号",
               "meter_no": "E-A01", "last_read": "1000", "this_read": "1100", "read_status": "已抄",
               "extras": json.dumps({"备注": "门口有狗"}, ensure_ascii=False)}
        # the same line of another delivery: the drill-down must take the row of the flag's delivery
        other = raw | {"delivery_id": DELIVERY["2026-02"], "period": "2026-02", "customer_name": "李四"}
        insert(con, "raw.readings", [raw, other])
        con.execute("insert into ops.config_versions values (?, ?, ?)", [VERSION, COMPUTED, "{}"])
        for table in drop:
            con.execute(f"drop table {table}")
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_snapshot(tmp_path_factory.mktemp("anomalies") / "warehouse.duckdb")


@pytest.fixture(autouse=True)
def _isolated(streamlit_isolated):
    """Fresh Streamlit caches and data folder for every test (see conftest)."""


@pytest.fixture
def snapshot(built: Path) -> Path:
    return publish_copy(built)


def run_page(**query: str | list[str]) -> AppTest:
    return open_page(PAGE, **query)


def frame_with(at: AppTest, column: str):
    """The first dataframe on the page that has `column`."""
    return next(df.value for df in at.dataframe if column in df.value.columns)


def frames_with(at: AppTest, column: str) -> list:
    return [df.value for df in at.dataframe if column in df.value.columns]


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def chart(at: AppTest, title_part: str) -> dict:
    return next(c for c in charts(at) if title_part in c["layout"]["title"]["text"])


def texts(at: AppTest) -> str:
    """Every text element and table cell of the page, one string (to look for values that must not show)."""
    parts = [e.value for kind in ("title", "header", "subheader", "caption", "markdown", "info", "warning", "success")
             for e in at.get(kind)]
    parts += [df.value.to_csv() for df in at.dataframe]
    return "\n".join(str(p) for p in parts)


def test_default_month_counts_and_rates_in_chinese(snapshot):
    at = run_page(month="2026-13' or 1=1 --")  # not a month of the data: the latest
    assert at.title[0].value == "合理性规则：异常标记"
    m = {mt.label: mt.value for mt in at.metric}
    assert (m["抄表次数（不含未抄）"], m["标记数"], m["每千次抄表标记数"], m["严重标记"]) == ("20", "8", "400.00", "2")
    rules = frame_with(at, "规则代码").set_index("规则代码")
    assert list(rules.index) == ["HIGH", "CONSEC_ESTIMATES", "REG_DECREASE", "ROBUST_Z", "DUPLICATE"]
    assert rules.loc["HIGH", "规则"] == "电量偏高"
    assert (rules.loc["HIGH", "标记数"], rules.loc["HIGH", "警告"], rules.loc["HIGH", "每千次抄表标记数"]) == (
        3, 3, "150.00")
    assert (rules.loc["CONSEC_ESTIMATES", "严重"], rules.loc["CONSEC_ESTIMATES", "警告"]) == (1, 1)
    assert rules.loc["CONSEC_ESTIMATES", "每千次抄表标记数"] == "100.00"
    assert (rules.loc["DUPLICATE", "提示"], rules.loc["DUPLICATE", "每千次抄表标记数"]) == (1, "50.00")
    assert rules.loc["REG_DECREASE", "规则"] == "示数倒走"
    bars = chart(at, "各规则每千次抄表标记数")
    fail = next(tr for tr in bars["data"] if tr["name"] == "严重")
    assert dict(zip(fail["y"], fail["x"], strict=True))["示数倒走 [REG_DECREASE]"] == pytest.approx(50.0)


def test_trend_leaves_a_gap_for_a_month_never_computed(snapshot):
    at = run_page(rule="HIGH")
    m = {mt.label: mt.value for mt in at.metric}
    assert (m["标记数"], m["每千次抄表标记数"], m["严重标记"]) == ("3", "150.00", "0")  # the chosen rule
    trend = chart(at, "按月")
    (line,) = trend["data"]
    assert line["name"] == "电量偏高 [HIGH]"
    assert line["x"] == ["2026-01", "2026-02", "2026-03"]
    assert line["y"][0] is None  # 2026-01: flags never computed -> gap, not 0
    assert line["y"][1:] == [pytest.approx(50.0), pytest.approx(150.0)]
    assert any("2026-01" in c.value and "空缺" in c.value for c in at.caption)


def test_heatmap_cells_and_unattributed_team(snapshot):
    at = run_page()
    heat = chart(at, "每千次抄表的警告与严重标记")["data"][0]
    assert heat["y"] == [NONE, ONE, TWO] and heat["x"] == ["2026-01", "2026-02", "2026-03"]
    cell = {(team, month): (heat["z"][i][j], heat["customdata"][i][j])
            for i, team in enumerate(heat["y"]) for j, month in enumerate(heat["x"])}
    assert cell[(ONE, "2026-03")] == (pytest.approx(500.0), [5, 10])
    assert cell[(TWO, "2026-03")] == (pytest.approx(250.0), [2, 8])
    assert cell[(NONE, "2026-03")] == (0.0, [0, 2])  # its one flag is info; shown, not dropped
    assert cell[(ONE, "2026-02")] == (pytest.approx(100.0), [1, 10])
    assert cell[(ONE, "2026-01")][0] is None  # not computed: no colour, never 0
    assert any(f"“{NONE}”" in c.value for c in at.caption)
    flags = frame_with(at, "证据")
    assert NONE in set(flags["抄表队"])


def test_team_filter_rates_use_the_teams_reads(snapshot):
    at = run_page(team=TWO)
    rules = frame_with(at, "规则代码").set_index("规则代码")
    assert (rules.loc["HIGH", "标记数"], rules.loc["HIGH", "抄表次数"], rules.loc["HIGH", "每千次抄表标记数"]) == (
        1, 8, "125.00")
    assert set(frame_with(at, "证据")["抄表队"]) == {TWO}


def test_efficacy_precision_recall_and_no_findings(snapshot):
    eff = frame_with(run_page(), "精确率（确认 / 标记）").set_index("规则代码")
    assert eff.loc["ALL", "规则"] == "任一规则（警告或严重）"
    assert eff.loc["ALL", "精确率（确认 / 标记）"] == "57.1% (4 / 7)"
    assert eff.loc["ALL", "召回率（已标记 / 确认差错）"] == "80.0% (4 / 5)"
    assert eff.loc["HIGH", "精确率（确认 / 标记）"] == "66.7% (2 / 3)"
    assert eff.loc["HIGH", "严重程度"] == "警告"
    assert eff.loc["ZERO_ACTIVE", "精确率（确认 / 标记）"] == "无标记"
    assert eff.loc["ZERO_ACTIVE", "召回率（已标记 / 确认差错）"] == "0.0% (0 / 5)"
    at = run_page(month="2026-02")
    eff = frame_with(at, "精确率（确认 / 标记）").set_index("规则代码")
    assert eff.loc["HIGH", "精确率（确认 / 标记）"] == "无复核结果"  # never 0
    assert eff.loc["HIGH", "召回率（已标记 / 确认差错）"] == "无复核结果"
    assert any("没有收到复核结果" in i.value for i in at.info)


def test_flag_list_filters_and_evidence(snapshot):
    at = run_page(rule="HIGH")
    flags = frame_with(at, "证据")
    assert sorted(flags["计量点"]) == ["MP-A01", "MP-A02", "MP-B01"]
    a01 = flags[flags["计量点"] == "MP-A01"].iloc[0]
    assert a01["证据"] == "use_kwh: 300 · expected_kwh: 120 · band_high: 192 · history_months: 14"
    assert (a01["规则"], a01["严重程度"], a01["观测值"], a01["期望值"], a01["比值"]) == (
        "电量偏高", "警告", "300", "120", "2.5")
    at.selectbox(key="url_select_severity_zh").set_value("fail").run()
    assert not at.exception
    assert any("没有标记" in i.value for i in at.info)  # HIGH has no fail flag
    assert at.query_params["severity"] == "fail"     # a shared link keeps the filter


def test_a_reader_in_the_url_lists_that_readers_flags_only(snapshot):
    everyone = frame_with(run_page(rule="HIGH"), "证据")
    at = run_page(rule="HIGH", reader=f"{READERS[ONE]} · {ONE}")
    assert at.selectbox(key="reader").value == f"{READERS[ONE]} · {ONE}"
    flags = frame_with(at, "证据")
    assert set(flags["抄表员"]) == {READERS[ONE]} and set(everyone["抄表员"]) > {READERS[ONE]}
    assert sorted(flags["计量点"]) == sorted(everyone[everyone["抄表员"] == READERS[ONE]]["计量点"])
    assert at.selectbox(key="meter").options == sorted(set(flags["计量点"]), key=list(flags["计量点"]).index)


@pytest.mark.parametrize("bad", ["nobody · 抄表一队", "<b>x</b>"])
def test_a_crafted_reader_or_severity_gives_a_message(snapshot, bad):
    at = run_page(reader=bad, severity="catastrophic")
    assert at.selectbox(key="reader").value is None
    assert any("链接中的抄表员" in i.value for i in at.info)
    assert any("链接中的严重程度" in i.value for i in at.info)
    assert frame_with(at, "证据").shape[0] > 0     # every flag, as without the filters


def test_selected_meter_history_source_and_masked_raw_row(snapshot):
    at = run_page(meter="MP-A01")
    assert at.selectbox(key="meter").value == "MP-A01"
    history = chart(at, "用电量、期望用电量与合理区间")
    traces = {tr["name"]: tr for tr in history["data"]}
    assert traces["用电量"]["x"] == ["2026-01", "2026-02", "2026-03"]
    assert traces["用电量"]["y"] == [100.0, 110.0, 300.0]
    assert traces["期望用电量"]["y"] == [105.0, 60.0, 120.0]
    assert traces["合理区间"]["fill"] == "tonexty" and traces["合理区间"]["y"] == [178.5, 102.0, 192.0]
    assert traces["触发的规则"]["x"] == ["2026-02", "2026-03"]
    assert traces["触发的规则"]["customdata"] == ["HIGH", "HIGH, ROBUST_Z"]
    evidence = frame_with(at, "证据项")
    assert set(evidence["规则代码"]) == {"HIGH", "ROBUST_Z"}
    assert dict(zip(evidence["证据项"], evidence["取值"], strict=False))["z"] == "4.2"
    source = next(df for df in frames_with(at, "交付编号") if "收到时间" in df.columns)
    assert (source["文件"][0], source["行号"][0]) == ("抄表明细_2026-03.csv", 1)
    assert source["交付编号"][0] == DELIVERY["2026-03"]
    raw = frame_with(at, "交付值（已脱敏）")
    values = dict(zip(raw["字段"], raw["交付值（已脱敏）"], strict=True))
    assert values["customer_name"] == "张***"
    assert values["phone"] == "138****5678"
    assert values["address"] == "城关镇人民路***"
    assert values["customer_no"] == "C-A01"
    assert dict(zip(raw["字段"], raw["导出表头"], strict=True))["customer_name"] == "用户名称"
    page = texts(at)
    assert "张三丰" not in page and "13812345678" not in page and "李四" not in page
    assert "门口有狗" not in page  # unmapped column: named, value withheld
    assert any("备注" in c.value for c in at.caption)


@pytest.mark.parametrize("bad", ["MP-A01' or 1=1 --<script>alert(1)</script>", "MP-B01"])
def test_crafted_or_unlisted_meter_param_gives_an_empty_state(snapshot, bad):
    at = run_page(meter=bad, team=ONE)  # MP-B01 is real, but not in 抄表一队's list
    assert at.selectbox(key="meter").value is None
    assert any("链接中的计量点不在" in i.value for i in at.info)
    assert not charts_named(at, "用电量、期望用电量与合理区间")
    assert "<script>" not in texts(at)


def charts_named(at: AppTest, title_part: str) -> list[dict]:
    return [c for c in charts(at) if title_part in c["layout"]["title"]["text"]]


def test_month_never_computed_and_crafted_params(snapshot):
    at = run_page(month="2026-01", rule="NOPE'); drop table marts.reading_flags; --")
    m = {mt.label: mt.value for mt in at.metric}
    assert (m["抄表次数（不含未抄）"], m["标记数"], m["每千次抄表标记数"]) == ("20", "无数据", "无数据")
    assert any("尚未计算" in i.value for i in at.info)
    assert at.query_params.get("rule") in (None, [])  # the crafted rule was dropped, not queried


def test_english(snapshot):
    at = run_page(lang="en", month="2026-02", meter="MP-A01")
    assert at.title[0].value == "Plausibility rules: anomaly flags"
    m = {mt.label: mt.value for mt in at.metric}
    assert (m["Flags"], m["Flags per 1,000 reads"]) == ("1", "50.00")
    rules = frame_with(at, "Rule id").set_index("Rule id")
    assert rules.loc["HIGH", "Rule"] == "use high" and rules.loc["HIGH", "warning"] == 1
    eff = frame_with(at, "Precision (confirmed / flags)").set_index("Rule id")
    assert eff.loc["HIGH", "Precision (confirmed / flags)"] == "no review findings"
    traces = {tr["name"]: tr for tr in chart(at, "Use, expected use and band")["data"]}
    assert traces["Use"]["x"] == ["2026-01", "2026-02", "2026-03"]
    source = next(df for df in frames_with(at, "Delivery id") if "Received" in df.columns)
    assert source["File"][0] == "抄表明细_2026-02.csv"
    raw = frame_with(at, "Delivered value (masked)")
    assert dict(zip(raw["Column"], raw["Delivered value (masked)"], strict=True))["customer_name"] == "李***"


def test_older_snapshot_without_the_marts(tmp_path):
    build_snapshot(home().published, drop=("marts.reading_flags", "marts.rule_efficacy"))
    at = run_dashboard(PAGE)  # from the default page, through the navigation (the page is in app.PAGES)
    assert any("marts.reading_flags" in i.value for i in at.info)
    assert not at.metric


def test_snapshot_without_raw_rows_or_efficacy_still_drills_down(tmp_path):
    build_snapshot(home().published, drop=("raw.readings", "marts.rule_efficacy"))
    at = run_page(meter="MP-A01")
    assert any("marts.rule_efficacy" in i.value for i in at.info)
    assert any("raw.readings" in c.value for c in at.caption)
    source = next(df for df in frames_with(at, "交付编号") if "收到时间" in df.columns)
    assert source["文件"][0] == "抄表明细_2026-03.csv"


def test_evidence_formatting_is_readable():
    assert an.evidence_text('{"ratio": 2.456789, "z": 0.012345, "n": 3, "ok": true, "xs": [1.0, 2.5]}') == (
        "ratio: 2.46 · z: 0.01235 · n: 3 · ok: true · xs: [1, 2.5]")
    assert an.evidence_text('{"customer_name": "张三丰"}') == "customer_name: 张***"
    assert an.evidence_text("not json") == "not json"
    assert an.evidence_text(None) == ""


def test_readings_of_the_fixture_match_the_docstring():
    rows = readings()
    reads = {(p, tm): sum(1 for r in rows if (r["period"], r["team"]) == (p, tm) and r["read_status"] != "MISSED")
             for p, tm in STATUSES}
    assert reads[("2026-03", ONE)] == 10 and reads[("2026-03", TWO)] == 8 and reads[("2026-03", NONE)] == 2
