"""`readq`: the command line of the reading-quality warehouse.

    readq demo [--no-serve]   generate the demo centre (if the data folder is empty), build, serve
    readq build               ingest every month waiting in the landing folder and publish
    readq serve               start the dashboards on the published snapshot
    readq ui                  open Dagster's own UI on this project
    readq ingest PATH...      load files now; readq quarantine lists rows that did not load
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from checks.mappings import KINDS
from readq.config import REPO_ROOT, Home, home, load_toml

console = Console()


def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False)


def _callback(progress: Progress, label: str):
    task = progress.add_task(label, total=None)

    def update(description: str, completed: int, total: int) -> None:
        progress.update(task, description=f"{label}: {description}", completed=completed, total=total)

    return update


def _has_data(h: Home) -> bool:
    from pipelines.ingest.landing import landing_files

    return bool(landing_files(h.landing)) or bool(landing_files(h.archive)) or h.warehouse.exists()


def cmd_demo(args: argparse.Namespace) -> int:
    from readq.demo import generate_demo

    h = home().ensure()
    started = time.perf_counter()
    if _has_data(h):
        console.print(f"[yellow]{h.root} already holds data; not generating a new demo centre "
                      "(empty the folder or set READQ_HOME to start over).[/]", soft_wrap=True)
    else:
        defaults = load_toml("demo.toml").get("defaults", {})
        end_month = args.end_month or defaults.get("end_month", "2026-10")
        with _progress() as progress:
            summary = generate_demo(h.landing, h.demo_truth, seed=args.seed, customers=args.customers,
                                    months=args.months, end_month=end_month,
                                    progress=_callback(progress, "generate"))
        console.print(f"generated {len(summary.files)} export files into {h.landing} "
                      f"({time.perf_counter() - started:.0f} s)")
    code = _build(h)
    console.print(f"demo built in {time.perf_counter() - started:.0f} s")
    if code != 0 or args.no_serve:
        return code
    return _serve(h, args.port)


def _build(h: Home) -> int:
    from readq.build import build

    started = time.perf_counter()
    with _progress() as progress:
        report = build(h, progress=_callback(progress, "build"))
    table = Table(title="build")
    table.add_column("step")
    table.add_column("result")
    table.add_row("months", f"{len(report.periods)} ({report.periods[0]} .. {report.periods[-1]})"
                  if report.periods else "none waiting in the landing folder")
    for step, message in report.failed.items():
        table.add_row(f"[red]{step}[/]", message)
    table.add_row("published", report.published or "[red]not published[/]")
    table.add_row("seconds", f"{time.perf_counter() - started:.0f}")
    console.print(table)
    return 1 if report.failed else 0


def cmd_build(args: argparse.Namespace) -> int:
    return _build(home().ensure())


def cmd_ingest(args: argparse.Namespace) -> int:
    import json

    from readq.ingest import ingest_files, refresh
    from warehouse.connection import WarehouseBusy

    h = home().ensure()
    try:
        with _progress() as progress:
            results = ingest_files(h, [Path(p) for p in args.paths], kind=args.kind, period=args.period,
                                   sheet=args.sheet, progress=None if args.json else _callback(progress, "ingest"))
        touched = {r.period for r in results if r.status in ("loaded", "superseded") and r.period}
        refreshed = refresh(h, touched) if touched else True
    except WarehouseBusy as exc:
        console.print(f"[red]{exc}[/]")
        return 1
    except Exception as exc:  # an internal error, not bad input: say so plainly
        console.print(f"[red]internal error: {type(exc).__name__}: {exc}[/]")
        return 1
    if args.json:
        print(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2))
    else:
        table = Table(title="ingest")
        table.add_column("file", overflow="fold", min_width=24)
        for col in ("kind", "period", "status"):
            table.add_column(col)
        for col in ("read", "loaded", "quarantined"):
            table.add_column(col, justify="right")
        colours = {"loaded": "green", "superseded": "cyan", "duplicate": "yellow", "rejected": "red"}
        for r in results:
            name = r.file + (f" [{r.sheet}]" if r.sheet else "")
            table.add_row(name, r.kind or "", r.period or "", f"[{colours[r.status]}]{r.status}[/]",
                          str(r.rows_read), str(r.rows_loaded), str(r.rows_quarantined))
        console.print(table)
        for r in results:  # messages in full, under the table
            name = r.file + (f" [{r.sheet}]" if r.sheet else "")
            console.print(f"[{colours[r.status]}]{r.status}[/] {name}: {r.message}", soft_wrap=True)
        if not refreshed:
            console.print("[red]the marts or the snapshot could not be refreshed; see `readq ui`[/]")
    if not refreshed:
        return 1
    return 2 if any(r.status == "rejected" for r in results) else 0


def cmd_quarantine(args: argparse.Namespace) -> int:
    import json

    from warehouse.connection import WarehouseBusy, connect

    h = home()
    value = "q.raw_value" if args.unmasked else "coalesce(q.masked_value, q.raw_value)"
    where, params = "", []
    if args.file:
        where, params = "where d.file_name = ? or d.delivery_id = ?", [Path(args.file).name, args.file]
    try:
        with connect(h.warehouse, read_only=True) as conn:
            rows = conn.sql(
                f"""select d.file_name as file, q.sheet, q.source_row as row, q.column_name as column,
                           q.check_name as check, {value} as value, q.stage, q.period, d.status as delivery_status
                    from quarantine.rows q join ops.deliveries d using (delivery_id) {where}
                    order by d.file_name, q.sheet, q.source_row, q.column_name limit {int(args.limit)}""",
                params=params).pl()
    except (WarehouseBusy, FileNotFoundError) as exc:
        console.print(f"[red]{exc}[/]")
        return 1
    if args.json:
        print(json.dumps(rows.to_dicts(), ensure_ascii=False, default=str, indent=2))
        return 0
    table = Table(title=f"quarantined rows ({rows.height}{'+' if rows.height == args.limit else ''})")
    for col in rows.columns:
        table.add_column(col, overflow="fold")
    for r in rows.iter_rows():
        table.add_row(*["" if v is None else str(v) for v in r])
    console.print(table)
    return 0


def _serve(h: Home, port: int) -> int:
    app = REPO_ROOT / "dashboards" / "app.py"
    env = {**os.environ, "READQ_HOME": str(h.root)}
    url = f"http://localhost:{port}"
    console.print(f"[bold green]dashboard: {url}[/]  (Ctrl+C to stop)")
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless=true",
           f"--server.port={port}", "--browser.gatherUsageStats=false"]
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


def cmd_serve(args: argparse.Namespace) -> int:
    return _serve(home(), args.port)


def cmd_ui(args: argparse.Namespace) -> int:
    from readq.build import ensure_dagster_home

    h = home().ensure()
    ensure_dagster_home(h.dagster_home)
    env = {**os.environ, "READQ_HOME": str(h.root), "DAGSTER_HOME": str(h.dagster_home)}
    dg_bin = Path(sys.executable).with_name("dg")
    console.print(f"Dagster UI on http://localhost:{args.port} (DAGSTER_HOME={h.dagster_home})")
    return subprocess.call([str(dg_bin), "dev", "--port", str(args.port)], env=env, cwd=REPO_ROOT)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="readq", description="Reading-quality warehouse of a meter-reading centre.")
    sub = p.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="generate the demo centre, build every month, start the dashboard")
    demo.add_argument("--seed", type=int, default=20261129, help="generator seed (same seed, same files)")
    demo.add_argument("--customers", type=int, default=100_000, help="customers in the demo centre")
    demo.add_argument("--months", type=int, default=24, help="months of history")
    demo.add_argument("--end-month", default=None, help="last billing month, YYYY-MM (default from demo.toml)")
    demo.add_argument("--no-serve", action="store_true", help="stop after the build")
    demo.add_argument("--port", type=int, default=8501)
    demo.set_defaults(func=cmd_demo)
    b = sub.add_parser("build", help="ingest every month waiting in the landing folder and publish")
    b.set_defaults(func=cmd_build)
    i = sub.add_parser("ingest", help="load export files now (a table per file: loaded/duplicate/superseded/rejected)")
    i.add_argument("paths", nargs="+", help="files or folders")
    i.add_argument("--period", help="billing month YYYY-MM, used when neither the columns nor the file name tell")
    i.add_argument("--kind", choices=KINDS, help="input kind, when the headers alone do not tell")
    i.add_argument("--sheet", help="only this sheet of a workbook")
    i.add_argument("--json", action="store_true", help="print the per-file results as a JSON list")
    i.set_defaults(func=cmd_ingest)
    q = sub.add_parser("quarantine", help="list quarantined rows with their reasons")
    q.add_argument("--file", help="only rows of this file (name or delivery id)")
    q.add_argument("--limit", type=int, default=200)
    q.add_argument("--json", action="store_true")
    q.add_argument("--unmasked", action="store_true",
                   help="show values as delivered, personal data included (masked by default)")
    q.set_defaults(func=cmd_quarantine)
    s = sub.add_parser("serve", help="start the dashboards on the published snapshot")
    s.add_argument("--port", type=int, default=8501)
    s.set_defaults(func=cmd_serve)
    u = sub.add_parser("ui", help="start Dagster's UI (dg dev) on this project and data folder")
    u.add_argument("--port", type=int, default=3000)
    u.set_defaults(func=cmd_ui)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
