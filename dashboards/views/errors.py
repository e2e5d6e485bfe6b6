"""Errors page (the statistician, the 差错分析例会): the 差错统计表 by team in the seed's shape, a Pareto by
error type, the p-chart, the funnel plot, the table by reader and by segment, and from a reader the
findings and flagged readings behind the number, with their file and line.

Reads marts.error_stats_month, error_stats_reader_month, error_stats_segment_month, error_findings,
reading_flags, ops.deliveries and the control-limit marts marts.spc_p_chart, spc_funnel,
spc_funnel_limits. URL: `?month=`, `?team=` (repeated: the scope of everything below the team table),
`?metric=` (error_rate | flag_rate, config/spc.toml [metrics]), `?level=` (the funnel's points: team |
reader), `?reader=` ("<reader> · <team>", as on the Readers page). A click on a team row keeps that
team (its readers and segments below); a click on a reader row opens the readings behind it.

The p-chart is drawn over the months, a small panel per team, rather than across the teams of one
month: the funnel plot already compares the teams (and readers) of the month at their volumes — a
p-chart of one month would be the same picture with a coarser x-axis — while a team's months against
limits that follow its own volume and the centre's rate show what a control chart is for: whether
this month is out of the ordinary for that team, and since when.

Reader names are staff names and shown, as on the Readers and Anomalies pages; the CSV downloads mask
them as `readq errors` does (config/readq.toml [privacy]). No customer name, phone or address is read.
Frames: dashboards/errors.py; figures: dashboards/charts.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import NamedTuple

import polars as pl
import streamlit as st

from checks.exports import csv_bytes
from checks.kpis import kpis as kpi_catalogue
from dashboards import data
from dashboards import errors as er
from dashboards import overview as ov
from dashboards.anomalies import md_escape
from dashboards.charts import funnel_plot, p_chart_panels, pareto_chart
from dashboards.components import TEAM_KEY, month_picker, published_snapshot, team_picker, url_choice
from dashboards.filters import url_select
from dashboards.i18n import get_lang, t, t_or
from dashboards.rates import READ_DIGITS
from readq.config import load_toml

METRIC_KEY = "metric"
LEVEL_KEY = "level"
READER_KEY = "reader"
TEAM_TABLE_KEY = "errors_team_table"
READER_TABLE_KEY = "errors_reader_table"
FLAGS_TABLE_KEY = "errors_reader_flags"
ANOMALIES_PAGE = "views/anomalies.py"
READERS_PAGE = "views/readers.py"
FUNNEL_LEVELS = ("team", "reader")  # marts.spc_funnel levels; the first is the default
FORMATS = {"count": "localized", "kwh": "%.2f", "percent": "%.3f%%", "decimal": "%.2f"}


class Loaded(NamedTuple):
    snap: data.Snapshot
    tables: set[str]
    stats: pl.DataFrame


def load() -> Loaded | None:
    snap = published_snapshot()
    if snap is None:
        return None
    try:
        tables = data.table_names(snap)
        missing = [name for name in data.ERROR_TABLES if name not in tables]
        if missing:
            st.info(t("er_no_tables", tables=", ".join(missing)), icon=":material/info:")
            return None
        stats = data.error_stats(snap)
    except data.SnapshotError as exc:
        st.warning(t("snapshot_unreadable", error=exc.detail or exc.reason), icon=":material/warning:")
        return None
    if stats.height == 0:
        st.info(t("er_no_rows"), icon=":material/info:")
        return None
    return Loaded(snap, tables, stats)


def spc_config() -> dict:
    return load_toml("spc.toml")


def metric_name(metric: str) -> str:
    """An SPC metric as the user reads it: the KPI catalogue's name, else the page text."""
    for k in kpi_catalogue():
        if k.id == metric:
            return k.name(get_lang())
    return t_or(f"spc_metric_{metric}", metric)


def rate_format(metric: str) -> str:
    """Plotly tick format of a rate: three decimals for the small error rates, else two."""
    for k in kpi_catalogue():
        if k.id == metric:
            return f".{ov.digits(k)}%"
    return f".{READ_DIGITS}%"


def signal_name(signal: str) -> str:
    if "_" in signal and signal.rsplit("_", 1)[1].isdigit():
        side, q = signal.rsplit("_", 1)
        return t(f"sig_funnel_{side}", q=f"{int(q) / 10:g}%")
    return t_or(f"sig_{signal}", signal)



def column_config(frame: pl.DataFrame, by: str) -> dict[str, object]:
    shown = {c.label: c.format for c in er.columns(by, get_lang())}
    return {label: st.column_config.NumberColumn(format=FORMATS[fmt]) for label, fmt in shown.items()
            if fmt in FORMATS and label in frame.columns}


def download(rows: pl.DataFrame, by: str, month: str, key: str) -> None:
    csv = er.stats_table(rows, by, get_lang(), total_name=t("er_total_row"), masked=True,
                         percent_suffix=t("er_pct_suffix"))
    label = t("er_download_masked" if by == "reader" else "er_download", table=t(f"er_by_{by}"))
    st.download_button(label, data=csv_bytes(csv),
                       file_name=f"error_stats_{by}_{month}.csv", mime="text/csv", on_click="ignore",
                       icon=":material/download:", key=key)


# --- the 差错统计表 by team -----------------------------------------------------------------------------------

def pick_team(teams: list[str]) -> None:
    """Row click on the team table: keep that team (the URL's ?team=) and drop a chosen reader."""
    rows = st.session_state[TEAM_TABLE_KEY]["selection"]["rows"]
    if rows and rows[0] < len(teams):
        st.session_state[TEAM_KEY] = [teams[rows[0]]]
        st.session_state.pop(READER_KEY, None)


def render_team_table(month_rows: pl.DataFrame, month: str) -> None:
    st.subheader(t("er_team_title", month=month))
    frame = er.stats_table(month_rows, "team", get_lang(), total_name=t("er_total_row"))
    teams = month_rows["team"].to_list()
    st.dataframe(frame, hide_index=True, width="stretch", key=TEAM_TABLE_KEY, on_select=partial(pick_team, teams),
                 selection_mode="single-row", column_config=column_config(frame, "team"))
    st.caption(t("er_team_caption"))
    download(month_rows, "team", month, "errors_team_csv")


# --- Pareto, p-chart, funnel ---------------------------------------------------------------------------------

def render_pareto(rows: pl.DataFrame, month: str) -> None:
    st.subheader(t("er_pareto_title"))
    frame = er.pareto(rows, get_lang())
    if frame.height == 0:
        key = "er_pareto_no_findings" if rows.height and not rows["findings_delivered"].any() else "er_pareto_none"
        st.info(t(key, month=month), icon=":material/info:")
        return
    fig = pareto_chart(frame, title=t("er_pareto_chart", month=month), bar_name=t("er_pareto_customers"),
                       line_name=t("er_pareto_cumulative"), y_title=t("er_pareto_customers"),
                       kwh_name=t("er_pareto_kwh"))
    st.plotly_chart(fig, key="errors_pareto")
    st.caption(t("er_pareto_caption", n=f"{int(frame['customers'].sum()):,}", types=frame.height))


def render_p_chart(spc: data.Spc | None, metric: str, teams: Sequence[str], unattributed: str) -> None:
    st.subheader(t("er_p_chart_title", metric=metric_name(metric)))
    if spc is None:
        st.info(t("er_no_spc"), icon=":material/info:")
        return
    rows = er.p_chart_rows(spc.p_chart, metric, teams, unattributed)
    if rows.height == 0:
        st.info(t("er_p_chart_empty", metric=metric_name(metric)), icon=":material/info:")
        return
    names = {"rate": t("er_p_rate"), "ucl": t("er_p_ucl"), "lcl": t("er_p_lcl"), "centre": t("er_p_centre")}
    fig = p_chart_panels(rows, title=t("er_p_chart_chart", metric=metric_name(metric)), names=names,
                         x_title=t("er_axis_month"), tickformat=rate_format(metric),
                         counts_label="%{customdata[0]} / %{customdata[1]}")
    st.plotly_chart(fig, key="errors_p_chart")
    z = spc_config()["p_chart"]["z"]
    st.caption(t("er_p_chart_caption", z=f"{float(z):g}"))


def render_funnel(spc: data.Spc | None, month: str, metric: str, level: str, teams: Sequence[str],
                  unattributed: str) -> None:
    st.subheader(t("er_funnel_title", metric=metric_name(metric), level=t(f"er_level_{level}")))
    if spc is None:
        st.info(t("er_no_spc"), icon=":material/info:")
        return
    points = er.funnel_points(spc.funnel, metric, level, teams, unattributed)
    curves = er.funnel_curves(spc.funnel_limits, metric, level)
    if points.height == 0:
        st.info(t("er_funnel_empty", month=month, metric=metric_name(metric)), icon=":material/info:")
        return
    signals = {s: signal_name(s) for s in points["signal"].unique().to_list()}
    names = {"centre": t("er_funnel_centre"), "inner": t("er_funnel_inner", q=_pct(points["inner_coverage"][0])),
             "outer": t("er_funnel_outer", q=_pct(points["outer_coverage"][0]))}
    fig = funnel_plot(points, curves, title=t("er_funnel_chart", month=month, metric=metric_name(metric)),
                      names=names, signal_names=signals, x_title=t("er_funnel_volume"), y_title=metric_name(metric),
                      tickformat=rate_format(metric), counts_label="%{customdata[1]} / %{customdata[2]}")
    st.plotly_chart(fig, key="errors_funnel")
    outside = points.filter(pl.col("signal").str.starts_with("above"))
    st.caption(t("er_funnel_caption", n=points.height, above=outside.height))


def _pct(q: float) -> str:
    return f"{q * 100:g}%"


# --- by reader, by segment, and the rows behind a reader -----------------------------------------------------

def pick_reader(options: list[str]) -> None:
    rows = st.session_state[READER_TABLE_KEY]["selection"]["rows"]
    if rows and rows[0] < len(options):
        st.session_state[READER_KEY] = options[rows[0]]


def render_readers(loaded: Loaded, readers: pl.DataFrame, month: str, teams: Sequence[str]) -> None:
    st.subheader(t("er_reader_title", month=month))
    rows = er.in_teams(readers, teams)
    if rows.height == 0:
        st.info(t("er_reader_empty", month=month), icon=":material/info:")
        return
    frame = er.stats_table(rows, "reader", get_lang(), total_name=t("er_total_row"))
    options = er.reader_options(rows)
    st.dataframe(frame, hide_index=True, width="stretch", key=READER_TABLE_KEY,
                 on_select=partial(pick_reader, list(options)), selection_mode="single-row",
                 column_config=column_config(frame, "reader"))
    st.caption(t("er_reader_caption"))
    download(rows, "reader", month, "errors_reader_csv")
    chosen = url_choice(t("er_reader_label"), list(options), READER_KEY, t("er_reader_placeholder"),
                        t("er_reader_not_listed", month=month))
    if chosen is None:
        return
    team, reader, party = options[chosen]
    render_reader_rows(loaded, month, team, reader, party, rows)


def render_reader_rows(loaded: Loaded, month: str, team: str, reader: str, party: str, rows: pl.DataFrame) -> None:
    st.markdown(f"#### {t('er_drill_title', reader=md_escape(reader), team=md_escape(team))}")
    row = rows.filter((pl.col("team") == team) & (pl.col("reader") == reader) & (pl.col("party") == party)).row(
        0, named=True)
    reasons = er.reason_texts(get_lang())
    if row["customers_with_error"] is None:
        st.info(reasons.get(row["null_reason"] or "NO_FINDINGS", row["null_reason"] or ""), icon=":material/info:")
    else:
        read = f"{row['customers_read']:,}" if row["customers_read"] is not None else "—"
        rate = f"{row['error_rate'] * 100:.3f}%" if row["error_rate"] is not None else "—"
        st.caption(t("er_drill_summary", errors=f"{row['customers_with_error']:,}", read=read, rate=rate,
                     findings=f"{row['findings'] or 0:,}"))
    try:
        findings, flags = data.reader_rows(loaded.snap, month, team, reader, party, loaded.tables)
    except data.SnapshotError as exc:
        st.warning(t("snapshot_unreadable", error=exc.detail or exc.reason), icon=":material/warning:")
        return
    render_findings(findings, month)
    if party != "READER":
        st.caption(t("er_drill_party", party=md_escape(reader)))
        return
    render_flags(flags, month, team, reader)


def render_findings(findings: pl.DataFrame | None, month: str) -> None:
    st.markdown(f"**{t('er_findings_title')}**")
    if findings is None:
        st.info(t("er_no_findings_table"), icon=":material/info:")
        return
    if findings.height == 0:
        st.info(t("er_findings_none", month=month), icon=":material/info:")
        return
    types = dict(er.type_labels(get_lang()))
    frame = pl.DataFrame({
        t("er_col_finding"): findings["finding_no"],
        t("er_col_error_type"): [types.get(c, c) for c in findings["error_type"].to_list()],
        t("er_col_responsible"): [t(f"er_party_{p}") for p in findings["responsible"].to_list()],
        t("er_col_segment"): findings["segment_no"],
        t("er_col_customer"): findings["customer_no"],
        t("er_col_meter"): findings["meter_no"],
        t("er_col_kwh"): findings["kwh_impact"],
        t("er_col_found_by"): [_code_label("er_found_by", c) for c in findings["found_by"].to_list()],
        t("er_col_found_date"): findings["found_date"],
        t("er_col_file"): findings["file_name"],
        t("er_col_sheet"): findings["sheet"],
        t("er_col_line"): findings["source_row"],
    })
    st.dataframe(frame, hide_index=True, width="stretch", key="errors_reader_findings",
                 column_config={t("er_col_kwh"): st.column_config.NumberColumn(format="%.2f"),
                                t("er_col_found_date"): st.column_config.DateColumn(format="YYYY-MM-DD")})
    st.caption(t("er_findings_caption", n=findings.height, customers=findings["customer_no"].n_unique()))
    st.download_button(t("er_download_findings"), data=csv_bytes(frame), file_name=f"error_findings_{month}.csv",
                       mime="text/csv", on_click="ignore", icon=":material/download:", key="errors_findings_csv")


def render_flags(flags: pl.DataFrame | None, month: str, team: str, reader: str) -> None:
    st.markdown(f"**{t('er_flags_title')}**")
    if flags is None:
        st.info(t("er_no_flags_table"), icon=":material/info:")
        return
    if flags.height == 0:
        st.info(t("er_flags_none", month=month), icon=":material/info:")
        return
    rule_names = {r: _rule_label(r) for r in flags["rule_id"].unique().to_list()}
    frame = pl.DataFrame({
        t("er_col_rule"): flags["rule_id"],
        t("er_col_rule_name"): [rule_names[r] for r in flags["rule_id"].to_list()],
        t("er_col_severity"): [_severity_label(s) for s in flags["severity"].to_list()],
        t("er_col_segment"): flags["segment_no"],
        t("er_col_customer"): flags["customer_no"],
        t("er_col_meter"): flags["meter_no"],
        t("er_col_observed"): flags["observed"],
        t("er_col_expected"): flags["expected"],
        t("er_col_file"): flags["file_name"],
        t("er_col_sheet"): flags["sheet"],
        t("er_col_line"): flags["source_row"],
    })
    event = st.dataframe(frame, hide_index=True, width="stretch", key=FLAGS_TABLE_KEY, on_select="rerun",
                         selection_mode="single-row")
    st.caption(t("er_flags_caption", n=flags.height, meters=flags["mp_key"].n_unique()))
    selected = event.selection.rows if event is not None else []
    params = {"month": month, "team": team, "reader": er.reader_option(team, reader)}
    if selected and selected[0] < flags.height:
        params["meter"] = flags["mp_key"][selected[0]]
        st.page_link(ANOMALIES_PAGE, label=t("er_open_meter", meter=md_escape(params["meter"])),
                     icon=":material/troubleshoot:", query_params=params)
    else:
        st.page_link(ANOMALIES_PAGE, label=t("er_open_reader_flags", reader=md_escape(reader)),
                     icon=":material/troubleshoot:", query_params=params)
    st.page_link(READERS_PAGE, label=t("er_open_forensics", reader=md_escape(reader)), icon=":material/badge:",
                 query_params={"month": month, "reader": er.reader_option(team, reader)})


def _code_label(prefix: str, code: str | None) -> str | None:
    if code is None:
        return None
    return t_or(f"{prefix}_{code}", code)


def _rule_label(rule_id: str) -> str:
    return t_or(f"rule_{rule_id}", rule_id)


def _severity_label(severity: str) -> str:
    return t_or(f"severity_{severity}", severity)


def render_segments(segments: pl.DataFrame, month: str, teams: Sequence[str]) -> None:
    st.subheader(t("er_segment_title", month=month))
    rows = er.in_teams(segments, teams)
    if rows.height == 0:
        st.info(t("er_segment_empty", month=month), icon=":material/info:")
        return
    frame = er.stats_table(rows, "segment", get_lang(), total_name=t("er_total_row"))
    st.dataframe(frame, hide_index=True, width="stretch", key="errors_segment_table",
                 column_config=column_config(frame, "segment"))
    download(rows, "segment", month, "errors_segment_csv")


# --- page --------------------------------------------------------------------------------------------------


def main() -> None:
    st.title(t("er_title"))
    loaded = load()
    if loaded is None:
        return
    stats = loaded.stats
    months = sorted(set(stats["period"].to_list()))
    all_teams = sorted(set(stats["team"].to_list()))
    month = month_picker(months)
    teams = team_picker(all_teams)
    cfg = spc_config()
    metric = url_select(t("er_metric_label"), list(cfg["metrics"]), METRIC_KEY, metric_name,
                        t("er_metric_not_listed"), where=st.sidebar)
    level = url_select(t("er_level_label"), list(FUNNEL_LEVELS), LEVEL_KEY, lambda v: t(f"er_level_{v}"),
                       t("er_level_not_listed"), where=st.sidebar)
    unattributed = str(cfg["unattributed"])

    month_rows = stats.filter(pl.col("period") == month)
    versions = ", ".join(sorted(set(month_rows["config_version"].to_list()))) or "—"
    st.caption(t("er_scope", month=month, teams=md_escape(t("list_sep").join(teams)) if teams
                 else t("team_placeholder"), versions=versions))
    if not month_rows["findings_delivered"].any():
        st.info(er.reason_texts(get_lang())["NO_FINDINGS"], icon=":material/info:")
    render_team_table(month_rows, month)
    scope = er.in_teams(month_rows, teams)
    try:
        readers, segments = data.error_stats_month(loaded.snap, month)
        spc = data.spc(loaded.snap, month, loaded.tables)
    except data.SnapshotError as exc:
        st.warning(t("snapshot_unreadable", error=exc.detail or exc.reason), icon=":material/warning:")
        return
    render_pareto(scope, month)
    left, right = st.columns(2)
    with left:
        render_p_chart(spc, metric, teams, unattributed)
    with right:
        render_funnel(spc, month, metric, level, teams, unattributed)
    render_readers(loaded, readers, month, teams)
    render_segments(segments, month, teams)


main()
