"""The director's overview — KPI cards against target and last month, the team ranking with its
volume-aware signals, the alerts, the KPI trend — as frames and records (pure: no Streamlit; the page
is dashboards/views/overview.py).

Every KPI comes from the catalogue (config/kpis.toml via checks/kpis.py): its value column, the
numerator and denominator beside it, `<id>_target`, `_met`, `_mom`, `_yoy` and `_null_reason` of the
KPI marts (marts.kpi_centre_month, marts.kpi_team_month). A KPI added to the catalogue gets a card
without code. The centre and a single team are shown as the marts hold them; several teams are
combined by summing the counts and dividing (never by averaging rates), their target weighted by the
denominator. A null KPI keeps its reason; it is never shown as 0.

Volume-aware signals come from the control-limit marts (config/spc.toml): marts.spc_p_chart (the
team's rate against p̄ ± z·σ at its own volume), marts.spc_funnel (95 % / 99.8 % funnel limits) and
marts.spc_cusum (a sustained rise and the month it started). The unattributed team pools the readings
nobody is attributed to: it is listed, never ranked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from checks.kpis import Kpi
from checks.periods import shift_month
from dashboards.rates import ERROR_DIGITS, PER_10K_DIGITS, READ_DIGITS

_EPS = 1e-12
SUFFIXES = ("target", "met", "mom", "yoy", "null_reason")
# the "status unknown (in quarantine)" count beside a rate over what is due
QUARANTINED = {"customers_due": "customers_quarantined", "meters_due": "meters_quarantined"}
CENTRE = "*"  # the series key of the centre in the trend frame (language-neutral; the page labels it)


# --- the KPIs present in a snapshot and how they are written ------------------------------------------------

def columns_of(kpi: Kpi) -> list[str]:
    return [kpi.id, kpi.numerator, kpi.denominator, *(kpi.column(s) for s in SUFFIXES)]


def available(catalogue: Iterable[Kpi], columns: Iterable[str]) -> list[Kpi]:
    """The KPIs whose columns the mart has (an older snapshot may lack the newer ones)."""
    have = set(columns)
    return [k for k in catalogue if set(columns_of(k)) <= have]


def is_rate(kpi: Kpi) -> bool:
    """A fraction shown as a percentage (scale 1); otherwise a number per `scale` (errors per 万户)."""
    return kpi.scale == 1


def digits(kpi: Kpi) -> int:
    """Decimals shown: error rates are small (targets 0.1 % and 0.01 %), other rates near 100 %."""
    if not is_rate(kpi):
        return PER_10K_DIGITS
    return ERROR_DIGITS if "review_findings" in kpi.input else READ_DIGITS


def fmt_value(kpi: Kpi, value: float | None) -> str | None:
    if value is None:
        return None
    if is_rate(kpi):
        return f"{value * 100:.{digits(kpi)}f}%"
    return f"{value:,.{digits(kpi)}f}"


def fmt_change(kpi: Kpi, change: float | None, pp: str) -> str | None:
    """A change of the value: percentage points for a rate ('+0.24 pp'), the number otherwise."""
    if change is None:
        return None
    shown = change * 100 if is_rate(kpi) else change
    shown = 0.0 if abs(shown) < 10 ** -(digits(kpi) + 2) else shown
    text = f"{shown:+.{digits(kpi)}f}"
    return f"{text} {pp}".rstrip() if is_rate(kpi) else text


def fmt_count(value: float | None) -> str | None:
    """A count (户, 只, reports) with thousands separators; kWh with two decimals."""
    if value is None:
        return None
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def meets(kpi: Kpi, value: float | None, target: float | None) -> bool | None:
    if value is None or target is None:
        return None
    if kpi.direction == "higher":
        return value >= target - _EPS
    return value <= target + _EPS


# --- the scope of the cards: the centre, one team, or several teams combined ----------------------------------

def count_columns(catalogue: Sequence[Kpi]) -> list[str]:
    """Every numerator and denominator of the catalogue, plus the quarantine counts."""
    names: list[str] = []
    for k in catalogue:
        for c in (k.numerator, k.denominator, QUARANTINED.get(k.denominator)):
            if c is not None and c not in names:
                names.append(c)
    return names


def _sum(values: Sequence[float | None]) -> float | None:
    """The sum; null when any part is null (a count that did not arrive for one team is not 0)."""
    if not values or any(v is None for v in values):
        return None
    return float(sum(values))  # type: ignore[arg-type]


def combine(rows: pl.DataFrame, catalogue: Sequence[Kpi]) -> pl.DataFrame:
    """One row per month for several teams: counts summed, each KPI = scale × Σnumerator / Σdenominator,
    its target weighted by the denominator, met against it, MoM / YoY from the same combination of the
    earlier months. A null value keeps the teams' reason (NO_VOLUME when nothing is due)."""
    counts = [c for c in count_columns(catalogue) if c in rows.columns]
    out: list[dict[str, object]] = []
    for (period,), g in rows.sort("period").group_by("period", maintain_order=True):
        rec: dict[str, object] = {"period": period, "teams": g.height}
        for c in counts:
            rec[c] = _sum(g[c].to_list())
        for k in catalogue:
            num, den = rec.get(k.numerator), rec.get(k.denominator)
            value = None if num is None or not den else k.scale * float(num) / float(den)  # type: ignore[arg-type]
            targets = g.select(k.column("target"), k.denominator).drop_nulls(k.column("target"))
            target: float | None = None
            if targets.height:
                weights = targets[k.denominator].fill_null(0).cast(pl.Float64)
                tv = targets[k.column("target")].cast(pl.Float64)
                total = float(weights.sum())
                target = float((tv * weights).sum()) / total if total > 0 else float(tv.mean())  # type: ignore[arg-type]
            reasons = [r for r in g[k.column("null_reason")].to_list() if r]
            rec[k.id] = value
            rec[k.column("target")] = target
            rec[k.column("met")] = meets(k, value, target)
            rec[k.column("null_reason")] = None if value is not None else (reasons[0] if reasons else "NO_VOLUME")
        out.append(rec)
    frame = pl.DataFrame(out, infer_schema_length=None)
    if frame.height == 0:
        return frame
    by_month = {r["period"]: r for r in frame.to_dicts()}
    changes: dict[str, list[float | None]] = {}
    for k in catalogue:
        for suffix, months in (("mom", 1), ("yoy", 12)):
            col: list[float | None] = []
            for r in frame.to_dicts():
                earlier = by_month.get(shift_month(r["period"], -months))
                now, then = r[k.id], (earlier or {}).get(k.id)
                col.append(None if now is None or then is None else float(now) - float(then))  # type: ignore[arg-type]
            changes[k.column(suffix)] = col
    return frame.with_columns(pl.Series(name, values, dtype=pl.Float64) for name, values in changes.items())


def scope_rows(centre: pl.DataFrame, teams: pl.DataFrame, chosen: Sequence[str],
               catalogue: Sequence[Kpi]) -> pl.DataFrame:
    """The rows (one per month) the cards and the target line show: the centre's (no team chosen), the
    team's own (one), or the chosen teams combined (several)."""
    if not chosen:
        return centre.sort("period")
    rows = teams.filter(pl.col("team").is_in(list(chosen)))
    if len(chosen) == 1:
        return rows.sort("period")
    return combine(rows, catalogue)


# --- cards -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Card:
    kpi: Kpi
    value: float | None
    numerator: float | None
    denominator: float | None
    target: float | None
    met: bool | None
    mom: float | None
    yoy: float | None
    null_reason: str | None      # a code of config/kpis.toml [null_reasons] (or "NO_VOLUME")
    quarantined: float | None    # status unknown (in quarantine), beside a rate over what is due
    quarantined_column: str | None


def cards(row: dict[str, object], catalogue: Sequence[Kpi]) -> list[Card]:
    """One card per KPI of `row` (a row of a KPI mart, or of `combine`)."""
    out = []
    for k in catalogue:
        q = QUARANTINED.get(k.denominator)
        value = row.get(k.id)
        out.append(Card(
            kpi=k, value=_float(value), numerator=_float(row.get(k.numerator)),
            denominator=_float(row.get(k.denominator)), target=_float(row.get(k.column("target"))),
            met=row.get(k.column("met")),  # type: ignore[arg-type]
            mom=_float(row.get(k.column("mom"))), yoy=_float(row.get(k.column("yoy"))),
            null_reason=None if value is not None else (str(row.get(k.column("null_reason")) or "NO_VOLUME")),
            quarantined=_float(row.get(q)) if q else None, quarantined_column=q,
        ))
    return out


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


# --- team ranking --------------------------------------------------------------------------------------------

RANKING_SCHEMA = {
    "rank": pl.Int64, "team": pl.String, "numerator": pl.Float64, "denominator": pl.Float64, "rate": pl.Float64,
    "centre_rate": pl.Float64, "lcl": pl.Float64, "ucl": pl.Float64, "p_signal": pl.String,
    "funnel_signal": pl.String, "cusum_signal": pl.String, "cusum_start": pl.String, "customers_due": pl.Int64,
    "customers_read": pl.Int64, "customers_quarantined": pl.Int64, "actual_read_rate": pl.Float64,
    "null_reason": pl.String, "ranked": pl.Boolean,
}


def _by_team(frame: pl.DataFrame | None, month: str, metric: str, level: str | None = None) -> dict[str, dict]:
    if frame is None or frame.height == 0:
        return {}
    rows = frame.filter((pl.col("period") == month) & (pl.col("metric") == metric))
    if level is not None:
        rows = rows.filter(pl.col("level") == level)
    return {r["team"]: r for r in rows.to_dicts()}


def ranking(teams: pl.DataFrame, month: str, metric: str, metric_cfg: dict, *, p_chart: pl.DataFrame | None,
            funnel: pl.DataFrame | None, cusum: pl.DataFrame | None, unattributed: str,
            lower_is_better: bool = True) -> pl.DataFrame:
    """The month's teams ranked by `metric` (best first), each with its count and volume, its p-chart
    limits and signal, its funnel signal and its CUSUM signal with the start month. The numerator and
    denominator of a metric the KPI marts hold (config/spc.toml names their columns) come from
    marts.kpi_team_month, so the ranking stands even without the control-limit marts; others (flag_rate)
    from marts.spc_p_chart. The unattributed team is listed last, never ranked."""
    rows = teams.filter(pl.col("period") == month).sort("team")
    p = _by_team(p_chart, month, metric)
    f = _by_team(funnel, month, metric, "team")
    c = _by_team(cusum, month, metric, "team")
    num_col, den_col = metric_cfg.get("numerator"), metric_cfg.get("denominator")
    reason_col = f"{metric}_null_reason"
    out = []
    for r in rows.to_dicts():
        team = r["team"]
        pr, fr, cr = p.get(team, {}), f.get(team, {}), c.get(team, {})
        if num_col and den_col and num_col in r and den_col in r:
            num, den = _float(r[num_col]), _float(r[den_col])
        else:
            num, den = _float(pr.get("numerator")), _float(pr.get("denominator"))
        rate = None if num is None or not den else num / den
        reason = None
        if rate is None:
            reason = str(r.get(reason_col) or "NO_VOLUME") if reason_col in r else "NO_VOLUME"
        out.append({
            "rank": None, "team": team, "numerator": num, "denominator": den, "rate": rate,
            "centre_rate": pr.get("centre_rate"), "lcl": pr.get("lcl"), "ucl": pr.get("ucl"),
            "p_signal": pr.get("signal"), "funnel_signal": fr.get("signal"), "cusum_signal": cr.get("signal"),
            "cusum_start": cr.get("start_month"), "customers_due": r.get("customers_due"),
            "customers_read": r.get("customers_read"), "customers_quarantined": r.get("customers_quarantined"),
            "actual_read_rate": r.get("actual_read_rate"), "null_reason": reason,
            "ranked": team != unattributed and rate is not None,
        })
    frame = pl.DataFrame(out, schema=RANKING_SCHEMA)
    ranked = frame.filter(pl.col("ranked")).with_columns(
        pl.col("rate").rank("min", descending=not lower_is_better).cast(pl.Int64).alias("rank"))
    rest = frame.filter(~pl.col("ranked"))
    return pl.concat([ranked.sort("rank", "team"), rest.sort(pl.col("team") == unattributed, "team")])


# --- alerts --------------------------------------------------------------------------------------------------

ALERT_ORDER = ("p_chart_above", "funnel_above", "cusum_rise", "off_target", "overdue_defects", "late_reports")


@dataclass(frozen=True)
class Alert:
    kind: str                      # one of ALERT_ORDER
    level: str                     # team | reader | centre
    team: str | None = None
    reader: str | None = None
    metric: str | None = None      # an SPC metric or a KPI id
    rate: float | None = None
    numerator: float | None = None
    denominator: float | None = None
    limit: float | None = None     # the limit crossed (UCL, the funnel's outer upper limit) or the KPI's target
    coverage: float | None = None  # the funnel limit's coverage (0.998)
    start_month: str | None = None
    run_months: int | None = None
    count: int | None = None       # overdue items
    total: int | None = None       # ... of these
    breakdown: tuple[tuple[str, int], ...] = ()  # (team, count) of the overdue items


def spc_alerts(month: str, p_chart: pl.DataFrame | None, funnel: pl.DataFrame | None, cusum: pl.DataFrame | None,
               unattributed: str) -> list[Alert]:
    """Out-of-control units of the month: teams above their p-chart UCL, teams and readers above the
    funnel's outer (99.8 %) limit, teams and readers whose CUSUM signals a rise (with its start month)."""
    out: list[Alert] = []
    if p_chart is not None and p_chart.height:
        rows = p_chart.filter((pl.col("period") == month) & (pl.col("signal") == "above")
                              & (pl.col("team") != unattributed))
        for r in rows.sort("metric", "team").to_dicts():
            out.append(Alert("p_chart_above", "team", team=r["team"], metric=r["metric"], rate=r["rate"],
                             numerator=r["numerator"], denominator=r["denominator"], limit=r["ucl"]))
    if funnel is not None and funnel.height:
        rows = funnel.filter(pl.col("period") == month).with_columns(
            outer_label=pl.lit("above_") + (pl.col("outer_coverage") * 1000).round(0).cast(pl.Int64).cast(pl.String))
        rows = rows.filter((pl.col("signal") == pl.col("outer_label")) & (pl.col("team") != unattributed)
                           & (pl.col("reader").is_null() | (pl.col("reader") != unattributed)))
        for r in rows.sort("level", "metric", "team", "reader", descending=[True, False, False, False],
                           nulls_last=False).to_dicts():
            out.append(Alert("funnel_above", r["level"], team=r["team"], reader=r["reader"], metric=r["metric"],
                             rate=r["rate"], numerator=r["numerator"], denominator=r["denominator"],
                             limit=r["upper_outer"], coverage=r["outer_coverage"]))
    if cusum is not None and cusum.height:
        rows = cusum.filter((pl.col("period") == month) & (pl.col("signal") == "rise")
                            & (pl.col("team") != unattributed)
                            & (pl.col("reader").is_null() | (pl.col("reader") != unattributed)))
        for r in rows.sort("level", "metric", "team", "reader", descending=[True, False, False, False],
                           nulls_last=False).to_dicts():
            rate = r["numerator"] / r["denominator"] if r["denominator"] else None
            out.append(Alert("cusum_rise", r["level"], team=r["team"], reader=r["reader"], metric=r["metric"],
                             rate=rate, numerator=r["numerator"], denominator=r["denominator"],
                             start_month=r["start_month"], run_months=r["run_months"]))
    return out


def target_alerts(scope_cards: Sequence[Card]) -> list[Alert]:
    """KPIs of the scope that miss their target (a KPI without value or target raises none)."""
    return [Alert("off_target", "centre", metric=c.kpi.id, rate=c.value, numerator=c.numerator,
                  denominator=c.denominator, limit=c.target) for c in scope_cards if c.met is False]


def overdue_alerts(scope: dict[str, object], teams: pl.DataFrame) -> list[Alert]:
    """Workflow items not done in time, when field anomaly reports (异常报告单) arrived for the month:
    defects due but not closed within their deadline, reports not made within their limit — counts,
    with the teams they fall on (a list of the items themselves belongs to a workflow page)."""
    if not scope.get("anomalies_delivered") and scope.get("reports") is None:
        return []
    out = []
    for kind, total_col, done_col in (("overdue_defects", "defects_due", "defects_closed_in_time"),
                                      ("late_reports", "reports", "reports_in_time")):
        total, done = scope.get(total_col), scope.get(done_col)
        if total is None or done is None or int(total) - int(done) <= 0:  # type: ignore[call-overload]
            continue
        breakdown: list[tuple[str, int]] = []
        if {total_col, done_col} <= set(teams.columns):
            for r in teams.sort("team").to_dicts():
                if r[total_col] is not None and r[done_col] is not None and r[total_col] - r[done_col] > 0:
                    breakdown.append((r["team"], int(r[total_col] - r[done_col])))
        out.append(Alert(kind, "centre", count=int(total) - int(done), total=int(total),  # type: ignore[call-overload]
                         breakdown=tuple(breakdown)))
    return out


def sort_alerts(alerts: Iterable[Alert]) -> list[Alert]:
    order = {k: i for i, k in enumerate(ALERT_ORDER)}
    return sorted(alerts, key=lambda a: order.get(a.kind, len(order)))


# --- trend -------------------------------------------------------------------------------------------------

TREND_SCHEMA = {"period": pl.String, "series": pl.String, "value": pl.Float64, "numerator": pl.Float64,
                "denominator": pl.Float64, "null_reason": pl.String}


def trend(kpi: Kpi, centre: pl.DataFrame, teams: pl.DataFrame, chosen: Sequence[str]) -> pl.DataFrame:
    """The KPI by month for the centre (series CENTRE) and each chosen team; nulls stay null (gaps)."""
    cols = ["period", kpi.id, kpi.numerator, kpi.denominator, kpi.column("null_reason")]
    parts = [centre.select(cols).with_columns(pl.lit(CENTRE).alias("series"))]
    if chosen:
        parts.append(teams.filter(pl.col("team").is_in(list(chosen))).select(["team", *cols]).rename(
            {"team": "series"}))
    frame = pl.concat([p.select("period", "series", *cols[1:]) for p in parts], how="vertical_relaxed")
    frame = frame.rename({kpi.id: "value", kpi.numerator: "numerator", kpi.denominator: "denominator",
                          kpi.column("null_reason"): "null_reason"})
    return frame.cast(TREND_SCHEMA).sort("series", "period")  # type: ignore[arg-type]


def target_line(kpi: Kpi, scope: pl.DataFrame) -> pl.DataFrame:
    """The scope's target of the KPI by month (months without one left out)."""
    return scope.select("period", pl.col(kpi.column("target")).cast(pl.Float64).alias("target")).drop_nulls(
        "target").sort("period")
