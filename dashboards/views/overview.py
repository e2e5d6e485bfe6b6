"""Overview page (the director, before the monthly meeting): every KPI of the centre against its
target and last month, the team ranking with its volume-aware signals, the alerts, and a KPI's trend.

Reads marts.kpi_centre_month and marts.kpi_team_month (every KPI with its counts, target, met, MoM,
YoY and null reason) and, when the snapshot holds them, the control-limit marts marts.spc_p_chart,
spc_funnel and spc_cusum. URL: `?month=`, `?team=` (repeated: the cards' scope and the trend's lines),
`?metric=` (the ranking's rate, config/spc.toml [metrics]), `?kpi=` (the trend's KPI). A click on a
ranking or alert row offers the Errors page of that team (and reader). Frames: dashboards/overview.py.
"""

from __future__ import annotations

from typing import NamedTuple

import polars as pl
import streamlit as st

from checks.exports import csv_bytes
from checks.kpis import Kpi, null_reason
from checks.kpis import kpis as kpi_catalogue
from dashboards import access, data
from dashboards import overview as ov
from dashboards.anomalies import md_escape
from dashboards.charts import kpi_trend
from dashboards.components import month_picker, published_snapshot, team_picker
from dashboards.errors import reader_option
from dashboards.filters import url_select
from dashboards.i18n import get_lang, t, t_or
from readq.config import load_toml

KPI_KEY = "kpi"
METRIC_KEY = "metric"
NEEDED = ("marts.kpi_centre_month", "marts.kpi_team_month")
ERRORS_PAGE = "views/errors.py"
CARDS_PER_ROW = 4


class Loaded(NamedTuple):
    snap: data.Snapshot
    tables: set[str]
    centre: pl.DataFrame
    teams: pl.DataFrame
    catalogue: list[Kpi]


def load() -> Loaded | None:
    """The snapshot's KPI marts, or None after telling the user why there are none."""
    snap = published_snapshot()
    if snap is None:
        return None
    try:
        tables = data.table_names(snap)
        missing = [name for name in NEEDED if name not in tables]
        if missing:
            st.info(t("ov_no_kpi_tables", tables=", ".join(missing)), icon=":material/info:")
            return None
        centre, teams = data.kpi_levels(snap)
    except data.SnapshotError as exc:
        st.warning(t("snapshot_unreadable", error=exc.detail or exc.reason), icon=":material/warning:")
        return None
    if centre.height == 0:
        st.info(t("ov_no_kpi_rows"), icon=":material/info:")
        return None
    catalogue = ov.available(kpi_catalogue(), centre.columns)
    if not catalogue:
        st.info(t("ov_no_kpi_tables", tables=", ".join(NEEDED)), icon=":material/info:")
        return None
    return Loaded(snap, tables, centre, teams, catalogue)


def spc_metrics() -> dict[str, dict]:
    return dict(load_toml("spc.toml")["metrics"])


def unattributed() -> str:
    return str(load_toml("spc.toml")["unattributed"])


def kpi_name(kpi: Kpi) -> str:
    return kpi.name(get_lang())


def metric_name(metric: str, catalogue: list[Kpi]) -> str:
    """An SPC metric or KPI id as the user reads it: the catalogue's name, else the page text."""
    for k in catalogue:
        if k.id == metric:
            return kpi_name(k)
    return t_or(f"spc_metric_{metric}", metric)


def count_label(column: str) -> str:
    return t_or(f"cnt_{column}", column)


def count_header(column: str) -> str:
    """A count's column header: its label and unit ('差错（户）')."""
    unit = unit_of(column)
    return t("ov_count_header", label=count_label(column), unit=unit) if unit else count_label(column)


def unit_of(column: str) -> str:
    return t_or(f"unit_{column}", "")


def counts_text(card: ov.Card) -> str:
    """'实抄 19,174 / 应抄 19,486 户': the numerator and denominator beside the rate (— when not delivered)."""
    k = card.kpi
    num, den = ov.fmt_count(card.numerator) or "—", ov.fmt_count(card.denominator) or "—"
    nu, du = unit_of(k.numerator), unit_of(k.denominator)
    left = f"{count_label(k.numerator)} {num}" + (f" {nu}" if nu and nu != du else "")
    return f"{left} / {count_label(k.denominator)} {den} {du}".rstrip()


def target_text(card: ov.Card) -> str | None:
    if card.target is None:
        return None
    key = "ov_target_ge" if card.kpi.direction == "higher" else "ov_target_le"
    return t(key, v=ov.fmt_value(card.kpi, card.target))


def status_text(met: bool | None) -> str | None:
    return {True: f"✅ {t('ov_met')}", False: f"⚠️ {t('ov_missed')}"}.get(met)  # type: ignore[arg-type]


def quarantine_text(card: ov.Card) -> str | None:
    if not card.quarantined or card.quarantined_column is None:
        return None
    return t("ov_quarantined", n=ov.fmt_count(card.quarantined), unit=unit_of(card.quarantined_column))


def render_cards(cards: list[ov.Card]) -> None:
    pp = t("ov_pp")
    for start in range(0, len(cards), CARDS_PER_ROW):
        row = cards[start:start + CARDS_PER_ROW]
        for col, card in zip(st.columns(CARDS_PER_ROW), row, strict=False):
            k = card.kpi
            with col:
                delta = ov.fmt_change(k, card.mom, pp)
                zero = card.mom is not None and float(delta.split()[0]) == 0  # type: ignore[union-attr]
                st.metric(
                    kpi_name(k),
                    ov.fmt_value(k, card.value) or t("no_data"),
                    delta=delta,
                    delta_color="off" if zero else ("normal" if k.direction == "higher" else "inverse"),
                    delta_description=t("ov_vs_last_month") if delta is not None else None,
                    help=k.formula_en if get_lang() == "en" else k.formula_zh,
                    border=True,
                )
                if card.value is None:
                    st.caption(f"{t('ov_null_reason')}: {null_reason(card.null_reason or 'NO_VOLUME', get_lang())}")
                parts = [counts_text(card), quarantine_text(card), target_text(card), status_text(card.met)]
                yoy = ov.fmt_change(k, card.yoy, pp)
                if yoy is not None:
                    parts.append(t("ov_yoy", v=yoy))
                elif card.value is not None and card.mom is None:
                    parts.append(t("ov_no_prev"))
                st.caption(" · ".join(p for p in parts if p))


def render_header(month: str, month_rows: pl.DataFrame, chosen: list[str], all_teams: int) -> None:
    st.header(t("ov_header", month=month))
    versions = ", ".join(sorted(set(month_rows["config_version"].drop_nulls().to_list()))) or "—"
    computed = month_rows["computed_at"].max() if month_rows.height else None
    st.caption(t("ov_config_caption", versions=versions,
                 computed=computed.strftime("%Y-%m-%d %H:%M") if computed is not None else "—"))
    who = access.viewer()
    if chosen:
        st.caption(t("ov_scope_teams", n=len(chosen), teams=md_escape(t("list_sep").join(chosen))))
    elif who.teams is not None:
        st.caption(t("ov_scope_access", teams=md_escape(t("list_sep").join(who.teams))))
    else:
        st.caption(t("ov_scope_centre", n=all_teams))


# --- ranking ---------------------------------------------------------------------------------------------

def signal_text(kind: str, signal: str | None, start: str | None = None) -> str:
    """A control-limit signal as text: p-chart above/below/in control, funnel above_998 …, CUSUM rise."""
    if signal is None:
        return "—"
    if kind == "funnel" and "_" in signal and signal.split("_")[-1].isdigit():
        side, q = signal.rsplit("_", 1)
        return t(f"sig_funnel_{side}", q=f"{int(q) / 10:g}%")
    if kind == "cusum" and signal == "rise":
        return t("sig_cusum_rise", start=start or "—")
    return t_or(f"sig_{kind}_{signal}" if kind == "cusum" else f"sig_{signal}", signal)


def reason_text(code: str | None) -> str | None:
    return None if code is None else null_reason(code, get_lang())


def ranking_frame(rank: pl.DataFrame, metric: str, metric_cfg: dict, catalogue: list[Kpi],
                  *, for_csv: bool) -> pl.DataFrame:
    num_label = count_header(metric_cfg.get("numerator") or f"{metric}_num")
    den_label = count_header(metric_cfg.get("denominator") or f"{metric}_den")
    rate_label = metric_name(metric, catalogue)
    pct = t("ov_pct_suffix") if for_csv else ""

    def pct_of(values: list[float | None]) -> list[float | None]:
        return [None if v is None else v * 100 for v in values]

    return pl.DataFrame({
        t("ov_col_rank"): rank["rank"],
        t("col_team"): rank["team"],
        num_label: whole(rank["numerator"]),
        den_label: whole(rank["denominator"]),
        rate_label + pct: pct_of(rank["rate"].to_list()),
        t("ov_col_centre_rate") + pct: pct_of(rank["centre_rate"].to_list()),
        t("ov_col_ucl") + pct: pct_of(rank["ucl"].to_list()),
        t("ov_col_p_signal"): [signal_text("p", s) for s in rank["p_signal"].to_list()],
        t("ov_col_funnel_signal"): [signal_text("funnel", s) for s in rank["funnel_signal"].to_list()],
        t("ov_col_cusum_signal"): [signal_text("cusum", s, st_) for s, st_ in
                                   zip(rank["cusum_signal"].to_list(), rank["cusum_start"].to_list(), strict=True)],
        count_header("customers_due"): rank["customers_due"],
        count_header("customers_read"): rank["customers_read"],
        t("ov_col_actual_read_rate") + pct: pct_of(rank["actual_read_rate"].to_list()),
        t("ov_col_quarantined"): rank["customers_quarantined"],
        t("ov_col_note"): [reason_text(r) for r in rank["null_reason"].to_list()],
    })


def whole(values: pl.Series) -> pl.Series:
    """Counts held as doubles (the control-limit marts) shown as whole numbers when they are."""
    return values.cast(pl.Int64) if (values.drop_nulls() % 1 == 0).all() else values


def pct_config(frame: pl.DataFrame, digits: dict[str, int]) -> dict[str, object]:
    return {c: st.column_config.NumberColumn(format=f"%.{d}f%%") for c, d in digits.items() if c in frame.columns}


def render_ranking(loaded: Loaded, month: str, spc: data.Spc | None, catalogue: list[Kpi]) -> None:
    st.subheader(t("ov_ranking_title"))
    metrics = spc_metrics()
    options = list(metrics)
    metric = url_select(t("ov_metric_label"), options, METRIC_KEY, lambda m: metric_name(m, catalogue),
                        t("ov_metric_not_listed"))
    cfg = metrics[metric]
    rank = ov.ranking(loaded.teams, month, metric, cfg, p_chart=spc.p_chart if spc else None,
                      funnel=spc.funnel if spc else None, cusum=spc.cusum if spc else None,
                      unattributed=unattributed())
    if rank.height == 0:
        st.info(t("ov_no_teams", month=month), icon=":material/info:")
        return
    display = ranking_frame(rank, metric, cfg, catalogue, for_csv=False)
    rate_digits = 3 if metric in {k.id for k in catalogue if "review_findings" in k.input} else 2
    rate_cols = {metric_name(metric, catalogue): rate_digits, t("ov_col_centre_rate"): rate_digits,
                 t("ov_col_ucl"): rate_digits, t("ov_col_actual_read_rate"): 2}
    event = st.dataframe(display, hide_index=True, width="stretch", key="overview_ranking", on_select="rerun",
                         selection_mode="single-row",
                         column_config={**pct_config(display, rate_cols),
                                        **{c: st.column_config.NumberColumn(format="localized")
                                           for c in (*display.columns[2:4], count_header("customers_due"),
                                                     count_header("customers_read"), t("ov_col_quarantined"))}})
    st.caption(t("ov_ranking_caption"))
    if spc is None:
        st.caption(t("ov_no_spc"))
    selected = event.selection.rows if event is not None else []
    if selected and selected[0] < rank.height:
        team = rank["team"][selected[0]]
        st.page_link(ERRORS_PAGE, label=t("ov_open_team", team=md_escape(team)), icon=":material/arrow_forward:",
                     query_params={"month": month, "team": team})
    else:
        st.caption(t("ov_ranking_hint"))
    st.download_button(t("ov_download_ranking"), data=csv_bytes(ranking_frame(rank, metric, cfg, catalogue,
                                                                              for_csv=True)),
                       file_name=f"team_ranking_{metric}_{month}.csv", mime="text/csv", on_click="ignore",
                       icon=":material/download:", key="overview_ranking_csv")


# --- alerts ------------------------------------------------------------------------------------------------

def _rate(metric: str, value: float | None, catalogue: list[Kpi]) -> str:
    for k in catalogue:
        if k.id == metric:
            return ov.fmt_value(k, value) or "—"
    return "—" if value is None else f"{value * 100:.2f}%"


def alert_detail(a: ov.Alert, catalogue: list[Kpi]) -> str:
    counts = f"{ov.fmt_count(a.numerator) or '—'} / {ov.fmt_count(a.denominator) or '—'}"
    rate = _rate(a.metric or "", a.rate, catalogue)
    if a.kind == "p_chart_above":
        return t("ov_alert_p_chart", rate=rate, counts=counts, limit=_rate(a.metric or "", a.limit, catalogue))
    if a.kind == "funnel_above":
        return t("ov_alert_funnel", rate=rate, counts=counts, q=f"{(a.coverage or 0) * 100:g}%",
                 limit=_rate(a.metric or "", a.limit, catalogue))
    if a.kind == "cusum_rise":
        return t("ov_alert_cusum", start=a.start_month or "—", months=a.run_months or "—", rate=rate, counts=counts)
    if a.kind == "off_target":
        k = next(k for k in catalogue if k.id == a.metric)
        op = "≥" if k.direction == "higher" else "≤"
        return t("ov_alert_target", value=ov.fmt_value(k, a.rate) or "—", counts=counts, op=op,
                 target=ov.fmt_value(k, a.limit) or "—")
    teams = t("list_sep").join(f"{team} {n}" for team, n in a.breakdown) or "—"
    return t(f"ov_alert_{a.kind}", n=a.count, total=a.total, teams=teams)


def who_text(a: ov.Alert, chosen: list[str]) -> str:
    """The unit an alert is about; a KPI or overdue alert is about the cards' scope."""
    if a.level == "reader":
        return reader_option(a.team or "", a.reader or "")
    if a.level == "team":
        return a.team or "—"
    return t("list_sep").join(chosen) if chosen else t("ov_centre_scope")


def render_alerts(loaded: Loaded, month: str, spc: data.Spc | None, cards: list[ov.Card], scope: dict,
                  chosen: list[str], catalogue: list[Kpi]) -> None:
    st.subheader(t("ov_alerts_title"))
    alerts: list[ov.Alert] = []
    if spc is not None:
        found = ov.spc_alerts(month, spc.p_chart, spc.funnel, spc.cusum, unattributed())
        alerts += [a for a in found if not chosen or a.team in chosen]
    alerts += ov.target_alerts(cards)
    month_teams = loaded.teams.filter(pl.col("period") == month)
    if chosen:
        month_teams = month_teams.filter(pl.col("team").is_in(chosen))
    alerts += ov.overdue_alerts(scope, month_teams)
    alerts = ov.sort_alerts(alerts)
    notes = []
    if spc is None:
        notes.append(t("ov_no_spc"))
    if not scope.get("anomalies_delivered") and scope.get("reports") is None:
        notes.append(t("ov_no_workflow", month=month))
    if not alerts:
        st.success(t("ov_no_alerts", month=month), icon=":material/check_circle:")
        for n in notes:
            st.caption(n)
        return
    counts: dict[str, int] = {}
    for a in alerts:
        counts[a.kind] = counts.get(a.kind, 0) + 1
    st.warning(t("ov_alerts_summary", n=len(alerts), kinds=t("list_sep").join(
        f"{t(f'ov_kind_{k}')} {n}" for k, n in counts.items())), icon=":material/notifications_active:")
    frame = pl.DataFrame({
        t("ov_col_kind"): [t(f"ov_kind_{a.kind}") for a in alerts],
        t("ov_col_who"): [who_text(a, chosen) for a in alerts],
        t("ov_col_metric"): [metric_name(a.metric, catalogue) if a.metric else "—" for a in alerts],
        t("ov_col_detail"): [alert_detail(a, catalogue) for a in alerts],
    })
    event = st.dataframe(frame, hide_index=True, width="stretch", key="overview_alerts", on_select="rerun",
                         selection_mode="single-row")
    for n in notes:
        st.caption(n)
    if any(a.kind in ("overdue_defects", "late_reports") for a in alerts):
        st.caption(t("ov_overdue_note"))
    selected = event.selection.rows if event is not None else []
    if selected and selected[0] < len(alerts) and alerts[selected[0]].team:
        a = alerts[selected[0]]
        params = {"month": month, "team": a.team}
        label = t("ov_open_team", team=md_escape(a.team or ""))
        if a.reader:
            params["reader"] = reader_option(a.team or "", a.reader)
            label = t("ov_open_reader", reader=md_escape(a.reader), team=md_escape(a.team or ""))
        st.page_link(ERRORS_PAGE, label=label, icon=":material/arrow_forward:", query_params=params)


# --- trend -------------------------------------------------------------------------------------------------

def render_trend(loaded: Loaded, scope: pl.DataFrame, chosen: list[str], catalogue: list[Kpi]) -> None:
    st.subheader(t("ov_trend_title"))
    ids = [k.id for k in catalogue]
    by_id = {k.id: k for k in catalogue}
    chosen_id = url_select(t("ov_kpi_label"), ids, KPI_KEY, lambda i: kpi_name(by_id[i]), t("ov_kpi_not_listed"))
    k = by_id[chosen_id]
    frame = ov.trend(k, loaded.centre, loaded.teams, chosen)
    if frame["value"].null_count() == frame.height:
        reasons = sorted({r for r in frame["null_reason"].to_list() if r})
        st.info(t("ov_trend_empty", kpi=kpi_name(k),
                  reasons=t("list_sep").join(null_reason(r, get_lang()) for r in reasons) or "—"),
                icon=":material/info:")
        return
    targets = ov.target_line(k, scope)
    tick = f".{ov.digits(k)}%" if ov.is_rate(k) else f",.{ov.digits(k)}f"
    hover = (f"{count_label(k.numerator)} %{{customdata[0]}} / {count_label(k.denominator)} %{{customdata[1]}}"
             f" {unit_of(k.denominator)}").rstrip()
    fig = kpi_trend(frame, targets, names={ov.CENTRE: t("ov_centre_scope")}, title=t("ov_trend_chart", kpi=kpi_name(k)),
                    target_name=t("ov_target_line"), x_title=t("ov_axis_month"), tickformat=tick,
                    hover_counts=hover, from_zero=k.direction == "lower")
    st.plotly_chart(fig, key="overview_trend")
    gaps = sorted({p for p, v in zip(frame["period"].to_list(), frame["value"].to_list(), strict=True) if v is None})
    if gaps:
        st.caption(t("ov_trend_gaps", months=", ".join(gaps)))
    if chosen and len(chosen) > 1:
        st.caption(t("ov_trend_target_note"))


# --- filters -----------------------------------------------------------------------------------------------



def main() -> None:
    st.title(t("ov_title"))
    loaded = load()
    if loaded is None:
        return
    months = sorted(set(loaded.centre["period"].to_list()))
    all_teams = sorted(set(loaded.teams["team"].to_list()))
    month = month_picker(months)
    chosen = team_picker(all_teams)
    catalogue = loaded.catalogue
    scope = ov.scope_rows(loaded.centre, loaded.teams, chosen, catalogue)
    month_scope = scope.filter(pl.col("period") == month)
    month_rows = (loaded.teams.filter((pl.col("period") == month) & pl.col("team").is_in(chosen)) if chosen
                  else loaded.centre.filter(pl.col("period") == month))
    render_header(month, month_rows, chosen, len(set(loaded.teams.filter(pl.col("period") == month)["team"])))
    if month_scope.height == 0:
        st.info(t("ov_no_scope_month", month=month), icon=":material/info:")
        return
    row = month_scope.row(0, named=True)
    cards = ov.cards(row, catalogue)
    render_cards(cards)
    try:
        spc = data.spc(loaded.snap, month, loaded.tables)
    except data.SnapshotError as exc:
        st.warning(t("snapshot_unreadable", error=exc.detail or exc.reason), icon=":material/warning:")
        spc = None
    render_alerts(loaded, month, spc, cards, row, chosen, catalogue)
    render_ranking(loaded, month, spc, catalogue)
    render_trend(loaded, scope, chosen, catalogue)


main()
