"""Shared fixtures: every test gets its own data folder (READQ_HOME) and Dagster home."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from readq.config import Home
from warehouse.schema import ensure_schema


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    h = Home(tmp_path / "readq_home").ensure()
    monkeypatch.setenv("READQ_HOME", str(h.root))
    monkeypatch.setenv("DAGSTER_HOME", str(h.dagster_home))
    return h


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """An empty in-memory warehouse with the full schema."""
    conn = duckdb.connect(":memory:")
    ensure_schema(conn)
    yield conn
    conn.close()


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """What the page last offered through st.download_button (data and keyword arguments)."""
    import streamlit as st

    captured: dict[str, object] = {}
    original = st.download_button

    def spy(label, data, *args, **kwargs):
        captured.update(data=data, **kwargs)
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", spy)
    return captured


@pytest.fixture
def streamlit_isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """st.cache_data survives across AppTest instances in one process: clear it around each test,
    and point READQ_HOME at an empty folder."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setenv("READQ_HOME", str(tmp_path / "home"))
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


DASHBOARD_APP = str(Path(__file__).parents[1] / "dashboards" / "app.py")


def run_dashboard(page: str | None = None, **query: str | list[str]):
    """Run the dashboard under AppTest with URL query params, optionally switching to `page`."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(DASHBOARD_APP, default_timeout=30)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()  # the default page first: st.navigation registers the pages
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_page(page: str, **query: str | list[str]):
    """The page opened by a deep link (`/<url_path>?…`): the entrypoint runs with the page chosen, without
    a first run of the default page."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(DASHBOARD_APP, default_timeout=30)
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def publish_copy(built: Path) -> Path:
    """A prepared snapshot copied to where the dashboards read (the test's data folder)."""
    import shutil

    from readq.config import home

    target = home().published
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(built, target)
    return target
