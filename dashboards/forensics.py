"""Digit forensics and fabrication signatures per reader for the readers page: fixed SQL, frame
shaping and figures (pure: no Streamlit; the page is dashboards/views/readers.py).

marts.reader_forensics holds one row per reader and month over the 12 months ending with it (how it
is computed: checks/forensics.py, config/forensics.toml). Nulls mean "too few readings for this
statistic", never 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

import plotly.graph_objects as go
import polars as pl

from readq.config import load_toml

INDEX_DIGITS = 2  # heaping index, signature, dispersion: 1.53
SHARE_DIGITS = 2  # digit-slip share: 0.35%
DIGITS = tuple(range(10))  # last digits 0 … 9
SEP = " · "  # reader option: "<reader> · <team>" (language-neutral, so a shared URL means the same)

FORENSICS_SQL = """
select period, team, reader, reads, reads_month, months, digit_counts, heaping_share, heaping_index,
       last_digit_chi2, last_digit_p, digit_slip_flags, digit_slip_share, residual_reads, residual_dispersion,
       peer_dispersion, signature, signature_rank, signature_pct, flagged, flag_reasons
from marts.reader_forensics
order by period, team, reader
"""


def unattributed_reader() -> str | None:
    """The reader name unattributed readings carry (config/forensics.toml [scope]); None if unset."""
    try:
        value = load_toml("forensics.toml")["scope"]["unattributed"]
    except (FileNotFoundError, KeyError, TypeError):
        return None
    return str(value)


def heaped_digits() -> tuple[int, ...]:
    """The digits heaping counts (config/forensics.toml [digits] heaped); none if unset."""
    try:
        return tuple(int(d) for d in load_toml("forensics.toml")["digits"]["heaped"])
    except (FileNotFoundError, KeyError, TypeError, ValueError):
        return ()


def reader_option(team: str, reader: str) -> str:
    return f"{reader}{SEP}{team}"


def month_rows(df: pl.DataFrame, month: str, teams: Sequence[str]) -> pl.DataFrame:
    """The readers of `month` in the selected teams (none selected: all), flagged and most suspicious
    signatures first, then by team and reader."""
    rows = df.filter(pl.col("period") == month)
    if teams:
        rows = rows.filter(pl.col("team").is_in(list(teams)))
    return rows.sort(["flagged", "signature_rank", "team", "reader"], descending=[True, False, False, False],
                     nulls_last=True)


def options(rows: pl.DataFrame) -> dict[str, tuple[str, str]]:
    """Reader option text -> (team, reader), in the table's order."""
    return {reader_option(tm, r): (tm, r) for tm, r in rows.select("team", "reader").iter_rows()}


def fmt_index(value: float | None) -> str | None:
    return None if value is None else f"{value:.{INDEX_DIGITS}f}"


def fmt_share(value: float | None) -> str | None:
    return None if value is None else f"{value * 100:.{SHARE_DIGITS}f}%"


def fmt_p(value: float | None) -> str | None:
    """A p-value: 3 decimals, small ones with 2 significant digits (0.00012, 3.4e-09)."""
    if value is None:
        return None
    return f"{value:.3f}" if value >= 0.01 else f"{value:.2g}"


def digit_expectation(counts: Sequence[int]) -> float:
    """The count per digit a uniform last digit would give: the digits counted / 10. (reads counts
    unchanged registers too, which carry no digit the reader chose: the digits' own total is the base.)"""
    return sum(counts) / len(DIGITS)


def peers(df: pl.DataFrame, month: str, team: str, chosen: str, unattributed: str | None) -> pl.DataFrame:
    """The readers of `team` in `month`, the chosen one included; the unattributed reader (many
    people, never anyone's peer) only when chosen. Lowest dispersion (closest to expected) first."""
    rows = df.filter((pl.col("period") == month) & (pl.col("team") == team))
    if unattributed is not None:
        rows = rows.filter((pl.col("reader") != unattributed) | (pl.col("reader") == chosen))
    return rows.sort(["residual_dispersion", "reader"], nulls_last=True)


def digit_bars(counts: Sequence[int], heaped: Sequence[int], *, title: str, x_title: str, y_title: str,
               counts_name: str, expected_name: str, heaped_name: str) -> go.Figure:
    """Bars of the last-digit counts 0 … 9 — the heaped digits (config) as their own red trace — and
    the uniform expectation as a dashed line."""
    expected = digit_expectation(counts)
    digits = [str(d) for d in DIGITS]
    fig = go.Figure()
    for name, colour, keep in ((counts_name, "#1f77b4", False), (heaped_name, "#d62728", True)):
        shown = [d for d in DIGITS if (d in heaped) == keep]
        if not shown:
            continue
        fig.add_trace(go.Bar(
            x=[str(d) for d in shown], y=[counts[d] for d in shown], name=name, marker={"color": colour},
            text=[counts[d] for d in shown], textposition="outside", cliponaxis=False,
            hovertemplate=f"%{{x}}: %{{y:,d}} ({expected_name} {expected:,.1f})<extra></extra>",
        ))
    fig.add_trace(go.Scatter(
        x=digits, y=[expected] * len(DIGITS), mode="lines", name=expected_name,
        line={"dash": "dash", "color": "#333333", "width": 2},
        hovertemplate=f"{expected_name}: %{{y:,.1f}}<extra></extra>",
    ))
    fig.update_layout(title=title, height=380, margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      legend={"orientation": "h", "y": -0.25}, bargap=0.15, barmode="overlay")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=digits, title=x_title)
    fig.update_yaxes(title=y_title, rangemode="tozero", tickformat=",d")
    return fig


def peer_bars(rows: pl.DataFrame, chosen: str, *, title: str, y_title: str, peer_name: str,
              hover: Callable[[dict], str]) -> go.Figure:
    """The residual dispersion of each reader of the team (the chosen one highlighted) and the
    chosen reader's peer dispersion as a dashed line: a bar far below the line reads suspiciously
    close to the expected use. `hover(row)` gives each bar's hover text (escape data in it)."""
    shown = rows.filter(pl.col("residual_dispersion").is_not_null())
    names = shown["reader"].to_list()
    readers = [escape(r, quote=False) for r in names]  # plotly renders tags in category labels
    records = shown.to_dicts()
    fig = go.Figure(go.Bar(
        x=readers, y=shown["residual_dispersion"].to_list(),
        marker={"color": ["#d62728" if r == chosen else "#9e9e9e" for r in names]},
        text=[fmt_index(v) for v in shown["residual_dispersion"].to_list()], textposition="outside",
        cliponaxis=False, hovertext=[hover(r) for r in records], hoverinfo="text", name=y_title,
        showlegend=False,
    ))
    chosen_rows = rows.filter(pl.col("reader") == chosen)
    peer = chosen_rows["peer_dispersion"][0] if chosen_rows.height else None
    if peer is not None and readers:
        fig.add_trace(go.Scatter(
            x=readers, y=[peer] * len(readers), mode="lines", name=peer_name,
            line={"dash": "dash", "color": "#333333", "width": 2},
            hovertemplate=f"{peer_name}: %{{y:.{INDEX_DIGITS}f}}<extra></extra>",
        ))
    fig.update_layout(title=title, height=max(320, 200 + 8 * len(readers)),
                      margin={"l": 10, "r": 10, "t": 50, "b": 10}, legend={"orientation": "h", "y": -0.3})
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=readers, tickangle=-45,
                     automargin=True)
    fig.update_yaxes(title=y_title, rangemode="tozero")
    return fig
