"""Readers page: digit forensics and fabrication signatures per meter reader (marts.reader_forensics),
and for one reader the last-digit distribution and the residual dispersion against the team's peers.

Reader names are staff names (not customer personal data): shown. Shaping and figures:
dashboards/forensics.py.
"""

from __future__ import annotations

from html import escape as html_escape

import polars as pl
import streamlit as st

from dashboards import data
from dashboards import forensics as fx
from dashboards.anomalies import md_escape
from dashboards.components import month_picker, published_snapshot, team_picker, url_choice
from dashboards.i18n import t, t_or

READER_KEY = "reader"
TABLE = "marts.reader_forensics"


def load() -> tuple[data.Snapshot, pl.DataFrame] | None:
    """The snapshot and every row of the forensics mart, or None after telling the user why not."""
    snap = published_snapshot()
    if snap is None:
        return None
    try:
        df = data.query(snap, fx.FORENSICS_SQL)
    except data.SnapshotError as exc:
        if exc.reason == "missing_table":
            st.info(t("no_forensics_table"), icon=":material/info:")
        else:
            st.warning(t("snapshot_unreadable", error=exc.detail or exc.reason), icon=":material/warning:")
        return None
    if df.height == 0:
        st.info(t("no_forensics_rows"), icon=":material/info:")
        return None
    return snap, df


def reason_text(reasons: list[str] | None) -> str:
    def one(code: str) -> str:
        return t_or(f"reason_{code}", code)

    return t("list_sep").join(one(r) for r in reasons or [])


def few(value: str | None) -> str:
    return value if value is not None else t("too_few")


def readers_frame(rows: pl.DataFrame) -> pl.DataFrame:
    return pl.DataFrame(
        {
            t("col_team"): rows["team"],
            t("col_reader"): rows["reader"],
            t("col_reads_window"): rows["reads"],
            t("col_reads_month"): rows["reads_month"],
            t("col_months"): rows["months"],
            t("col_heaping"): [few(fx.fmt_index(v)) for v in rows["heaping_index"].to_list()],
            t("col_last_digit_p"): [few(fx.fmt_p(v)) for v in rows["last_digit_p"].to_list()],
            t("col_digit_slip"): [few(fx.fmt_share(v)) for v in rows["digit_slip_share"].to_list()],
            t("col_dispersion"): [few(fx.fmt_index(v)) for v in rows["residual_dispersion"].to_list()],
            t("col_signature"): [few(fx.fmt_index(v)) for v in rows["signature"].to_list()],
            t("col_signature_rank"): rows["signature_rank"],
            t("col_flagged"): [t("flagged_yes") if f else t("flagged_no") for f in rows["flagged"].to_list()],
            t("col_flag_reasons"): [reason_text(r) for r in rows["flag_reasons"].to_list()],
        }
    )


def render_reader(df: pl.DataFrame, month: str, team: str, reader: str, unattributed: str | None) -> None:
    st.subheader(t("reader_header"))
    row = df.filter((pl.col("period") == month) & (pl.col("team") == team) & (pl.col("reader") == reader)).row(
        0, named=True)
    st.caption(t("reader_summary", reader=md_escape(reader), team=md_escape(team), reads=f"{row['reads']:,}",
                 months=row["months"], reads_month=f"{row['reads_month']:,}"))
    if row["flagged"]:
        st.warning(f"{t('col_flag_reasons')}: {reason_text(row['flag_reasons'])}", icon=":material/flag:")
    if unattributed is not None and reader == unattributed:
        st.caption(t("unattributed_reader_note", name=md_escape(unattributed)))
    left, right = st.columns(2)
    with left:
        counts = [int(c) for c in (row["digit_counts"] or [])]
        if not counts or sum(counts) == 0:
            st.info(t("no_digits"), icon=":material/info:")
        else:
            fig = fx.digit_bars(counts, fx.heaped_digits(), title=t("chart_digits"), x_title=t("axis_digit"),
                                y_title=t("axis_count"), counts_name=t("digits_observed"),
                                expected_name=t("digits_expected"), heaped_name=t("digits_heaped"))
            st.plotly_chart(fig, key="readers_digits")
            st.caption(t("digits_caption", n=f"{sum(counts):,}", e=f"{fx.digit_expectation(counts):,.1f}"))
    with right:
        peers = fx.peers(df, month, team, reader, unattributed)
        drawn = peers.filter(pl.col("residual_dispersion").is_not_null())
        if drawn.height == 0:
            st.info(t("no_peers"), icon=":material/info:")
        else:
            def hover(r: dict) -> str:
                return "<br>".join([
                    html_escape(r["reader"], quote=False),
                    f"{t('col_dispersion')}: {fx.fmt_index(r['residual_dispersion'])}",
                    f"{t('col_signature')}: {few(fx.fmt_index(r['signature']))}",
                    f"{t('col_signature_rank')}: {r['signature_rank'] if r['signature_rank'] is not None else '—'}",
                ])

            fig = fx.peer_bars(peers, reader, title=t("chart_peers", team=html_escape(team, quote=False)),
                               y_title=t("col_dispersion"), peer_name=t("peer_line"), hover=hover)
            st.plotly_chart(fig, key="readers_peers")
            st.caption(t("peers_caption"))
        missing = peers.filter(pl.col("residual_dispersion").is_null())["reader"].to_list()
        if missing and drawn.height:
            st.caption(t("peers_missing", readers=md_escape(t("list_sep").join(missing))))


def main() -> None:
    st.title(t("readers_title"))
    loaded = load()
    if loaded is None:
        return
    _snap, df = loaded
    month = month_picker(df["period"].unique().to_list())
    teams = team_picker(df["team"].unique().to_list())
    st.caption(t("readers_scope", month=month,
                 teams=md_escape(t("list_sep").join(teams)) if teams else t("team_placeholder")))
    rows = fx.month_rows(df, month, teams)
    if rows.height == 0:
        st.info(t("no_forensics_scope", month=month), icon=":material/info:")
        return
    st.caption(t("forensics_caption", month=month))
    st.dataframe(readers_frame(rows), hide_index=True, width="stretch", key="readers_table")
    unattributed = fx.unattributed_reader()
    if unattributed is not None and unattributed in rows["reader"].to_list():
        st.caption(t("unattributed_reader_note", name=md_escape(unattributed)))

    options = fx.options(rows)
    chosen = url_choice(t("reader_label"), list(options), READER_KEY, t("reader_placeholder"),
                        t("reader_not_listed", month=month))
    if chosen is None:
        return
    team, reader = options[chosen]
    render_reader(df, month, team, reader, unattributed)


main()
