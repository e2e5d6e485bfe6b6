"""`readq errors`: the 差错统计表 of a month as an XLSX workbook, in the seed's shape.

    readq errors --period 2026-09 [--by team|reader|segment] [--out FILE.xlsx] [--unmasked]

Reads marts.error_stats_month / error_stats_reader_month / error_stats_segment_month from the
published snapshot (what the dashboards show; the pipeline's own file when nothing was published
yet) and writes one sheet: a title row, two header rows (each error type over its 户数 and 电量, the
rate blocks over their numerator and denominator), a row per team / reader / segment, a 合计 row
(the sum of the rows; its rates recomputed from those sums) and notes. Columns, headers, groups and
number formats come from config/errors.toml [table] (docs/errors.md); the table itself is
pipelines/reports/error_table.py, which the Errors page and the monthly report write too.

Personal data: reader names are masked by default (the name style of config/readq.toml [privacy]);
the rows a clerk's or the system's errors are listed under, and '(未指定)', are labels and stay as they
are. Every text cell goes through checks.exports (no cell runs as a formula), and the workbook is
written by xlsxwriter with strings_to_formulas / strings_to_urls off.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipelines.reports.error_table import (
    KEYS,
    TABLES,
    error_config,
    mask_readers,
    read_table,
    write_workbook,
)
from readq.config import home

if TYPE_CHECKING:
    import polars as pl

console = Console()
err_console = Console(stderr=True)

def _error(text: str) -> None:
    err_console.print(Text(text, style="red"), soft_wrap=True)


def cmd_errors(args: argparse.Namespace) -> int:
    """`readq errors`: write the month's 差错统计表 and print its rows."""
    from readq.cli import EXIT_OK, EXIT_UNUSABLE, UsageError, period_arg, progress_bar
    from warehouse.connection import connect
    from warehouse.schema import has_relation

    period = period_arg(args.period)
    h = home()
    source = h.readable
    out = Path(args.out) if args.out else h.reports / f"差错统计表_{period}_{args.by}.xlsx"
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"--out must name an .xlsx file, not {out}")
    table = TABLES[args.by]
    with progress_bar() as progress:
        task = progress.add_task("差错统计表", total=3)
        try:
            with connect(source, read_only=True) as conn:
                if not has_relation(conn, f"marts.{table}"):
                    _error(f"{source} has no marts.{table} (built before this table existed): run `readq build`")
                    return EXIT_UNUSABLE
                frame = read_table(conn, period, args.by)
                months = [r[0] for r in conn.execute(
                    f"select distinct period from marts.{table} order by 1").fetchall()]
        except FileNotFoundError as exc:
            _error(str(exc))
            return EXIT_UNUSABLE
        progress.update(task, advance=1, description=f"read marts.{table}")
        if frame.is_empty():
            shown = f"{months[0]} .. {months[-1]}" if months else "none"
            raise UsageError(f"no 差错统计表 for {period} in {source} (months built: {shown})")
        out.parent.mkdir(parents=True, exist_ok=True)
        progress.update(task, advance=1, description="write the workbook")
        rows = write_workbook(frame, out, period=period, by=args.by, masked=not args.unmasked)
        progress.update(task, advance=1, description="done")
    print_summary(frame, args.by, masked=not args.unmasked)
    console.print(Text(f"wrote {out} ({rows} rows, read from {source})"), soft_wrap=True)
    return EXIT_OK


def print_summary(frame: pl.DataFrame, by: str, *, masked: bool) -> None:
    """The table's keys, errors and rates on the terminal (config/errors.toml [table.terminal]; names
    masked as in the workbook)."""
    shown = mask_readers(frame) if masked else frame
    cfg = error_config()["table"]
    cols = [*KEYS[by], *cfg["terminal"]["columns"]]
    table = Table(title=f"差错统计表 {frame['period'][0]}")
    for c in KEYS[by]:
        table.add_column(cfg["headers"][c]["zh"], overflow="fold")
    for c in cfg["terminal"]["columns"]:
        table.add_column(cfg["terminal"]["labels"][c], justify="right")
    for row in shown.select(cols).iter_rows(named=True):
        table.add_row(*[Text(_shown(c, row[c])) for c in cols])
    console.print(table)


def _shown(column: str, value: object) -> str:
    if value is None:
        return "—"
    if column.startswith("error_rate"):
        return f"{float(value):.3%}"  # type: ignore[arg-type]
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def add_parser(sub: Any) -> None:
    """Register `readq errors` on the CLI's subcommands."""
    e = sub.add_parser("errors", help="write the month's 差错统计表 (error statistics) as an XLSX workbook")
    e.add_argument("--period", required=True, help="billing month YYYY-MM")
    e.add_argument("--by", choices=tuple(TABLES), default="team", help="one row per team (default), reader or segment")
    e.add_argument("--out", help="the .xlsx to write (default: READQ_HOME/reports/差错统计表_<month>_<by>.xlsx)")
    e.add_argument("--unmasked", action="store_true", help="reader names as delivered (masked by default)")
    e.set_defaults(func=cmd_errors)
