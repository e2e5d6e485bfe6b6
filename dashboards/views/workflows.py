"""Workflows page: anomaly reporting (theft and violation within the immediate limit, the rest the same
day), defect closure within its working days, and the segment rounds read off the 例日 or uploaded
late — distributions, the overdue list with ages, and per-team attribution (marts.workflow_reports,
marts.workflow_segments) — and 零电量核实, the remote customers with zero runs to check on site
(marts.zero_checks); docs/workflows.md.

URL: ?month= ?team= (the sidebar). Shaping and figures: dashboards/workflows.py.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from checks.exports import csv_bytes
from dashboards import data
from dashboards import workflows as wf
from dashboards.anomalies import md_escape
from dashboards.components import month_picker, snapshot_months, team_picker
from dashboards.i18n import t, t_or
from readq.config import load_toml


def type_label(code: str) -> str:
    return t_or(f"wf_type_{code}", code)


def state_label(code: str | None) -> str:
    return "" if code is None else t_or(f"wf_state_{code}", code)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def render_reports(reports: pl.DataFrame, month: str) -> None:
    st.subheader(t("wf_reports_title", month=month))
    if reports.height == 0:
        st.info(t("wf_no_reports", month=month), icon=":material/info:")
        return
    in_time = int(reports["reported_in_time"].sum())
    defects = reports.filter(pl.col("closure_state").is_in(["CLOSED_IN_TIME", "CLOSED_LATE", "OPEN_OVERDUE"]))
    closed_ok = defects.filter(pl.col("closure_state") == "CLOSED_IN_TIME").height
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(t("wf_metric_reports"), f"{reports.height:,}")
    c2.metric(t("wf_metric_report_rate"), pct(in_time / reports.height), help=t("wf_metric_report_help"))
    c3.metric(t("wf_metric_closure_rate"), pct(closed_ok / defects.height if defects.height else None),
              help=t("wf_metric_closure_help"))
    c4.metric(t("wf_metric_overdue"), f"{int(reports['overdue'].sum()):,}")
    limit = float(load_toml("targets.toml")["anomaly_report_rate"]["immediate_hours"])
    left, right = st.columns(2)
    with left:
        st.plotly_chart(wf.hours_histogram(reports, limit, title=t("wf_hours_chart"), x_title=t("wf_hours_axis"),
                                           y_title=t("wf_count_axis"), immediate_name=t("wf_immediate"),
                                           same_day_name=t("wf_same_day"), limit_name=t("wf_limit", h=f"{limit:g}")),
                        key="wf_hours")
    with right:
        st.plotly_chart(wf.closure_bars(reports, title=t("wf_closure_chart"), x_title=t("wf_days_axis"),
                                        y_title=t("wf_count_axis"),
                                        names={s: state_label(s) for s in ("CLOSED_IN_TIME", "CLOSED_LATE")}),
                        key="wf_closure")
    late = wf.overdue(reports)
    st.markdown(f"**{t('wf_overdue_title', n=late.height)}**")
    if late.height == 0:
        st.caption(t("wf_overdue_none"))
        return
    frame = pl.DataFrame({
        t("wf_col_report"): late["report_no"],
        t("wf_col_type"): [type_label(c) for c in late["anomaly_type"].to_list()],
        t("col_team"): late["team"], t("col_reader"): late["reader"],
        t("wf_col_found"): late["found_at"], t("wf_col_reported"): late["reported_at"],
        t("wf_col_late_hours"): late["report_late_hours"].round(1),
        t("wf_col_state"): [state_label(s) for s in late["closure_state"].to_list()],
        t("wf_col_open_days"): late["open_working_days"],
        t("wf_col_allowed"): late["closure_days_allowed"],
        t("wf_col_file"): late["file_name"], t("wf_col_line"): late["source_row"],
    })
    st.dataframe(frame, hide_index=True, width="stretch", key="wf_overdue")
    st.caption(t("wf_overdue_caption"))
    st.download_button(t("wf_download_overdue"), data=csv_bytes(frame), file_name=f"overdue_{month}.csv",
                       mime="text/csv", on_click="ignore", icon=":material/download:", key="wf_dl_overdue")


def render_rounds(segments: pl.DataFrame, month: str) -> None:
    st.subheader(t("wf_rounds_title", month=month))
    if segments.height == 0:
        st.info(t("wf_no_rounds", month=month), icon=":material/info:")
        return
    late = wf.late_rounds(segments)
    c1, c2, c3 = st.columns(3)
    c1.metric(t("wf_metric_rounds"), f"{segments.height:,}")
    c2.metric(t("wf_metric_off_plan"), f"{int(segments['off_plan'].sum()):,}")
    c3.metric(t("wf_metric_upload_late"), f"{int((segments['uploads_late'] > 0).sum()):,}")
    if late.height == 0:
        st.caption(t("wf_rounds_none"))
        return
    if late["upload_late_hours"].drop_nulls().len():
        st.plotly_chart(wf.upload_histogram(late, title=t("wf_upload_chart"), x_title=t("wf_hours_axis"),
                                            y_title=t("wf_rounds_axis")), key="wf_uploads")
    frame = pl.DataFrame({
        t("col_team"): late["team"], t("col_reader"): late["reader"], t("col_segment"): late["segment_no"],
        t("wf_col_reads"): late["reads"], t("wf_col_off_plan"): late["reads_off_plan"],
        t("wf_col_plan_date"): late["plan_date"], t("wf_col_read_dates"): [
            f"{a} … {b}" if a is not None else "" for a, b in zip(late["first_read_date"].to_list(),
                                                                 late["last_read_date"].to_list(), strict=True)],
        t("wf_col_uploads_late"): late["uploads_late"],
        t("wf_col_upload_hours"): late["upload_late_hours"].round(1),
        t("wf_col_file"): late["file_name"], t("wf_col_line"): late["source_row"],
    })
    st.dataframe(frame, hide_index=True, width="stretch", key="wf_rounds")
    st.caption(t("wf_rounds_caption"))


def render_zero_checks(zero: pl.DataFrame | None, month: str) -> None:
    st.subheader(t("wf_zero_title", month=month))
    if zero is None:
        st.info(t("wf_no_zero_table"), icon=":material/info:")
        return
    if zero.height == 0:
        st.info(t("wf_no_zero", month=month), icon=":material/info:")
        return
    classes = wf.zero_check_classes(zero)
    st.dataframe(pl.DataFrame({
        t("wf_col_class"): [t_or(f"wf_class_{c}", c or "—") for c in classes["customer_class"].to_list()],
        t("wf_col_zero_customers"): classes["customers"],
        t("wf_col_share"): [pct(v) for v in classes["share"].to_list()],
        t("wf_col_required"): classes["required"],
        t("wf_col_visited"): classes["visited"],
        t("wf_col_met"): [t("wf_met") if m else t("wf_not_met") for m in classes["met"].to_list()],
    }), hide_index=True, width="stretch", key="wf_zero_classes")
    st.caption(t("wf_zero_caption"))
    chosen = zero.filter(pl.col("selected"))
    frame = pl.DataFrame({
        t("col_team"): chosen["team"], t("col_reader"): chosen["reader"], t("col_segment"): chosen["segment_no"],
        t("wf_col_customer"): chosen["customer_no"],
        t("wf_col_class"): [t_or(f"wf_class_{c}", c or "—") for c in chosen["customer_class"].to_list()],
        t("wf_col_zero_cycles"): chosen["zero_cycles"],
        t("wf_col_visit"): [f"{k}: {i}" if i else "" for k, i in zip(chosen["visit_kind"].to_list(),
                                                                     chosen["visit_id"].to_list(), strict=True)],
    })
    st.markdown(f"**{t('wf_zero_list_title', n=chosen.height)}**")
    st.dataframe(frame, hide_index=True, width="stretch", key="wf_zero_list")
    st.download_button(t("wf_download_zero"), data=csv_bytes(frame), file_name=f"zero_checks_{month}.csv",
                       mime="text/csv", on_click="ignore", icon=":material/download:", key="wf_dl_zero")


def render_teams(reports: pl.DataFrame, segments: pl.DataFrame) -> None:
    st.subheader(t("wf_teams_title"))
    rows = wf.by_team(reports, segments)
    if rows.height == 0:
        return
    st.dataframe(pl.DataFrame({
        t("col_team"): rows["team"],
        t("wf_metric_reports"): rows["reports"],
        t("wf_metric_report_rate"): [pct(v) for v in rows["report_rate"].to_list()],
        t("wf_metric_overdue"): rows["overdue"],
        t("wf_col_defects_due"): rows["defects_due"],
        t("wf_metric_closure_rate"): [pct(v) for v in rows["closure_rate"].to_list()],
        t("wf_metric_rounds"): rows["rounds"],
        t("wf_metric_off_plan"): rows["rounds_off_plan"],
        t("wf_metric_upload_late"): rows["rounds_upload_late"],
    }), hide_index=True, width="stretch", key="wf_teams")


def main() -> None:
    st.title(t("wf_title"))
    found = snapshot_months(data.WORKFLOW_TABLES, "wf_no_tables", data.workflow_months, "wf_no_months")
    if found is None:
        return
    snap, tables, months = found
    month = month_picker(months)
    reports, segments = data.workflows(snap, month)
    teams = team_picker(sorted(set(reports["team"].to_list()) | set(segments["team"].to_list())))
    st.caption(t("wf_scope", month=month,
                 teams=md_escape(t("list_sep").join(teams)) if teams else t("team_placeholder")))
    reports, segments = wf.in_teams(reports, teams), wf.in_teams(segments, teams)
    render_reports(reports, month)
    render_rounds(segments, month)
    zero = data.zero_checks(snap, month) if "marts.zero_checks" in tables else None
    render_zero_checks(wf.in_teams(zero, teams) if zero is not None else None, month)
    render_teams(reports, segments)


main()
