"""The readers (digit forensics) dashboard page, driven through Streamlit's AppTest on a hand-made
marts.reader_forensics.

2026-03, 抄表一队: 张伟 (flagged: HEAPING, FABRICATION; dispersion 0.08, peers 0.20, signature 2.50,
rank 1), 王芳 (0.19, rank 2), 李娜 (0.21, rank 3), 陈杰 (too few residuals: no dispersion, no
signature), and the unattributed reader (未指定), never ranked nor anyone's peer. 抄表二队: 赵强.
2026-02: 张伟 only. 张伟's last digits 2026-03: 150, 90 × 4, 130, 90 × 4 = 1,000 counted (of 1,200
reads: unchanged registers count as reads, not as digits) -> uniform expectation 100.0 per digit.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from readq.config import home
from tests.conftest import open_page, publish_copy
from warehouse.schema import ensure_schema

PAGE = "views/readers.py"
VERSION = "2026.12.1+test0001"
ONE, TWO, NONE = "抄表一队", "抄表二队", "(未指定)"
DIGITS = [150, 90, 90, 90, 90, 130, 90, 90, 90, 90]
# period, team, reader, reads, reads_month, digit counts, heaping index, p, slip share, dispersion, peer,
# signature, rank, flagged, reasons
ROWS = [
    ("2026-03", ONE, "张伟", 1200, 100, DIGITS, 1.40, 0.0004, 0.005, 0.08, 0.20, 2.5, 1, True,
     ["HEAPING", "FABRICATION"]),
    ("2026-03", ONE, "王芳", 1100, 95, [110] * 10, 1.0, 0.62, 0.001, 0.19, 0.145, 0.7632, 2, False, []),
    ("2026-03", ONE, "李娜", 1000, 90, [100] * 10, 1.0, 0.81, None, 0.21, 0.135, 0.6429, 3, False, []),
    ("2026-03", ONE, "陈杰", 80, 10, [8] * 10, None, None, None, None, None, None, None, False, []),
    ("2026-03", ONE, NONE, 300, 20, [30] * 10, 1.0, 0.5, 0.0, 0.30, None, None, None, False, []),
    ("2026-03", TWO, "赵强", 900, 80, [90] * 10, 1.05, 0.3, 0.002, 0.18, 0.18, 1.0, 4, False, []),
    ("2026-02", ONE, "张伟", 1100, 100, [110] * 10, 1.0, 0.5, 0.0, 0.10, 0.2, 2.0, 1, False, []),
]


def build_snapshot(path: Path, *, rows: list[tuple] = ROWS, drop: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        ensure_schema(con)
        for (period, team, reader, reads, month_reads, digits, heaping, p, slip, disp, peer, sig, rank, flagged,
             reasons) in rows:
            con.execute(
                """insert into marts.reader_forensics (period, team, reader, reads, reads_month, months, digit_counts,
                       heaping_share, heaping_index, last_digit_chi2, last_digit_p, digit_slip_flags, digit_slip_share,
                       residual_reads, residual_dispersion, peer_dispersion, signature, signature_rank, signature_pct,
                       flagged, flag_reasons, config_version, computed_at)
                   values (?, ?, ?, ?, ?, 12, ?, ?, ?, null, ?, 0, ?, 250, ?, ?, ?, ?, null, ?, ?, ?, ?)""",
                [period, team, reader, reads, month_reads, digits, None if heaping is None else heaping * 0.2,
                 heaping, p, slip, disp, peer, sig, rank, flagged, reasons, VERSION, datetime(2026, 4, 2)],
            )
        if drop:
            con.execute("drop table marts.reader_forensics")
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_snapshot(tmp_path_factory.mktemp("readers") / "warehouse.duckdb")


@pytest.fixture(autouse=True)
def _isolated(streamlit_isolated):
    """Fresh Streamlit caches and data folder for every test (see conftest)."""


@pytest.fixture
def snapshot(built: Path) -> Path:
    return publish_copy(built)


def run_page(**query: str | list[str]) -> AppTest:
    return open_page(PAGE, **query)


def charts(at: AppTest) -> dict[str, dict]:
    return {json.loads(c.proto.spec)["layout"]["title"]["text"]: json.loads(c.proto.spec)
            for c in at.get("plotly_chart")}


def test_reader_table_in_chinese(snapshot):
    at = run_page()
    assert at.title[0].value == "抄表员与抄表段：数字特征、轮换与复核"
    table = at.dataframe[0].value
    assert list(table["抄表员"][:1]) == ["张伟"]  # flagged first
    rows = table.set_index("抄表员")
    zw = rows.loc["张伟"]
    assert (zw["抄表队"], zw["抄表次数（窗口内）"], zw["本月抄表次数"]) == (ONE, 1200, 100)
    assert (zw["尾数堆积指数"], zw["末位均匀性 p 值"], zw["数字错位占比"]) == ("1.40", "0.0004", "0.50%")
    assert (zw["编造特征值"], zw["特征排名"], zw["已标记"]) == ("2.50", 1, "⚠️ 是")
    assert zw["标记原因"] == "尾数堆积、读数过于贴近期望值"
    assert rows.loc["陈杰", "编造特征值"] == "数据不足"  # null: too few readings, never 0
    assert rows.loc["李娜", "数字错位占比"] == "数据不足"
    assert rows.loc[NONE, "抄表队"] == ONE  # unattributed readings shown as such
    assert any(f"“{NONE}”" in c.value for c in at.caption)
    assert not at.get("plotly_chart")  # no reader chosen yet


def test_chosen_reader_digits_and_peers(snapshot):
    at = run_page(reader=f"张伟 · {ONE}")
    assert at.selectbox(key="reader").value == f"张伟 · {ONE}"
    figs = charts(at)
    traces = {tr["name"]: tr for tr in figs["本次示数末位数字分布"]["data"]}
    plain, heaped, expected = traces["实际个数"], traces["计入尾数堆积的数字"], traces["均匀分布期望"]
    counts = dict(zip(plain["x"] + heaped["x"], plain["y"] + heaped["y"], strict=True))
    assert counts == {str(d): n for d, n in enumerate(DIGITS)}
    assert heaped["x"] == ["0", "5"]  # config/forensics.toml [digits] heaped
    assert expected["y"] == [100.0] * 10  # 1,000 counted digits / 10, not 1,200 reads / 10
    assert any("1,000 ÷ 10 = 100.0" in c.value for c in at.caption)
    peers = figs[f"{ONE}：各抄表员的残差离散度"]["data"]
    dispersion, peer_line = peers
    assert dispersion["x"] == ["张伟", "王芳", "李娜"]  # lowest first; no 陈杰 (no dispersion), no (未指定)
    assert dispersion["y"] == [0.08, 0.19, 0.21]
    assert dispersion["marker"]["color"][0] != dispersion["marker"]["color"][1] == dispersion["marker"]["color"][2]
    assert peer_line["y"] == [0.2, 0.2, 0.2]
    assert any("陈杰" in c.value for c in at.caption)
    assert any("尾数堆积" in w.value for w in at.warning)


def test_month_and_team_filters(snapshot):
    at = run_page(month="2026-02")
    assert list(at.dataframe[0].value["抄表员"]) == ["张伟"]
    at = run_page(team=TWO, reader=f"张伟 · {ONE}")  # 张伟 is not in 抄表二队's list
    assert list(at.dataframe[0].value["抄表员"]) == ["赵强"]
    assert any("链接中的抄表员不在" in i.value for i in at.info)
    assert not at.get("plotly_chart")


@pytest.mark.parametrize("bad", ["张伟' or 1=1 --", "<b>x</b> · 抄表一队"])
def test_crafted_reader_param_gives_an_empty_state(snapshot, bad):
    at = run_page(reader=bad, month="2026-13")
    assert at.selectbox(key="reader").value is None
    assert any("链接中的抄表员不在 2026-03" in i.value for i in at.info)


def test_english(snapshot):
    at = run_page(lang="en", reader=f"张伟 · {ONE}")
    assert at.title[0].value == "Readers & segments: digits, rotation and recheck"
    rows = at.dataframe[0].value.set_index("Reader")
    assert rows.loc["张伟", "Reasons"] == "terminal-digit heaping, readings too close to expected"
    assert rows.loc["陈杰", "Signature"] == "too few"
    assert rows.loc["张伟", "Flagged"] == "⚠️ yes"
    assert "Last digit of the readings" in charts(at)


def test_missing_or_empty_mart(tmp_path):
    build_snapshot(home().published, drop=True)
    at = run_page()
    assert any("marts.reader_forensics" in i.value for i in at.info)
    build_snapshot(home().published.with_name("empty.duckdb"), rows=[]).replace(home().published)
    at = run_page()
    assert any("还没有任何月份" in i.value for i in at.info)
