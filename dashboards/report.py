"""The Monthly report page's data: the report of a month written from the published snapshot, the same
files `readq report` and the pipeline's asset reports/monthly write (pipelines/reports/monthly.py),
in the page's language, reader names masked. Cached per snapshot, month and language."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import NamedTuple

import duckdb
import streamlit as st

from dashboards.data import Snapshot, reading


class Report(NamedTuple):
    html: str
    html_name: str
    xlsx_name: str
    paragraphs: list[str]
    empty: bool


def _connect(snap: Snapshot) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(snap.path, read_only=True, config={"python_enable_replacements": False})


@st.cache_data(show_spinner=False, max_entries=16, ttl=3600)
def _report(snap: Snapshot, period: str, lang: str) -> Report:
    from pipelines.reports.monthly import file_names, gather, narrative, render_html

    con = _connect(snap)
    try:
        fig = gather(con, period)
    finally:
        con.close()
    html_name, xlsx_name = file_names(period, lang)
    return Report(render_html(fig, lang, masked=True), html_name, xlsx_name, narrative(fig, lang, masked=True),
                  fig.empty)


@st.cache_data(show_spinner=False, max_entries=16, ttl=3600)
def _workbook(snap: Snapshot, period: str, lang: str) -> bytes:
    from pipelines.reports.monthly import gather, workbook_sheets
    from pipelines.reports.workbook import write_workbook

    con = _connect(snap)
    try:
        sheets = workbook_sheets(con, gather(con, period), lang, masked=True)
    finally:
        con.close()
    with tempfile.TemporaryDirectory(prefix="readq-report-") as tmp:
        path = Path(tmp) / "report.xlsx"
        write_workbook(path, sheets)
        return path.read_bytes()


def report(snap: Snapshot, period: str, lang: str) -> Report:
    """The month's report in `lang` (narrative and HTML; the workbook is `workbook`, written on demand: it
    is most of the time it takes); errors reading the snapshot become `data.SnapshotError`."""
    return reading(_report, snap, period, lang)


def workbook(snap: Snapshot, period: str, lang: str) -> bytes:
    """The month's XLSX in `lang`, the same sheets `readq report` writes."""
    return reading(_workbook, snap, period, lang)


def months(snap: Snapshot) -> list[str]:
    """The months the report can be written for: those of marts.kpi_centre_month."""
    from dashboards.data import query

    return query(snap, "select distinct period from marts.kpi_centre_month order by 1")["period"].to_list()
