"""Shaping and figures of the Workflows page (dashboards/views/workflows.py): how long anomaly reports
took to be made and defects to be closed against their limits, the overdue list with ages, and the
segment rounds read off the 例日 or uploaded late, per team and reader. Pure functions of
marts.workflow_reports and marts.workflow_segments."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl

_MARGIN = {"l": 10, "r": 10, "t": 50, "b": 10}


def in_teams(frame: pl.DataFrame, teams: Sequence[str]) -> pl.DataFrame:
    return frame.filter(pl.col("team").is_in(list(teams))) if teams else frame


def overdue(reports: pl.DataFrame) -> pl.DataFrame:
    """Reports made late (or never) and defects open past their deadline, the oldest first: age = hours
    late for a report, working days open for a defect."""
    return (reports.filter(pl.col("overdue"))
            .with_columns(pl.when(pl.col("closure_state") == "OPEN_OVERDUE").then(pl.lit("closure"))
                          .otherwise(pl.lit("report")).alias("overdue_kind"))
            .sort(["overdue_kind", "open_working_days", "report_late_hours"], descending=[False, True, True],
                  nulls_last=True))


def by_team(reports: pl.DataFrame, segments: pl.DataFrame) -> pl.DataFrame:
    """Per team: reports, made in time, overdue; defects due and closed in time; rounds off plan and
    uploaded late."""
    r = reports.group_by("team").agg(
        pl.len().alias("reports"),
        pl.col("reported_in_time").sum().alias("reports_in_time"),
        pl.col("overdue").sum().alias("overdue"),
        pl.col("closure_state").is_in(["CLOSED_IN_TIME", "CLOSED_LATE", "OPEN_OVERDUE"]).sum().alias("defects_due"),
        (pl.col("closure_state") == "CLOSED_IN_TIME").sum().alias("defects_closed_in_time"),
    )
    s = segments.group_by("team").agg(
        pl.len().alias("rounds"),
        pl.col("off_plan").sum().alias("rounds_off_plan"),
        (pl.col("uploads_late") > 0).sum().alias("rounds_upload_late"),
    )
    out = r.join(s, on="team", how="full", coalesce=True).fill_null(0)
    return out.with_columns(
        (pl.col("reports_in_time") / pl.col("reports")).alias("report_rate"),
        (pl.col("defects_closed_in_time") / pl.col("defects_due")).alias("closure_rate"),
    ).sort("team")


def hours_histogram(reports: pl.DataFrame, limit_hours: float, *, title: str, x_title: str, y_title: str,
                    immediate_name: str, same_day_name: str, limit_name: str) -> go.Figure:
    """Hours from found to reported, immediate types and same-day types apart, with the immediate limit."""
    fig = go.Figure()
    for flag, name in ((True, immediate_name), (False, same_day_name)):
        hours = reports.filter((pl.col("immediate") == flag) & pl.col("report_hours").is_not_null())["report_hours"]
        if hours.len():
            fig.add_trace(go.Histogram(x=hours.to_list(), name=name, opacity=0.75, nbinsx=40))
    fig.add_vline(x=limit_hours, line_dash="dash", line_color="#d62728", annotation_text=limit_name)
    fig.update_layout(title=title, barmode="overlay", margin=_MARGIN, height=340,
                      xaxis_title=x_title, yaxis_title=y_title)
    return fig


def closure_bars(reports: pl.DataFrame, *, title: str, x_title: str, y_title: str,
                 names: dict[str, str]) -> go.Figure:
    """Closed defects by working days to closure, LV and HV deadlines apart (bars coloured by state)."""
    closed = reports.filter(pl.col("closure_working_days").is_not_null())
    fig = go.Figure()
    for state, colour in (("CLOSED_IN_TIME", "#2ca02c"), ("CLOSED_LATE", "#d62728")):
        rows = closed.filter(pl.col("closure_state") == state).group_by("closure_working_days").len().sort(
            "closure_working_days")
        if rows.height:
            fig.add_trace(go.Bar(x=rows["closure_working_days"].to_list(), y=rows["len"].to_list(),
                                 name=names[state], marker_color=colour))
    fig.update_layout(title=title, barmode="stack", margin=_MARGIN, height=340, xaxis_title=x_title,
                      yaxis_title=y_title)
    return fig


def zero_check_classes(zero: pl.DataFrame) -> pl.DataFrame:
    """Per customer class: remote customers with a zero run, the share and number to check on site, those
    selected with a visit on record, and whether that meets the requirement."""
    per_team = zero.group_by("team", "customer_class").agg(
        pl.len().alias("customers"), pl.col("class_required").first().alias("required"),
        pl.col("required_share").first().alias("share"),
        (pl.col("visited")).sum().alias("visited"))
    out = per_team.group_by("customer_class").agg(
        pl.col("customers").sum(), pl.col("required").sum(), pl.col("share").first(), pl.col("visited").sum())
    return out.with_columns((pl.col("visited") >= pl.col("required")).alias("met")).sort("customer_class")


def upload_histogram(segments: pl.DataFrame, *, title: str, x_title: str, y_title: str) -> go.Figure:
    """Segment rounds uploaded late, by hours past the deadline of their latest upload."""
    hours = segments["upload_late_hours"].drop_nulls().to_list()
    fig = go.Figure(go.Histogram(x=hours, nbinsx=40, marker_color="#ff7f0e"))
    fig.update_layout(title=title, margin=_MARGIN, height=300, xaxis_title=x_title, yaxis_title=y_title,
                      showlegend=False)
    return fig


def late_rounds(segments: pl.DataFrame) -> pl.DataFrame:
    """Segment rounds read off the 例日 or uploaded late, the latest upload first."""
    return (segments.filter(pl.col("off_plan") | (pl.col("uploads_late") > 0))
            .sort(["upload_late_hours", "max_days_off"], descending=True, nulls_last=True))
