"""Figures of the rotation and recheck sections of the Readers & segments page (dashboards/views/readers.py):
how long segments have been held against the warning and the limit, and one segment's holders over time."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

_MARGIN = {"l": 10, "r": 10, "t": 50, "b": 10}


def tenure_histogram(segments: pl.DataFrame, warn: int, limit: int, *, title: str, x_title: str, y_title: str,
                     warn_name: str, limit_name: str) -> go.Figure:
    """Segments by tenure (months), exempt ones left out, with the warning and the limit."""
    held = segments.filter(pl.col("status") != "exempt")["tenure_months"].drop_nulls().to_list()
    fig = go.Figure(go.Histogram(x=held, xbins={"size": 1}, marker_color="#1f77b4"))
    fig.add_vline(x=warn - 0.5, line_dash="dot", line_color="#ff7f0e", annotation_text=warn_name)
    fig.add_vline(x=limit - 0.5, line_dash="dash", line_color="#d62728", annotation_text=limit_name)
    fig.update_layout(title=title, margin=_MARGIN, height=320, xaxis_title=x_title, yaxis_title=y_title,
                      showlegend=False)
    return fig


def segment_timeline(history: pl.DataFrame, limit: int, *, title: str, x_title: str, y_title: str,
                     limit_name: str) -> go.Figure:
    """One segment's tenure per month, a bar per month coloured by its holder (reader/partner)."""
    fig = go.Figure()
    frame = history.with_columns(pl.concat_str([pl.col("reader"), pl.col("partner").fill_null("")],
                                               separator=" / ").alias("holder"))
    for holder in frame["holder"].unique(maintain_order=True).to_list():
        rows = frame.filter(pl.col("holder") == holder)
        fig.add_trace(go.Bar(x=rows["period"].to_list(), y=rows["tenure_months"].to_list(), name=holder,
                             hovertemplate="%{x}: %{y}"))
    fig.add_hline(y=limit, line_dash="dash", line_color="#d62728", annotation_text=limit_name)
    fig.update_xaxes(type="category", title=x_title)
    fig.update_layout(title=title, margin=_MARGIN, height=320, yaxis_title=y_title, barmode="overlay")
    return fig
