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
    xlsx: bytes
    html_name: str
    xlsx_name: str
    paragraphs: list[str]
    empty: bool


@st.cache_data(show_spinner=False, max_entries=16, ttl=3600)
def _report(snap: Snapshot, period: str, lang: str) -> Report:
    from pipelines.reports.monthly import gather, write_report

    con = duckdb.connect(snap.path, read_only=True, config={"python_enable_replacements": False})
    try:
        empty = gather(con, period).empty
        with tempfile.TemporaryDirectory(prefix="readq-report-") as tmp:
            written = write_report(con, period, Path(tmp), lang)
            return Report(written.html.read_text(encoding="utf-8"), written.xlsx.read_bytes(), written.html.name,
                          written.xlsx.name, written.paragraphs, empty)
    finally:
        con.close()


def report(snap: Snapshot, period: str, lang: str) -> Report:
    """The month's report in `lang`; errors reading the snapshot become `data.SnapshotError`."""
    return reading(_report, snap, period, lang)


def months(snap: Snapshot) -> list[str]:
    """The months the report can be written for: those of marts.kpi_centre_month."""
    from dashboards.data import query

    return query(snap, "select distinct period from marts.kpi_centre_month order by 1")["period"].to_list()
