"""KPI page: 实抄率 and 差错率 per team and for the centre, vs target and last month."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import streamlit as st

from checks.exports import csv_bytes
from dashboards import data
from dashboards.charts import rate_trend
from dashboards.components import month_picker, published_snapshot, team_picker
from dashboards.i18n import t
from dashboards.rates import (
    ERROR_DIGITS,
    PER_10K_DIGITS,
    READ_DIGITS,
    CentreKpis,
    centre_kpis,
    delta_num,
    delta_pp,
    fmt_num,
    fmt_pct,
    meets_max,
    meets_min,
    previous_month,
    target_by_month,
    team_rows,
    trend_frame,
)


@dataclass(frozen=True)
class Card:
    label: str
    value: str | None
    delta: str | None
    higher_is_better: bool
    target_text: str | None
    meets: bool | None


def load_kpis() -> tuple[data.Snapshot, pl.DataFrame] | None:
    """The snapshot and its KPI rows, or None after telling the user why there are none."""
    snap = published_snapshot()
    if snap is None:
        return None
    try:
        df = data.kpi_team_month(snap)
    except data.SnapshotError as exc:
        if exc.reason == "no_kpi_table":
            st.info(t("no_kpi_table"), icon=":material/info:")
        else:
            st.warning(t("snapshot_unreadable", error=exc.detail), icon=":material/warning:")
        return None
    if df.height == 0:
        st.info(t("no_kpi_rows"), icon=":material/info:")
        return None
    return snap, df


def render_header(month: str, rows: pl.DataFrame, selected: list[str], all_teams: int) -> None:
    st.header(t("kpi_header", month=month))
    versions = ", ".join(sorted(rows["config_version"].unique().to_list())) or "—"
    computed = rows["computed_at"].max()
    computed_text = computed.strftime("%Y-%m-%d %H:%M") if computed is not None else "—"
    st.caption(t("config_caption", versions=versions, computed=computed_text))
    if selected:
        st.caption(t("scope_selected", n=len(selected), teams="、".join(selected)))
    else:
        st.caption(t("scope_all", n=all_teams))


def build_cards(cur: CentreKpis, prev: CentreKpis | None, tg: dict) -> list[Card]:
    pp = t("pp")

    def prev_of(name: str) -> float | None:
        return None if prev is None else getattr(prev, name)

    missed_target = tg.get("missed_rate", {}).get("target")
    est_target = tg.get("estimated_rate", {}).get("target")
    per_10k_target = None if cur.error_target is None else cur.error_target * 10_000
    return [
        Card(
            t("metric_actual_read"),
            fmt_pct(cur.actual_read_rate, READ_DIGITS),
            delta_pp(cur.actual_read_rate, prev_of("actual_read_rate"), READ_DIGITS, pp),
            True,
            _target_text("target_ge", fmt_pct(cur.actual_read_target, READ_DIGITS)),
            meets_min(cur.actual_read_rate, cur.actual_read_target),
        ),
        Card(
            t("metric_error_rate"),
            fmt_pct(cur.error_rate, ERROR_DIGITS),
            delta_pp(cur.error_rate, prev_of("error_rate"), ERROR_DIGITS, pp),
            False,
            _target_text("target_le", fmt_pct(cur.error_target, ERROR_DIGITS)),
            meets_max(cur.error_rate, cur.error_target),
        ),
        Card(
            t("metric_errors_per_10k"),
            fmt_num(cur.errors_per_10k, PER_10K_DIGITS),
            delta_num(cur.errors_per_10k, prev_of("errors_per_10k"), PER_10K_DIGITS),
            False,
            _target_text("target_le", fmt_num(per_10k_target, PER_10K_DIGITS)),
            meets_max(cur.errors_per_10k, per_10k_target),
        ),
        Card(
            t("metric_missed"),
            fmt_pct(cur.missed_rate, READ_DIGITS),
            delta_pp(cur.missed_rate, prev_of("missed_rate"), READ_DIGITS, pp),
            False,
            _target_text("target_le", fmt_pct(missed_target, READ_DIGITS)),
            meets_max(cur.missed_rate, missed_target),
        ),
        Card(
            t("metric_estimated"),
            fmt_pct(cur.estimated_rate, READ_DIGITS),
            delta_pp(cur.estimated_rate, prev_of("estimated_rate"), READ_DIGITS, pp),
            False,
            _target_text("target_le", fmt_pct(est_target, READ_DIGITS)),
            meets_max(cur.estimated_rate, est_target),
        ),
    ]


def _target_text(key: str, value: str | None) -> str | None:
    return None if value is None else t(key, v=value)


def _status(meets: bool | None) -> str:
    return {True: f"✅ {t('meets')}", False: f"⚠️ {t('misses')}", None: ""}[meets]


def render_cards(cards: list[Card]) -> None:
    for col, card in zip(st.columns(len(cards)), cards, strict=True):
        with col:
            delta = card.delta
            zero = delta is not None and float(delta.split()[0]) == 0
            st.metric(
                card.label,
                card.value if card.value is not None else t("no_data"),
                delta=delta,
                delta_color="off" if zero else ("normal" if card.higher_is_better else "inverse"),
                delta_description=t("vs_last_month") if delta is not None else None,
                border=True,
            )
            parts = [p for p in (card.target_text, _status(card.meets)) if p]
            if card.value is not None and delta is None:
                parts.append(t("no_prev_month"))
            st.caption(" · ".join(parts))


def table_frames(rows: pl.DataFrame, cur: CentreKpis) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(display frame with formatted strings, CSV frame with numbers), both with a total row."""
    tr = team_rows(rows)
    no_data = t("no_data")
    meets_text = {True: f"✓ {t('meets')}", False: f"✗ {t('misses')}"}
    teams = [*tr["team"].to_list(), t("total_row")]
    due = [*tr["customers_due"].to_list(), cur.due]
    read = [*tr["customers_read"].to_list(), cur.read]
    missed = [*tr["customers_missed"].to_list(), cur.missed]
    est = [*tr["customers_estimated"].to_list(), cur.estimated]
    errors = [*tr["customers_with_error"].to_list(), cur.errors]
    ar = [*tr["actual_read_rate"].to_list(), cur.actual_read_rate]
    er = [*tr["error_rate"].to_list(), cur.error_rate]
    target = [*tr["error_rate_target"].to_list(), cur.error_target]
    meets = [*tr["meets_error_target"].to_list(), meets_max(cur.error_rate, cur.error_target)]
    versions = [*tr["config_version"].to_list(), ", ".join(sorted(set(tr["config_version"].to_list())))]

    display = pl.DataFrame(
        {
            t("col_team"): teams,
            t("col_due"): due,
            t("col_read"): read,
            t("col_missed"): missed,
            t("col_estimated"): est,
            t("col_errors"): [no_data if v is None else str(v) for v in errors],
            t("col_actual_read_rate"): [fmt_pct(v, READ_DIGITS) or no_data for v in ar],
            t("col_error_rate"): [fmt_pct(v, ERROR_DIGITS) or no_data for v in er],
            t("col_error_target"): [fmt_pct(v, ERROR_DIGITS) or "—" for v in target],
            t("col_meets"): [meets_text.get(v, no_data) for v in meets],
        }
    )
    pct = t("pct_suffix")

    def as_pct(values: list[float | None]) -> list[float | None]:
        return [None if v is None else round(v * 100, 6) for v in values]

    csv = pl.DataFrame(
        {
            t("col_team"): teams,
            t("col_due"): due,
            t("col_read"): read,
            t("col_missed"): missed,
            t("col_estimated"): est,
            t("col_errors"): errors,
            t("col_actual_read_rate") + pct: as_pct(ar),
            t("col_error_rate") + pct: as_pct(er),
            t("col_error_target") + pct: as_pct(target),
            t("col_meets"): [meets_text.get(v) for v in meets],
            t("col_config_version"): versions,
        },
        schema_overrides={t("col_errors"): pl.Int64},
    )
    return display, csv


def render_table(rows: pl.DataFrame, cur: CentreKpis, month: str) -> None:
    st.subheader(t("teams_table"))
    display, csv = table_frames(rows, cur)
    st.dataframe(display, hide_index=True, width="stretch")
    st.caption(t("counts_note"))
    st.download_button(
        t("download_csv"),
        data=csv_bytes(csv),  # BOM for Excel; team names and versions cannot run as formulas
        file_name=f"kpi_team_{month}.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
    )


def render_trends(scope: pl.DataFrame) -> None:
    st.subheader(t("trend_title"))
    trend = trend_frame(scope)
    targets = target_by_month(scope)
    common = {"target_name": t("target_line"), "x_title": t("axis_month")}
    left, right = st.columns(2)
    with left:
        fig = rate_trend(
            trend,
            targets,
            rate_col="actual_read_rate",
            target_col="actual_read_target",
            title=t("trend_actual_read"),
            tickformat=".2%",
            **common,
        )
        st.plotly_chart(fig, key="trend_actual_read")
    with right:
        fig = rate_trend(
            trend,
            targets,
            rate_col="error_rate",
            target_col="error_target",
            title=t("trend_error_rate"),
            tickformat=".3%",
            from_zero=True,
            **common,
        )
        st.plotly_chart(fig, key="trend_error_rate")
    missing = targets.filter(~pl.col("has_errors"))["period"].to_list()
    if missing:
        st.caption(t("no_error_months", months=", ".join(missing)))


def main() -> None:
    st.title(t("kpi_title"))
    loaded = load_kpis()
    if loaded is None:
        return
    snap, df = loaded
    all_teams = df["team"].unique().to_list()
    month = month_picker(df["period"].unique().to_list())
    selected = team_picker(all_teams)
    scope = df.filter(pl.col("team").is_in(selected)) if selected else df

    rows = scope.filter(pl.col("period") == month)
    render_header(month, rows, selected, len(all_teams))
    cur = centre_kpis(rows)
    if cur is None:
        st.info(t("no_data"))
        return
    prev = centre_kpis(scope.filter(pl.col("period") == previous_month(month)))
    tg = data.targets(snap, rows["config_version"][0])
    render_cards(build_cards(cur, prev, tg))
    if cur.errors is None:
        st.info(t("no_error_data"), icon=":material/info:")
    elif cur.teams_with_errors < cur.teams:
        st.caption(t("partial_errors", k=cur.teams_with_errors, n=cur.teams))
    render_table(rows, cur, month)
    render_trends(scope)


main()
