"""The Query page under Streamlit's AppTest: a query runs from the form and from a shared URL, the
guards' refusals read as messages in zh-CN and en, crafted URL values give a message and never an
exception, a rerun does not run the query again, and the catalogue lists tables and column meanings.

The snapshot is tests/test_query.py's (`build_snapshot`): marts.kpi_team_month with 城东 and 城西 over
2026-01 … 2026-03 (2026-03: customers_due 1020 and 510).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboards.anomalies import md_escape
from readq.config import REPO_ROOT
from tests.conftest import open_page, publish_copy
from tests.test_query import SLOW, build_snapshot

PAGE = "views/query.py"
MARCH = "select team, customers_due from marts.kpi_team_month where period = '2026-03' order by team"
PASSWD = "SELECT * FROM read_csv('/etc/passwd')"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_snapshot(tmp_path_factory.mktemp("query_page"))[1]


@pytest.fixture(autouse=True)
def _isolated(streamlit_isolated):
    """Fresh Streamlit caches and data folder for every test (see conftest)."""


@pytest.fixture
def snapshot(built: Path) -> Path:
    return publish_copy(built)


def result_table(at: AppTest):
    """The query's result: the first dataframe that is not a catalogue table."""
    catalogue_columns = {"字段", "Column"}
    found = [d.value for d in at.dataframe if not catalogue_columns & set(d.value.columns)]
    return found[0] if found else None


def submit(at: AppTest, sql: str, limit: int | None = None) -> AppTest:
    at.text_area(key="query_sql").input(sql)
    if limit is not None:
        at.number_input(key="query_limit").set_value(limit)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_runs_a_query_and_offers_the_csv(snapshot, downloads):
    at = submit(open_page(PAGE), MARCH)
    table = result_table(at)
    assert list(table.columns) == ["team", "customers_due"]
    assert table.values.tolist() == [["城东", 1020], ["城西", 510]]
    assert "共 2 行。" in [c.value for c in at.caption]
    assert not at.warning  # not truncated
    assert downloads["data"] == "\ufeffteam,customers_due\n城东,1020\n城西,510\n".encode()
    assert downloads["file_name"] == "query.csv"
    assert (at.query_params["sql"], at.query_params["limit"]) == (MARCH, "1000")  # the shareable URL


def test_row_limit_truncates_with_a_note(snapshot):
    at = submit(open_page(PAGE), "select period, team from marts.kpi_team_month order by period desc, team", limit=3)
    assert result_table(at).values.tolist() == [["2026-03", "城东"], ["2026-03", "城西"], ["2026-02", "城东"]]
    assert [w.value for w in at.warning] == ["结果已在 3 行处截断：还有更多行。请缩小范围、聚合，或提高行数上限。"]


def test_refuses_read_csv_of_etc_passwd(snapshot):
    at = submit(open_page(PAGE), PASSWD)
    assert [e.value for e in at.error] == [md_escape(
        "查询被拒绝：已禁止访问文件、网址和扩展：只能读取已发布快照中的表"
        "（read_csv、read_parquet、read_text、glob、COPY 等均不可用）。")]
    assert result_table(at) is None
    assert "file system operations are disabled" in at.code[-1].value  # DuckDB's own words, as plain text
    assert "root:" not in "".join(c.value for c in at.code)


@pytest.mark.parametrize(("sql", "message"), [
    ("drop table marts.kpi_team_month", "查询被拒绝：快照是只读的，不允许写入或创建任何对象（DROP 语句）。"),
    ("set threads = 1", "查询被拒绝：不允许 SET、RESET、PRAGMA 和 CALL：查询的配置已锁定（SET 语句）。"),
    ("attach ':memory:' as x", "查询被拒绝：不允许 ATTACH / DETACH：查询只能读取已发布的快照。"),
    ("install httpfs", "查询被拒绝：不允许 INSTALL / LOAD：不能安装或加载扩展。"),
    ("select 1; select 2", "查询被拒绝：每次只能运行一条语句，这里有 2 条。"),
    ("select * from nosuch", "查询失败：查询引用了不存在的表、字段或函数，或用法不对（只有下方列出的表可用）。"),
])
def test_refusals_and_failures_in_chinese(snapshot, sql, message):
    at = submit(open_page(PAGE), sql)
    assert [e.value for e in at.error] == [md_escape(message)]


def test_english(snapshot):
    at = open_page(PAGE, lang="en", sql=PASSWD)
    assert at.title[0].value == "SQL query (read-only)"
    assert [e.value for e in at.error] == [md_escape(
        "Query refused: file, URL and extension access is disabled: only the tables of the published snapshot can "
        "be read (read_csv, read_parquet, read_text, glob, COPY … are unavailable).")]
    at = submit(at, MARCH)
    assert "2 rows." in [c.value for c in at.caption]
    assert result_table(at).values.tolist() == [["城东", 1020], ["城西", 510]]


def test_a_shared_url_reproduces_the_query(snapshot):
    at = open_page(PAGE, sql=MARCH, limit="1")
    assert at.text_area(key="query_sql").value == MARCH
    assert at.number_input(key="query_limit").value == 1
    assert result_table(at).values.tolist() == [["城东", 1020]]
    assert [w.value for w in at.warning] == ["结果已在 1 行处截断：还有更多行。请缩小范围、聚合，或提高行数上限。"]


@pytest.mark.parametrize("sql", [
    PASSWD,
    "select 1; drop table marts.kpi_team_month",
    "copy marts.kpi_team_month to '/tmp/readq_page_copy.csv'",
    "pragma version",
    "\x00\x01 not sql at all [/] **bold** <script>",
])
def test_crafted_sql_in_the_url_gives_a_message_not_an_exception(snapshot, sql):
    at = open_page(PAGE, sql=sql)  # open_page asserts no exception
    assert at.error and at.error[0].value.startswith(("查询被拒绝", "查询失败"))
    assert result_table(at) is None
    assert not Path("/tmp/readq_page_copy.csv").exists()


@pytest.mark.parametrize("limit", ["abc", "-5", "0", "99999999999", "1e3", ""])
def test_crafted_limit_falls_back_to_the_default_with_a_message(snapshot, limit):
    at = open_page(PAGE, sql=MARCH, limit=limit)
    assert [i.value for i in at.info] == ["链接中的行数上限无效，已改用默认值 1,000（允许 1–100,000）。"]
    assert at.number_input(key="query_limit").value == 1000
    assert result_table(at).values.tolist() == [["城东", 1020], ["城西", 510]]


def test_markup_in_results_is_data(snapshot):
    at = open_page(PAGE, sql="select '**bold** [x](http://e.com) <b>b</b>' as text")
    assert result_table(at).values.tolist() == [["**bold** [x](http://e.com) <b>b</b>"]]


def test_a_rerun_does_not_run_the_query_again(snapshot, monkeypatch):
    import warehouse.query as wq

    calls: list[str] = []
    original = wq.query_snapshot

    def counting(path, sql, **kwargs):
        calls.append(sql)
        return original(path, sql, **kwargs)

    monkeypatch.setattr(wq, "query_snapshot", counting)
    at = open_page(PAGE, sql=MARCH)
    at.run()  # a rerun: a download click, a language switch
    assert calls == [MARCH]
    at.button[0].click().run()  # Run again: runs again
    assert calls == [MARCH, MARCH]


def test_a_slow_query_times_out_with_a_message(snapshot, tmp_path, monkeypatch):
    config = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config", config)
    readq_toml = config / "readq.toml"
    text = readq_toml.read_text(encoding="utf-8")
    assert "timeout_seconds = 30" in text
    readq_toml.write_text(text.replace("timeout_seconds = 30", "timeout_seconds = 0.2"), encoding="utf-8")
    monkeypatch.setenv("READQ_CONFIG", str(config))
    at = open_page(PAGE, sql=SLOW)
    assert [w.value for w in at.warning] == [
        "查询超时：运行超过 0.2 秒，已中断。请缩小范围（按月份筛选、先聚合、加 LIMIT）。"]
    assert "Interrupted" in at.code[-1].value


def test_catalogue_lists_tables_and_column_meanings(snapshot):
    at = open_page(PAGE)
    labels = [e.label for e in at.expander]
    assert md_escape("marts.kpi_team_month — 各抄表队月度指标：实抄率、漏抄率、估抄率、差错率及其户数"
                     "（每个抄表队每月一行）") in labels
    assert md_escape("raw.readings — 被规则标记或考核记录所依据的抄表记录原始行（交付原文，均为文本；姓名、电话、"
                     "地址已脱敏），用于追溯到源文件") in labels
    [expander] = [e for e in at.expander if e.label.startswith(md_escape("marts.kpi_team_month —"))]
    kpi = expander.dataframe[0].value
    row = kpi.set_index("字段").loc["customers_due"]
    assert (row["类型"], row["含义（中文）"], row["含义（英文）"]) == (
        "BIGINT", "应抄户数（含隔离区中的户）", "customers due (those with rows in quarantine included)")
    assert kpi.set_index("字段").loc["period", "含义（中文）"] == "电费年月（YYYY-MM）"  # a shared meaning


def test_catalogue_search_is_plain_text(snapshot):
    at = open_page(PAGE)
    at.text_input(key="query_catalogue_search").input("脱敏").run()
    labels = [e.label for e in at.expander if e.label != "示例查询"]
    assert labels and all(label.startswith(("quarantine.rows", "raw.readings")) for label in labels)
    assert labels[0].startswith("quarantine.rows")
    at.text_input(key="query_catalogue_search").input("([*").run()  # a regex would not even compile
    assert not at.exception
    assert [i.value for i in at.info] == ["没有与搜索匹配的表或字段。"]


def test_without_a_snapshot_says_how_to_make_one():
    at = open_page(PAGE)
    assert at.info and "readq demo" in at.info[0].value
    assert not at.text_area


def test_the_page_examples_run(snapshot):
    from warehouse.query import query_snapshot

    at = open_page(PAGE)
    [examples] = [e for e in at.expander if e.label == "示例查询"]
    codes = [c.value for c in examples.code]
    assert len(codes) == 3
    for sql in codes:
        assert query_snapshot(snapshot, sql, limit=5).frame.width > 0
