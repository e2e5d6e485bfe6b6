"""Query page: one read-only SELECT on the published snapshot, for statisticians, and what every
published table and column means (warehouse/catalogue.toml).

The guards, the row limit and the timeout are warehouse/query.py's, the same as `readq query`'s: this
page only collects the SQL and shows the outcome. The SQL and the row limit go into the URL
(`?sql=…&limit=…`) so a shared link reproduces the query; a SQL text from the URL is data like a
typed one — the same guards check it — and a crafted limit falls back to the default with a message.
DuckDB's own error text quotes the user's SQL: it is shown as plain text (a code block), never Markdown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from checks.exports import csv_bytes
from dashboards import data
from dashboards.anomalies import md_escape
from dashboards.components import published_snapshot
from dashboards.i18n import get_lang, t
from warehouse.query import (
    SNAPSHOT_COLUMNS_SQL,
    QueryError,
    QueryFailed,
    QueryResult,
    QuerySettings,
    QueryTimedOut,
    flat_frame,
    load_catalogue,
    query_snapshot,
    settings,
)

SQL_PARAM = "sql"
LIMIT_PARAM = "limit"
SQL_KEY = "query_sql"
LIMIT_KEY = "query_limit"
SEARCH_KEY = "query_catalogue_search"
LAST_KEY = "query_last_outcome"  # session: the last query's outcome, so a rerun (download, language) does not re-run it
EXAMPLES = (
    "select period, team, customers_due, customers_read, actual_read_rate, error_rate\n"
    "from marts.kpi_team_month\norder by period desc, team",
    "with flags as (\n    select period, team, rule_id, count(*) as flags\n    from marts.reading_flags\n"
    "    group by all\n)\nselect *, flags / sum(flags) over (partition by period, team) as share\n"
    "from flags\norder by period desc, team, flags desc",
    "summarize marts.meter_readings",
)


def url_limit(cfg: QuerySettings) -> tuple[int, bool]:
    """The row limit from `?limit=`, else the default; False when the URL held one that is not valid."""
    asked = st.query_params.get(LIMIT_PARAM)
    if asked is None:
        return cfg.default_limit, True
    try:
        value = int(str(asked).strip())
    except ValueError:
        return cfg.default_limit, False
    return (value, True) if 1 <= value <= cfg.max_limit else (cfg.default_limit, False)


def reason_text(exc: QueryError) -> str:
    return t(f"query_reason_{exc.reason}", **exc.fmt)


def show_error(exc: QueryError) -> None:
    if isinstance(exc, QueryTimedOut):
        st.warning(md_escape(t("query_timed_out", reason=reason_text(exc))), icon=":material/timer_off:")
    elif isinstance(exc, QueryFailed):
        st.error(md_escape(t("query_failed", reason=reason_text(exc))), icon=":material/error:")
    else:
        st.error(md_escape(t("query_refused", reason=reason_text(exc))), icon=":material/block:")
    if exc.detail:
        with st.expander(t("query_detail")):
            st.code(exc.detail, language=None)


def run(snap: data.Snapshot, sql: str, limit: int, *, again: bool) -> QueryResult | QueryError:
    """The outcome of `sql` on the snapshot: reused from this session when the same query on the same
    snapshot already ran (unless `again`: the Run button)."""
    key = (snap, sql, limit)
    last: dict[str, Any] | None = st.session_state.get(LAST_KEY)
    if not again and last is not None and last["key"] == key:
        return last["outcome"]
    try:
        with st.spinner(t("query_running")):
            outcome: QueryResult | QueryError = query_snapshot(Path(snap.path), sql, limit=limit)
    except QueryError as exc:
        outcome = exc
    st.session_state[LAST_KEY] = {"key": key, "outcome": outcome}
    return outcome


def show_result(result: QueryResult) -> None:
    frame = result.frame
    if frame.height == 0:
        st.info(t("query_no_rows"), icon=":material/info:")
    else:
        st.caption(t("query_rows_one") if frame.height == 1 else t("query_rows", n=f"{frame.height:,}"))
    if result.truncated:
        st.warning(t("query_truncated", n=f"{result.limit:,}"), icon=":material/content_cut:")
    if frame.width:
        st.dataframe(frame, hide_index=True, width="stretch", key="query_result")
        st.download_button(t("query_download"), data=csv_bytes(flat_frame(frame)), file_name="query.csv",
                           mime="text/csv", on_click="ignore", icon=":material/download:")


def catalogue_frame(columns: pl.DataFrame) -> pl.DataFrame:
    """Every snapshot column with its meaning: table, column, type, zh, en (empty meaning: none yet)."""
    catalogue = load_catalogue()

    def meaning(table: str, column: str, lang: str) -> str:
        found = catalogue.column(table, column)
        return getattr(found, lang) if found else ""

    rows = columns.rows()
    return pl.DataFrame({
        "table": [r[0] for r in rows],
        "column": [r[1] for r in rows],
        "type": [r[2] for r in rows],
        "zh": [meaning(r[0], r[1], "zh") for r in rows],
        "en": [meaning(r[0], r[1], "en") for r in rows],
    }, schema={"table": pl.String, "column": pl.String, "type": pl.String, "zh": pl.String, "en": pl.String})


def show_catalogue(snap: data.Snapshot) -> None:
    st.header(t("query_catalogue_title"))
    try:
        columns = data.query(snap, SNAPSHOT_COLUMNS_SQL)
    except data.SnapshotError as exc:
        st.warning(t("snapshot_unreadable", error=exc.detail or exc.reason), icon=":material/warning:")
        return
    frame = catalogue_frame(columns)
    st.caption(t("query_catalogue_caption", tables=frame["table"].n_unique(), columns=frame.height))
    missing = frame.filter((pl.col("zh") == "") | (pl.col("en") == "")).height
    if missing:
        st.caption(t("query_missing_meanings", n=missing))
    search = (st.text_input(t("query_catalogue_search"), key=SEARCH_KEY) or "").strip()
    shown = frame
    if search:  # plain text, not a pattern
        needle = search.casefold()
        shown = frame.filter(pl.any_horizontal(pl.col(c).str.to_lowercase().str.contains(needle, literal=True)
                                               for c in ("table", "column", "zh", "en")))
        if shown.height == 0:
            st.info(t("query_catalogue_no_match"), icon=":material/search_off:")
            return
        st.caption(t("query_catalogue_matches", n=shown["table"].n_unique()))
    catalogue = load_catalogue()
    lang = get_lang()
    for table in shown["table"].unique(maintain_order=True).to_list():
        entry = catalogue.tables.get(table)
        about = (entry.zh if lang == "zh" else entry.en) if entry else t("query_no_meaning")
        with st.expander(md_escape(f"{table} — {about}"), expanded=bool(search)):
            if entry:
                st.caption(md_escape(entry.en if lang == "zh" else entry.zh))
            rows = shown.filter(pl.col("table") == table)
            st.dataframe(pl.DataFrame({
                t("query_col_column"): rows["column"],
                t("query_col_type"): rows["type"],
                t("query_col_zh"): rows["zh"].replace("", t("query_no_meaning")),
                t("query_col_en"): rows["en"].replace("", t("query_no_meaning")),
            }), hide_index=True, width="stretch")


def main() -> None:
    st.title(t("query_title"))
    cfg = settings()
    st.caption(t("query_intro", max=f"{cfg.max_limit:,}", timeout=f"{cfg.timeout_seconds:g}"))
    snap = published_snapshot()
    if snap is None:
        return
    asked_sql = st.query_params.get(SQL_PARAM) or ""  # data: checked by the guards like typed SQL
    limit_default, limit_ok = url_limit(cfg)
    if not limit_ok:
        st.info(t("query_limit_invalid", default=f"{cfg.default_limit:,}", max=f"{cfg.max_limit:,}"),
                icon=":material/info:")
        st.query_params[LIMIT_PARAM] = str(limit_default)
    with st.form("query_form"):
        sql = st.text_area(t("query_sql_label"), value=asked_sql, height=160, key=SQL_KEY,
                           placeholder=t("query_sql_placeholder"))
        limit = st.number_input(t("query_limit_label"), min_value=1, max_value=cfg.max_limit, value=limit_default,
                                step=100, key=LIMIT_KEY,
                                help=t("query_limit_help", default=f"{cfg.default_limit:,}", max=f"{cfg.max_limit:,}"))
        clicked = st.form_submit_button(t("query_run"), type="primary", icon=":material/play_arrow:")
    with st.expander(t("query_examples")):
        for example in EXAMPLES:
            st.code(example, language="sql")
    if clicked:
        sql, limit = sql or "", int(limit)
        st.query_params[SQL_PARAM] = sql
        st.query_params[LIMIT_PARAM] = str(limit)
        outcome: QueryResult | QueryError | None = run(snap, sql, limit, again=True)
    elif asked_sql:
        outcome = run(snap, asked_sql, limit_default, again=False)
    else:
        outcome = None
        st.caption(t("query_hint"))
    if isinstance(outcome, QueryError):
        show_error(outcome)
    elif isinstance(outcome, QueryResult):
        show_result(outcome)
    show_catalogue(snap)


main()
