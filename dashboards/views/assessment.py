"""Assessment page (考核): the centre's team ranking and its history, a team's and a reader's deduction
waterfall, every ledger row with its evidence and the delivered row behind it, the month's
经济责任制考核记录 and ranking as XLSX, and two scoring versions side by side.

URL: ?month= ?team= (the sidebar) · ?focus= (the team opened) · ?reader= · ?entry= (a ledger row) ·
?v_old= ?v_new= (the versions compared). Values not among the options are dropped with a message.
Shaping and figures: dashboards/assessment.py; scoring: config/assessment.toml, docs/assessment.md.
"""

from __future__ import annotations

from functools import partial

import polars as pl
import streamlit as st

from dashboards import assessment as asm
from dashboards import data
from dashboards.anomalies import evidence_items, mask_raw_row, md_escape
from dashboards.components import month_picker, snapshot_with, team_picker, url_choice
from dashboards.i18n import get_lang, t, t_or
from pipelines.reports.sheets import item_label as assessment_item_label

FOCUS_KEY, READER_KEY, ENTRY_KEY = "focus", "reader", "entry"
OLD_KEY, NEW_KEY = "v_old", "v_new"
RANK_TABLE_KEY, READER_TABLE_KEY, LEDGER_TABLE_KEY = "as_rank_table", "as_reader_table", "as_ledger_table"
CURRENT = "current"


def item_label(item: str) -> str:
    return assessment_item_label(item, get_lang())


def unit_label(unit: str) -> str:
    return t_or(f"as_unit_{unit}", unit)


def pick(table_key: str, target_key: str, options: list[str], clear: tuple[str, ...] = ()) -> None:
    rows = st.session_state[table_key]["selection"]["rows"]
    if rows and rows[0] < len(options):
        st.session_state[target_key] = options[rows[0]]
        for key in clear:
            st.session_state.pop(key, None)


def render_missing(snap: data.Snapshot, month: str) -> None:
    """Which optional inputs the month lacks, and the items that therefore score nothing."""
    from readq.config import config_dir
    from warehouse.assessment import missing_inputs

    try:
        delivered = data.month_kinds(snap, month)
        text = (config_dir() / "assessment.toml").read_text(encoding="utf-8")
    except (data.SnapshotError, OSError):
        return
    labels = data.mapping_labels().kinds
    for kind, items in missing_inputs(delivered, text).items():
        name = labels.get(kind, (kind, kind))[0 if get_lang() == "zh" else 1]
        st.warning(t("as_missing_input", month=month, kind=md_escape(name),
                     items=t("list_sep").join(item_label(i) for i in items)), icon=":material/report:")


def render_ranking(month_rows: pl.DataFrame, history: pl.DataFrame, month: str) -> None:
    st.subheader(t("as_ranking_title", month=month))
    frame = pl.DataFrame({
        t("as_col_rank"): month_rows["rank"],
        t("col_team"): month_rows["team"],
        t("as_col_score"): month_rows["score"].round(2),
        t("as_col_reader_mean"): month_rows["reader_mean"].round(2),
        t("as_col_team_items"): month_rows["team_items"].round(2),
        t("as_col_rank_change"): [asm.rank_change_text(v) for v in month_rows["rank_change"].to_list()],
        t("as_col_prev_score"): month_rows["prev_score"].round(2),
        t("as_col_readers"): month_rows["readers"],
        t("as_col_customers"): month_rows["customers_due"],
    })
    teams = month_rows["team"].to_list()
    st.dataframe(frame, hide_index=True, width="stretch", key=RANK_TABLE_KEY, selection_mode="single-row",
                 on_select=partial(pick, RANK_TABLE_KEY, FOCUS_KEY, teams, (READER_KEY, ENTRY_KEY)))
    versions = ", ".join(sorted(set(month_rows["scoring_version"].to_list())))
    hashes = ", ".join(sorted(set(month_rows["scoring_hash"].to_list())))
    st.caption(t("as_ranking_caption", version=versions, hash=hashes))
    if history["period"].n_unique() > 1:
        st.plotly_chart(asm.rank_lines(history, title=t("as_rank_chart"), x_title=t("axis_month"),
                                       y_title=t("as_col_rank")), key="as_rank_lines")


def render_team(team_row: dict, ledger: pl.DataFrame, readers: pl.DataFrame, month: str) -> None:
    team = team_row["team"]
    st.subheader(t("as_team_title", team=md_escape(team), month=month))
    items = asm.item_totals(ledger, "team_points", item_label)
    st.plotly_chart(asm.waterfall(team_row["base"], items, team_row["score"],
                                  title=t("as_team_waterfall", team=team), base_name=t("as_base"),
                                  score_name=t("as_score")), key="as_team_waterfall")
    st.caption(t("as_team_caption"))
    team_items = ledger.filter(pl.col("level") == "team")
    if team_items.height:
        st.markdown(f"**{t('as_team_items_title')}**")
        st.dataframe(ledger_table(team_items), hide_index=True, width="stretch", key="as_team_items")
    rows = readers.filter(pl.col("team") == team)
    frame = pl.DataFrame({
        t("as_col_rank_team"): rows["rank_in_team"],
        t("col_reader"): rows["reader"],
        t("as_col_score"): rows["score"].round(2),
        t("as_col_deductions"): rows["deductions"].round(2),
        t("as_col_bonus"): rows["bonus"].round(2),
        t("as_col_veto"): [t("as_yes") if v else "" for v in rows["vetoed"].to_list()],
        t("as_col_customers"): rows["customers_due"],
        t("as_col_rank_centre"): rows["rank_in_centre"],
        t("as_col_rank_change"): [asm.rank_change_text(v) for v in rows["rank_change"].to_list()],
    })
    names = rows["reader"].to_list()
    st.markdown(f"**{t('as_readers_title')}**")
    st.dataframe(frame, hide_index=True, width="stretch", key=READER_TABLE_KEY, selection_mode="single-row",
                 on_select=partial(pick, READER_TABLE_KEY, READER_KEY, names, (ENTRY_KEY,)))


def ledger_table(rows: pl.DataFrame) -> pl.DataFrame:
    return pl.DataFrame({
        t("as_col_item"): [item_label(i) for i in rows["item"].to_list()],
        t("as_col_points"): rows["points"].round(2),
        t("as_col_quantity"): rows["quantity"],
        t("as_col_unit"): [unit_label(u) for u in rows["unit"].to_list()],
        t("as_col_evidence"): rows["evidence_id"],
        t("col_segment"): rows["segment_no"],
        t("as_col_customer"): rows["customer_no"],
        t("as_col_file"): rows["file_name"],
        t("as_col_line"): rows["source_row"],
    }, strict=False)


def render_reader(snap: data.Snapshot, reader_row: dict, ledger: pl.DataFrame, month: str) -> None:
    reader, team = reader_row["reader"], reader_row["team"]
    st.subheader(t("as_reader_title", reader=md_escape(reader), team=md_escape(team)))
    rows = ledger.filter((pl.col("level") == "reader") & (pl.col("reader") == reader))
    if reader_row["vetoed"]:
        st.warning(t("as_vetoed"), icon=":material/block:")
    items = asm.item_totals(rows, "points", item_label)
    st.plotly_chart(asm.waterfall(reader_row["base"], items, reader_row["score"],
                                  title=t("as_reader_waterfall", reader=reader), base_name=t("as_base"),
                                  score_name=t("as_score")), key="as_reader_waterfall")
    if rows.height == 0:
        st.info(t("as_no_rows", reader=md_escape(reader), month=month), icon=":material/check_circle:")
        return
    ids = rows["ledger_id"].to_list()
    st.dataframe(ledger_table(rows), hide_index=True, width="stretch", key=LEDGER_TABLE_KEY,
                 selection_mode="single-row", on_select=partial(pick, LEDGER_TABLE_KEY, ENTRY_KEY, ids))
    st.caption(t("as_ledger_caption"))
    options = asm.ledger_options(rows, item_label)
    chosen = url_choice(t("as_entry_label"), list(options), ENTRY_KEY, t("as_entry_placeholder"),
                        t("as_entry_not_listed"))
    if chosen is not None:
        render_evidence(snap, rows.filter(pl.col("ledger_id") == chosen).row(0, named=True))


def render_evidence(snap: data.Snapshot, row: dict) -> None:
    title = t("as_evidence_title", item=md_escape(item_label(row["item"])), id=md_escape(row["evidence_id"]))
    st.markdown(f"#### {title}")
    lines = [f"- **{md_escape(k)}**: {md_escape(v)}" for k, v in evidence_items(row["evidence"])]
    st.markdown("\n".join(lines) or t("no_data"))
    kind = asm.EVIDENCE_KINDS.get(row["evidence_kind"])
    if row["delivery_id"] is None or kind is None:
        st.caption(t("as_no_source", kind=row["evidence_kind"]))
        return
    st.caption(t("as_source", file=md_escape(row["file_name"] or "?"), sheet=md_escape(row["sheet"] or "—"),
                 line=row["source_row"]))
    try:
        raw = data.raw_source_row(snap, kind, row["delivery_id"], row["source_row"], row["sheet"])
    except data.SnapshotError:
        raw = pl.DataFrame()
    if raw.height == 0:
        st.info(t("as_no_raw"), icon=":material/info:")
        return
    masked = mask_raw_row(raw) if kind == "readings" else raw   # other kinds are masked at publish
    shown = masked.drop([c for c in ("delivery_id", "sheet", "source_row", "extras") if c in masked.columns])
    st.dataframe(shown, hide_index=True, width="stretch", key="as_raw_row")
    st.caption(t("as_raw_caption"))


def render_compare(snap: data.Snapshot, month: str) -> None:
    with st.expander(t("as_compare_title")):
        try:
            versions = data.scoring_versions(snap)
        except data.SnapshotError:
            versions = []
        texts = {v: text for v, text in versions}
        try:
            from readq.config import config_dir
            texts[CURRENT] = (config_dir() / "assessment.toml").read_text(encoding="utf-8")
        except OSError:
            pass
        options = [CURRENT, *[v for v, _ in versions]] if CURRENT in texts else [v for v, _ in versions]
        if len(options) < 2:
            st.info(t("as_compare_one"), icon=":material/info:")
            return
        left, right = st.columns(2)
        with left:
            old = url_choice(t("as_compare_old"), options, OLD_KEY, t("as_compare_pick"), t("as_compare_not_listed"))
        with right:
            new = url_choice(t("as_compare_new"), options, NEW_KEY, t("as_compare_pick"), t("as_compare_not_listed"))
        if old is None or new is None:
            st.caption(t("as_compare_caption"))
            return
        readers, teams = data.assessment_compare(snap, month, (old, texts[old]), (new, texts[new]))
        headers = {"team": t("col_team"), "reader": t("col_reader"), "score_old": t("as_col_score_old", v=old),
                   "score_new": t("as_col_score_new", v=new), "change": t("as_col_change"),
                   "rank_old": t("as_col_rank_old"), "rank_new": t("as_col_rank_new")}
        st.dataframe(asm.compare_frame(teams, ["team"], headers), hide_index=True, width="stretch",
                     key="as_compare_teams")
        moved = readers.filter(pl.col("change").abs() > 1e-9)
        st.caption(t("as_compare_moved", n=moved.height, total=readers.height))
        st.dataframe(asm.compare_frame(readers, ["team", "reader"], headers), hide_index=True, width="stretch",
                     key="as_compare_readers")


def main() -> None:
    st.title(t("as_title"))
    found = snapshot_with(data.ASSESSMENT_TABLES, "as_no_tables")
    if found is None:
        return
    snap, _ = found
    try:
        history = data.assessment_teams(snap)
    except data.SnapshotError as exc:
        st.warning(t("snapshot_unreadable", error=exc.detail or exc.reason), icon=":material/warning:")
        return
    if history.height == 0:
        st.info(t("as_no_rows_at_all"), icon=":material/info:")
        return
    month = month_picker(history["period"].unique().to_list())
    chosen = team_picker(history["team"].unique().to_list())
    month_rows = asm.month_teams(history, month, chosen)
    if month_rows.height == 0:
        st.info(t("as_no_month", month=month), icon=":material/info:")
        return
    scoped = history.filter(pl.col("team").is_in(month_rows["team"].to_list()))
    render_missing(snap, month)
    render_ranking(month_rows, scoped, month)
    # the workbooks are written when a button is clicked (Streamlit calls `data`), not on every visit
    def records() -> bytes:
        return data.assessment_workbooks(snap, month)[0]

    def ranking() -> bytes:
        return data.assessment_workbooks(snap, month)[1]

    left, right = st.columns(2)
    with left:
        st.download_button(t("as_download_records"), data=records, file_name=f"经济责任制考核记录_{month}.xlsx",
                           on_click="ignore", icon=":material/download:", key="as_dl_records")
    with right:
        st.download_button(t("as_download_ranking"), data=ranking, file_name=f"班组排名_{month}.xlsx",
                           on_click="ignore", icon=":material/download:", key="as_dl_ranking")
    render_compare(snap, month)

    teams = month_rows["team"].to_list()
    focus = url_choice(t("as_focus_label"), teams, FOCUS_KEY, t("as_focus_placeholder"),
                       t("as_focus_not_listed", month=month))
    if focus is None and len(teams) == 1:
        focus = teams[0]
    if focus is None:
        st.caption(t("as_focus_caption"))
        return
    readers, ledger = data.assessment_month(snap, month, focus)
    render_team(month_rows.filter(pl.col("team") == focus).row(0, named=True), ledger, readers, month)
    names = readers.filter(pl.col("team") == focus)["reader"].to_list()
    reader = url_choice(t("as_reader_label"), names, READER_KEY, t("as_reader_placeholder"),
                        t("as_reader_not_listed", month=month))
    if reader is None:
        return
    row = readers.filter((pl.col("team") == focus) & (pl.col("reader") == reader)).row(0, named=True)
    render_reader(snap, row, ledger, month)


main()
