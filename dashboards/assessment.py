"""Shaping and figures of the Assessment page (dashboards/views/assessment.py): the ranking table and
its history, the deduction waterfall of a team or a reader, the ledger rows with their evidence, and
the raw row behind one of them. Pure functions of the frames the page reads."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import plotly.graph_objects as go
import polars as pl

Label = Callable[[str], str]
_MARGIN = {"l": 10, "r": 10, "t": 50, "b": 10}
# the kind of input whose raw row a ledger row's evidence points at
EVIDENCE_KINDS = {"finding": "review_findings", "report": "field_anomalies", "segment": "readings"}


def rank_change_text(change: int | None) -> str:
    """▲2 / ▼1 / – (no previous rank: empty)."""
    if change is None:
        return ""
    if change > 0:
        return f"▲{change}"
    if change < 0:
        return f"▼{-change}"
    return "–"


def month_teams(teams: pl.DataFrame, month: str, chosen: Sequence[str]) -> pl.DataFrame:
    rows = teams.filter(pl.col("period") == month)
    if chosen:
        rows = rows.filter(pl.col("team").is_in(list(chosen)))
    return rows.sort(pl.col("rank").fill_null(10**9), "team")


def item_totals(ledger: pl.DataFrame, points: str, label: Label) -> list[tuple[str, float]]:
    """(item label, summed points) per item, deductions first (largest first), then bonuses and
    adjustments, skipping items that sum to zero."""
    sums = ledger.group_by("item").agg(pl.col(points).sum().alias("p")).filter(pl.col("p").abs() > 1e-12)
    order = {"VETO": 2, "FLOOR": 3, "BONUS": 1}
    rows = sorted(sums.iter_rows(), key=lambda r: (order.get(r[0], 0), r[1]))
    return [(label(item), float(p)) for item, p in rows]


def waterfall(base: float, items: list[tuple[str, float]], score: float, *, title: str, base_name: str,
              score_name: str) -> go.Figure:
    """Base → each item's points → the score (its last bar, absolute)."""
    fig = go.Figure(go.Waterfall(
        x=[base_name, *[name for name, _ in items], score_name],
        y=[base, *[p for _, p in items], score],
        measure=["absolute", *["relative"] * len(items), "total"],
        text=[f"{base:g}", *[f"{p:+.2f}" for _, p in items], f"{score:.2f}"],
        textposition="outside",
        decreasing={"marker": {"color": "#d62728"}}, increasing={"marker": {"color": "#2ca02c"}},
        totals={"marker": {"color": "#1f77b4"}},
    ))
    fig.update_layout(title=title, margin=_MARGIN, showlegend=False, height=380)
    return fig


def rank_lines(teams: pl.DataFrame, *, title: str, x_title: str, y_title: str) -> go.Figure:
    """Each team's centre rank per month (1 at the top)."""
    fig = go.Figure()
    ranked = teams.filter(pl.col("rank").is_not_null()).sort("period")
    for team in sorted(ranked["team"].unique().to_list()):
        rows = ranked.filter(pl.col("team") == team)
        fig.add_trace(go.Scatter(x=rows["period"].to_list(), y=rows["rank"].to_list(), mode="lines+markers",
                                 name=team, customdata=rows["score"].to_list(),
                                 hovertemplate="%{x}: %{y} (%{customdata:.2f})"))
    fig.update_yaxes(autorange="reversed", title=y_title, dtick=1)
    fig.update_xaxes(title=x_title, type="category")
    fig.update_layout(title=title, margin=_MARGIN, height=360)
    return fig


def ledger_options(rows: pl.DataFrame, label: Label) -> dict[str, str]:
    """ledger_id -> what the evidence select shows for it."""
    out = {}
    for r in rows.iter_rows(named=True):
        out[r["ledger_id"]] = f"{label(r['item'])} · {r['points']:+.2f} · {r['evidence_id']}"
    return out


def compare_frame(frame: pl.DataFrame, key: list[str], headers: dict[str, str]) -> pl.DataFrame:
    """A side-by-side comparison (warehouse.assessment.compare) with display headers."""
    cols = [*key, "score_old", "score_new", "change", "rank_old", "rank_new"]
    return frame.select(cols).rename({c: headers.get(c, c) for c in cols})
