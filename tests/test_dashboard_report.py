"""The Monthly report page through Streamlit's AppTest, on the snapshot of the hand-built centre with every
mart built (tests/test_monthly_report.py `built`): its narrative is the report's, both files download
with what `readq report` writes, the page follows the language, and a crafted month is ignored."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import polars as pl
import pytest

from pipelines.reports.monthly import file_names, gather, narrative
from readq.config import Home
from tests.conftest import open_page
from tests.test_assessment import cfg as cfg  # the fixture, for this module's tests
from tests.test_cli_assessment import published as published  # the fixture: scores, rotation and recheck
from tests.test_dashboard_assessment import offered as offered  # the fixture: files offered for download
from tests.test_monthly_report import PERIOD
from tests.test_monthly_report import built as built  # the fixture: every mart built, then published
from warehouse.connection import connect

PAGE = "views/report.py"


@pytest.fixture
def page_home(built: Home) -> Home:
    import streamlit as st

    st.cache_data.clear()
    yield built
    st.cache_data.clear()


def test_the_page_shows_the_narrative_and_offers_both_files(page_home: Home, offered: dict[str, bytes]) -> None:
    at = open_page(PAGE)
    with connect(page_home.published, read_only=True) as conn:
        said = narrative(gather(conn, PERIOD), "zh")
    shown = [x.value for x in at.text]
    assert shown == said
    html_name, xlsx_name = file_names(PERIOD, "zh")
    assert set(offered) == {html_name, xlsx_name}
    page = offered[html_name].decode("utf-8")
    assert "抄表质量月报（2024-03）" in page and said[0].split("，")[0] in page
    sheets = pl.read_excel(BytesIO(offered[xlsx_name]), sheet_id=0)
    assert {"差错统计表", "指标", "考核汇总"} <= set(sheets)


def test_the_page_follows_the_language_and_ignores_a_crafted_month(page_home: Home, offered: dict[str, bytes]) -> None:
    at = open_page(PAGE, lang="en", month="<b>2024-99</b>")
    assert at.title[0].value == "Monthly report"
    assert any(x.value.startswith("Actual-read rate was") for x in at.text)
    assert set(offered) == set(file_names(PERIOD, "en"))     # the crafted month falls back to the latest


def test_without_a_snapshot_the_page_points_to_the_demo(streamlit_isolated, tmp_path: Path) -> None:
    at = open_page(PAGE)
    assert any("readq demo" in i.value for i in at.info)
