"""`readq assess`: the month's assessment (考核) — the team ranking on the terminal, the
经济责任制考核记录 (every reader's score and every ledger row behind it) and the team ranking as XLSX —
and two scoring versions side by side.

    readq assess --period 2026-09 [--reader NAME] [--out DIR] [--unmasked]
    readq assess --period 2026-09 --compare OLD NEW      (OLD, NEW: current | a config version | a .toml)

Reads marts.assessment_* from the published snapshot (the pipeline's own file when nothing was
published yet). Reader names are masked by default, as in every export (config/readq.toml [privacy]).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipelines.reports.sheets import ledger_frame, reader_scores, team_ranking
from readq.config import home

if TYPE_CHECKING:
    import polars as pl

console = Console()



def write_records(path: Path, period: str, ledger: pl.DataFrame, scores: pl.DataFrame, *, masked: bool,
                  missing: dict[str, list[str]] | None = None) -> int:
    """The 经济责任制考核记录 workbook (pipelines.reports.sheets.records_sheets)."""
    from pipelines.reports.sheets import records_sheets
    from pipelines.reports.workbook import write_workbook

    return write_workbook(path, records_sheets(period, ledger, scores, masked=masked, missing=missing))


def write_ranking(path: Path, period: str, teams: pl.DataFrame) -> int:
    """The centre's team ranking of the month (pipelines.reports.sheets.ranking_sheet)."""
    from pipelines.reports.sheets import ranking_sheet
    from pipelines.reports.workbook import write_workbook

    return write_workbook(path, [ranking_sheet(period, teams)])


def write_comparison(path: Path, period: str, readers: pl.DataFrame, teams: pl.DataFrame, old: str, new: str,
                     *, masked: bool) -> int:
    from pipelines.reports.error_table import mask_readers
    from pipelines.reports.workbook import Column, Sheet, write_workbook

    def cols(key: list[Column]) -> list[Column]:
        return [*key, Column("score_old", f"得分（{old}）", "score", 16),
                Column("score_new", f"得分（{new}）", "score", 16), Column("change", "变化", "score"),
                Column("rank_old", "名次（旧）", "count"), Column("rank_new", "名次（新）", "count")]
    team_col, reader_col = Column("team", "抄表队", width=14), Column("reader", "抄表员", width=12)
    return write_workbook(path, [
        Sheet("班组", f"考核版本对比：班组（{period}）", cols([team_col]), teams),
        Sheet("抄表员", f"考核版本对比：抄表员（{period}）", cols([team_col, reader_col]),
              mask_readers(readers) if masked else readers),
    ])


def _connect_source() -> tuple[Any, Path]:
    from warehouse.connection import connect

    h = home()
    source = h.readable
    if not source.exists():
        raise FileNotFoundError(f"no warehouse at {h.root}: run `readq demo` or `readq ingest` and `readq build`")
    return connect(source, read_only=True), source


def _fmt(value: object, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def cmd_assess(args: argparse.Namespace) -> int:
    from pipelines.reports.error_table import mask_readers
    from readq.cli import EXIT_OK, EXIT_UNUSABLE, UsageError, _error, period_arg
    from warehouse.assessment import UnknownScoring, compare, resolve
    from warehouse.schema import has_relation

    period = period_arg(args.period)
    try:
        conn, source = _connect_source()
    except FileNotFoundError as exc:
        _error(str(exc))
        return EXIT_UNUSABLE
    out_dir = Path(args.out) if args.out else home().reports / period
    with conn:
        if not has_relation(conn, "marts.assessment_team_month"):
            _error(f"{source} has no marts.assessment_team_month (built before the assessment existed): "
                   "run `readq build`")
            return EXIT_UNUSABLE
        teams = team_ranking(conn, period)
        if teams.is_empty():
            months = [r[0] for r in conn.execute(
                "select distinct period from marts.assessment_team_month order by 1").fetchall()]
            shown = f"{months[0]} .. {months[-1]}" if months else "none"
            raise UsageError(f"no assessment for {period} in {source} (months built: {shown})")
        if args.compare:
            try:
                old, new = resolve(conn, args.compare[0]), resolve(conn, args.compare[1])
            except UnknownScoring as exc:
                raise UsageError(str(exc)) from None
            readers, team_cmp = compare(conn, period, old, new)
            table = Table(title=f"考核版本对比 {period}: {old.ref} ({old.version}) → {new.ref} ({new.version})")
            for c in ("抄表队", "旧得分", "新得分", "变化", "旧名次", "新名次"):
                table.add_column(c, justify="left" if c == "抄表队" else "right")
            for r in team_cmp.iter_rows(named=True):
                table.add_row(r["team"], _fmt(r["score_old"]), _fmt(r["score_new"]), _fmt(r["change"]),
                              _fmt(r["rank_old"]), _fmt(r["rank_new"]))
            console.print(table)
            moved = readers.filter(readers["change"].abs() > 1e-9).height
            console.print(f"{moved} of {readers.height} readers score differently")
            path = out_dir / f"考核版本对比_{period}.xlsx"
            write_comparison(path, period, readers, team_cmp, old.ref, new.ref, masked=not args.unmasked)
            console.print(Text(f"wrote {path}"), soft_wrap=True)
            return EXIT_OK
        ledger = ledger_frame(conn, period, args.reader)
        scores = reader_scores(conn, period, args.reader)
        from readq.config import config_dir
        from warehouse.assessment import missing_inputs

        delivered = {r[0] for r in conn.execute("select distinct kind from ops.deliveries where period = ? "
                                                "and status <> 'rejected'", [period]).fetchall()}
        missing = missing_inputs(delivered, (config_dir() / "assessment.toml").read_text(encoding="utf-8"))
    if args.reader and scores.is_empty():
        raise UsageError(f"no reader {args.reader!r} is scored in {period}")
    table = Table(title=f"抄表队考核排名 {period}（评分版本 {teams['scoring_version'][0]}）")
    for c in ("名次", "抄表队", "得分", "抄表员加权平均", "班组扣分", "名次变化"):
        table.add_column(c, justify="left" if c == "抄表队" else "right")
    for r in teams.iter_rows(named=True):
        table.add_row(_fmt(r["rank"]), r["team"], _fmt(r["score"]), _fmt(r["reader_mean"]), _fmt(r["team_items"]),
                      _fmt(r["rank_change"]))
    console.print(table)
    for kind, items in missing.items():
        console.print(Text(f"no {kind} delivered for {period}: {', '.join(items)} have no data this month "
                           "(the scores leave them out, which is not the same as no errors)", style="yellow"),
                      soft_wrap=True)
    shown = mask_readers(scores) if not args.unmasked else scores
    low = shown.sort("score").head(5)
    console.print("lowest readers: " + ", ".join(f"{r['reader']} ({r['team']}) {r['score']:.2f}"
                                                 for r in low.iter_rows(named=True)))
    suffix = f"_{args.reader}" if args.reader else ""
    records = out_dir / f"经济责任制考核记录_{period}{suffix}.xlsx"
    rows = write_records(records, period, ledger, scores, masked=not args.unmasked, missing=missing)
    ranking = out_dir / f"班组排名_{period}.xlsx"
    write_ranking(ranking, period, teams)
    console.print(Text(f"wrote {records} ({rows} rows) and {ranking} (read from {source})"), soft_wrap=True)
    return EXIT_OK


def add_parser(sub: Any) -> None:
    """Register `readq assess` on the CLI's subcommands."""
    a = sub.add_parser("assess", help="the month's assessment (考核): team ranking, 经济责任制考核记录 and "
                                      "ranking as XLSX, or two scoring versions compared")
    a.add_argument("--period", required=True, help="billing month YYYY-MM")
    a.add_argument("--reader", help="only this reader's 考核记录 (the name as delivered)")
    a.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"),
                   help="score the month under two versions of config/assessment.toml: 'current', a config "
                        "version recorded by a build (ops.config_versions) or a path to a .toml")
    a.add_argument("--out", help="folder for the workbooks (default: READQ_HOME/reports/<month>/)")
    a.add_argument("--unmasked", action="store_true", help="reader names as delivered (masked by default)")
    a.set_defaults(func=cmd_assess)
