"""The whole app in a real browser (issue 11 item 4): a small demo centre built by `readq demo`, served by
Streamlit, driven by Playwright on Debian's chromium.

- every page opens in zh-CN and en with no exception, and a screenshot of each is saved;
- one drill-down from the Overview to a source line: ranking row -> the team's errors -> a reader ->
  the reader's flags -> a meter -> its delivered row (masked), file and line;
- the monthly report's files download and hold the month's figures;
- a team leader (signed in through the proxy header) sees only their team.

Screenshots go to `$READQ_ARTIFACTS` (default `artifacts/screenshots/` in the repository), kept as CI
artifacts. Marked `e2e` (run by .ci/run, which installs chromium and fonts-noto-cjk with apt).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dashboards.app import PAGES
from readq.config import REPO_ROOT
from tests.e2e.serving import CHROMIUM, launch, serve

pytestmark = pytest.mark.e2e
ARTIFACTS = Path(os.environ.get("READQ_ARTIFACTS", REPO_ROOT / "artifacts" / "screenshots"))
LEADER, LEADER_TEAM = "wang.qiang", "城东抄表队"
ACCESS = f"""
[access]
source = "header"
header = "X-Forwarded-User"
[access.users]
"zhang.wei" = {{ role = "director" }}
"{LEADER}" = {{ role = "team_leader", team = "{LEADER_TEAM}" }}
"""


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory) -> Path:
    """A small demo centre (1,500 customers, 2 months), built and published by `readq demo --no-serve`."""
    if CHROMIUM is None:
        pytest.skip("Debian chromium not installed (apt-get install chromium)")
    home = tmp_path_factory.mktemp("e2e") / "home"
    env = {**os.environ, "READQ_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    subprocess.run([sys.executable, "-m", "readq.cli", "demo", "--customers", "1500", "--months", "2",
                    "--no-serve"], env=env, check=True, cwd=REPO_ROOT, stdout=subprocess.DEVNULL)
    assert (home / "published" / "warehouse.duckdb").exists()
    return home


@pytest.fixture(scope="module")
def server(demo_home: Path) -> Iterator[str]:
    yield from serve(demo_home)


@pytest.fixture(scope="module")
def scoped_server(demo_home: Path, tmp_path_factory) -> Iterator[str]:
    config = tmp_path_factory.mktemp("config") / "config"
    shutil.copytree(REPO_ROOT / "config", config)
    with open(config / "readq.toml", "a", encoding="utf-8") as f:
        f.write(ACCESS)
    yield from serve(demo_home, config)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True, locale="zh-CN")
    yield context.new_page()
    context.close()


def settle(page) -> None:
    """Wait until the script has run and the page stopped changing."""
    page.wait_for_selector("[data-testid='stApp']", timeout=60_000)
    for _ in range(2):
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
        page.wait_for_timeout(300)
    page.wait_for_selector("h1", timeout=60_000)


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def no_exception(page) -> None:
    errors = page.get_by_test_id("stException").all_inner_texts()
    assert not errors, errors


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_opens_without_an_exception(server: str, page, lang: str) -> None:
    for spec in PAGES:
        page.goto(f"{server}/{spec.url_path}" + ("?lang=en" if lang == "en" else ""))
        settle(page)
        no_exception(page)
        title = page.locator("h1").first.inner_text()
        assert title.strip(), spec.url_path
        if lang == "zh":
            assert re.search(r"[\u4e00-\u9fff]", title), (spec.url_path, title)
        else:
            assert re.match(r"[A-Za-z]{3,}", title), (spec.url_path, title)   # English first
        shot(page, f"{lang}_{spec.url_path}")


def pick(page, label: str, option: str | None = None) -> str:
    """Open the select labelled `label` (a combobox) and choose the option holding `option` (else the first);
    the chosen option's text."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.scroll_into_view_if_needed()
    box.click()
    page.keyboard.press("ArrowDown")
    options = page.get_by_role("option")
    options.first.wait_for(timeout=30_000)
    chosen = options.filter(has_text=option).first if option else options.first
    text = chosen.inner_text()
    chosen.click()
    settle(page)
    return text


def grid_cells(page, grid=None) -> list[str]:
    """The text of the visible cells of every table on the page (or of `grid`): st.dataframe draws on a
    canvas and keeps an accessible table of the rows in view."""
    (grid or page.get_by_test_id("stDataFrame").last).scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    scope = grid if grid is not None else page.get_by_test_id("stMain")
    return [c.strip() for c in scope.locator("td").all_inner_texts()]


def test_drill_down_from_the_overview_to_a_source_line(server: str, page, demo_home: Path) -> None:
    page.goto(server)
    settle(page)
    # the ranking: select its last row (the weakest team) by the grid's row marker, then follow the link
    grid = page.locator(".st-key-overview_ranking [data-testid='stDataFrame']")
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + box["height"] - 18)
    settle(page)
    link = page.get_by_test_id("stPageLink").filter(has_text="的差错统计与抄表员")
    team = re.search(r"打开 (\S+) 的差错统计", link.inner_text()).group(1)
    shot(page, "drill_0_overview_ranking")
    link.click()
    settle(page)
    no_exception(page)
    assert "team=" in page.url and "/errors" in page.url
    shot(page, "drill_1_errors_team")
    # a reader of that team with flags: the reader's findings and flags, then the link to their flags
    with duckdb.connect(str(demo_home / "published" / "warehouse.duckdb"), read_only=True) as con:
        month = con.execute("select max(period) from marts.reading_flags").fetchall()[0][0]
        reader = con.execute("""
            select s.reader from marts.error_stats_reader_month s
            join marts.reading_flags f using (period, team, reader)
            where s.period = ? and s.team = ? group by s.reader order by count(*) desc limit 1""",
                             [month, team]).fetchall()
    assert reader, team
    pick(page, "抄表员（差错明细）", reader[0][0])
    shot(page, "drill_2_errors_reader")
    page.get_by_test_id("stPageLink").filter(has_text="异常标记页").first.click()
    settle(page)
    no_exception(page)
    assert "/anomalies" in page.url and "reader=" in page.url
    # a meter of the reader's flags: its history, the delivered row (masked), its file and line
    pick(page, "计量点（选择一条标记，查看该计量点的历史与原始记录）")
    page.get_by_text("溯源：交付文件、行号与原始行").first.wait_for(timeout=30_000)
    page.get_by_text("原始行（按交付原样，个人信息已脱敏）").first.scroll_into_view_if_needed()
    shot(page, "drill_3_source_line")
    cells = grid_cells(page)
    assert any(c.startswith("抄表明细_") for c in cells)       # the source file (and its line beside it)
    delivered = grid_cells(page, page.get_by_test_id("stDataFrame").last)
    name = delivered[delivered.index("customer_name") + 2]     # field, export header, value
    assert name.endswith("**") and len(name) >= 3, name        # the delivered row, personal columns masked


def test_the_monthly_report_downloads(server: str, page) -> None:
    page.goto(f"{server}/report")
    settle(page)
    no_exception(page)
    files = {}
    for button in page.get_by_test_id("stDownloadButton").all():
        with page.expect_download() as info:
            button.click()
        files[info.value.suggested_filename] = Path(info.value.path()).read_bytes()
    html = next(v for k, v in files.items() if k.endswith(".html")).decode("utf-8")
    xlsx = next(v for k, v in files.items() if k.endswith(".xlsx"))
    assert "抄表质量月报" in html and "plotly" in html.lower()
    assert not re.search(r"<script[^>]+src=", html)   # self-contained: opens offline
    sheets = pl.read_excel(BytesIO(xlsx), sheet_id=0)
    assert {"差错统计表", "指标", "考核汇总"} <= set(sheets)
    shot(page, "zh_report_downloaded")


def test_a_team_leader_sees_only_their_team(scoped_server: str, browser) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 1000},
                                  extra_http_headers={"X-Forwarded-User": LEADER})
    page = context.new_page()
    try:
        page.goto(f"{scoped_server}/errors?team=城西抄表队")
        settle(page)
        no_exception(page)
        body = page.locator("[data-testid='stApp']").inner_text()
        assert LEADER in body and LEADER_TEAM in body
        others = {"城西抄表队", "城南抄表队", "城关一队", "城关二队"}
        # another team appears only in the message saying the link's team was dropped
        assert [t for t in others if t in body] == ["城西抄表队"] and body.count("城西抄表队") == 1
        shot(page, "team_leader_errors")
        page.goto(f"{scoped_server}/")
        settle(page)
        body = page.locator("[data-testid='stApp']").inner_text()
        assert not [t for t in others if t in body]
        shot(page, "team_leader_overview")
    finally:
        context.close()
    anonymous = browser.new_context()
    try:
        p = anonymous.new_page()
        p.goto(scoped_server)
        p.wait_for_selector("[data-testid='stAlert']", timeout=60_000)
        assert "X-Forwarded-User" in p.locator("[data-testid='stApp']").inner_text()
        assert not p.get_by_test_id("stDataFrame").count()
    finally:
        anonymous.close()


def test_screenshots_can_show_chinese() -> None:
    """Chromium draws Chinese with a font that has the glyphs (fonts-noto-cjk), not as boxes."""
    if CHROMIUM is None:
        pytest.skip("Debian chromium not installed (apt-get install chromium)")
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False).stdout
    assert fonts.strip(), "no font with Chinese glyphs: apt-get install fonts-noto-cjk (.ci/run does)"
