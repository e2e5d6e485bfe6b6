"""`readq report`: the director's monthly report of a month, as HTML and XLSX.

    readq report --period 2026-09 [--lang zh|en] [--out DIR] [--unmasked]

Reads the published snapshot (what the dashboards show; the pipeline's own file when nothing was
published yet) and writes `<DIR>/<month>/抄表质量月报_<month>.html|.xlsx` (en: monthly_report_<month>.*),
DIR defaulting to READQ_HOME/reports, where the pipeline's asset `reports/monthly` writes them too.
The narrative is printed. Reader names are masked unless --unmasked (pipelines/reports/monthly.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from pipelines.reports.monthly import LANGS, READS, gather, write_report
from readq.config import home

console = Console()
err_console = Console(stderr=True)


def cmd_report(args: argparse.Namespace) -> int:
    """`readq report`: write the month's report files and print its narrative."""
    from readq.cli import EXIT_OK, EXIT_UNUSABLE, UsageError, period_arg, progress_bar
    from warehouse.connection import connect
    from warehouse.schema import has_relation

    period = period_arg(args.period)
    h = home()
    source = h.readable
    out = Path(args.out) if args.out else h.reports
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out must name a folder, not the file {out}")
    with progress_bar() as progress:
        task = progress.add_task("monthly report", total=2)
        try:
            with connect(source, read_only=True) as conn:
                missing = [t for t in READS if not has_relation(conn, f"marts.{t}")]
                if missing:
                    err_console.print(Text(f"{source} has no marts.{', marts.'.join(missing)} "
                                           "(built before these tables existed): run `readq build`", style="red"),
                                      soft_wrap=True)
                    return EXIT_UNUSABLE
                if gather(conn, period).empty:
                    months = [r[0] for r in conn.execute(
                        "select distinct period from marts.kpi_centre_month order by 1").fetchall()]
                    shown = f"{months[0]} .. {months[-1]}" if months else "none"
                    raise UsageError(f"no data for {period} in {source} (months built: {shown})")
                progress.update(task, advance=1, description=f"write {period}")
                written = write_report(conn, period, out, args.lang, masked=not args.unmasked)
        except FileNotFoundError as exc:
            err_console.print(Text(str(exc), style="red"), soft_wrap=True)
            return EXIT_UNUSABLE
        progress.update(task, advance=1, description="done")
    for paragraph in written.paragraphs:
        console.print(Text(paragraph), soft_wrap=True)
    console.print(Text(f"wrote {written.html} and {written.xlsx} (read from {source})"), soft_wrap=True)
    return EXIT_OK


def add_parser(sub: Any) -> None:
    """Register `readq report` on the CLI's subcommands."""
    r = sub.add_parser("report", help="write the month's report for the director (HTML and XLSX)")
    r.add_argument("--period", required=True, help="billing month YYYY-MM")
    r.add_argument("--lang", choices=LANGS, default="zh", help="zh (default) or en")
    r.add_argument("--out", help="folder to write <month>/… under (default: READQ_HOME/reports)")
    r.add_argument("--unmasked", action="store_true", help="reader names as delivered (masked by default)")
    r.set_defaults(func=cmd_report)
