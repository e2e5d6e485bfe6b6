"""`readq`: the command line of the reading-quality warehouse.

    readq demo [--no-serve]   generate the demo centre (if the data folder is empty), build, serve
    readq build               ingest every month waiting in the landing folder and publish
    readq serve               start the dashboards on the published snapshot
    readq ui                  open Dagster's own UI on this project
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
                      "(empty the folder or set READQ_HOME to start over).[/]")
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
    h = home().ensure()
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
