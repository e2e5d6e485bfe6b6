"""Anomalies page: the plausibility rules' flags by rule, month and team, the rules' efficacy against
the review findings, and each flag down to its meter's history and the delivered row.

Reads marts.meter_readings, marts.reading_flags, marts.rule_efficacy, marts.reading_context,
ops.deliveries and (when the snapshot holds it) raw.readings, masked. Shaping and figures:
dashboards/anomalies.py.
"""

from __future__ import annotations

from html import escape as html_escape
from typing import NamedTuple

import polars as pl
import streamlit as st

from dashboards import anomalies as an
from dashboards import data
from dashboards.components import ALL, choice_or_all, month_picker, published_snapshot, team_picker, url_choice
from dashboards.delivery_balance import STATUS_KEYS
from dashboards.errors import reader_option
from dashboards.filters import url_select
from dashboards.forensics import unattributed_reader
from dashboards.i18n import t, t_or

RULE_KEY = "rule"
METER_KEY = "meter"
SEVERITY_KEY = "severity"
READER_KEY = "reader"
DISPLAY_LIMIT = 5_000  # flags listed on screen
NEEDED = ("marts.meter_readings", "marts.reading_flags")


def rule_label(rule_id: str) -> str:
    return t_or(f"rule_{rule_id}", rule_id)


def severity_label(severity: str | None) -> str:
    if severity is None:
        return "—"
    return t_or(f"severity_{severity}", severity)


def no_data() -> str:
    return t("no_data")


class Loaded(NamedTuple):
    snap: data.Snapshot
    tables: set[str]
    reads: pl.DataFrame
    counts: pl.DataFrame
    computed: set[str]


def load() -> Loaded | None:
    """The snapshot with its read and flag counts, or None after telling the user why there are none."""
    snap = published_snapshot()
    if snap is None:
        return None
    try:
        tables = data.table_names(snap)
        missing = [name for name in NEEDED if name not in tables]
        if missing:
            st.info(t("no_flag_tables", tables=", ".join(missing)), icon=":material/info:")
            return None
        queries = [(an.READS_SQL, ()), (an.FLAG_COUNTS_SQL, ())]
        if "ops.mart_builds" in tables:
            queries.append((an.FLAG_BUILDS_SQL, ()))
        reads, counts, *rest = data.query_many(snap, tuple(queries))
        builds = rest[0]["period"].to_list() if rest else []
    except data.SnapshotError as exc:
        st.warning(t("snapshot_unreadable", error=exc.detail or exc.reason), icon=":material/warning:")
        return None
    if reads.height == 0 and counts.height == 0:
        st.info(t("no_flag_months"), icon=":material/info:")
        return None
    return Loaded(snap, tables, reads, counts, an.computed_months(counts, builds))


def render_headline(table: pl.DataFrame, reads: int, computed: bool, month: str) -> None:
    flags = int(table["flags"].sum()) if table.height else 0
    rate = an.per_1000(flags, reads) if computed else None
    cards = [
        (t("metric_reads"), f"{reads:,}"),
        (t("metric_flags"), f"{flags:,}" if computed else no_data()),
        (t("metric_per_1000"), an.fmt_rate(rate) or no_data()),
        (t("metric_fail_flags"), f"{int(table['fail'].sum()) if table.height else 0:,}" if computed else no_data()),
    ]
    for col, (label, value) in zip(st.columns(len(cards)), cards, strict=True):
        with col:
            st.metric(label, value, border=True)
    if not computed:
        st.info(t("flags_not_computed", month=month), icon=":material/info:")
    elif flags == 0:
        st.success(t("no_flags_month", month=month, reads=f"{reads:,}"), icon=":material/check_circle:")


def render_rules(loaded: Loaded, counts: pl.DataFrame, reads: pl.DataFrame, month: str, rule: str | None) -> None:
    st.subheader(t("rules_title"))
    table = an.rule_month_table(counts, reads, month)
    if table.height:
        st.caption(t("rules_caption"))
        display = pl.DataFrame(
            {
                t("col_rule_code"): table["rule_id"],
                t("col_rule"): [rule_label(r) for r in table["rule_id"].to_list()],
                severity_label("fail"): table["fail"],
                severity_label("warn"): table["warn"],
                severity_label("info"): table["info"],
                t("col_flags"): table["flags"],
                t("col_reads"): table["reads"],
                t("col_per_1000"): [an.fmt_rate(v) or no_data() for v in table["per_1000"].to_list()],
            }
        )
        st.dataframe(display, hide_index=True, width="stretch", key="anomalies_rules_table")
        fig = an.rule_bars(table, rule_label=rule_label, severity_label=severity_label,
                           title=t("chart_rules_month", month=month), x_title=t("axis_per_1000"))
        st.plotly_chart(fig, key="anomalies_rules_bar")
    rules = [rule] if rule is not None else an.rule_order(counts["rule_id"].to_list())
    if rules:
        trend = an.rule_trend(counts, reads, loaded.computed, rules)
        fig = an.rule_lines(trend, rule_label=rule_label, title=t("chart_rules_trend"), x_title=t("axis_month"),
                            y_title=t("axis_per_1000"))
        st.plotly_chart(fig, key="anomalies_rules_trend")
        missing = sorted(set(trend["period"].to_list()) - loaded.computed)
        if missing:
            st.caption(t("months_not_computed", months=", ".join(missing)))


def render_heatmap(loaded: Loaded, counts: pl.DataFrame, reads: pl.DataFrame, rule: str | None) -> None:
    st.subheader(t("heatmap_section"))
    teams, months, z, custom = an.team_month_matrix(counts, reads, loaded.computed, rule)
    if not teams or not months:
        st.info(t("no_data"), icon=":material/info:")
        return
    hover = (f"%{{y}} · %{{x}}<br>{t('axis_per_1000')}: %{{z:.{an.RATE_DIGITS}f}}"
             f"<br>{t('col_flags')}: %{{customdata[0]:,d}} / {t('col_reads')}: %{{customdata[1]:,d}}")
    fig = an.team_heatmap(
        [html_escape(tm, quote=False) for tm in teams], months, z, custom,
        title=t("heatmap_title", rule=rule_label(rule) if rule else t("all_rules")),
        x_title=t("axis_month"), hover=hover,
    )
    st.plotly_chart(fig, key="anomalies_heatmap")
    st.caption(t("heatmap_caption"))


def _precision_text(row: dict) -> str:
    if not row["findings_delivered"]:
        return t("no_findings")
    if row["precision"] is None:
        return t("no_flags_short")
    return f"{an.fmt_share(row['precision'])} ({row['flags_confirmed']:,} / {row['flags']:,})"


def _recall_text(row: dict) -> str:
    if not row["findings_delivered"]:
        return t("no_findings")
    if row["recall"] is None:
        return t("no_confirmed_errors")
    return f"{an.fmt_share(row['recall'])} ({row['errors_flagged']:,} / {row['confirmed_errors']:,})"


class MonthData(NamedTuple):
    flags: pl.DataFrame
    efficacy: pl.DataFrame | None  # None: the snapshot has no marts.rule_efficacy


def load_month(loaded: Loaded, month: str) -> MonthData | None:
    """The month's flags and rule efficacy (one connection), or None after a warning."""
    queries = [(an.MONTH_FLAGS_SQL, (month,))]
    has_efficacy = "marts.rule_efficacy" in loaded.tables
    if has_efficacy:
        queries.append((an.EFFICACY_SQL, (month,)))
    try:
        flags, *rest = data.query_many(loaded.snap, tuple(queries))
    except data.SnapshotError as exc:
        st.warning(t("snapshot_unreadable", error=exc.detail or exc.reason), icon=":material/warning:")
        return None
    return MonthData(flags, rest[0] if has_efficacy else None)


def render_efficacy(eff: pl.DataFrame | None, month: str) -> None:
    st.subheader(t("efficacy_title"))
    if eff is None:
        st.info(t("no_efficacy_table"), icon=":material/info:")
        return
    if eff.height == 0:
        st.info(t("no_efficacy_rows", month=month), icon=":material/info:")
        return
    rule_ids = [r for r in eff["rule_id"].to_list() if r != an.ALL_RULES]
    order = {r: i for i, r in enumerate([an.ALL_RULES, *an.rule_order(rule_ids)])}
    rows = sorted(eff.to_dicts(), key=lambda r: order.get(r["rule_id"], len(order)))
    st.caption(t("efficacy_caption"))
    if not any(r["findings_delivered"] for r in rows):
        st.info(t("findings_missing_note", month=month), icon=":material/info:")
    display = pl.DataFrame(
        {
            t("col_rule_code"): [r["rule_id"] for r in rows],
            t("col_rule"): [t("rule_ALL") if r["rule_id"] == an.ALL_RULES else rule_label(r["rule_id"])
                            for r in rows],
            t("col_severity"): [severity_label(r["severity"]) for r in rows],
            t("col_flags"): [r["flags"] for r in rows],
            t("col_reads"): [r["reads"] for r in rows],
            t("col_per_1000"): [an.fmt_rate(r["flags_per_1000"]) or no_data() for r in rows],
            t("col_precision"): [_precision_text(r) for r in rows],
            t("col_recall"): [_recall_text(r) for r in rows],
        },
        schema_overrides={t("col_flags"): pl.Int64, t("col_reads"): pl.Int64},
    )
    st.dataframe(display, hide_index=True, width="stretch", key="anomalies_efficacy")


def flag_frame(flags: pl.DataFrame) -> pl.DataFrame:
    rules = {r: rule_label(r) for r in flags["rule_id"].unique().to_list()}
    sevs = {s: severity_label(s) for s in flags["severity"].unique().to_list()}
    return pl.DataFrame(
        {
            t("col_rule_code"): flags["rule_id"],
            t("col_rule"): flags["rule_id"].replace_strict(rules, return_dtype=pl.String),
            t("col_severity"): flags["severity"].replace_strict(sevs, return_dtype=pl.String),
            t("col_team"): flags["team"],
            t("col_reader"): flags["reader"],
            t("col_segment"): flags["segment_no"],
            t("col_customer_no"): flags["customer_no"],
            t("col_meter_no"): flags["meter_no"],
            t("col_mp_key"): flags["mp_key"],
            t("col_observed"): [an.fmt_number(v) for v in flags["observed"].to_list()],
            t("col_expected"): [an.fmt_number(v) for v in flags["expected"].to_list()],
            t("col_ratio"): [an.fmt_number(v) for v in flags["ratio"].to_list()],
            t("col_history_months"): flags["history_months"],
            t("col_evidence"): an.evidence_texts(flags["evidence"].to_list()),
            t("col_row"): flags["source_row"],
        }
    )


def render_flag_list(loaded: Loaded, flags: pl.DataFrame, month: str, teams: list[str], rule: str | None) -> None:
    st.subheader(t("flag_list_title", month=month))
    left, right = st.columns(2)
    severity = url_select(t("severity_label"), [ALL, *an.SEVERITIES], SEVERITY_KEY,
                          lambda s: t("all_severities") if s == ALL else severity_label(s),
                          t("severity_not_listed"), where=left)
    scoped = an.in_scope(flags, teams)
    readers = {reader_option(r["team"], r["reader"]): (r["team"], r["reader"])
               for r in scoped.select("team", "reader").unique(maintain_order=True).sort("team", "reader").to_dicts()}
    with right:
        chosen_reader = url_choice(t("an_reader_label"), list(readers), READER_KEY, t("an_reader_placeholder"),
                                   t("an_reader_not_listed", month=month))
    if chosen_reader is not None:
        team, reader = readers[chosen_reader]
        flags = scoped.filter((pl.col("team") == team) & (pl.col("reader") == reader))
    listed = an.filter_flags(flags, teams, rule, None if severity == ALL else severity)
    if listed.height == 0:
        st.info(t("no_flags_filtered", month=month), icon=":material/info:")
        return
    meters = an.listed_meters(listed)
    st.caption(t("flag_list_caption", n=f"{listed.height:,}", meters=f"{len(meters):,}"))
    st.dataframe(flag_frame(listed.head(DISPLAY_LIMIT)), hide_index=True, width="stretch", key="anomalies_flags")
    if listed.height > DISPLAY_LIMIT:
        st.caption(t("flag_list_truncated", shown=f"{DISPLAY_LIMIT:,}", n=f"{listed.height:,}"))

    chosen = url_choice(t("meter_label"), meters, METER_KEY, t("meter_placeholder"),
                        t("meter_not_listed", month=month))
    if chosen is None:
        return
    render_meter(loaded, month, chosen, listed.filter(pl.col("mp_key") == chosen))


def render_meter(loaded: Loaded, month: str, mp_key: str, meter_flags: pl.DataFrame) -> None:
    st.subheader(t("meter_title"))
    first = meter_flags.row(0, named=True)
    st.caption(t("meter_caption", meter=an.md_escape(mp_key), customer=an.md_escape(first["customer_no"]),
                 meter_no=an.md_escape(first["meter_no"]), team=an.md_escape(first["team"]),
                 reader=an.md_escape(first["reader"])))
    evidence = [
        {t("col_rule_code"): f["rule_id"], t("col_rule"): rule_label(f["rule_id"]),
         t("col_severity"): severity_label(f["severity"]), t("col_evidence_key"): k, t("col_evidence_value"): v}
        for f in meter_flags.iter_rows(named=True) for k, v in an.evidence_items(f["evidence"])
    ]
    if evidence:
        st.markdown(f"**{t('evidence_title')}**")
        st.dataframe(pl.DataFrame(evidence), hide_index=True, width="stretch", key="anomalies_evidence")
    has_context = "marts.reading_context" in loaded.tables
    has_raw = "raw.readings" in loaded.tables
    queries = [(an.SOURCES_SQL, (month, mp_key, month))]
    if has_context:
        queries.append((an.HISTORY_SQL, (mp_key, mp_key)))
    if has_raw:
        queries.append((an.RAW_ROWS_SQL, (month, mp_key)))
    try:
        sources, *rest = data.query_many(loaded.snap, tuple(queries))
    except data.SnapshotError as exc:
        st.warning(t("snapshot_unreadable", error=exc.detail or exc.reason), icon=":material/warning:")
        return
    history = rest.pop(0) if has_context else None
    raw = rest.pop(0) if has_raw else None
    render_history(history, month)
    render_source(sources, raw)


def render_history(history: pl.DataFrame | None, month: str) -> None:
    st.markdown(f"**{t('history_title')}**")
    if history is None:
        st.info(t("no_context_table"), icon=":material/info:")
        return
    if history.filter(pl.col("use_kwh").is_not_null() | pl.col("expected_kwh").is_not_null()).height == 0:
        st.info(t("no_history"), icon=":material/info:")
        return
    marks = an.flag_marks(history)
    names = {"use": t("trace_use"), "expected": t("trace_expected"), "band": t("trace_band"),
             "flags": t("trace_flags")}
    fig = an.meter_history(history, marks, month, names=names, title=t("chart_history"), x_title=t("axis_month"),
                           y_title=t("axis_kwh"))
    st.plotly_chart(fig, key="anomalies_history")
    table = pl.DataFrame(
        {
            t("col_period"): history["period"],
            t("trace_use"): [an.fmt_number(v) for v in history["use_kwh"].to_list()],
            t("trace_expected"): [an.fmt_number(v) for v in history["expected_kwh"].to_list()],
            t("col_band_low"): [an.fmt_number(v) for v in history["band_low"].to_list()],
            t("col_band_high"): [an.fmt_number(v) for v in history["band_high"].to_list()],
            t("trace_flags"): [marks.get(p, "") for p in history["period"].to_list()],
        }
    )
    with st.expander(t("history_table"), expanded=False):
        st.dataframe(table, hide_index=True, width="stretch", key="anomalies_history_table")


def render_source(sources: pl.DataFrame, raw: pl.DataFrame | None) -> None:
    st.markdown(f"**{t('source_title')}**")
    labels = data.mapping_labels()
    headers = {col: header for (kind, col), header in labels.headers.items() if kind == an.READINGS_KIND}
    for n, src in enumerate(sources.iter_rows(named=True)):
        status = src["status"]
        st.dataframe(
            pl.DataFrame(
                {
                    t("col_file"): [src["file_name"] or t("no_delivery_record")],
                    t("col_sheet"): [src["sheet"]],
                    t("col_row"): [src["source_row"]],
                    t("col_status"): [t(STATUS_KEYS[status]) if status in STATUS_KEYS else (status or "—")],
                    t("col_received"): [src["received_at"]],
                    t("col_delivery"): [src["delivery_id"]],
                },
                schema_overrides={t("col_sheet"): pl.String, t("col_row"): pl.Int64},
            ),
            hide_index=True,
            width="stretch",
            key=f"anomalies_source_{n}",
            column_config={t("col_received"): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
        )
        render_reading(src, headers, n)
        if raw is None:
            st.caption(t("raw_not_published"))
            continue
        row = raw.filter((pl.col("delivery_id") == src["delivery_id"]) & (pl.col("source_row") == src["source_row"])
                         & (pl.col("sheet").eq_missing(src["sheet"])))
        if row.height == 0:
            st.caption(t("raw_row_missing", row=src["source_row"]))
            continue
        items, extras = an.raw_row_items(row.head(1), headers)
        st.markdown(f"**{t('raw_title')}**")
        st.dataframe(
            pl.DataFrame(
                {
                    t("col_column"): [c for c, _, _ in items],
                    t("col_header"): [h for _, h, _ in items],
                    t("col_raw_value"): [v for _, _, v in items],
                },
                schema_overrides={t("col_raw_value"): pl.String},
            ),
            hide_index=True,
            width="stretch",
            key=f"anomalies_raw_{n}",
        )
        if extras:
            st.caption(t("raw_extras", columns=an.md_escape(", ".join(extras))))


READING_COLUMNS = ("read_status", "read_mode", "read_date", "last_read", "this_read", "kwh", "multiplier",
                   "read_type", "segment_no")


def render_reading(src: dict, headers: dict[str, str], n: int) -> None:
    """The reading's values as the warehouse holds them (marts.meter_readings; no personal data)."""
    columns = [c for c in READING_COLUMNS if src.get(c) is not None]
    if not columns:
        return
    st.dataframe(
        pl.DataFrame(
            {
                t("col_column"): columns,
                t("col_header"): [headers.get(c, "") for c in columns],
                t("col_value_in_mart"): [an.fmt_number(src[c]) for c in columns],
            }
        ),
        hide_index=True,
        width="stretch",
        key=f"anomalies_reading_{n}",
    )


def main() -> None:
    st.title(t("anomalies_title"))
    loaded = load()
    if loaded is None:
        return
    months = sorted(set(loaded.reads["period"].to_list()) | set(loaded.counts["period"].to_list()))
    all_teams = sorted(set(loaded.reads["team"].to_list()) | set(loaded.counts["team"].to_list()))
    month = month_picker(months)
    teams = team_picker(all_teams)
    rule_ids = set(an.RULE_IDS) | set(loaded.counts["rule_id"].to_list())
    rule = choice_or_all(t("rule_label"), an.rule_order(rule_ids), key=RULE_KEY, all_label=t("all_rules"))
    if rule is not None:
        st.sidebar.caption(f"{rule} · {rule_label(rule)}")

    scope_teams = t("list_sep").join(teams) if teams else t("team_placeholder")
    st.caption(t("anomalies_scope", month=month, teams=an.md_escape(scope_teams),
                 rule=f"{rule} · {rule_label(rule)}" if rule else t("all_rules")))
    unattributed = unattributed_reader()
    if unattributed is not None and unattributed in all_teams:
        st.caption(t("unattributed_note", name=an.md_escape(unattributed)))

    counts = an.in_scope(loaded.counts, teams)
    reads = an.in_scope(loaded.reads, teams)
    table = an.rule_month_table(counts, reads, month)
    if rule is not None:  # the headline counts the chosen rule; the table below compares them all
        table = table.filter(pl.col("rule_id") == rule)
    month_reads = int(reads.filter(pl.col("period") == month)["reads"].sum())
    render_headline(table, month_reads, month in loaded.computed, month)
    render_rules(loaded, counts, reads, month, rule)
    render_heatmap(loaded, counts, reads, rule)
    month_data = load_month(loaded, month)
    if month_data is None:
        return
    render_efficacy(month_data.efficacy, month)
    render_flag_list(loaded, month_data.flags, month, teams, rule)


main()
