"""Empty and partial states on every page (issue 11 item 6): a fresh install points to `readq demo`, a month
with readings only says which kinds are missing and what that leaves without data, and a URL naming a
month, team or filter value that the data does not hold says so instead of failing or silently showing
something else."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from checks.mappings import KINDS, load_mapping
from dashboards import delivery_balance as q
from dashboards.app import PAGES
from pipelines.defs.publish.assets import published_warehouse
from pipelines.defs.resources import build_resources
from readq.config import Home
from tests.conftest import open_page, publish_copy
from tests.test_pipeline_month import materialize_month, write_month

PAGE_FILES = [f"views/{spec.file}" for spec in PAGES]
MONTH_PAGES = [p for p in PAGE_FILES if not p.endswith(("quality.py", "query.py"))]
TEAM_PAGES = [p for p in MONTH_PAGES if not p.endswith("report.py")]


def texts(at) -> list[str]:
    return [str(e.value) for kind in ("info", "warning", "error", "success") for e in getattr(at, kind)]


def build(tmp_path: Path, *, with_findings: bool) -> Home:
    h = Home(tmp_path / "built").ensure()
    write_month(h.landing, with_findings=with_findings)
    assert materialize_month(h).success
    assert dg.materialize([published_warehouse], resources=build_resources(h)).success
    return h


@pytest.fixture(scope="module")
def readings_only(tmp_path_factory) -> Path:
    """A published snapshot of one month that delivered readings and nothing else."""
    return build(tmp_path_factory.mktemp("readings_only"), with_findings=False).published


@pytest.fixture(scope="module")
def full_month(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("full"), with_findings=True).published


@pytest.fixture
def at_home(streamlit_isolated):
    """Publish a built snapshot into the test's (empty) data folder."""
    return publish_copy


@pytest.mark.parametrize("page", PAGE_FILES)
def test_fresh_install_points_to_the_demo(streamlit_isolated, page: str) -> None:
    at = open_page(page)
    shown = " ".join(texts(at)) + " ".join(str(c.value) for c in at.caption)
    assert "readq demo" in shown, (page, shown)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("page", PAGE_FILES)
def test_readings_only_opens_every_page(at_home, readings_only: Path, page: str, lang: str) -> None:
    at_home(readings_only)
    at = open_page(page, lang=lang)  # asserts no exception
    assert at.title, page


def test_readings_only_names_the_missing_kinds(at_home, readings_only: Path) -> None:
    at_home(readings_only)
    labels = {k: load_mapping(k).label_zh for k in KINDS}
    at = open_page("views/quality.py")
    warning = next(w.value for w in at.warning if "未交付" in w.value)
    assert "2024-03 未交付 4 类数据" in warning
    for kind in ("review_findings", "field_anomalies", "assignments", "customers"):
        assert labels[kind] in warning
    assert labels["readings"] not in warning
    coverage = next(df for df in (d.value for d in at.dataframe) if "抄表明细" in df.columns)
    row = coverage.row(0, named=True) if isinstance(coverage, pl.DataFrame) else coverage.iloc[0].to_dict()
    assert row["抄表明细"] == "2" and row["复核差错记录"] == "未交付"

    errors = open_page("views/errors.py")
    assert any("未交付复核差错记录" in s and "不是 0" in s for s in texts(errors))
    overview = open_page("views/overview.py")
    error_card = next(m for m in overview.metric if m.label == "抄表差错率（户）")
    assert error_card.value == "无数据"  # not 0.00 %
    assert any("本月未交付复核差错记录" in c.value for c in overview.caption)
    readers = open_page("views/readers.py")
    assert any("抄表派工" in s for s in texts(readers))
    assessment = open_page("views/assessment.py")
    assert any("未交付复核差错记录" in s and "得分未含这些项" in s for s in texts(assessment))


def test_english_names_the_missing_kinds(at_home, readings_only: Path) -> None:
    at_home(readings_only)
    at = open_page("views/quality.py", lang="en")
    warning = next(w.value for w in at.warning if "not delivered" in w.value)
    assert load_mapping("review_findings").label_en in warning and "error rates" in warning


def test_a_complete_kind_is_not_called_missing(at_home, full_month: Path) -> None:
    at_home(full_month)
    at = open_page("views/quality.py")
    warning = next(w.value for w in at.warning if "未交付" in w.value)
    assert "未交付 3 类数据" in warning and load_mapping("review_findings").label_zh not in warning


CRAFTED = {"month": "2099-01", "team": "<b>x</b>", "reader": "nobody", "segment": "'; drop", "rule": "R99",
           "kind": "zzz", "delivery": "nope", "metric": "bogus", "kpi": "bogus"}


@pytest.mark.parametrize("page", PAGE_FILES)
def test_crafted_params_give_a_message_not_an_exception(at_home, full_month: Path, page: str) -> None:
    at_home(full_month)
    at = open_page(page, **CRAFTED)  # asserts no exception
    shown = texts(at)
    if page in MONTH_PAGES:
        assert any("2099-01" in s and "不在数据中" in s and "2024-03" in s for s in shown), (page, shown)
    if page in TEAM_PAGES:
        # the team is named escaped (shown as typed, never as markup) and dropped
        assert any(r"\<b\>x\</b\>" in s and "已忽略" in s for s in shown), (page, shown)
    if page.endswith("quality.py"):
        assert any("2099-01" in s and "全部月份" in s for s in shown)
        assert any("zzz" in s for s in shown) and any("nope" in s for s in shown)
    if page.endswith("anomalies.py"):
        assert any("R99" in s and "全部规则" in s for s in shown)


def test_kind_coverage_counts_loaded_files_only() -> None:
    deliveries = pl.DataFrame({
        "period": ["2024-03", "2024-03", "2024-03", "2024-02", None],
        "kind": ["readings", "readings", "review_findings", "readings", None],
        "status": ["loaded", "superseded", "rejected", "loaded", "rejected"],
    })
    cov = q.kind_coverage(deliveries, ("readings", "review_findings"))
    assert cov.to_dicts() == [{"period": "2024-03", "readings": 2, "review_findings": 0},
                              {"period": "2024-02", "readings": 1, "review_findings": 0}]
    assert q.missing_kinds(cov, "2024-03") == ["review_findings"]
    assert q.missing_kinds(cov, "2023-01") == ["readings", "review_findings"]
