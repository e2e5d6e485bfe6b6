"""Per-team access (issue 11 item 3, config/readq.toml [access]): a team leader sees only their team on every
page, download, report and the Query page, whatever the URL says; director and statistician see every team;
a user not listed, or no signed-in user, sees no data; without [access] the app says it is a single-user
local tool. The scoped copy itself (warehouse/scoping.py) holds no other team's row."""

from __future__ import annotations

import shutil
from io import BytesIO
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from dashboards import access
from dashboards.app import PAGES
from pipelines.defs.publish.assets import published_warehouse
from pipelines.defs.resources import build_resources
from readq.config import REPO_ROOT, Home, load_toml
from tests.conftest import open_page, publish_copy
from tests.test_dashboard_assessment import offered as offered  # the fixture: files offered for download
from tests.test_pipeline_month import materialize_month, write_month
from warehouse.scoping import ScopingPolicy, write_scoped

PAGE_FILES = [f"views/{spec.file}" for spec in PAGES]
OWN, OTHER = "城东", "城西"
USERS = """
[access]
source = "{source}"
header = "X-Forwarded-User"
[access.users]
"zhang.wei" = {{ role = "director" }}
"li.na" = {{ role = "statistician" }}
"wang.qiang" = {{ role = "team_leader", team = "城东" }}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """One month of two teams (城东, 城西) with review findings, every mart, published."""
    h = Home(tmp_path_factory.mktemp("access") / "home").ensure()
    write_month(h.landing)
    assert materialize_month(h).success
    assert dg.materialize([published_warehouse], resources=build_resources(h)).success
    return h.published


def with_access(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str = "header", extra: str = "") -> None:
    folder = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config", folder)
    with open(folder / "readq.toml", "a", encoding="utf-8") as f:
        f.write(USERS.format(source=source) + extra)
    monkeypatch.setenv("READQ_CONFIG", str(folder))


def signed_in_as(monkeypatch: pytest.MonkeyPatch, user: str | None) -> None:
    """The reverse proxy's header as the app reads it (AppTest sends no headers of its own)."""
    monkeypatch.setattr(access, "request_headers", lambda: {} if user is None else {"x-forwarded-user": user})


@pytest.fixture
def served(streamlit_isolated, built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    with_access(tmp_path, monkeypatch)
    return publish_copy(built)


def shown_text(at) -> str:
    """Everything the page shows as text: messages, headings, metrics, widget options and every table cell."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success",
                 "text", "code"):
        parts += [str(e.value) for e in getattr(at, kind)]
    for m in at.metric:
        parts += [str(m.label), str(m.value)]
    for kind in ("selectbox", "multiselect", "radio"):
        for w in getattr(at, kind):
            parts += [str(o) for o in w.options]
    for d in at.dataframe:
        df = d.value
        parts += [str(c) for c in df.columns] + [str(v) for v in df.astype(str).to_numpy().ravel()]
    parts += [str(e.proto) for e in at.get("plotly_chart")]
    return "\n".join(parts)


@pytest.mark.parametrize("page", PAGE_FILES)
def test_a_team_leader_sees_only_their_team_on_every_page(served: Path, monkeypatch, page: str) -> None:
    signed_in_as(monkeypatch, "wang.qiang")
    at = open_page(page)
    text = shown_text(at) + "\n".join(c.value for c in at.sidebar.caption)
    assert OTHER not in text, page
    assert any("wang.qiang" in c.value and "抄表队长" in c.value for c in at.sidebar.caption)
    assert any(OWN in c.value and "其他抄表队的数据不在本视图中" in c.value for c in at.sidebar.caption)


@pytest.mark.parametrize("page", ["views/overview.py", "views/errors.py", "views/anomalies.py",
                                  "views/assessment.py"])
def test_editing_the_url_does_not_reach_another_team(served: Path, monkeypatch, page: str) -> None:
    signed_in_as(monkeypatch, "wang.qiang")
    at = open_page(page, team=OTHER, reader=f"{OTHER} / 孙七", focus=OTHER)
    text = shown_text(at)
    # the other team is only named in the message that it was dropped; none of its numbers is shown
    assert text.count(OTHER) == sum(m.value.count(OTHER) for m in at.info), page
    assert any(OTHER in m.value and "已忽略" in m.value for m in at.info), page


def test_the_overview_scope_names_the_team(served: Path, monkeypatch) -> None:
    signed_in_as(monkeypatch, "wang.qiang")
    at = open_page("views/overview.py")
    assert any(f"范围：{OWN}（按您的权限" in c.value for c in at.caption)
    with duckdb.connect(str(served), read_only=True) as con:
        due = con.execute("select customers_due from marts.kpi_team_month where team = ?", [OWN]).fetchall()[0][0]
    card = next(c.value for c in at.caption if c.value.startswith("实抄"))
    assert f"应抄 {due} 户" in card  # the team's own count, not the centre's


def test_the_query_page_is_scoped(served: Path, monkeypatch) -> None:
    signed_in_as(monkeypatch, "wang.qiang")
    at = open_page("views/query.py")
    at.text_area(key="query_sql").input("select distinct team from marts.meter_readings order by 1")
    at.button[0].click().run()
    result = [d.value for d in at.dataframe if list(d.value.columns) == ["team"]]
    assert result and result[0]["team"].tolist() == [OWN]
    for sql in ("select * from marts.rule_efficacy",   # a centre-wide table: left out of the copy
                f"attach '{served}' as full_snapshot"):
        at.text_area(key="query_sql").input(sql)
        at.button[0].click().run()
        assert not at.exception and at.error, sql
    assert OTHER not in shown_text(at)


def test_the_monthly_report_downloads_hold_only_the_team(served: Path, monkeypatch, offered) -> None:
    signed_in_as(monkeypatch, "wang.qiang")
    open_page("views/report.py")
    html = next(v for k, v in offered.items() if k.endswith(".html")).decode("utf-8")
    xlsx = next(v for k, v in offered.items() if k.endswith(".xlsx"))
    assert OWN in html and OTHER not in html
    sheets = pl.read_excel(BytesIO(xlsx), sheet_id=0)
    cells = "\n".join(str(v) for df in sheets.values() for col in df.iter_columns() for v in col.to_list())
    assert OWN in cells and OTHER not in cells


@pytest.mark.parametrize("user", ["zhang.wei", "li.na"])
def test_director_and_statistician_see_every_team(served: Path, monkeypatch, user: str) -> None:
    signed_in_as(monkeypatch, user)
    at = open_page("views/overview.py")
    text = shown_text(at)
    assert OWN in text and OTHER in text
    assert any("全部抄表队" in c.value for c in at.sidebar.caption)


def test_a_user_not_listed_sees_no_data(served: Path, monkeypatch) -> None:
    signed_in_as(monkeypatch, "intruder")
    for page in PAGE_FILES:
        at = open_page(page)
        assert any("intruder" in e.value and "没有查看本看板的权限" in e.value for e in at.error)
        assert not at.dataframe and not at.metric
        assert OWN not in shown_text(at) and OTHER not in shown_text(at)


def test_without_the_proxy_header_nothing_is_shown(served: Path, monkeypatch) -> None:
    signed_in_as(monkeypatch, None)
    at = open_page("views/errors.py")
    assert any("X-Forwarded-User" in w.value for w in at.warning)
    assert not at.dataframe and not at.metric


def test_oidc_login(streamlit_isolated, built: Path, tmp_path: Path, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.conftest import DASHBOARD_APP

    with_access(tmp_path, monkeypatch, source="oidc")
    publish_copy(built)
    at = AppTest.from_file(DASHBOARD_APP, default_timeout=30)
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["登录"] and not at.dataframe
    at = AppTest.from_file(DASHBOARD_APP, default_timeout=30)
    at.user = {"is_logged_in": True, "email": "wang.qiang"}
    at.run()
    assert not at.exception
    assert OWN in shown_text(at) and OTHER not in shown_text(at)
    assert "退出登录" in [b.label for b in at.sidebar.button]


def test_without_access_the_app_says_it_is_a_local_tool(streamlit_isolated, built: Path) -> None:
    publish_copy(built)
    at = open_page("views/overview.py")
    assert any("单用户本地模式" in c.value for c in at.sidebar.caption)
    assert OTHER in shown_text(at)


@pytest.mark.parametrize(("entry", "message"), [
    ('"x" = { role = "boss" }', "role must be one of"),
    ('"y" = { role = "team_leader" }', "needs team"),
])
def test_a_wrong_access_section_is_named_and_shows_nothing(streamlit_isolated, built: Path, tmp_path: Path,
                                                           monkeypatch, entry: str, message: str) -> None:
    with_access(tmp_path, monkeypatch, extra=entry + "\n")
    publish_copy(built)
    signed_in_as(monkeypatch, "zhang.wei")
    at = open_page("views/overview.py")
    assert any(message in e.value for e in at.error) and not at.dataframe, [e.value for e in at.error]


def test_the_scoped_copy_holds_no_other_team_row(built: Path, tmp_path: Path) -> None:
    policy = ScopingPolicy.from_config(load_toml("readq.toml")["scoping"])
    result = write_scoped(built, [OWN], tmp_path / "scoped.duckdb", policy)
    with duckdb.connect(str(result.path), read_only=True) as con:
        tables = {n: cols for n, cols in con.execute(
            "select schema_name || '.' || table_name, list(column_name) from duckdb_columns() group by all"
        ).fetchall()}
        for name, cols in tables.items():
            if "team" in cols:
                teams = {r[0] for r in con.execute(f"select distinct team from {name}").fetchall()}
                assert teams <= {OWN, None}, name
        files = [r[0] for r in con.execute("select file_name from ops.deliveries order by 1").fetchall()]
        centre = con.execute("select customers_due from marts.kpi_centre_month").fetchall()
        behind = " and ".join(
            f"not exists (select 1 from {t} m where m.delivery_id = r.delivery_id and m.source_row = r.source_row)"
            for t in ("marts.assessment_ledger", "marts.reading_flags", "marts.error_findings",
                      "marts.workflow_reports", "marts.meters_due"))
        raw = [n for n in tables if n.startswith("raw.")]
        orphans = {n: con.execute(f"select count(*) from {n} r where {behind}").fetchall()[0][0] for n in raw}
    with duckdb.connect(str(built), read_only=True) as con:
        own_due = con.execute("select customers_due from marts.kpi_team_month where team = ?", [OWN]).fetchall()
    assert centre == own_due                      # the "centre" of a team leader is the team
    assert all(OTHER not in f for f in files)     # the other team's file is not listed
    assert "marts.rule_efficacy" in result.left_out and "marts.rule_efficacy" not in tables
    # the delivered rows kept are those behind the team's own rows, and there are some
    assert raw and sum(result.rows[n] for n in raw) > 0 and not any(orphans.values()), orphans
    # a file holding both teams' rows (the review findings) is listed, its quarantine detail is not
    assert any(f.startswith("复核差错记录") for f in files)
