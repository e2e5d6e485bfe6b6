"""Plotly figures for the dashboard pages."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl


def rate_trend(
    trend: pl.DataFrame,
    targets: pl.DataFrame,
    *,
    rate_col: str,
    target_col: str,
    title: str,
    target_name: str,
    x_title: str,
    tickformat: str,
    from_zero: bool = False,
) -> go.Figure:
    """One line per team of `rate_col` by month, plus the target as a dashed line.

    Null rates (no data) leave gaps; they are never drawn as 0.
    """
    months = sorted(set(trend["period"].to_list()) | set(targets["period"].to_list()))
    fig = go.Figure()
    for team in sorted(set(trend["team"].to_list())):
        rows = trend.filter(pl.col("team") == team)
        fig.add_trace(
            go.Scatter(
                x=rows["period"].to_list(),
                y=rows[rate_col].to_list(),
                mode="lines+markers",
                name=team,
                connectgaps=False,
                hovertemplate=f"{team}: %{{y:{tickformat}}}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=targets["period"].to_list(),
            y=targets[target_col].to_list(),
            mode="lines",
            name=target_name,
            line={"dash": "dash", "color": "#d62728", "width": 2},
            hovertemplate=f"{target_name}: %{{y:{tickformat}}}<extra></extra>",
        )
    )
    fig.update_layout(
        title=title,
        height=420,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "y": -0.3},
        hovermode="x unified",
    )
    # at most ~12 month labels, slanted, so two years stay readable in a half-width chart
    step = max(1, -(-len(months) // 12))
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=months, title=x_title,
                     tickangle=-45, tickmode="array", tickvals=months[::step], automargin=True)
    fig.update_yaxes(tickformat=tickformat, rangemode="tozero" if from_zero else "normal")
    return fig


def bar_counts(labels: list[str], counts: list[int], *, title: str, x_title: str) -> go.Figure:
    """Horizontal bars, the largest on top (labels and counts given largest first)."""
    fig = go.Figure(
        go.Bar(
            x=counts,
            y=labels,
            orientation="h",
            text=counts,
            textposition="outside",
            textangle=0,
            cliponaxis=False,
            hovertemplate="%{y}: %{x}<extra></extra>",
            marker={"color": "#d62728"},
        )
    )
    fig.update_layout(
        title=title,
        height=max(240, 60 + 28 * len(labels)),
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    fig.update_yaxes(autorange="reversed", automargin=True, type="category")
    # counts are whole numbers: no 0.5 ticks when they are small
    small = max(counts, default=0) <= 10
    fig.update_xaxes(title=x_title, rangemode="tozero", tickformat=",d", dtick=1 if small else None)
    return fig
