"""End to end in a real browser: pipeline -> published snapshot -> Streamlit -> Debian chromium.

Marked `e2e` (run by .ci/run, which installs chromium with apt). Skips when no chromium is
installed, so a developer without it still gets the rest of the suite.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import duckdb
import pytest

from pipelines.defs.publish.assets import published_warehouse
from pipelines.defs.resources import build_resources
from readq.config import Home
from tests.e2e.serving import launch, serve
from tests.test_pipeline_month import materialize_month, write_month

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(data_home: Home) -> Iterator[str]:
    write_month(data_home.landing)
    assert materialize_month(data_home).success
    assert dg.materialize([published_warehouse], resources=build_resources(data_home)).success
    yield from serve(data_home.root)


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        yield browser.new_page()
        browser.close()


def wait_for_app(page) -> None:
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000)
    page.wait_for_selector("[data-testid='stMetricValue']", timeout=60_000)


def test_director_sees_centre_kpis_in_chinese_then_english_while_the_pipeline_writes(
        server: str, page, data_home: Home) -> None:
    writer = duckdb.connect(str(data_home.warehouse))  # the pipeline holds its own file meanwhile
    try:
        page.goto(f"{server}/?month=2024-03")
        wait_for_app(page)
        values = page.get_by_test_id("stMetricValue").all_inner_texts()
        labels = page.get_by_test_id("stMetricLabel").all_inner_texts()
        assert "50.00%" in values           # 实抄率: 4 of 8 customers due read (the quarantined one is due)
        assert "25.000%" in values          # 差错率: 1 customer with an error of 4 read
        assert any("实抄率" in label for label in labels)

        page.goto(f"{server}/?month=2024-03&lang=en")
        wait_for_app(page)
        labels = page.get_by_test_id("stMetricLabel").all_inner_texts()
        assert any("Actual-read rate" in label for label in labels)
        assert "50.00%" in page.get_by_test_id("stMetricValue").all_inner_texts()
    finally:
        writer.close()
