"""`readq`: the command line of the reading-quality warehouse.

    readq demo [--no-serve]   generate the demo centre (if the data folder is empty), build, serve
    readq build               ingest every month waiting in the landing folder and publish
    readq serve               start the dashboards on the published snapshot
    readq ui                  open Dagster's own UI on this project
    readq ingest PATH...      load files now; readq quarantine lists rows that did not load
    readq query "SQL"         one read-only SELECT on the published snapshot (docs/query.md)
    readq errors / assess     the month's 差错统计表 / 考核 (ranking, 考核记录, version comparison) as XLSX
    readq recheck / rotation  next month's recheck list per team / suggested rotation plan as XLSX
    readq report              the director's monthly report of a month (HTML and XLSX, zh or en)

Exit status (README "Exit codes"): 0 every file loaded or was a duplicate; 1 an internal error, or the
marts/snapshot could not be refreshed; 2 at least one file rejected; 3 the data folder or warehouse
cannot be used (busy, not writable); 64 a usage error (bad arguments, paths or --period).

Everything users supplied — file and sheet names, headers, cell values, messages, paths, exception
texts — is printed as plain text (`rich.text.Text`, or escaped where rich renders markup, as in the
progress description): a name such as `备注[/]` or `a[bold].csv` must print as it is, not be taken
for rich markup (which swallows `[bold]` and raises on a stray `[/]`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from checks.mappings import KINDS
from readq.config import REPO_ROOT, DataFolderError, Home, home, load_toml
from warehouse.connection import WarehouseBusy
from warehouse.schema import WarehouseOutdated

if TYPE_CHECKING:
    from pipelines.ingest.registry import DeliveryResult

EXIT_OK = 0  # every file loaded (or was a duplicate)
EXIT_INTERNAL = 1  # an internal error, or the marts / the snapshot could not be refreshed
EXIT_REJECTED = 2  # at least one file rejected
EXIT_UNUSABLE = 3  # the data folder or the warehouse cannot be used (busy, not writable, no warehouse yet)
EXIT_USAGE = 64  # bad arguments (sysexits.h EX_USAGE)

# Result and delivery statuses; any other status prints in the default colour.
STATUS_STYLES = {"loaded": "green", "duplicate": "yellow", "rejected": "red", "partly superseded": "cyan",
                 "superseded": "cyan"}

console = Console()
err_console = Console(stderr=True)


class UsageError(Exception):
    """Arguments argparse accepts but that cannot work (a missing path, an empty folder, a bad --period)."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but its own errors (unknown command, invalid choice, missing argument) exit 64, not 2:
    2 means "a file was rejected" here."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def status_style(status: str | None) -> str:
    return STATUS_STYLES.get(status or "", "")


def _error(text: str) -> None:
    err_console.print(Text(text, style="red"), soft_wrap=True)


def progress_bar() -> Progress:
    """The CLI's progress display (rich): description, bar, done/total, elapsed."""
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False)


def _callback(progress: Progress, label: str) -> Callable[[str, int, int], None]:
    task = progress.add_task(escape(label), total=None)

    def update(description: str, completed: int, total: int) -> None:
        # TextColumn renders the description as markup: file names must not be taken for tags
        progress.update(task, description=escape(f"{label}: {description}"), completed=completed, total=total)

    return update


def _has_data(h: Home) -> bool:
    from pipelines.ingest.landing import landing_files

    return bool(landing_files(h.landing)) or bool(landing_files(h.archive)) or h.warehouse.exists()


def cmd_demo(args: argparse.Namespace) -> int:
    from readq.demo import generate_demo

    h = home().ensure()
    started = time.perf_counter()
    if _has_data(h):
        console.print(Text(f"{h.root} already holds data; not generating a new demo centre "
                           "(empty the folder or set READQ_HOME to start over).", style="yellow"), soft_wrap=True)
    else:
        defaults = load_toml("demo.toml").get("defaults", {})
        end_month = args.end_month or defaults.get("end_month", "2026-10")
        with progress_bar() as progress:
            summary = generate_demo(h.landing, h.demo_truth, seed=args.seed, customers=args.customers,
                                    months=args.months, end_month=end_month,
                                    progress=_callback(progress, "generate"))
        console.print(Text(f"generated {len(summary.files)} export files into {h.landing} "
                           f"({time.perf_counter() - started:.0f} s)"), soft_wrap=True)
    code = _build(h)
    console.print(f"demo built in {time.perf_counter() - started:.0f} s")
    if code != 0 or args.no_serve:
        return code
    return _serve(h, args.port, args.host)


def _build(h: Home) -> int:
    from readq.build import build

    started = time.perf_counter()
    with progress_bar() as progress:
        report = build(h, progress=_callback(progress, "build"))
    table = Table(title="build")
    table.add_column("step")
    table.add_column("result")
    table.add_row("months", f"{len(report.periods)} ({report.periods[0]} .. {report.periods[-1]})"
                  if report.periods else "none waiting in the landing folder")
    if report.repaired:
        table.add_row("repaired", Text(f"{', '.join(report.repaired)} (their marts were older than their data)"))
    for step, message in report.failed.items():
        table.add_row(Text(step, style="red"), Text(message))
    for r in report.unplaced:
        table.add_row(Text(r.status, style=status_style(r.status)), Text.assemble(_result_name(r), ": ", r.message))
    table.add_row("published", Text(report.published) if report.published else Text("not published", style="red"))
    table.add_row("seconds", f"{time.perf_counter() - started:.0f}")
    console.print(table)
    if report.failed:
        return EXIT_INTERNAL
    return EXIT_REJECTED if any(r.status == "rejected" for r in report.unplaced) else EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    return _build(home().ensure())


def _export_paths(args: list[str]) -> list[Path]:
    """The paths given, each an existing file or a folder holding export files; else a usage error
    (before the warehouse is touched: a typo must not read as a rejected file)."""
    from pipelines.ingest.landing import landing_files

    paths = [Path(a) for a in args]
    for p in paths:
        if not p.exists():
            raise UsageError(f"no such file or folder: {p}")
        if p.is_dir() and not landing_files(p):
            extensions = ", ".join(load_toml("readq.toml")["pipeline"]["extensions"])
            raise UsageError(f"no export files in the folder {p} (looked for {extensions}, in subfolders too)")
    return paths


def period_arg(text: str | None) -> str | None:
    """--period as a month (YYYY-MM) the warehouse accepts, or a usage error saying what is wrong."""
    if text is None:
        return None
    from checks.errors import FileRejected
    from pipelines.ingest.period import normalize_period

    try:
        return normalize_period(text)
    except FileRejected as exc:
        raise UsageError(str(exc)) from None


def _result_name(r: DeliveryResult) -> Text:
    return Text(r.file + (f" [{r.sheet}]" if r.sheet else ""))


def print_results(results: list[DeliveryResult]) -> None:
    """The per-file table, then each file's message and warnings in full (all user text printed literally)."""
    table = Table(title="ingest")
    table.add_column("file", overflow="fold", min_width=24)
    for col in ("kind", "period", "status"):
        table.add_column(col)
    for col in ("read", "loaded", "quarantined"):
        table.add_column(col, justify="right")
    for r in results:
        table.add_row(_result_name(r), Text(r.kind or ""), Text(r.period or ""),
                      Text(r.status, style=status_style(r.status)),
                      str(r.rows_read), str(r.rows_loaded), str(r.rows_quarantined))
    console.print(table)
    for r in results:  # messages in full, under the table
        console.print(Text.assemble((r.status, status_style(r.status)), " ", _result_name(r), ": ", r.message),
                      soft_wrap=True)
        for warning in r.warnings:
            console.print(Text.assemble("  ", ("warning: " + warning, "yellow")), soft_wrap=True)


def cmd_ingest(args: argparse.Namespace) -> int:
    import json

    paths = _export_paths(args.paths)
    period = period_arg(args.period)
    h = home().ensure()

    from readq.ingest import ingest_files, refresh_months

    try:
        with progress_bar() as progress:
            results = ingest_files(h, paths, kind=args.kind, period=period, sheet=args.sheet,
                                   progress=None if args.json else _callback(progress, "ingest"))
        # always: rebuilds the marts of every month whose data changed (these files' months, and any an
        # earlier failed or killed run left stale), and publishes when the warehouse changed (rejections
        # included: the quality page lists them)
        failures = refresh_months(h)
    except (WarehouseBusy, DataFolderError, WarehouseOutdated):
        raise  # main says what is wrong: exit 3
    except Exception as exc:  # an internal error, not bad input: say so plainly
        if os.environ.get("READQ_DEBUG"):
            raise
        _error(f"internal error: {type(exc).__name__}: {exc}")
        return EXIT_INTERNAL
    if args.json:
        print(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2))
    else:
        print_results(results)
    for step, message in failures.items():
        what = "the dashboards' snapshot" if step == "publish" else f"the marts of {step}"
        _error(f"{what} could not be built: {message}. The rows that loaded stay loaded; the next "
               "`readq ingest` or `readq build` finishes the job (details: `readq ui`)")
    if failures:
        return EXIT_INTERNAL
    return EXIT_REJECTED if any(r.status == "rejected" for r in results) else EXIT_OK


def cmd_quarantine(args: argparse.Namespace) -> int:
    import json

    from warehouse.connection import connect

    h = home()
    value = "q.raw_value" if args.unmasked else "coalesce(q.masked_value, q.raw_value)"
    where, params = "", []
    if args.file:
        where, params = "where d.file_name = ? or d.delivery_id = ?", [Path(args.file).name, args.file]
    try:
        with connect(h.warehouse, read_only=True) as conn:  # writes nothing: works in a read-only data folder
            rows = conn.sql(
                f"""select d.file_name as file, q.sheet, q.source_row as row, q.column_name as column,
                           q.check_name as check, {value} as value, q.stage, q.period, d.status as delivery_status
                    from quarantine.rows q join ops.deliveries d using (delivery_id) {where}
                    order by d.file_name, q.sheet, q.source_row, q.column_name limit {int(args.limit)}""",
                params=params).pl()
    except FileNotFoundError as exc:  # no warehouse yet
        _error(str(exc))
        return EXIT_UNUSABLE
    fmt = "json" if args.json else args.format
    if fmt == "json":
        print(json.dumps(rows.to_dicts(), ensure_ascii=False, default=str, indent=2))
        return EXIT_OK
    if fmt == "csv":  # for a spreadsheet: formulas neutralised, UTF-8 with BOM (checks/exports.py)
        from checks.exports import csv_bytes

        sys.stdout.flush()
        out = getattr(sys.stdout, "buffer", None)
        if out is None:
            sys.stdout.write(csv_bytes(rows).decode("utf-8"))
        else:
            out.write(csv_bytes(rows))
            out.flush()
        return EXIT_OK
    table = Table(title=f"quarantined rows ({rows.height}{'+' if rows.height == args.limit else ''})")
    for col in rows.columns:
        table.add_column(col, overflow="fold")
    for r in rows.iter_rows():
        table.add_row(*[Text("" if v is None else str(v)) for v in r])
    console.print(table)
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    from readq.evaluate import describe_source, evaluate, markdown

    h = home()
    snapshot = h.readable
    if not snapshot.exists():
        raise UsageError(f"no warehouse under {h.root} yet: run `readq demo` first")
    truth = Path(args.truth) if args.truth else h.demo_truth
    try:
        ev = evaluate(snapshot, truth)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    table = Table(title=f"rules against the demo's ground truth ({ev.reads:,} readings)")
    for col in ("floor", "value", "target", "met"):
        table.add_column(col)
    for name, value, target, ok in ev.floors:
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        table.add_row(name, shown, target, Text("yes" if ok else "no", style="green" if ok else "red"))
    console.print(table)
    if args.write:
        out = Path(args.write)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(markdown(ev, source=describe_source(truth)), encoding="utf-8")
        tmp.replace(out)
        console.print(Text(f"wrote {out}"), soft_wrap=True)
    return EXIT_OK if ev.met or not args.check else EXIT_INTERNAL


def cmd_query(args: argparse.Namespace) -> int:
    """One read-only SELECT on the published snapshot (warehouse/query.py guards it; docs/query.md)."""
    import json

    from checks.exports import csv_bytes
    from warehouse.query import QueryError, QueryFailed, QueryTimedOut, flat_frame, query_snapshot, settings

    cfg = settings()
    limit = cfg.default_limit if args.limit is None else args.limit
    if limit > cfg.max_limit:
        raise UsageError(f"--limit is at most {cfg.max_limit:,} (config/readq.toml [query] max_limit)")
    if args.timeout is not None and not 0 < args.timeout < float("inf"):
        raise UsageError(f"--timeout must be a number of seconds > 0, not {args.timeout:g}")
    try:
        result = query_snapshot(home().published, args.sql, limit=limit, timeout=args.timeout)
    except QueryError as exc:
        if exc.reason == "no_snapshot":
            _error(str(exc))
            return EXIT_UNUSABLE
        kind = ("timed out" if isinstance(exc, QueryTimedOut) else "failed" if isinstance(exc, QueryFailed)
                else "refused")
        _error(f"readq query: {kind}: {exc}" + (f"\n{exc.detail}" if exc.detail else ""))
        return EXIT_INTERNAL if isinstance(exc, QueryTimedOut) else EXIT_USAGE
    rows = result.frame
    counted = f"{rows.height:,} row{'' if rows.height == 1 else 's'}"
    note = (f"{counted}, truncated at the limit of {limit:,} (more rows exist; raise --limit)"
            if result.truncated else counted)
    if args.format == "json":
        print(json.dumps(rows.to_dicts(), ensure_ascii=False, default=str, indent=2))
    elif args.format == "csv":  # for a spreadsheet: formulas neutralised, UTF-8 with BOM (checks/exports.py)
        data = csv_bytes(flat_frame(rows))
        sys.stdout.flush()
        out = getattr(sys.stdout, "buffer", None)
        if out is None:
            sys.stdout.write(data.decode("utf-8"))
        else:
            out.write(data)
            out.flush()
    else:
        table = Table(title="query")
        for col in rows.columns:
            table.add_column(Text(col), overflow="fold")
        for r in rows.iter_rows():
            table.add_row(*[Text("" if v is None else str(v)) for v in r])
        console.print(table)
        console.print(Text(note, style="yellow" if result.truncated else ""), soft_wrap=True)
        return EXIT_OK
    err_console.print(Text(note, style="yellow" if result.truncated else ""), soft_wrap=True)
    return EXIT_OK


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve_command(port: int, host: str) -> list[str]:
    """The Streamlit command of `readq serve`: bound to `host` only (Streamlit alone would listen on
    every interface)."""
    app = REPO_ROOT / "dashboards" / "app.py"
    return [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless=true",
            f"--server.address={host}", f"--server.port={port}", "--browser.gatherUsageStats=false"]


def _serve(h: Home, port: int, host: str) -> int:
    env = {**os.environ, "READQ_HOME": str(h.root)}
    shown = "localhost" if host in LOOPBACK else host
    console.print(Text(f"dashboard: http://{shown}:{port}  (Ctrl+C to stop)", style="bold green"))
    if host not in LOOPBACK:
        console.print(Text(f"warning: listening on {host}: anyone who can reach this machine on port {port} "
                           "sees the dashboards; put it behind the reverse proxy that authenticates users",
                           style="yellow"), soft_wrap=True)
    try:
        return subprocess.call(serve_command(port, host), env=env)
    except KeyboardInterrupt:
        return 0


def cmd_serve(args: argparse.Namespace) -> int:
    return _serve(home(), args.port, args.host)


def cmd_ui(args: argparse.Namespace) -> int:
    from readq.build import ensure_dagster_home

    h = home().ensure()
    ensure_dagster_home(h.dagster_home)
    env = {**os.environ, "READQ_HOME": str(h.root), "DAGSTER_HOME": str(h.dagster_home)}
    dg_bin = Path(sys.executable).with_name("dg")
    console.print(Text(f"Dagster UI on http://localhost:{args.port} (DAGSTER_HOME={h.dagster_home})"))
    return subprocess.call([str(dg_bin), "dev", "--port", str(args.port)], env=env, cwd=REPO_ROOT)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 1, not {text}")
    return value


def parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="readq", description="Reading-quality warehouse of a meter-reading centre.",
                       epilog="exit status: 0 all loaded (or duplicates), 1 internal error or refresh failed, "
                              "2 a file rejected, 3 data folder or warehouse unusable, 64 usage error")
    sub = p.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="generate the demo centre, build every month, start the dashboard")
    demo.add_argument("--seed", type=int, default=20261129, help="generator seed (same seed, same files)")
    demo.add_argument("--customers", type=int, default=100_000, help="customers in the demo centre")
    demo.add_argument("--months", type=int, default=24, help="months of history")
    demo.add_argument("--end-month", default=None, help="last billing month, YYYY-MM (default from demo.toml)")
    demo.add_argument("--no-serve", action="store_true", help="stop after the build")
    demo.add_argument("--port", type=int, default=8501)
    demo.add_argument("--host", default="127.0.0.1",
                      help="address the dashboards listen on (default 127.0.0.1: this machine only)")
    demo.set_defaults(func=cmd_demo)
    b = sub.add_parser("build", help="ingest every month waiting in the landing folder and publish")
    b.set_defaults(func=cmd_build)
    i = sub.add_parser("ingest", help="load export files now (a table per file: loaded/duplicate/rejected)")
    i.add_argument("paths", nargs="+", help="files or folders")
    i.add_argument("--period", help="billing month YYYY-MM, used when neither the columns nor the file name tell")
    i.add_argument("--kind", choices=KINDS, help="input kind, when the headers alone do not tell")
    i.add_argument("--sheet", help="only this sheet of a workbook")
    i.add_argument("--json", action="store_true", help="print the per-file results as a JSON list")
    i.set_defaults(func=cmd_ingest)
    q = sub.add_parser("quarantine", help="list quarantined rows with their reasons")
    q.add_argument("--file", help="only rows of this file (name or delivery id)")
    q.add_argument("--limit", type=_positive_int, default=200)
    fmt = q.add_mutually_exclusive_group()
    fmt.add_argument("--format", choices=("table", "json", "csv"), default="table",
                     help="csv: for a spreadsheet (UTF-8 with BOM; cells that would run as formulas are quoted)")
    fmt.add_argument("--json", action="store_true", help="the same as --format json")
    q.add_argument("--unmasked", action="store_true",
                   help="show values as delivered, personal data included (masked by default)")
    q.set_defaults(func=cmd_quarantine)
    e = sub.add_parser("evaluate", help="score every plausibility rule against the demo's ground truth")
    e.add_argument("--truth", help="ground-truth folder (default: READQ_HOME/demo_truth)")
    e.add_argument("--write", default="docs/RULES.md", help="write the tables here (Markdown; '' to skip)")
    e.add_argument("--check", action="store_true", help="exit 1 when a floor of config/evaluation.toml is not met")
    e.set_defaults(func=cmd_evaluate)
    qy = sub.add_parser("query", help="run one read-only SELECT on the published snapshot (docs/query.md)")
    qy.add_argument("sql", help="one SELECT statement (WITH, FROM, VALUES, DESCRIBE, SUMMARIZE too)")
    qy.add_argument("--format", choices=("table", "csv", "json"), default="table",
                    help="csv: for a spreadsheet (UTF-8 with BOM; cells that would run as formulas are quoted)")
    qy.add_argument("--limit", type=_positive_int, default=None,
                    help="most rows returned (default and maximum: config/readq.toml [query])")
    qy.add_argument("--timeout", type=float, default=None,
                    help="seconds before the query is interrupted (default: config/readq.toml [query])")
    qy.set_defaults(func=cmd_query)
    s = sub.add_parser("serve", help="start the dashboards on the published snapshot")
    s.add_argument("--port", type=int, default=8501)
    s.add_argument("--host", default="127.0.0.1",
                   help="address the dashboards listen on (default 127.0.0.1: this machine only; "
                        "0.0.0.0 for every interface)")
    s.set_defaults(func=cmd_serve)
    u = sub.add_parser("ui", help="start Dagster's UI (dg dev) on this project and data folder")
    u.add_argument("--port", type=int, default=3000)
    u.set_defaults(func=cmd_ui)
    from readq.errors import add_parser as add_errors_parser  # readq errors: the 差错统计表 (readq/errors.py)

    add_errors_parser(sub)
    from readq.assessment import add_parser as add_assess_parser  # readq assess: 考核 (readq/assessment.py)

    add_assess_parser(sub)
    from readq.lists import add_parsers as add_list_parsers  # readq recheck / rotation (readq/lists.py)

    add_list_parsers(sub)
    from readq.report import add_parser as add_report_parser  # readq report: the monthly report (readq/report.py)

    add_report_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit status (see the module docstring)."""
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or argparse's own usage error (64, see ArgumentParser.error)
        return exc.code if isinstance(exc.code, int) else (EXIT_OK if exc.code is None else EXIT_USAGE)
    try:
        return args.func(args)
    except UsageError as exc:
        _error(f"readq {args.command}: error: {exc}; see `readq {args.command} --help`")
        return EXIT_USAGE
    except (DataFolderError, WarehouseBusy, WarehouseOutdated) as exc:
        _error(str(exc))
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
