"""Data-quality page: did every delivered row reach the warehouse or quarantine, and which files
were rejected and why? Reads ops.deliveries, quarantine.rows (masked values only) and
ops.skipped_rows from the published snapshot."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import polars as pl
import streamlit as st

from checks.exports import csv_bytes
from checks.mappings import KINDS
from dashboards import data
from dashboards import delivery_balance as q
from dashboards.anomalies import md_escape
from dashboards.charts import bar_counts
from dashboards.components import KIND_KEY, MONTH_KEY, choice_or_all, published_snapshot
from dashboards.i18n import get_lang, t

DELIVERY_KEY = "delivery"
MAX_LINES = 20  # deliveries listed in a failed-invariant message
DISPLAY_LIMIT = 5_000  # quarantine entries shown on screen
CSV_LIMIT = 200_000  # quarantine entries fetched for the CSV (kept in the cache: bounded)


def received_config() -> dict[str, object]:
    return {t("col_received"): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")}


class Loaded(NamedTuple):
    snap: data.Snapshot
    deliveries: pl.DataFrame
    has_masked_value: bool


def load() -> Loaded | None:
    """The snapshot and its delivery registry, or None after telling the user why there is none."""
    snap = published_snapshot()
    if snap is None:
        return None
    try:
        columns = data.quality_columns(snap)
        missing = data.missing_quality_tables(columns)
        if missing:
            st.info(t("no_quality_tables", tables=", ".join(missing)), icon=":material/info:")
            return None
        deliveries = data.deliveries(snap)
    except data.SnapshotError as exc:
        st.warning(t("snapshot_unreadable", error=exc.detail or exc.reason), icon=":material/warning:")
        return None
    if deliveries.height == 0:
        st.info(t("no_deliveries"), icon=":material/info:")
        return None
    return Loaded(snap, deliveries, "masked_value" in columns["quarantine.rows"])


def kind_text(labels: data.MappingLabels) -> Callable[[str | None], str]:
    index = 0 if get_lang() == "zh" else 1

    def text(kind: str | None) -> str:
        if not kind:
            return "—"
        label = labels.kinds.get(kind)
        return f"{kind} · {label[index]}" if label else kind

    return text


def status_text(status: str | None) -> str:
    key = q.STATUS_KEYS.get(status or "")
    return t(key) if key else (status or "—")


def fmt_int(n: int | None) -> str:
    return "—" if n is None else f"{n:,}"


def render_headline(h: q.Headline) -> None:
    files = [
        ("metric_files_received", h.files, "help_files"),
        ("metric_files_loaded", h.loaded, None),
        ("metric_files_partly_superseded", h.partly_superseded, "help_partly_superseded"),
        ("metric_files_superseded", h.superseded, "help_superseded"),
        ("metric_files_rejected", h.rejected, None),
    ]
    rows = [
        ("metric_rows_read", h.rows_read, "help_rows"),
        ("metric_rows_loaded", h.rows_loaded, None),
        ("metric_rows_quarantined", h.rows_quarantined, None),
        ("metric_rows_skipped", h.rows_skipped, "help_skipped"),
    ]
    for title, metrics in ((t("headline_files"), files), (t("headline_rows"), rows)):
        st.markdown(f"**{title}**")
        for col, (key, value, help_key) in zip(st.columns(len(metrics)), metrics, strict=True):
            with col:
                st.metric(t(key), fmt_int(value), border=True, help=t(help_key) if help_key else None)


def _file_name(row: dict) -> str:
    return row["file_name"] + (f" / {row['sheet']}" if row.get("sheet") else "")


def _lines(df: pl.DataFrame, line: Callable[[dict], str]) -> str:
    items = [f"- {line(row)}" for row in df.head(MAX_LINES).iter_rows(named=True)]
    if df.height > MAX_LINES:
        items.append(f"- {t('more_lines', n=df.height - MAX_LINES)}")
    return "\n".join(items)


def render_balance(df: pl.DataFrame, h: q.Headline) -> None:
    """The invariant, stated plainly; failing deliveries listed in red."""
    if h.unbalanced == 0:
        st.success(t("balance_ok", n=h.files), icon=":material/check_circle:")
    else:
        bad = df.filter(~pl.col("balanced"))
        body = _lines(
            bad,
            lambda r: t(
                "balance_line",
                file=_file_name(r),
                read=fmt_int(r["rows_read"]),
                loaded=fmt_int(r["rows_loaded"]),
                quarantined=fmt_int(r["rows_quarantined"]),
                diff=fmt_int(r["difference"]),
            ),
        )
        st.error(t("balance_failed", k=h.unbalanced, n=h.files) + "\n\n" + body, icon=":material/error:")
    if h.detail_mismatch == 0:
        st.caption(t("detail_ok"))
    else:
        bad = df.filter(~pl.col("detail_ok"))
        body = _lines(
            bad,
            lambda r: t(
                "detail_line",
                file=_file_name(r),
                quarantined=fmt_int(r["rows_quarantined"]),
                q_recorded=fmt_int(r["quarantine_recorded"]),
                skipped=fmt_int(r["rows_skipped"]),
                s_recorded=fmt_int(r["skipped_recorded"]),
            ),
        )
        st.warning(t("detail_mismatch", k=h.detail_mismatch) + "\n\n" + body, icon=":material/warning:")


def render_coverage(deliveries: pl.DataFrame, month: str | None, labels: data.MappingLabels) -> None:
    """Which kinds each month delivered; for the chosen month (else the latest) the missing kinds and the
    figures they leave without data."""
    st.subheader(t("coverage_title"))
    cov = q.kind_coverage(deliveries, KINDS)
    if cov.height == 0:
        return
    month = month or cov["period"][0]
    missing = q.missing_kinds(cov, month)
    name = kind_label(labels)
    if missing:
        lines = "\n".join(f"- **{name(k)}**: {t(f'coverage_effect_{k}')}" for k in missing)
        st.warning(t("coverage_missing", month=month, n=len(missing)) + "\n\n" + lines, icon=":material/inbox:")
    else:
        st.success(t("coverage_complete", month=month), icon=":material/check_circle:")
    none = t("coverage_not_delivered")
    table = pl.DataFrame({t("col_period"): cov["period"],
                          **{name(k): [f"{n:,}" if n else none for n in cov[k].to_list()] for k in KINDS}})
    st.dataframe(table, hide_index=True, width="stretch", key="quality_coverage")
    st.caption(t("coverage_caption"))


def kind_label(labels: data.MappingLabels) -> Callable[[str], str]:
    """A kind's name alone in the page's language (its code when the config has no label)."""
    index = 0 if get_lang() == "zh" else 1
    return lambda kind: labels.kinds[kind][index] if kind in labels.kinds else kind


def render_rejected(df: pl.DataFrame, kind: Callable[[str | None], str]) -> None:
    st.subheader(t("rejected_title"))
    rejected = q.rejected(df)
    if rejected.height == 0:
        st.success(t("no_rejected"), icon=":material/check_circle:")
        return
    st.caption(t("rejected_caption"))
    table = pl.DataFrame(
        {
            t("col_received"): rejected["received_at"],
            t("col_file"): rejected["file_name"],
            t("col_sheet"): rejected["sheet"],
            t("col_message"): rejected["message"],
            t("col_kind"): [kind(k) for k in rejected["kind"].to_list()],
            t("col_period"): rejected["period"],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch", column_config=received_config())


def check_label(code: str) -> str:
    return f"{q.describe_check(code, t)} [{code}]"


def render_reasons(reasons: pl.DataFrame, labels: data.MappingLabels, kind: Callable[[str | None], str]) -> None:
    st.subheader(t("reasons_title"))
    if reasons.height == 0:
        st.success(t("no_quarantine"), icon=":material/check_circle:")
        return
    st.caption(t("reasons_caption"))
    by_check = q.count_by(reasons, "check_name")
    by_column = q.count_by(reasons, "column_name")
    left, right = st.columns([3, 2])
    with left:
        fig = bar_counts(
            [check_label(c) for c in by_check["check_name"].to_list()],
            by_check["failures"].to_list(),
            title=t("chart_by_check"),
            x_title=t("axis_entries"),
        )
        st.plotly_chart(fig, key="reasons_by_check")
    with right:
        fig = bar_counts(
            [c or t("no_column") for c in by_column["column_name"].to_list()],
            by_column["failures"].to_list(),
            title=t("chart_by_column"),
            x_title=t("axis_entries"),
        )
        st.plotly_chart(fig, key="reasons_by_column")
    detail = q.count_by(reasons, "check_name", "kind", "column_name")
    rows = detail.to_dicts()
    table = pl.DataFrame(
        {
            t("col_check"): [q.describe_check(r["check_name"], t) for r in rows],
            t("col_check_code"): [r["check_name"] for r in rows],
            t("col_kind"): [kind(r["kind"]) for r in rows],
            t("col_column"): [r["column_name"] or t("no_column") for r in rows],
            t("col_header"): [labels.headers.get((r["kind"], r["column_name"]), "") for r in rows],
            t("col_entries"): [r["failures"] for r in rows],
            t("col_rows"): [r["rows"] for r in rows],
        },
        schema_overrides={t("col_entries"): pl.Int64, t("col_rows"): pl.Int64},
    )
    st.dataframe(table, hide_index=True, width="stretch")


def render_files(df: pl.DataFrame, kind: Callable[[str | None], str]) -> None:
    st.subheader(t("files_title"))
    table = pl.DataFrame(
        {
            t("col_received"): df["received_at"],
            t("col_file"): df["file_name"],
            t("col_sheet"): df["sheet"],
            t("col_kind"): [kind(k) for k in df["kind"].to_list()],
            t("col_period"): df["period"],
            t("col_status"): [status_text(s) for s in df["status"].to_list()],
            t("col_rows_read"): df["rows_read"],
            t("col_rows_loaded"): df["rows_loaded"],
            t("col_rows_quarantined"): df["rows_quarantined"],
            t("col_rows_skipped"): df["rows_skipped"],
            t("col_balanced"): ["✓" if ok else "✗" for ok in df["balanced"].to_list()],
            t("col_message"): df["message"],
            t("col_encoding"): df["encoding"],
            t("col_period_source"): df["period_source"],
            t("col_superseded_by"): df["superseded_by"],
            t("col_unmapped"): df["unmapped_columns"],
            t("col_config_version"): df["config_version"],
            t("col_delivery"): df["delivery_id"],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch", column_config=received_config())


def quarantine_frame(rows: pl.DataFrame) -> pl.DataFrame:
    """Display/CSV frame of one delivery's quarantined rows: masked values only."""
    stages = {s: t(f"stage_{s}") if s in ("read", "cast", "validate") else s for s in rows["stage"].unique()}
    checks = {c: q.describe_check(c, t) for c in rows["check_name"].unique()}  # few codes, many rows
    return pl.DataFrame(
        {
            t("col_row"): rows["source_row"],
            t("col_sheet"): rows["sheet"],
            t("col_stage"): rows["stage"].replace_strict(stages, return_dtype=pl.String),
            t("col_column"): rows["column_name"],
            t("col_check"): rows["check_name"].replace_strict(checks, return_dtype=pl.String),
            t("col_check_code"): rows["check_name"],
            t("col_value"): rows["masked_value"],  # null on snapshots without masked values
            t("col_message"): rows["message"],
        },
        schema_overrides={t("col_value"): pl.String, t("col_stage"): pl.String},
    )


def render_drilldown(loaded: Loaded, df: pl.DataFrame) -> None:
    st.subheader(t("drill_title"))
    by_id = {r["delivery_id"]: r for r in df.iter_rows(named=True)}
    labels = {d: q.delivery_label(r) for d, r in by_id.items()}
    asked = st.query_params.get(DELIVERY_KEY)  # read before the widget drops a value not in the list
    if asked is not None and asked not in by_id:
        st.info(t("drill_not_listed", value=md_escape(asked)), icon=":material/search_off:")
    chosen = st.selectbox(
        t("drill_label"),
        list(by_id),
        index=None,
        format_func=labels.__getitem__,
        placeholder=t("drill_placeholder"),
        key=DELIVERY_KEY,
        bind="query-params",
    )
    if chosen not in by_id:
        return
    row = by_id[chosen]
    st.caption(
        t(
            "drill_summary",
            status=status_text(row["status"]),
            read=fmt_int(row["rows_read"]),
            loaded=fmt_int(row["rows_loaded"]),
            quarantined=fmt_int(row["rows_quarantined"]),
            skipped=fmt_int(row["rows_skipped"]),
        )
    )
    if row["status"] == "rejected":
        st.error(row["message"] or status_text("rejected"), icon=":material/block:")
    elif row["message"]:
        st.caption(row["message"])
    rows = data.quarantined_rows(loaded.snap, chosen, has_masked_value=loaded.has_masked_value, limit=CSV_LIMIT + 1)
    skipped = data.skipped_rows(loaded.snap, chosen)
    complete = rows.height <= CSV_LIMIT
    rows = rows.head(CSV_LIMIT)
    if complete:
        st.markdown(f"**{t('drill_quarantined', rows=rows['source_row'].n_unique(), n=rows.height)}**")
    else:
        st.markdown(f"**{t('drill_quarantined_many', rows=fmt_int(row['rows_quarantined']))}**")
    if rows.height == 0:
        st.caption(t("drill_no_quarantine"))
    else:
        render_quarantined(rows, row, loaded.has_masked_value, complete)
    st.markdown(f"**{t('drill_skipped', n=skipped.height)}**")
    if skipped.height == 0:
        st.caption(t("drill_no_skipped"))
    else:
        table = pl.DataFrame(
            {
                t("col_row"): skipped["source_row"],
                t("col_sheet"): skipped["sheet"],
                t("col_reason"): [q.describe_skip(r, t) for r in skipped["reason"].to_list()],
            }
        )
        st.dataframe(table, hide_index=True)


def render_quarantined(rows: pl.DataFrame, delivery: dict, has_masked_value: bool, complete: bool) -> None:
    frame = quarantine_frame(rows)
    if not has_masked_value:
        st.caption(t("no_masked_values"))
    st.dataframe(frame.head(DISPLAY_LIMIT), hide_index=True, width="stretch")
    if not complete:
        st.caption(t("drill_csv_capped", shown=f"{DISPLAY_LIMIT:,}", n=f"{CSV_LIMIT:,}", file=delivery["delivery_id"]))
    elif rows.height > DISPLAY_LIMIT:
        st.caption(t("drill_truncated", shown=f"{DISPLAY_LIMIT:,}", n=f"{rows.height:,}"))
    csv = frame.select(
        pl.lit(delivery["delivery_id"], pl.String).alias(t("col_delivery")),
        pl.lit(delivery["file_name"], pl.String).alias(t("col_file")),
        pl.all(),
    )
    st.download_button(
        t("download_quarantine"),
        data=csv_bytes(csv),  # BOM for Excel; delivered values cannot run as formulas
        file_name=q.csv_file_name(delivery["delivery_id"]),
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
    )


def main() -> None:
    st.title(t("quality_title"))
    loaded = load()
    if loaded is None:
        return
    all_deliveries = loaded.deliveries
    months = sorted({p for p in all_deliveries["period"].to_list() if p}, reverse=True)
    kinds = sorted({k for k in all_deliveries["kind"].to_list() if k})
    month = choice_or_all(t("month_label"), months, key=MONTH_KEY, all_label=t("all_months"))
    kind = choice_or_all(t("kind_label"), kinds, key=KIND_KEY, all_label=t("all_kinds"))
    st.caption(t("scope_caption", month=month or t("all_months"), kind=kind or t("all_kinds")))
    unscoped = all_deliveries.filter(
        (pl.col("period").is_null() & (month is not None)) | (pl.col("kind").is_null() & (kind is not None))
    ).height
    if unscoped:  # only rejected files lack a month or kind: a filtered view must not hide them silently
        st.warning(t("unscoped_note", n=unscoped), icon=":material/visibility_off:")

    scope = q.filter_deliveries(all_deliveries, month, kind)
    if scope.height == 0:
        st.info(t("no_deliveries_scope"), icon=":material/info:")
        return
    try:
        df = q.with_integrity(scope, data.detail_counts(loaded.snap))
        reasons = q.reasons_in_scope(data.quarantine_reasons(loaded.snap), scope["delivery_id"])
    except data.SnapshotError as exc:
        st.warning(t("snapshot_unreadable", error=exc.detail or exc.reason), icon=":material/warning:")
        return
    labels = data.mapping_labels()
    kind_fmt = kind_text(labels)
    h = q.headline(df)
    render_headline(h)
    render_balance(df, h)
    render_coverage(all_deliveries, month, labels)
    render_rejected(df, kind_fmt)
    render_reasons(reasons, labels, kind_fmt)
    render_files(df, kind_fmt)
    render_drilldown(loaded, df)


main()
