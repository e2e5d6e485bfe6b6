"""The data-quality dashboard page, driven through Streamlit's AppTest on a tiny hand-made snapshot.

Deliveries (newest first), hand counts:

  id   file                          period   kind             status      read loaded quar skipped
  D5   未知文件.csv                    —        —                rejected       0     0    0     0
  D4   抄表明细_2026-02_更正.csv        2026-02  readings         loaded         5     5    0     1
  D3   抄表明细_2026-02.csv             2026-02  readings         superseded     5     4    1     0
  D2   复核结果_2026-03.xlsx / 差错      2026-03  review_findings  rejected       0     0    0     0
  D1   抄表明细_2026-03.csv             2026-03  readings         loaded        10     7    3     2

All months: 5 files (2 loaded, 1 superseded, 2 rejected); rows 20 read, 16 loaded, 4 quarantined,
3 skipped. 2026-03: 2 files (1 loaded, 1 rejected); 10 / 7 / 3 / 2. 2026-02: 2 files; 10 / 9 / 1 / 1.

Quarantine entries: D1 row 4 cast:float this_read; row 6 cast:float this_read and
code_table:read_status read_status (one row, two entries); row 9 unparseable_line (whole line,
masked); D3 row 3 in_range(1, 31) plan_day. By check: cast:float 2, the others 1 each.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import data, delivery_balance
from dashboards.i18n import CATALOG
from readq.config import home
from tests.conftest import run_dashboard

REPO = Path(__file__).resolve().parents[1]
PAGE = "views/quality.py"
SCHEMA = REPO / "warehouse" / "sql" / "schema.sql"
VERSION = "2026.11.1+test0001"

D1, D2, D3, D4, D5 = ("a1a1a1a1a1a1a1a1", "b2b2b2b2b2b2b2b2:差错", "c3c3c3c3c3c3c3c3", "d4d4d4d4d4d4d4d4",
                      "e5e5e5e5e5e5e5e5")
REJECT_D2 = "missing required columns: error_type (差错类型; tried 差错类型, error_type)"
REJECT_D5 = "cannot tell the billing month: no period column, none in the file name and no --period"

# delivery_id, file_name, sheet, kind, period, status, superseded_by, read, loaded, quarantined, skipped,
# message, received_at
DELIVERIES = [
    (D1, "抄表明细_2026-03.csv", None, "readings", "2026-03", "loaded", None, 10, 7, 3, 2,
     "7 rows loaded; 3 quarantined; 2 skipped (title/blank/totals)", datetime(2026, 4, 2, 8, 0)),
    (D2, "复核结果_2026-03.xlsx", "差错", "review_findings", "2026-03", "rejected", None, 0, 0, 0, 0,
     REJECT_D2, datetime(2026, 4, 2, 9, 0)),
    (D3, "抄表明细_2026-02.csv", None, "readings", "2026-02", "superseded", D4, 5, 4, 1, 0,
     "4 rows loaded; 1 quarantined", datetime(2026, 3, 3, 8, 0)),
    (D4, "抄表明细_2026-02_更正.csv", None, "readings", "2026-02", "loaded", None, 5, 5, 0, 1,
     f"5 rows loaded; 1 skipped (title/blank/totals); supersedes {D3}", datetime(2026, 3, 5, 8, 0)),
    (D5, "未知文件.csv", None, None, None, "rejected", None, 0, 0, 0, 0, REJECT_D5, datetime(2026, 4, 3, 8, 0)),
]
# delivery_id, kind, period, source_row, stage, column_name, check_name, masked_value, message
QUARANTINE = [
    (D1, "readings", "2026-03", 4, "cast", "this_read", "cast:float", "12a3",
     "this_read failed cast:float (value 12a3)"),
    (D1, "readings", "2026-03", 6, "cast", "this_read", "cast:float", "--x", "this_read failed cast:float (value --x)"),
    (D1, "readings", "2026-03", 6, "cast", "read_status", "code_table:read_status", "X",
     "read_status failed code_table:read_status (value X)"),
    (D1, "readings", "2026-03", 9, "read", None, "unparseable_line", "1001,张***,138****5678",
     "unparseable line (unterminated quote)"),
    (D3, "readings", "2026-02", 3, "validate", "plan_day", "in_range(1, 31)", "40",
     "plan_day failed in_range(1, 31) (value 40)"),
]
SKIPPED = [(D1, None, 1, "title row"), (D1, None, 12, "totals row"), (D4, None, 7, "blank row")]


@pytest.fixture(autouse=True)
def _isolated(streamlit_isolated):
    """Fresh Streamlit caches and data folder for every test (see conftest)."""


def build_snapshot(path: Path, deliveries=DELIVERIES, quarantine=QUARANTINE, skipped=SKIPPED) -> Path:
    """The schema, shaped like a published snapshot (masked_value, no raw_value), with the rows above."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute(SCHEMA.read_text(encoding="utf-8"))
        con.execute("alter table quarantine.rows add column if not exists masked_value varchar")
        con.execute("alter table quarantine.rows drop column if exists raw_value")  # withheld by publish
        for seq, (did, file, sheet, kind, period, status, by, read, loaded, quar, skip, msg, received) in enumerate(
                deliveries, 1):
            con.execute(
                """insert into ops.deliveries (delivery_id, file_name, source_path, sha256, size_bytes, sheet, kind,
                       period, period_source, scope, encoding, status, superseded_by, rows_read, rows_loaded,
                       rows_quarantined, rows_skipped, unmapped_columns, message, config_version, received_at,
                       seq)
                   values (?, ?, ?, ?, 100, ?, ?, ?, 'file_name', '抄表一队', 'gb18030',
                           ?, ?, ?, ?, ?, ?, [], ?, ?, ?, ?)""",
                [did, file, f"/landing/{file}", did[:16] * 4, sheet, kind, period, status, by, read, loaded, quar,
                 skip, msg, VERSION, received, seq],
            )
        for did, kind, period, row, stage, column, check, value, msg in quarantine:
            con.execute(
                """insert into quarantine.rows (delivery_id, kind, period, sheet, source_row, stage, column_name,
                       check_name, masked_value, message) values (?, ?, ?, null, ?, ?, ?, ?, ?, ?)""",
                [did, kind, period, row, stage, column, check, value, msg],
            )
        for did, sheet, row, reason in skipped:
            con.execute("insert into ops.skipped_rows values (?, ?, ?, ?)", [did, sheet, row, reason])
        con.execute("insert into ops.config_versions values (?, ?, ?)", [VERSION, datetime(2026, 4, 1), "{}"])
    finally:
        con.close()
    return path


@pytest.fixture
def snapshot() -> Path:
    return build_snapshot(home().published)


def run_page(**query: str) -> AppTest:
    return run_dashboard(PAGE, **query)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def frame_with(at: AppTest, column: str):
    """The first dataframe on the page that has `column`."""
    return next(df.value for df in at.dataframe if column in df.value.columns)


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_headline_all_months(snapshot):
    at = run_page()
    assert at.title[0].value == "数据质量：交付、入库与隔离"
    m = metrics(at)
    assert (m["收到文件"], m["已入库"], m["已被替代"], m["被拒收"]) == ("5", "2", "1", "2")
    assert (m["读取行数"], m["入库行数"], m["隔离行数"], m["跳过行数"]) == ("20", "16", "4", "3")
    assert any("全部 5 个交付均满足" in s.value for s in at.success)
    assert not at.error
    # quarantine and skipped listings agree with the registry; the only warning is the kinds not delivered
    assert [w.icon for w in at.warning] == [":material/inbox:"]


def test_rejected_files_most_recent_first_with_message(snapshot):
    rejected = frame_with(run_page(), "说明")
    assert list(rejected["文件"]) == ["未知文件.csv", "复核结果_2026-03.xlsx"]
    assert list(rejected["说明"]) == [REJECT_D5, REJECT_D2]
    assert rejected["工作表"][1] == "差错"


def test_reason_counts_and_readable_checks(snapshot):
    at = run_page()
    reasons = frame_with(at, "检查代码")
    counts = {(r["检查代码"], r["字段"]): (r["条数"], r["行数"]) for _, r in reasons.iterrows()}
    assert counts == {
        ("cast:float", "this_read"): (2, 2),
        ("code_table:read_status", "read_status"): (1, 1),
        ("unparseable_line", "（整行）"): (1, 1),
        ("in_range(1, 31)", "plan_day"): (1, 1),
    }
    phrases = dict(zip(reasons["检查代码"], reasons["检查项"], strict=True))
    assert phrases["cast:float"] == "不是数值"
    assert phrases["code_table:read_status"] == "不在代码表“抄表状态”中"
    assert phrases["in_range(1, 31)"] == "不在 1–31 范围内"
    assert reasons["检查代码"][0] == "cast:float"  # largest first
    assert set(reasons["导出表头"]) >= {"本次示数", "抄表例日"}
    by_check_fig, by_column_fig = charts(at)
    by_check = by_check_fig["data"][0]
    assert by_check["x"][0] == 2 and by_check["y"][0] == "不是数值 [cast:float]"
    assert sum(by_check["x"]) == 5
    by_column = by_column_fig["data"][0]
    assert dict(zip(by_column["y"], by_column["x"], strict=True)) == {
        "this_read": 2, "read_status": 1, "（整行）": 1, "plan_day": 1}


def test_month_filter(snapshot):
    at = run_page(month="2026-03")
    m = metrics(at)
    assert (m["收到文件"], m["已入库"], m["已被替代"], m["被拒收"]) == ("2", "1", "0", "1")
    assert (m["读取行数"], m["入库行数"], m["隔离行数"], m["跳过行数"]) == ("10", "7", "3", "2")
    assert list(frame_with(at, "说明")["文件"]) == ["复核结果_2026-03.xlsx"]  # D5 has no month
    assert any("1 个被拒收的文件无法确定月份或类型" in w.value for w in at.warning)
    assert "in_range(1, 31)" not in set(frame_with(at, "检查代码")["检查代码"])

    at = run_page(month="2026-02")
    m = metrics(at)
    assert (m["收到文件"], m["已入库"], m["已被替代"], m["被拒收"]) == ("2", "1", "1", "0")
    assert (m["读取行数"], m["入库行数"], m["隔离行数"], m["跳过行数"]) == ("10", "9", "1", "1")
    assert any("没有被拒收的文件" in s.value for s in at.success)


def test_month_widget_and_kind_filter(snapshot):
    at = run_page()
    at.selectbox(key="month").set_value("2026-02").run()
    assert not at.exception
    assert metrics(at)["收到文件"] == "2"
    assert metrics(at)["已被替代"] == "1"
    at = run_page(kind="review_findings")
    m = metrics(at)
    assert (m["收到文件"], m["被拒收"], m["读取行数"]) == ("1", "1", "0")
    assert any("没有被隔离的行" in s.value for s in at.success)


@pytest.mark.parametrize("bad", ["2026-13", "2026-03' or 1=1 --", "all"])
def test_invalid_month_param_means_all_months(snapshot, bad):
    assert metrics(run_page(month=bad))["收到文件"] == "5"


def test_per_file_table(snapshot):
    files = frame_with(run_page(), "行数平衡")
    rows = {r["交付编号"]: r for _, r in files.iterrows()}
    assert list(files["交付编号"]) == [D5, D2, D1, D4, D3]  # newest first
    assert (rows[D1]["状态"], rows[D1]["读取"], rows[D1]["入库"], rows[D1]["隔离"], rows[D1]["跳过"]) == (
        "已入库", 10, 7, 3, 2)
    assert rows[D3]["状态"] == "已被替代" and rows[D3]["被替代为"] == D4
    assert rows[D2]["状态"] == "被拒收"
    assert set(files["行数平衡"]) == {"✓"}


def test_drilldown_shows_the_chosen_delivery(snapshot, downloads):
    captured = downloads
    at = run_page()
    assert not captured  # nothing chosen yet
    at.selectbox(key="delivery").set_value(D1).run()
    assert not at.exception
    rows = frame_with(at, "值（已脱敏）")
    assert list(rows["行号"]) == [4, 6, 6, 9]
    assert list(rows["检查代码"]) == ["cast:float", "code_table:read_status", "cast:float", "unparseable_line"]
    assert list(rows["字段"])[:3] == ["this_read", "read_status", "this_read"]  # by row, then column
    assert rows["值（已脱敏）"][3] == "1001,张***,138****5678"
    assert rows["检查项"][3] == "无法解析的行"
    skipped = frame_with(at, "原因")
    assert list(skipped["行号"]) == [1, 12] and list(skipped["原因"]) == ["标题行", "合计行"]
    assert any("隔离的行（3 行，4 条）" in md.value for md in at.markdown)

    assert captured["on_click"] == "ignore"
    assert captured["file_name"] == f"quarantine_{D1}.csv"
    data = captured["data"]
    assert isinstance(data, bytes) and data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == "交付编号,文件,行号,工作表,阶段,字段,检查项,检查代码,值（已脱敏）,说明"
    assert len(lines) == 5
    assert lines[4] == (f'{D1},抄表明细_2026-03.csv,9,,读取,,无法解析的行,unparseable_line,'
                        '"1001,张***,138****5678",unparseable line (unterminated quote)')

    at.selectbox(key="delivery").set_value(D2).run()
    assert any(REJECT_D2 in e.value for e in at.error)
    assert any("该交付没有被隔离的行" in c.value for c in at.caption)


def test_huge_quarantine_is_capped(snapshot, monkeypatch):
    """Whatever the page asks for, the snapshot has more: it shows a bounded table and says so."""
    asked: list[int] = []

    def many(snap, delivery_id, *, has_masked_value, limit):
        asked.append(limit)
        return pl.DataFrame(
            {"sheet": [None] * limit, "source_row": list(range(1, limit + 1)), "stage": ["cast"] * limit,
             "column_name": ["this_read"] * limit, "check_name": ["cast:float"] * limit,
             "masked_value": ["x"] * limit, "message": ["m"] * limit},
            schema_overrides={"sheet": pl.String},
        )

    monkeypatch.setattr(data, "quarantined_rows", many)
    at = run_page()
    at.selectbox(key="delivery").set_value(D1).run()
    assert not at.exception
    cap = asked[-1] - 1
    assert len(frame_with(at, "值（已脱敏）")) < cap
    assert any("readq quarantine --file " + D1 in c.value for c in at.caption)
    assert any("条目过多" in md.value for md in at.markdown)


def test_unbalanced_delivery_is_shown_in_red(tmp_path):
    broken = [(*d[:7], 10, 7, 2, *d[10:]) if d[0] == D1 else d for d in DELIVERIES]
    build_snapshot(home().published, deliveries=broken)
    at = run_page()
    assert len(at.error) == 1
    text = at.error[0].value
    assert "1 个交付（共 5 个）不满足" in text
    assert "抄表明细_2026-03.csv：读取 10 ≠ 入库 7 + 隔离 2（相差 1）" in text
    assert not any("全部" in s.value and "均满足" in s.value for s in at.success)
    files = frame_with(at, "行数平衡")
    assert dict(zip(files["交付编号"], files["行数平衡"], strict=True))[D1] == "✗"
    assert at.warning  # the registry says 2 quarantined, the listing holds 3 rows


def test_english_via_query_param(snapshot):
    at = run_page(lang="en")
    assert at.title[0].value == "Data quality: deliveries, loads and quarantine"
    m = metrics(at)
    assert (m["Files received"], m["Rejected"], m["Rows quarantined"]) == ("5", "2", "4")
    assert any("All 5 deliveries satisfy" in s.value for s in at.success)
    reasons = frame_with(at, "Check code")
    assert dict(zip(reasons["Check code"], reasons["Check"], strict=True))["cast:float"] == "not a number"
    assert "Message" in frame_with(at, "Message").columns


def test_missing_snapshot_shows_info():
    at = run_page()
    assert "uv run readq demo" in at.info[0].value
    assert not at.metric


def test_old_snapshot_without_quality_tables_shows_info():
    path = home().published
    path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(path)).close()
    at = run_page()
    assert "数据质量表" in at.info[0].value and "ops.deliveries" in at.info[0].value
    assert not at.metric
    assert "data-quality tables" in run_page(lang="en").info[0].value


def test_snapshot_without_deliveries_shows_info():
    build_snapshot(home().published, deliveries=[], quarantine=[], skipped=[])
    at = run_page()
    assert "还没有收到任何导出文件" in at.info[0].value
    assert not at.metric


def test_snapshot_without_masked_values_shows_no_values():
    path = build_snapshot(home().published)
    con = duckdb.connect(str(path))
    con.execute("alter table quarantine.rows drop column masked_value")
    con.close()
    at = run_page()
    at.selectbox(key="delivery").set_value(D1).run()
    assert not at.exception
    rows = frame_with(at, "值（已脱敏）")
    assert rows["值（已脱敏）"].isna().all()
    assert any("没有脱敏后的值" in c.value for c in at.caption)


def test_describe_check_codes():
    tr = lambda key, **fmt: CATALOG["en"][key].format(**fmt)  # noqa: E731
    assert delivery_balance.describe_check("cast:int", tr) == "not a whole number"
    assert delivery_balance.describe_check("cast:weird", tr) == "cannot be read as weird"
    assert delivery_balance.describe_check("not_nullable", tr) == "required value missing"
    assert delivery_balance.describe_check("duplicate_row", tr) == "exact repeat of an earlier row of the file"
    assert delivery_balance.describe_check("too_many_fields", tr) == "more fields than the header"
    assert delivery_balance.describe_check("period_matches_delivery(2026-03)", tr) == (
        "month differs from the delivery's month (2026-03)")
    assert delivery_balance.describe_check("greater_than_or_equal_to(0)", tr) == "below 0 (must be ≥ 0)"
    assert delivery_balance.describe_check("greater_than(0)", tr) == "must be greater than 0"
    assert delivery_balance.describe_check("code_table:unknown_table", tr) == "not in the “unknown_table” code table"
    assert delivery_balance.describe_check("something_new", tr) == "something_new"


def test_integrity_rules():
    df = pl.DataFrame(
        {
            "delivery_id": ["ok", "short", "rejected", "nulls"],
            "status": ["loaded", "loaded", "rejected", "superseded"],
            "rows_read": [3, 3, 0, None],
            "rows_loaded": [2, 1, 0, None],
            "rows_quarantined": [1, 1, 0, None],
            "rows_skipped": [0, 0, 4, 0],  # a rejected file keeps its skipped count, not its listing
        }
    )
    detail = pl.DataFrame({"delivery_id": ["ok", "short"], "quarantine_recorded": [1, 1], "skipped_recorded": [0, 0]})
    out = delivery_balance.with_integrity(df, detail)
    assert dict(zip(out["delivery_id"], out["balanced"], strict=True)) == {
        "ok": True, "short": False, "rejected": True, "nulls": False}
    assert out.filter(pl.col("delivery_id") == "short")["difference"][0] == 1
    assert dict(zip(out["delivery_id"], out["detail_ok"], strict=True))["rejected"] is True
    h = delivery_balance.headline(out)
    assert (h.files, h.loaded, h.superseded, h.rejected, h.unbalanced) == (4, 2, 1, 1, 2)


def test_catalogs_have_identical_keys():
    assert set(CATALOG["zh"]) == set(CATALOG["en"])
    assert all(CATALOG[lang][key].strip() for lang in CATALOG for key in CATALOG[lang])


def test_partly_superseded_deliveries_are_counted_and_labelled():
    partly = [(*d[:5], "partly superseded", D4, *d[7:]) if d[0] == D3 else d for d in DELIVERIES]
    build_snapshot(home().published, deliveries=partly)
    at = run_page()
    m = metrics(at)
    assert (m["收到文件"], m["已入库"], m["部分被替代"], m["已被替代"], m["被拒收"]) == ("5", "2", "1", "0", "2")
    files = frame_with(at, "行数平衡")
    assert dict(zip(files["交付编号"], files["状态"], strict=True))[D3] == "部分被替代"
    en = run_page(lang="en")
    assert metrics(en)["Partly superseded"] == "1"
    files = frame_with(en, "Rows balance")
    assert dict(zip(files["Delivery id"], files["Status"], strict=True))[D3] == "partly superseded"


def test_an_unknown_status_is_shown_as_it_is():
    odd = [(*d[:5], "held back", *d[6:]) if d[0] == D1 else d for d in DELIVERIES]
    build_snapshot(home().published, deliveries=odd)
    files = frame_with(run_page(), "行数平衡")
    assert dict(zip(files["交付编号"], files["状态"], strict=True))[D1] == "held back"


def test_quarantine_download_cannot_run_formulas(downloads):
    """Delivered values that a spreadsheet would evaluate are written as text; negative numbers stay numbers."""
    evil = [*QUARANTINE,
            (D1, "readings", "2026-03", 7, "validate", "customer_name", "str_length(1, 20)", "=1+cmd|' /C calc'!A0",
             "customer_name failed"),
            (D1, "readings", "2026-03", 8, "validate", "this_read", "greater_than_or_equal_to(0)", "-150",
             "@SUM(A1:A9)")]
    build_snapshot(home().published, quarantine=evil)
    at = run_page()
    at.selectbox(key="delivery").set_value(D1).run()
    assert not at.exception
    lines = downloads["data"].decode("utf-8-sig").splitlines()
    assert any(",\"'=1+cmd|' /C calc'!A0\"," in line or ",'=1+cmd|' /C calc'!A0," in line for line in lines)
    [row8] = [line for line in lines if f"{D1},抄表明细_2026-03.csv,8," in line]
    assert row8.endswith(",-150,'@SUM(A1:A9)")
    assert not any(cell.startswith(("=", "@")) for line in lines for cell in line.split(","))


def test_skipped_repeats_and_duplicate_keys_read_plainly():
    tr = lambda key, **fmt: CATALOG["zh"][key].format(**fmt)  # noqa: E731
    assert delivery_balance.describe_skip("exact repeat of line 7", tr) == "与第 7 行完全重复"
    assert delivery_balance.describe_skip("repeat of line 5 (same values)", tr) == "与第 5 行数值相同（写法不同）"
    assert delivery_balance.describe_skip("totals row", tr) == "合计行"
    assert delivery_balance.describe_skip("something else", tr) == "something else"
    assert delivery_balance.describe_check("duplicate_key", tr) == "与文件中另一行的主键相同而内容不同"


def test_tables_offer_no_unneutralised_export():
    """st.dataframe's own CSV download and clipboard copy write cells as they are: the app turns them off
    (script-level config next to app.py), so files leave only through the neutralising download buttons."""
    import tomllib

    import streamlit.config
    from streamlit import file_util

    path = file_util.get_main_script_streamlit_file_path(str(REPO / "dashboards" / "app.py"), "config.toml")
    assert Path(path) == REPO / "dashboards" / ".streamlit" / "config.toml"
    with open(path, "rb") as fh:
        assert tomllib.load(fh)["client"]["disableDataExport"] is True
    assert "client.disableDataExport" in streamlit.config._config_options_template
