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


# --- Overview and Errors pages ------------------------------------------------------------------------------
# Data values (team and reader names) are escaped here: plotly renders tags in legends and hovers.

_MARGIN = {"l": 10, "r": 10, "t": 50, "b": 10}
_RED, _BLUE, _GREY, _ORANGE, _GREEN = "#d62728", "#1f77b4", "#7f7f7f", "#ff7f0e", "#2ca02c"


def _month_axis(fig: go.Figure, months: list[str], title: str, **where: int) -> None:
    step = max(1, -(-len(months) // 12))
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=months, title=title, tickangle=-45,
                     tickmode="array", tickvals=months[::step], automargin=True, **where)


def kpi_trend(trend: pl.DataFrame, targets: pl.DataFrame, *, names: dict[str, str], title: str, target_name: str,
              x_title: str, tickformat: str, hover_counts: str, from_zero: bool = False) -> go.Figure:
    """One line per series (the centre, chosen teams) of a KPI by month, its counts in the hover, and the
    target as a dashed line. `names` maps a series key to its legend name; `hover_counts` is a hover
    template fragment using %{customdata[0]} (numerator) and %{customdata[1]} (denominator). Null values
    leave gaps, never 0."""
    from html import escape

    months = sorted(set(trend["period"].to_list()) | set(targets["period"].to_list()))
    fig = go.Figure()
    for series in trend["series"].unique(maintain_order=True).to_list():
        rows = trend.filter(pl.col("series") == series)
        name = escape(names.get(series, series), quote=False)
        custom = [[_count(n), _count(d)] for n, d in zip(rows["numerator"].to_list(), rows["denominator"].to_list(),
                                                          strict=True)]
        fig.add_trace(go.Scatter(
            x=rows["period"].to_list(), y=rows["value"].to_list(), mode="lines+markers", name=name,
            connectgaps=False, customdata=custom,
            hovertemplate=f"{name}: %{{y:{tickformat}}} ({hover_counts})<extra></extra>",
            line={"width": 3} if series == trend["series"][0] else None,
        ))
    if targets.height:
        fig.add_trace(go.Scatter(
            x=targets["period"].to_list(), y=targets["target"].to_list(), mode="lines", name=target_name,
            line={"dash": "dash", "color": _RED, "width": 2},
            hovertemplate=f"{target_name}: %{{y:{tickformat}}}<extra></extra>",
        ))
    fig.update_layout(title=title, height=420, margin=_MARGIN, legend={"orientation": "h", "y": -0.3},
                      hovermode="x unified")
    _month_axis(fig, months, x_title)
    fig.update_yaxes(tickformat=tickformat, rangemode="tozero" if from_zero else "normal")
    return fig


def _count(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def pareto_chart(pareto: pl.DataFrame, *, title: str, bar_name: str, line_name: str, y_title: str,
                 kwh_name: str) -> go.Figure:
    """Bars of 户数 per error type, largest first, and the cumulative share on a second axis."""
    labels = pareto["label"].to_list()
    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=labels, y=pareto["customers"].to_list(), name=bar_name, marker={"color": _RED},
        text=pareto["customers"].to_list(), textposition="outside", cliponaxis=False,
        customdata=[[s, k] for s, k in zip(pareto["share"].to_list(), pareto["kwh"].to_list(), strict=True)],
        hovertemplate=(f"%{{x}}: %{{y:,d}} {bar_name} (%{{customdata[0]:.1%}}) · {kwh_name} "
                       "%{customdata[1]:,.2f}<extra></extra>"),
    ))
    fig.add_trace(go.Scatter(
        x=labels, y=pareto["cumulative"].to_list(), name=line_name, mode="lines+markers", yaxis="y2",
        line={"color": _BLUE, "width": 2}, hovertemplate=f"{line_name}: %{{y:.1%}}<extra></extra>",
    ))
    fig.update_layout(
        title=title, height=420, margin=_MARGIN, legend={"orientation": "h", "y": -0.3},
        yaxis={"title": y_title, "rangemode": "tozero", "tickformat": ",d"},
        yaxis2={"overlaying": "y", "side": "right", "range": [0, 1.05], "tickformat": ".0%", "showgrid": False,
                "tickmode": "array", "tickvals": [0, 0.2, 0.4, 0.6, 0.8, 1.0]},
    )
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=labels, automargin=True)
    return fig


def p_chart_panels(rows: pl.DataFrame, *, title: str, names: dict[str, str], x_title: str, tickformat: str,
                   counts_label: str, columns: int = 2) -> go.Figure:
    """A small panel per team: its rate by month (red where outside the limits), the UCL and LCL at its
    own volume of each month (dashed) and the centre line p̄ (grey). `names` labels the traces
    (rate, ucl, lcl, centre, out)."""
    from html import escape

    from plotly.subplots import make_subplots

    teams = rows["team"].unique(maintain_order=True).to_list()
    months = sorted(set(rows["period"].to_list()))
    n_rows = max(1, -(-len(teams) // columns))
    fig = make_subplots(rows=n_rows, cols=columns, subplot_titles=[escape(t, quote=False) for t in teams],
                        shared_xaxes=True, vertical_spacing=min(0.12, 0.5 / n_rows), horizontal_spacing=0.06)
    for i, team in enumerate(teams):
        r, c = i // columns + 1, i % columns + 1
        g = rows.filter(pl.col("team") == team).sort("period")
        x = g["period"].to_list()
        custom = [[_count(n), _count(d)] for n, d in zip(g["numerator"].to_list(), g["denominator"].to_list(),
                                                          strict=True)]
        first = i == 0
        for col, name, style in (("ucl", names["ucl"], {"dash": "dash", "color": _RED, "width": 1}),
                                 ("lcl", names["lcl"], {"dash": "dash", "color": _ORANGE, "width": 1}),
                                 ("centre_rate", names["centre"], {"color": _GREY, "width": 1})):
            fig.add_trace(go.Scatter(x=x, y=g[col].to_list(), mode="lines", name=name, line=style,
                                     line_shape="hvh", legendgroup=col, showlegend=first, connectgaps=False,
                                     hovertemplate=f"{name}: %{{y:{tickformat}}}<extra></extra>"), row=r, col=c)
        signals = g["signal"].to_list()
        colour = {"above": _RED, "below": _GREEN}
        fig.add_trace(go.Scatter(
            x=x, y=g["rate"].to_list(), mode="lines+markers", name=names["rate"], legendgroup="rate",
            showlegend=first, line={"color": _BLUE, "width": 2}, connectgaps=False, customdata=custom,
            marker={"color": [colour.get(s, _BLUE) for s in signals],
                    "size": [10 if s in colour else 6 for s in signals]},
            hovertemplate=(f"{escape(team, quote=False)} %{{x}}: %{{y:{tickformat}}} "
                           f"({counts_label})<extra></extra>"),
        ), row=r, col=c)
        _month_axis(fig, months, x_title if r == n_rows else "", row=r, col=c)
        fig.update_yaxes(tickformat=tickformat, rangemode="tozero", row=r, col=c)
    fig.update_layout(title=title, height=max(340, 90 + 230 * n_rows), margin={**_MARGIN, "t": 90},
                      legend={"orientation": "h", "y": -0.12}, hovermode="closest")
    return fig


def funnel_plot(points: pl.DataFrame, curves: pl.DataFrame, *, title: str, names: dict[str, str],
                signal_names: dict[str, str], x_title: str, y_title: str, tickformat: str,
                counts_label: str, max_labels: int = 12) -> go.Figure:
    """Each unit (team or reader) at its volume and rate, coloured by its funnel signal, over the funnel's
    curves: the centre's rate and the inner (95 %) and outer (99.8 %) limits on both sides. `names` labels
    the curves (centre, inner, outer); hover shows the unit, its counts and signal. Units in control are
    named on the plot only when there are at most `max_labels` points."""
    from html import escape

    fig = go.Figure()
    if curves.height:
        v = curves["volume"].to_list()
        for col, key, style in (("upper_outer", "outer", {"color": _RED, "dash": "dash"}),
                                ("upper_inner", "inner", {"color": _ORANGE, "dash": "dot"}),
                                ("centre_rate", "centre", {"color": _GREY}),
                                ("lower_inner", "inner", {"color": _ORANGE, "dash": "dot"}),
                                ("lower_outer", "outer", {"color": _RED, "dash": "dash"})):
            fig.add_trace(go.Scatter(x=v, y=curves[col].to_list(), mode="lines", name=names[key], line=style,
                                     legendgroup=key, showlegend=col.startswith("upper") or key == "centre",
                                     hovertemplate=f"{names[key]}: %{{y:{tickformat}}} @ %{{x:,.0f}}<extra></extra>"))
    outer = {f"above_{round(q * 1000)}" for q in points["outer_coverage"].unique().to_list()}
    for signal in points["signal"].unique(maintain_order=True).to_list():
        g = points.filter(pl.col("signal") == signal)
        # outside the outer limit above: red; the inner only: orange; below: green; in control: blue
        colour = (_RED if signal in outer else _ORANGE if signal.startswith("above")
                  else _GREEN if signal.startswith("below") else _BLUE if signal == "in_control" else _GREY)
        who = [escape(r if r is not None else t, quote=False)
               for t, r in zip(g["team"].to_list(), g["reader"].to_list(), strict=True)]
        custom = [[w, _count(n), _count(d)] for w, n, d in zip(who, g["numerator"].to_list(),
                                                               g["denominator"].to_list(), strict=True)]
        labelled = signal != "in_control" or points.height <= max_labels  # a crowd of readers: names on hover
        fig.add_trace(go.Scatter(
            x=g["denominator"].to_list(), y=g["rate"].to_list(), mode="markers+text" if labelled else "markers",
            text=who if labelled else None, textposition="top center", name=signal_names.get(signal, signal),
            customdata=custom,
            marker={"size": 10, "color": colour, "line": {"width": 1, "color": "#333333"}},
            hovertemplate=(f"%{{customdata[0]}}: %{{y:{tickformat}}} ({counts_label})<br>"
                           f"{escape(signal_names.get(signal, signal), quote=False)}<extra></extra>"),
        ))
    fig.update_layout(title=title, height=480, margin=_MARGIN, legend={"orientation": "h", "y": -0.2})
    fig.update_xaxes(title=x_title, tickformat=",d", rangemode="tozero")
    fig.update_yaxes(title=y_title, tickformat=tickformat, rangemode="tozero")
    return fig
