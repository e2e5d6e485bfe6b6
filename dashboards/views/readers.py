"""Readers & segments page, three tabs: digit forensics and fabrication signatures per meter reader
(marts.reader_forensics) with, for one reader, the last-digit distribution, the residual dispersion
against the team's peers and the reader's month across the marts (KPIs, flags, assessment score);
rotation (marts.rotation_*: tenure, due and violation lists, next month's plan, a segment's timeline);
and next month's recheck list (marts.recheck_*).

URL: ?month= ?team= (the sidebar), ?reader= (the forensics tab), ?segment= (the rotation tab).

Reader names are staff names (not customer personal data): shown. Shaping and figures:
dashboards/forensics.py.
"""

from __future__ import annotations

from html import escape as html_escape

import polars as pl
import streamlit as st

from dashboards import data
from dashboards import forensics as fx
from dashboards import rotation as rot
from dashboards.anomalies import md_escape
from dashboards.components import month_picker, published_snapshot, team_picker, url_choice
from dashboards.i18n import get_lang, t, t_or
from readq.config import load_toml

READER_KEY = "reader"
SEGMENT_KEY = "segment"
TABLE = "marts.reader_forensics"


def load() -> tuple[data.Snapshot, pl.DataFrame] | None:
    """The snapshot and every row of the forensics mart, or None after telling the user why not."""
    snap = data.current_snapshot()
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


def render_profile(snap: data.Snapshot, month: str, team: str, reader: str) -> None:
    """The reader's month across the other marts: KPIs, flags, assessment score."""
    st.markdown(f"**{t('rd_profile_title')}**")
    try:
        profile = data.reader_profile(snap, month, team, reader, data.table_names(snap))
    except data.SnapshotError:
        return
    kpi, flags, score = profile["kpi"], profile["flags"], profile["score"]
    c1, c2, c3, c4, c5 = st.columns(5)
    k = kpi.row(0, named=True) if kpi is not None and kpi.height else {}
    c1.metric(t("rd_actual_read"), fx.fmt_share(k.get("actual_read_rate")) or "—")
    c2.metric(t("rd_error_rate"), fx.fmt_share(k.get("error_rate")) or "—")
    c3.metric(t("rd_on_time"), fx.fmt_share(k.get("on_time_rate")) or "—")
    c4.metric(t("rd_flags"), f"{int(flags['flags'].sum()):,}" if flags is not None else "—")
    sc = score.row(0, named=True) if score is not None and score.height else {}
    c5.metric(t("rd_score"), f"{sc['score']:.2f}" if sc else "—",
              help=t("rd_score_help", rank=sc.get("rank_in_centre") or "—") if sc else None)
    if flags is not None and flags.height:
        st.caption(t("rd_flags_caption", rules=md_escape(t("list_sep").join(
            f"{r['rule_id']} {r['flags']}" for r in flags.head(8).iter_rows(named=True)))))


def forensics_section(snap_df: tuple[data.Snapshot, pl.DataFrame] | None, month: str, teams: list[str]) -> None:
    if snap_df is None:
        return
    snap, df = snap_df
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
    render_profile(snap, month, team, reader)


def status_label(code: str) -> str:
    return t_or(f"rd_status_{code}", code)


def rotation_section(snap: data.Snapshot, month: str, teams: list[str]) -> None:
    segments, plan, loads = data.rotation(snap, month)
    if teams:
        segments, plan, loads = (f.filter(pl.col("team").is_in(teams)) for f in (segments, plan, loads))
    if segments.height == 0:
        st.info(t("rd_no_rotation", month=month), icon=":material/info:")
        return
    cfg = load_toml("rotation.toml")
    counts = dict(segments["status"].value_counts().iter_rows())
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(t("rd_segments"), f"{segments.height:,}")
    c2.metric(status_label("due"), f"{counts.get('due', 0):,}")
    c3.metric(status_label("violation"), f"{counts.get('violation', 0):,}")
    c4.metric(status_label("exempt"), f"{counts.get('exempt', 0):,}")
    st.plotly_chart(rot.tenure_histogram(segments, int(cfg["warn_months"]), int(cfg["max_months"]),
                                         title=t("rd_tenure_chart"), x_title=t("rd_tenure_axis"),
                                         y_title=t("rd_segments"), warn_name=status_label("due"),
                                         limit_name=status_label("violation")), key="rd_tenure")
    flagged = segments.filter(pl.col("status").is_in(["due", "violation"])).sort("tenure_months", descending=True)
    st.markdown(f"**{t('rd_due_title', n=flagged.height)}**")
    if flagged.height:
        st.dataframe(pl.DataFrame({
            t("col_team"): flagged["team"], t("col_segment"): flagged["segment_no"],
            t("rd_col_segment_name"): flagged["segment_name"], t("col_reader"): flagged["reader"],
            t("rd_col_partner"): flagged["partner"], t("rd_col_tenure"): flagged["tenure_months"],
            t("rd_col_since"): flagged["since"], t("rd_col_left"): flagged["months_left"],
            t("rd_col_status"): [status_label(s) for s in flagged["status"].to_list()],
        }), hide_index=True, width="stretch", key="rd_due")
    lang_col = "reason_zh" if get_lang() == "zh" else "reason_en"
    moves = plan.filter(pl.col("kind") == "move")
    nxt = plan["next_period"][0] if plan.height else ""
    st.markdown(f"**{t('rd_plan_title', n=moves.height, month=nxt)}**")
    if moves.height:
        st.dataframe(pl.DataFrame({
            t("col_team"): moves["team"], t("col_segment"): moves["segment_no"],
            t("rd_col_customers"): moves["customer_count"], t("rd_col_tenure"): moves["tenure_months"],
            t("rd_col_from"): [f"{a} / {b or ''}" for a, b in zip(moves["from_reader"], moves["from_partner"],
                                                                    strict=True)],
            t("rd_col_to"): [f"{a} / {b or ''}" for a, b in zip(moves["to_reader"], moves["to_partner"], strict=True)],
            t("rd_col_reason"): moves[lang_col],
        }), hide_index=True, width="stretch", key="rd_moves")
    else:
        st.caption(t("rd_no_moves"))
    for r in plan.filter(pl.col("kind") == "unresolved").iter_rows(named=True):
        st.warning(md_escape(r[lang_col] or r["code"] or ""), icon=":material/warning:")
    if loads.height:
        st.caption(t("rd_loads_caption", tol=f"{float(loads['tolerance'][0]):.0%}"))
        st.dataframe(pl.DataFrame({
            t("col_team"): loads["team"], t("rd_col_pair"): loads["pair"],
            t("rd_col_before"): loads["customers_before"], t("rd_col_after"): loads["customers_after"],
            t("rd_col_share"): [f"{v:.0%}" if v is not None else "—" for v in loads["share_of_mean_after"].to_list()],
        }), hide_index=True, width="stretch", key="rd_loads")
    if segments.height:   # written when clicked (Streamlit calls `data`), not on every visit
        st.download_button(t("rd_download_plan"), data=lambda: data.list_workbooks(snap, month)[1] or b"",
                           file_name=f"轮换计划_{month}.xlsx",
                           on_click="ignore", icon=":material/download:", key="rd_dl_plan")
    segment = url_choice(t("rd_segment_label"), segments["segment_no"].to_list(), SEGMENT_KEY,
                         t("rd_segment_placeholder"), t("rd_segment_not_listed", month=month))
    if segment is not None:
        history = data.segment_history(snap, segment)
        st.plotly_chart(rot.segment_timeline(history, int(cfg["max_months"]),
                                             title=t("rd_timeline_chart", segment=segment), x_title=t("axis_month"),
                                             y_title=t("rd_tenure_axis"), limit_name=status_label("violation")),
                        key="rd_timeline")


def recheck_section(snap: data.Snapshot, month: str, teams: list[str]) -> None:
    readers, sample = data.recheck(snap, month)
    if teams:
        readers, sample = (f.filter(pl.col("team").is_in(teams)) for f in (readers, sample))
    if readers.height == 0:
        st.info(t("rd_no_recheck", month=month), icon=":material/info:")
        return
    st.caption(t("rd_recheck_caption", conf=f"{float(readers['confidence'][0]):.0%}"))
    st.dataframe(pl.DataFrame({
        t("col_team"): readers["team"], t("col_reader"): readers["reader"], t("rd_col_reads"): readers["reads"],
        t("rd_col_prior"): [fx.fmt_share(v) or "—" for v in readers["p_prior"].to_list()],
        t("rd_col_n"): readers["n"],
        t("rd_col_half_width"): [fx.fmt_share(v) or "—" for v in readers["half_width_achieved"].to_list()],
        t("rd_col_drift"): [t("rd_yes") if v else "" for v in readers["drifting"].to_list()],
        t("rd_col_reasons"): [t("list_sep").join(t_or(f"rd_reason_{c}", c) for c in (r or []))
                              for r in readers["reasons"].to_list()],
    }), hide_index=True, width="stretch", key="rd_recheck_readers")
    st.markdown(f"**{t('rd_sample_title', n=sample.height)}**")
    st.dataframe(pl.DataFrame({
        t("col_team"): sample["team"], t("col_reader"): sample["reader"], t("rd_col_rank"): sample["draw_rank"],
        t("col_segment"): sample["segment_no"], t("rd_col_customer"): sample["customer_no"],
        t("rd_col_meter"): sample["meter_no"], t("rd_col_severity"): sample["flag_severity"],
        t("rd_col_file"): sample["file_name"], t("rd_col_line"): sample["source_row"],
    }).head(2000), hide_index=True, width="stretch", key="rd_sample")
    if sample.height:     # written when clicked (Streamlit calls `data`), not on every visit
        st.download_button(t("rd_download_recheck"), data=lambda: data.list_workbooks(snap, month)[0] or b"",
                           file_name=f"复核清单_{month}.xlsx",
                           on_click="ignore", icon=":material/download:", key="rd_dl_recheck")


def main() -> None:
    st.title(t("readers_title"))
    snap = published_snapshot()
    if snap is None:
        return
    try:
        tables = data.table_names(snap)
        extra = data.months_of(snap, tables, (*data.ROTATION_TABLES, *data.RECHECK_TABLES))
    except data.SnapshotError as exc:
        st.warning(t("snapshot_unreadable", error=exc.detail or exc.reason), icon=":material/warning:")
        return
    loaded = load()
    months = sorted(set(extra) | (set(loaded[1]["period"].to_list()) if loaded else set()))
    if not months:
        return
    month = month_picker(months)
    team_names = set(loaded[1]["team"].to_list()) if loaded else set()
    teams = team_picker(sorted(team_names | set(data.rotation(snap, month)[0]["team"].to_list())))
    st.caption(t("readers_scope", month=month,
                 teams=md_escape(t("list_sep").join(teams)) if teams else t("team_placeholder")))
    forensics, rotation, recheck = st.tabs([t("rd_tab_forensics"), t("rd_tab_rotation"), t("rd_tab_recheck")])
    with forensics:
        forensics_section(loaded, month, teams)
    with rotation:
        if all(n in tables for n in data.ROTATION_TABLES):
            rotation_section(snap, month, teams)
        else:
            st.info(t("rd_no_rotation_tables"), icon=":material/info:")
    with recheck:
        if all(n in tables for n in data.RECHECK_TABLES):
            recheck_section(snap, month, teams)
        else:
            st.info(t("rd_no_recheck_tables"), icon=":material/info:")


main()
