"""The director's monthly report (月度报告): what changed against last month and target, the weakest teams
and rules with their volume-aware signal, workflow items overdue, rotation due and the recheck list, as a
self-contained HTML page (charts inline, opens offline) and an XLSX workbook (差错统计表, KPIs, scores,
ledger, recheck list, coverage) with the seed's column names.

`gather(conn, period)` reads the figures from a warehouse or snapshot connection (marts and ops only);
`narrative(fig, lang)` turns them into sentences (pipelines/reports/monthly.toml); `render_html` and
`workbook_sheets` lay them out; `write_report` writes both files atomically under
`<reports>/<YYYY-MM>/`. Every number in the text is one of the figures, so the report matches the marts.
Reader names are masked unless `masked=False`; the report names teams, never customers.
"""

from __future__ import annotations

import html
import os
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import polars as pl

from checks.kpis import Kpi, kpi, null_reason
from checks.mappings import KINDS
from checks.periods import shift_month
from pipelines.reports.error_table import ErrorSheet, mask_readers
from pipelines.reports.sheets import (
    item_label,
    ledger_frame,
    ranking_sheet,
    reader_scores,
    recheck_sheets,
    records_sheets,
    team_ranking,
)
from pipelines.reports.workbook import Column, Sheet, SheetWriter, write_workbook
from readq.config import config_version, load_toml
from warehouse.schema import has_relation

HERE = Path(__file__).parent
LANGS = ("zh", "en")
# The marts the report reads (its Dagster asset's deps, same month); ops.deliveries gives the coverage.
READS = ("kpi_centre_month", "kpi_team_month", "assessment_team_month", "assessment_reader_month",
         "assessment_ledger", "spc_funnel", "reading_flags", "workflow_reports", "rotation_plan",
         "recheck_sample", "error_stats_month")


def words(lang: str) -> dict[str, str]:
    """The report's sentences in `lang` (pipelines/reports/monthly.toml)."""
    with open(HERE / "monthly.toml", "rb") as f:
        return tomllib.load(f)["en" if lang == "en" else "zh"]


def file_names(period: str, lang: str) -> tuple[str, str]:
    """(HTML, XLSX) file names of the month's report in `lang`."""
    stem = f"抄表质量月报_{period}" if lang == "zh" else f"monthly_report_{period}"
    return f"{stem}.html", f"{stem}.xlsx"


@dataclass
class Figures:
    """What the report says about one month, read from the marts."""

    period: str
    prev: str
    centre: dict[str, Any] | None                  # marts.kpi_centre_month of the month
    centre_prev: dict[str, Any] | None
    trend: pl.DataFrame                            # kpi_centre_month, the trend months
    teams: pl.DataFrame                            # kpi_team_month of the month
    scores: pl.DataFrame                           # assessment_team_month
    signals: pl.DataFrame                          # spc_funnel rows (team level) beyond the limits
    rules: pl.DataFrame                            # rule_id, flags, prev_flags
    workflow: dict[str, Any]                       # reports, late, overdue, overdue_by_team
    rotation: dict[str, int]                       # moves, unresolved
    recheck: pl.DataFrame                          # recheck_sample
    coverage: pl.DataFrame                         # kind, files, rows, quarantined, rejected
    missing: list[str]                             # input kinds not delivered this month
    config_versions: list[str] = field(default_factory=list)
    worst_items: pl.DataFrame = field(default_factory=pl.DataFrame)  # item, rows, points: the lowest team's

    @property
    def empty(self) -> bool:
        return self.centre is None and self.coverage.is_empty()


def _table_exists(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return has_relation(conn, f"{schema}.{table}")


def _rows(conn: duckdb.DuckDBPyConnection, sql: str, params: list[Any], table: str) -> pl.DataFrame:
    """`sql` over marts.<table>; an empty frame when the snapshot predates that mart."""
    if not _table_exists(conn, "marts", table):
        return pl.DataFrame()
    return conn.sql(sql, params=params).pl()


def _one(frame: pl.DataFrame) -> dict[str, Any] | None:
    return frame.row(0, named=True) if frame.height else None


def gather(conn: duckdb.DuckDBPyConnection, period: str) -> Figures:
    """The month's figures from the marts and the delivery registry of `conn`."""
    cfg = load_toml("report.toml")
    prev = shift_month(period, -1)
    first = shift_month(period, -(int(cfg["trend_months"]) - 1))
    centre = _rows(conn, "select * from marts.kpi_centre_month where period in (?, ?) order by period",
                   [prev, period], "kpi_centre_month")
    trend = _rows(conn, "select * from marts.kpi_centre_month where period between ? and ? order by period",
                  [first, period], "kpi_centre_month")
    teams = _rows(conn, "select * from marts.kpi_team_month where period = ? order by team", [period],
                  "kpi_team_month")
    scores = _rows(conn, "select * from marts.assessment_team_month where period = ? order by rank nulls last, team",
                   [period], "assessment_team_month")
    signals = _rows(conn, "select * from marts.spc_funnel where period = ? and level = 'team' "
                          "and list_contains(?, signal) order by metric, rate desc, team",
                    [period, list(cfg["signals"])], "spc_funnel")
    rules = _rows(conn, """
        select rule_id, count(*) filter (where period = ?) as flags, count(*) filter (where period = ?) as prev_flags
        from marts.reading_flags where period in (?, ?)
        group by rule_id order by flags desc, rule_id""", [period, prev, period, prev], "reading_flags")
    worst_items = pl.DataFrame()
    ranked = scores.filter(pl.col("score").is_not_null()) if scores.height else scores
    if ranked.height:
        worst_team = ranked.sort(["score", "team"]).row(0, named=True)["team"]
        worst_items = _rows(conn, "select item, count(*) as rows, sum(points) as points from marts.assessment_ledger "
                                  "where period = ? and team = ? and points < 0 group by item "
                                  "order by points, item limit ?",
                            [period, worst_team, int(cfg["worst_items"])], "assessment_ledger")
    reports = _rows(conn, "select team, reported_in_time, overdue from marts.workflow_reports where period = ?",
                    [period], "workflow_reports")
    workflow: dict[str, Any] = {"reports": reports.height, "late": 0, "overdue": 0, "overdue_by_team": {}}
    if reports.height:
        workflow["late"] = reports.filter(pl.col("reported_in_time").not_()).height
        overdue = reports.filter(pl.col("overdue"))
        workflow["overdue"] = overdue.height
        workflow["overdue_by_team"] = dict(overdue.group_by("team").len().sort("len", descending=True).iter_rows())
    plan = _rows(conn, "select kind, count(*) as n from marts.rotation_plan where period = ? group by kind",
                 [period], "rotation_plan")
    kinds = dict(plan.iter_rows()) if plan.height else {}
    rotation = {"moves": int(kinds.get("move", 0)), "unresolved": int(kinds.get("unresolved", 0))}
    recheck = _rows(conn, "select * from marts.recheck_sample where period = ? order by team, reader, draw_rank",
                    [period], "recheck_sample")
    coverage = conn.sql("""
        select coalesce(kind, '(unknown)') as kind,
               count(*) filter (where status <> 'rejected')               as files,
               coalesce(sum(rows_loaded) filter (where status <> 'rejected'), 0)::bigint      as rows,
               coalesce(sum(rows_quarantined) filter (where status <> 'rejected'), 0)::bigint as quarantined,
               count(*) filter (where status = 'rejected')                as rejected
        from ops.deliveries where period = ?
        group by all order by kind""", params=[period]).pl()
    delivered = set(coverage.filter(pl.col("files") > 0)["kind"].to_list()) if coverage.height else set()
    versions = sorted({v for f in (centre, teams, scores) if "config_version" in f.columns
                       for v in f["config_version"].to_list() if v})
    return Figures(period=period, prev=prev,
                   centre=_one(centre.filter(pl.col("period") == period)) if centre.height else None,
                   centre_prev=_one(centre.filter(pl.col("period") == prev)) if centre.height else None,
                   trend=trend, teams=teams, scores=scores, signals=signals, rules=rules, workflow=workflow,
                   rotation=rotation, recheck=recheck, coverage=coverage,
                   missing=[k for k in KINDS if k not in delivered], config_versions=versions,
                   worst_items=worst_items)


# -- numbers in words ----------------------------------------------------------------------------------

def fmt_value(k: Kpi, value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2%}" if k.scale == 1 else f"{value:,.2f}"


def fmt_delta(k: Kpi, delta: float) -> str:
    return f"{abs(delta) * 100:.2f} 个百分点" if k.scale == 1 else f"{abs(delta):,.2f}"


def _delta_en(k: Kpi, delta: float) -> str:
    return f"{abs(delta) * 100:.2f} pp" if k.scale == 1 else f"{abs(delta):,.2f}"


def kpi_sentence(k: Kpi, row: dict[str, Any], lang: str) -> str:
    w = words(lang)
    value = row.get(k.id)
    if value is None:
        return w["kpi_no_data"].format(kpi=k.name(lang), reason=null_reason(row.get(k.column("null_reason")) or "",
                                                                            lang))
    target, met = row.get(k.column("target")), row.get(k.column("met"))
    vs = (w["no_target"] if target is None
          else (w["met"] if met else w["not_met"]).format(target=fmt_value(k, target)))
    mom = row.get(k.column("mom"))
    if mom is None:
        change = w["no_prev"]
    elif abs(mom) < 5e-7:
        change = w["flat"]
    else:
        delta = fmt_delta(k, mom) if lang == "zh" else _delta_en(k, mom)
        change = (w["up"] if mom > 0 else w["down"]).format(delta=delta)
    return w["kpi_line"].format(kpi=k.name(lang), value=fmt_value(k, value), vs_target=vs, mom=change)


def _sep(lang: str) -> str:
    return "；" if lang == "zh" else "; "


def narrative(fig: Figures, lang: str = "zh", *, masked: bool = True) -> list[str]:
    """The report's paragraphs, each from the figures only."""
    w = words(lang)
    cfg = load_toml("report.toml")
    if fig.empty:
        return [w["no_data"].format(period=fig.period)]
    out: list[str] = []
    if fig.centre is not None:
        out.append("".join(kpi_sentence(kpi(i), fig.centre, lang) if lang == "zh" else
                           kpi_sentence(kpi(i), fig.centre, lang) + " " for i in cfg["kpis"]).strip())
        off = []
        for i in cfg["kpis"]:
            k = kpi(i)
            missed = [r for r in fig.teams.iter_rows(named=True) if r.get(k.column("met")) is False]
            if not missed:
                continue
            missed.sort(key=lambda r: (-abs(r[k.id] - r[k.column("target")]), r["team"]))
            worst = w["off_target_and"].join(
                w["off_target_team"].format(team=r["team"], value=fmt_value(k, r[k.id]))
                for r in missed[:int(cfg["off_target_teams"])])
            off.append(w["off_target_item"].format(kpi=k.name(lang), n=len(missed), teams=fig.teams.height,
                                                   worst=worst))
        out.append(w["off_target"].format(items=_sep(lang).join(off)) if off else w["all_on_target"])
    ranked = fig.scores.filter(pl.col("score").is_not_null()) if fig.scores.height else fig.scores
    if ranked.height:
        worst = ranked.sort(["score", "team"]).row(0, named=True)
        best = ranked.sort(["score", "team"], descending=[True, False]).row(0, named=True)
        change = ""
        if worst.get("rank_change"):
            n = int(worst["rank_change"])
            change = w["rank_change"].format(direction=w["rank_up"] if n > 0 else w["rank_down"], n=abs(n))
        line = w["score_line"].format(team=worst["team"], score=f"{worst['score']:.2f}", rank=worst["rank"],
                                      change=change, best=best["team"], best_score=f"{best['score']:.2f}")
        if fig.worst_items.height:
            items = w["off_target_and"].join(
                w["deduction_item"].format(item=item_label(r["item"], lang), rows=f"{r['rows']:,}",
                                           points=f"{r['points']:.2f}")
                for r in fig.worst_items.iter_rows(named=True))
            line += w["deduction_line"].format(items=items)
        out.append(line)
    else:
        out.append(w["no_scores"])
    if fig.signals.height:
        labels = cfg["metric_labels"]
        items = []
        for r in fig.signals.iter_rows(named=True):
            crossed = r["outer_coverage"] if r["signal"] == cfg["signals"][0] else r["inner_coverage"]
            metric = labels.get(r["metric"], {}).get(lang, r["metric"])
            items.append(w["signal_item"].format(team=r["team"], metric=metric,
                                                 rate=f"{r['rate']:.2%}", centre=f"{r['centre_rate']:.2%}",
                                                 coverage=f"{crossed:.1%}"))
        out.append(w["signal_line"].format(items=_sep(lang).join(items)))
    else:
        out.append(w["no_signal"])
    flagged = fig.rules.filter(pl.col("flags") > 0) if fig.rules.height else fig.rules
    if flagged.height:
        top = []
        for r in flagged.head(int(cfg["top_rules"])).iter_rows(named=True):
            d = r["flags"] - r["prev_flags"]
            top.append(w["rule_item"].format(rule=r["rule_id"], n=f"{r['flags']:,}",
                                             change=f"{d:+,}" if r["prev_flags"] else w["rule_new"]))
        out.append(w["rules_line"].format(flags=f"{int(flagged['flags'].sum()):,}",
                                          prev=f"{int(fig.rules['prev_flags'].sum()):,}",
                                          top=_sep(lang).join(top)))
    else:
        out.append(w["no_flags"])
    wf = fig.workflow
    if wf["reports"]:
        by_team = _sep(lang).join(f"{t} {n}" for t, n in wf["overdue_by_team"].items())
        out.append(w["workflow_line"].format(reports=f"{wf['reports']:,}", late=f"{wf['late']:,}",
                                             overdue=f"{wf['overdue']:,}",
                                             teams=w["workflow_teams"].format(items=by_team) if by_team else ""))
    else:
        out.append(w["no_workflow"])
    rot = fig.rotation
    out.append(w["rotation_line"].format(**rot) if rot["moves"] or rot["unresolved"] else w["no_rotation"])
    if fig.recheck.height:
        out.append(w["recheck_line"].format(n=f"{fig.recheck.height:,}", readers=fig.recheck["reader"].n_unique()))
    else:
        out.append(w["no_recheck"])
    out.append(coverage_sentence(fig, lang))
    return out


def coverage_sentence(fig: Figures, lang: str) -> str:
    w = words(lang)
    c = fig.coverage
    line = w["coverage_line"].format(
        files=f"{int(c['files'].sum()) if c.height else 0:,}", rows=f"{int(c['rows'].sum()) if c.height else 0:,}",
        quarantined=f"{int(c['quarantined'].sum()) if c.height else 0:,}",
        rejected=f"{int(c['rejected'].sum()) if c.height else 0:,}")
    missing = (w["missing_line"].format(kinds=("、" if lang == "zh" else ", ").join(fig.missing))
               if fig.missing else w["nothing_missing"])
    return line + ("" if lang == "zh" else " ") + missing


# -- HTML ---------------------------------------------------------------------------------------------------

def _charts(fig: Figures, lang: str) -> list[str]:
    """The report's charts as HTML fragments; plotly.js is inlined once, in the first (offline)."""
    import plotly.graph_objects as go

    w = words(lang)
    cfg = load_toml("report.toml")
    figures = []
    if fig.trend.height:
        trend = go.Figure()
        for i in cfg["trend_kpis"]:
            k = kpi(i)
            trend.add_trace(go.Scatter(x=fig.trend["period"].to_list(), y=fig.trend[k.id].to_list(),
                                       mode="lines+markers", name=k.name(lang)))
        trend.update_layout(title=w["chart_trend"], yaxis_tickformat=".1%", height=320, margin={"t": 48})
        figures.append(trend)
    if fig.scores.height:
        bars = go.Figure(go.Bar(x=fig.scores["team"].to_list(), y=fig.scores["score"].to_list()))
        bars.update_layout(title=w["chart_scores"], height=320, margin={"t": 48})
        figures.append(bars)
    return [f.to_html(full_html=False, include_plotlyjs=(n == 0), config={"displaylogo": False})
            for n, f in enumerate(figures)]


def _kpi_table(fig: Figures, lang: str) -> list[list[str]]:
    w = words(lang)
    rows = []
    if fig.centre is None:
        return rows
    for i in load_toml("report.toml")["kpis"]:
        k = kpi(i)
        c = fig.centre
        met = c.get(k.column("met"))
        mom = c.get(k.column("mom"))
        rows.append([k.name(lang), fmt_value(k, c.get(k.id)), fmt_value(k, c.get(k.column("target"))),
                     "—" if met is None else (w["yes"] if met else w["no"]),
                     "—" if mom is None else (f"{mom * 100:+.2f}pp" if k.scale == 1 else f"{mom:+,.2f}")])
    return rows


def render_html(fig: Figures, lang: str = "zh", *, masked: bool = True, generated: datetime | None = None) -> str:
    """The self-contained HTML report (no network needed to open it). Every value is escaped."""
    w = words(lang)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    team_rows = [[r["team"], "—" if r["score"] is None else f"{r['score']:.2f}", str(r["rank"] or "—"),
                  "—" if r["rank_change"] is None else f"{r['rank_change']:+d}"]
                 for r in fig.scores.iter_rows(named=True)] if fig.scores.height else []
    rule_rows = [[r["rule_id"], f"{r['flags']:,}", f"{r['prev_flags']:,}"]
                 for r in fig.rules.iter_rows(named=True)] if fig.rules.height else []
    cov_rows = [[r["kind"], f"{r['files']:,}", f"{r['rows']:,}", f"{r['quarantined']:,}", f"{r['rejected']:,}"]
                for r in fig.coverage.iter_rows(named=True)]
    recheck_rows = ([[t, f"{n:,}"] for t, n in fig.recheck.group_by("team").len().sort("team").iter_rows()]
                    if fig.recheck.height else [])
    paragraphs = narrative(fig, lang, masked=masked)
    return env.get_template("monthly.html.j2").render(
        lang="zh-CN" if lang == "zh" else "en", w=w, period=fig.period,
        title=w["title"].format(period=fig.period),
        subtitle=w["subtitle"].format(generated=(generated or datetime.now()).strftime("%Y-%m-%d %H:%M"),
                                      config_version=", ".join(fig.config_versions) or config_version()),
        paragraphs=paragraphs, empty=fig.empty, charts=_charts(fig, lang) if not fig.empty else [],
        kpi_rows=_kpi_table(fig, lang), team_rows=team_rows, rule_rows=rule_rows, cov_rows=cov_rows,
        recheck_rows=recheck_rows, masked=masked, escape=html.escape)


# -- XLSX ---------------------------------------------------------------------------------------------------

def workbook_sheets(conn: duckdb.DuckDBPyConnection, fig: Figures, lang: str = "zh", *,
                    masked: bool = True) -> list[Sheet | SheetWriter]:
    """差错统计表, the KPIs (centre and teams), the team ranking, the assessment records, the recheck list
    and the coverage, with the seed's column names."""
    w = words(lang)
    period = fig.period
    sheets: list[Sheet | SheetWriter] = []
    if _table_exists(conn, "marts", "error_stats_month"):
        errors = conn.sql("select * from marts.error_stats_month where period = ? order by team", params=[period]).pl()
        if errors.height:
            sheets.append(ErrorSheet(errors, period, "team", masked))
    ids = load_toml("report.toml")["kpis"]
    kpi_cols = [kpi(i).id for i in ids] + [kpi(i).column("target") for i in ids]
    parts = [fig.teams.select("team", *[pl.col(c).cast(pl.Float64) for c in kpi_cols])] if fig.teams.height else []
    if fig.centre is not None:
        parts.append(pl.DataFrame([{"team": "中心" if lang == "zh" else "centre",
                                    **{c: fig.centre.get(c) for c in kpi_cols}}],
                                  schema={"team": pl.String, **dict.fromkeys(kpi_cols, pl.Float64)}))
    kpi_rows = pl.concat(parts) if parts else pl.DataFrame()
    if kpi_rows.height:
        columns = [Column("team", w["col_team"], width=14)]
        for i in ids:
            k = kpi(i)
            fmt = "percent" if k.scale == 1 else "decimal"
            columns += [Column(k.id, k.name(lang), fmt, 12),
                        Column(k.column("target"), f"{k.name(lang)}{w['col_target']}", fmt, 12)]
        sheets.append(Sheet(w["sheet_kpis"], w["title_kpis"].format(period=period), columns, kpi_rows))
    if fig.scores.height:
        sheets.append(ranking_sheet(period, team_ranking(conn, period)))
        sheets += records_sheets(period, ledger_frame(conn, period), reader_scores(conn, period), masked=masked)
    if fig.recheck.height:
        sheets += recheck_sheets(period, fig.recheck, masked=masked)
    cov = fig.coverage
    notes = [coverage_sentence(fig, lang), f"config: {', '.join(fig.config_versions) or config_version()}"]
    if masked:
        notes.append(w["masked"])
    sheets.append(Sheet(w["sheet_coverage"], w["title_coverage"].format(period=period), [
        Column("kind", w["col_kind"], width=18), Column("files", w["col_files"], "count"),
        Column("rows", w["col_rows"], "count"), Column("quarantined", w["col_quarantined"], "count"),
        Column("rejected", w["col_rejected"], "count")], cov, notes))
    return sheets


@dataclass(frozen=True)
class Written:
    html: Path
    xlsx: Path
    paragraphs: list[str]


def write_report(conn: duckdb.DuckDBPyConnection, period: str, reports: Path, lang: str = "zh", *,
                 masked: bool = True) -> Written:
    """Write the month's HTML and XLSX to `reports/<period>/` (each renamed into place when whole)."""
    fig = gather(conn, period)
    folder = reports / period
    folder.mkdir(parents=True, exist_ok=True)
    html_name, xlsx_name = file_names(period, lang)
    page = render_html(fig, lang, masked=masked)
    tmp = folder / (html_name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, folder / html_name)
    write_workbook(folder / xlsx_name, workbook_sheets(conn, fig, lang, masked=masked))
    return Written(folder / html_name, folder / xlsx_name, narrative(fig, lang, masked=masked))


__all__ = ["LANGS", "READS", "Figures", "Written", "file_names", "gather", "mask_readers", "narrative", "render_html",
           "workbook_sheets", "write_report"]
