"""History benchmark: does materializing a month cost more when 24 months of history sit behind it?

    uv run python benchmarks/history_bench.py [--sizes 100000 1000000] [--months 27] [--runs 3]
    uv run python benchmarks/history_bench.py --report-only --sizes 100000 1000000   # rewrite the doc section

For each size a fresh process builds a synthetic warehouse straight in SQL (no demo generator, no
ingest: N meters × 27 months of core.readings, one ops.deliveries row per team and month, the
segments' assignments), then materializes every mart of `warehouse.marts.marts()` for months 1 … 27
in order, each mart in its own connection and transaction as the Dagster assets do (open, ensure the
schema, `replace_month`, commit, the mart's asset checks). That first pass gives the cost curve over
the months. Then month 3 (2 months of history behind it) and the last month (24 behind it: the
`[history] months` of config/rules.toml) are rebuilt in turn, --runs times each (replace_month is
idempotent), and the medians and their ratio are reported per mart, with rows per second (readings
of the month / seconds) and peak RSS (the process's VmHWM, reset before each mart).

A second fresh process profiles the reading_context prepare step at the last month and at month 3:
the window query, each top-level statement of `checks.history.reading_context` (timed by an
instrumented copy of the function, the code itself untouched), a cProfile of the same call, and the
rest of `replace_month` (delete, insert, build record) inside a transaction that is rolled back.

Results go to the `history` section of docs/BENCHMARKS.md; the raw figures, per size, to
<data>/history_<size>.json (so --report-only can rewrite the section from what finished).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import cProfile
import hashlib
import inspect
import io
import json
import math
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from benchmarks.report import stamp, write_section  # noqa: E402

FIRST_PERIOD = "2024-01"
METERS_PER_SEGMENT = 200            # 50 segments per 10,000 meters
SEGMENTS_PER_READER = 8
TEAMS = ("城东抄表班", "城西抄表班", "城南抄表班", "城北抄表班", "城中抄表班", "郊区抄表班")
CLASS_SHARES = (("LV_RES", 0.85), ("LV_NONRES", 0.12), ("HV", 0.03))
MISSED_SHARE = 0.02                 # 未抄: 本次 = 上次, 0 kWh
ESTIMATED_SHARE = 0.01              # 估抄
KEYING_SHARE = 0.001                # a ×10 keying error in 本次示数
VACANT_SHARE = 0.01                 # no use at all (ZERO_ACTIVE)
DROP_SHARE = 0.005                  # use falls to 30 % from some month on (SUSTAINED_DROP)
SWAP_SHARE = 0.002                  # a new meter on the metering point from some month on (register restarts)
SPAN = 1_000_000.0                  # register 6.2: 10^6


# ------------------------------------------------------------------------------------------------
# the synthetic warehouse

def periods(first: str, months: int) -> list[str]:
    y, m = int(first[:4]), int(first[5:7]) - 1
    return [f"{(y * 12 + m + k) // 12:04d}-{(y * 12 + m + k) % 12 + 1:02d}" for k in range(months)]


def season(period: str) -> float:
    """Seasonal factor of a month's use: peaks in January (heating) and July (cooling)."""
    month = int(period[5:7])
    return 1.0 + 0.25 * math.cos(2 * math.pi * (month - 1) / 6)


def cumulative_season(labels: Sequence[str]) -> list[float]:
    """Σ season over months 1 … t for t = 0 … len(labels) (t = 0: 0)."""
    out = [0.0]
    for p in labels:
        out.append(out[-1] + season(p))
    return out


def _list(values: Sequence[float]) -> str:
    return "[" + ", ".join(f"{v:.6f}" for v in values) + "]"


def _macros(labels: Sequence[str]) -> list[str]:
    """SQL macros of the generator: u(a, b) uniform in [0, 1) from a hash; the register model."""
    cum = cumulative_season(labels)
    seas = [0.0] + [season(p) for p in labels]
    return [
        "create or replace temp macro u(a, b) as hash(a, b) / 18446744073709551616.0",
        "create or replace temp macro z(a, b) as "
        "sqrt(-2 * ln(greatest(u(a, b || '1'), 1e-12))) * cos(2 * pi() * u(a, b || '2'))",
        f"create or replace temp macro cumu(t) as ({_list(cum)})[t + 1]",
        f"create or replace temp macro seas(t) as ({_list(seas)})[t + 1]",
        # use factor after a drop, and the drop-adjusted cumulative season
        "create or replace temp macro ff(t, k) as case when k is not null and t >= k then 0.3 else 1.0 end",
        "create or replace temp macro cc(t, k) as "
        "case when k is null then cumu(t) else cumu(t) - 0.7 * greatest(0, cumu(t) - cumu(k - 1)) end",
        # kWh the point has used up to the end of month t (noise on the position keeps every month's use > 0)
        "create or replace temp macro pos(i, base, k, t) as "
        "base * (cc(t, k) + ff(t, k) * 0.22 * (u(i, 'e' || t) - 0.5))",
        "create or replace temp macro status(i, t) as case when t < 1 then 'READ' "
        f"when u(i, 's' || t) < {MISSED_SHARE} then 'MISSED' "
        f"when u(i, 's' || t) < {MISSED_SHARE + ESTIMATED_SHARE} then 'ESTIMATED' else 'READ' end",
        # the register shown at the end of month t (a replaced meter starts again from 0)
        "create or replace temp macro reg(i, base, k, mult, start, swap, t) as round(case "
        "when swap is not null and t >= swap then (pos(i, base, k, t) - pos(i, base, k, swap - 1)) / mult "
        f"else (start + pos(i, base, k, t) / mult) % {SPAN} end, 2)",
    ]


METERS_SQL = f"""
create or replace temp table bench_meters as
with draws as (
    select i, u(i, 'class') as uc, z(i, 'base') as zb, u(i, 'mult') as um, u(i, 'start') as us,
           u(i, 'vacant') as uv, u(i, 'drop') as ud, u(i, 'swap') as uw, u(i, 'mode') as uo,
           (i // {METERS_PER_SEGMENT})::bigint as seg
    from range($meters) r(i)
),
classed as (
    select *,
           case when uc < {CLASS_SHARES[0][1]} then 'LV_RES'
                when uc < {CLASS_SHARES[0][1] + CLASS_SHARES[1][1]} then 'LV_NONRES' else 'HV' end as customer_class
    from draws
)
select i, seg, customer_class,
       (seg % 6)::integer                                                      as team_k,
       ((seg // 6) // {SEGMENTS_PER_READER}) * 6 + seg % 6                     as reader_k,
       (1 + seg % 25)::bigint                                                  as plan_day,
       case customer_class when 'HV' then [20.0, 40.0, 50.0, 100.0][1 + floor(um * 4)::integer]
            else 1.0 end                                                       as mult,
       case when uv < {VACANT_SHARE} then 0.0
            else exp(case customer_class when 'LV_RES' then ln(150) + 0.6 * zb
                                         when 'LV_NONRES' then ln(900) + 0.8 * zb
                                         else ln(40000) + 0.7 * zb end) end   as base,
       us * {SPAN}                                                             as start,
       case when ud < {DROP_SHARE} then 4 + floor(ud / {DROP_SHARE} * ($months - 4))::integer end as drop_k,
       case when uw < {SWAP_SHARE} then 2 + floor(uw / {SWAP_SHARE} * ($months - 1))::integer end as swap_k,
       case when customer_class = 'HV' or uo < 0.6 then 'REMOTE' when uo < 0.9 then 'HANDHELD'
            else 'MANUAL' end                                                  as read_mode,
       '31' || lpad(i::varchar, 8, '0')                                        as customer_no,
       '5' || lpad(i::varchar, 11, '0')                                        as mp_no,
       lpad(i::varchar, 14, '0')                                               as asset_tail,
       '0102' || lpad(seg::varchar, 6, '0')                                    as segment_no
from classed
"""

# One month of readings: every meter, its status, registers and kWh; $t is the month (1-based).
READINGS_SQL = """
insert into core.readings by name
with base as (
    select m.*, $t as t, status(i, $t) as read_status,
           case when status(i, $t - 1) = 'MISSED' and $t >= 2 then $t - 2 else $t - 1 end as prev_t
    from bench_meters m
),
registers as (
    select *,
           case when swap_k = t then 0.0
                else reg(i, base, drop_k, mult, start, swap_k, prev_t) end           as last_r,
           reg(i, base, drop_k, mult, start, swap_k, t)                              as true_r
    from base
),
shown as (
    select *,
           case when read_status = 'MISSED' then last_r
                when read_status = 'ESTIMATED' then round(last_r + base * seas(t) / mult, 2)
                when u(i, 'x' || t) < $keying and true_r >= last_r then round(last_r + 10 * (true_r - last_r), 2)
                else true_r end                                                      as this_r
    from registers
)
select $period                                                        as period,
       '4331021'                                                      as org_code,
       '城关供电所'                                                    as station,
       $teams[team_k + 1]                                             as team,
       segment_no,
       '台区' || seg                                                   as segment_name,
       plan_day,
       '抄表员' || lpad(reader_k::varchar, 4, '0')                     as reader,
       customer_no,
       customer_class,
       mp_no,
       (i % 200 + 1)::bigint                                          as route_seq,
       case when swap_k is not null and t >= swap_k then '3330002' else '3330001' end || asset_tail as meter_no,
       '有功(总)'                                                      as read_type,
       last_r                                                         as last_read,
       this_r                                                         as this_read,
       case when read_status = 'MISSED' then 0.0
            when this_r >= last_r then round((this_r - last_r) * mult, 2)
            else round((this_r - last_r + $span) * mult, 2) end       as kwh,
       mult                                                           as multiplier,
       '6.2'                                                          as digits,
       read_status,
       read_mode,
       case when read_status <> 'MISSED' then greatest($month_start::date,
           $month_start::date + (plan_day - 1 + case when read_mode = 'REMOTE' then 0
                                                      else floor(u(i, 'd' || t) * 3)::integer - 1 end)::integer)
       end                                                            as read_date,
       case when read_status <> 'MISSED' then
           ($month_start::date + (plan_day - 1)::integer)::timestamp + interval 17 hour end as upload_time,
       'bench-' || $period || '-' || team_k                           as delivery_id,
       (i + 2)::integer                                               as source_row
from shown
"""

ASSIGNMENTS_SQL = f"""
insert into core.assignments by name
select $period as period, $teams[(seg % 6)::integer + 1] as team, '0102' || lpad(seg::varchar, 6, '0') as segment_no,
       '台区' || seg as segment_name, (1 + seg % 25)::bigint as plan_day,
       '抄表员' || lpad((((seg // 6) // {SEGMENTS_PER_READER}) * 6 + seg % 6)::varchar, 4, '0') as reader,
       'bench-assign-' || $period as delivery_id, (seg + 2)::integer as source_row
from range((select max(seg) + 1 from bench_meters)) s(seg)
"""

DELIVERY_SQL = """
insert into ops.deliveries (delivery_id, file_name, source_path, sha256, size_bytes, kind, period, period_source,
                            grain, status, rows_read, rows_loaded, rows_quarantined, rows_skipped, config_version,
                            received_at, seq)
select delivery_id, 'synthetic_' || delivery_id || '.csv', 'history_bench', md5(delivery_id), 0, ?, ?, 'column',
       ?, 'loaded', n, n, 0, 0, 'history_bench', now()::timestamp, nextval('ops.change_seq')
from (select delivery_id, count(*) as n from {table} where period = ? group by delivery_id order by delivery_id)
"""


def generate(conn: duckdb.DuckDBPyConnection, meters: int, months: int, first: str = FIRST_PERIOD,
             log: Callable[[str], None] | None = None) -> list[str]:
    """Fill core.readings, core.assignments and ops.deliveries of an empty warehouse (schema ensured) with
    `meters` meters × `months` months of synthetic readings; the periods."""
    from warehouse.schema import ensure_schema

    ensure_schema(conn)
    labels = periods(first, months)
    for sql in _macros(labels):
        conn.execute(sql)
    conn.execute(METERS_SQL, {"meters": meters, "months": months})
    for t, period in enumerate(labels, start=1):
        t0 = time.perf_counter()
        conn.execute("begin")
        conn.execute(READINGS_SQL, {"t": t, "period": period, "teams": list(TEAMS), "keying": KEYING_SHARE,
                                    "span": SPAN, "month_start": date(int(period[:4]), int(period[5:7]), 1)})
        conn.execute(ASSIGNMENTS_SQL, {"period": period, "teams": list(TEAMS)})
        conn.execute(DELIVERY_SQL.format(table="core.readings"), ["readings", period, "segment_no", period])
        conn.execute(DELIVERY_SQL.format(table="core.assignments"), ["assignments", period, "segment_no", period])
        conn.execute("commit")
        if log:
            log(f"generated {period}: {time.perf_counter() - t0:.1f}s")
    conn.execute("drop table bench_meters")
    return labels


# ------------------------------------------------------------------------------------------------
# measuring

def peak_rss_reset() -> None:
    """Reset this process's VmHWM (Linux: /proc/self/clear_refs, 5), so the next reading is one step's peak."""
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def rss_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB."""
    found = {"VmRSS:": math.nan, "VmHWM:": math.nan}
    with open("/proc/self/status") as status:
        for line in status:
            key = line.split(maxsplit=1)[0] if line.strip() else ""
            if key in found:
                found[key] = int(line.split()[1]) / 1024
    return found["VmRSS:"], found["VmHWM:"]


@contextlib.contextmanager
def mart_connection(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection as the Dagster resource opens one for each asset (the pipeline's settings)."""
    from warehouse.connection import connection_config
    from warehouse.schema import ensure_schema

    conn = duckdb.connect(str(path), config=connection_config())
    try:
        ensure_schema(conn)
        yield conn
    finally:
        conn.close()


def materialize(path: Path, name: str, period: str) -> dict[str, float]:
    """One mart's month as its asset does it: its own connection and transaction, then its checks."""
    from warehouse.marts import mart, replace_month

    peak_rss_reset()
    t0 = time.perf_counter()
    with mart_connection(path) as conn:
        t_open = time.perf_counter()
        conn.execute("begin")
        try:
            rows = replace_month(conn, name, period)
            t_built = time.perf_counter()
            conn.execute("commit")
        except BaseException:
            conn.execute("rollback")
            raise
        t_commit = time.perf_counter()
        for check in mart(name).checks:
            check.violations(conn, period)
        t_checks = time.perf_counter()
    t_close = time.perf_counter()   # closing the last connection checkpoints the WAL into the file
    return {"seconds": t_commit - t0 + t_close - t_checks, "check_seconds": t_checks - t_commit,
            "open_s": t_open - t0, "replace_s": t_built - t_open, "commit_s": t_commit - t_built,
            "close_s": t_close - t_checks, "rows_out": float(rows), "peak_rss_mb": rss_mb()[1]}


def materialize_month(path: Path, period: str, only: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
    from warehouse.marts import marts

    return {m.name: materialize(path, m.name, period) for m in marts() if only is None or m.name in only}


# What a month needs built for the months after it to read their history: reading_context reads 24 months
# of meter_readings; reader_forensics reads 12 of meter_readings, reading_context and reading_flags.
HISTORY_MARTS = ("meter_readings", "point_history")


def ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.nan


def summarise(runs: dict[str, list[dict[str, dict[str, float]]]], base: str, last: str,
              rows: dict[str, int]) -> list[dict[str, Any]]:
    """Per mart (and 'total'): median seconds of `base` and `last`, their ratio, rows/s, max peak RSS.

    `runs[period]` is a list of materialize_month results; the ratio is of the medians (runs alternate
    between the two months, so drift of the machine's speed falls on both)."""
    names = list(runs[base][0])
    out = []

    def med(period: str, name: str | None, key: str = "seconds") -> float:
        if name is None:
            return statistics.median(sum(r[n][key] for n in names) for r in runs[period])
        return statistics.median(r[name][key] for r in runs[period])

    for name in [*names, None]:
        a, b = med(base, name), med(last, name)
        ca, cb = med(base, name, "check_seconds"), med(last, name, "check_seconds")
        rss = {p: max(max(r[n]["peak_rss_mb"] for n in ([name] if name else names)) for r in runs[p])
               for p in (base, last)}
        out.append({
            "mart": name or "total", "base_s": a, "last_s": b, "ratio": ratio(b, a),
            "base_rows_s": ratio(rows[base], a), "last_rows_s": ratio(rows[last], b),
            "base_check_s": ca, "last_check_s": cb, "with_checks_ratio": ratio(b + cb, a + ca),
            "base_rss_mb": rss[base], "last_rss_mb": rss[last],
        })
    return out


def history_behind(labels: Sequence[str], period: str, months_back: int) -> int:
    return min(labels.index(period), months_back)


# ------------------------------------------------------------------------------------------------
# the two child processes: build and time; profile reading_context

def code_fingerprint() -> str:
    """sha256 (12 hex) of the code a month's build runs: the mart SQL, the prepare steps, checks/."""
    digest = hashlib.sha256()
    for pattern in ("warehouse/sql/**/*.sql", "warehouse/steps/*.py", "warehouse/marts.py", "checks/**/*.py",
                    "config/*.toml"):
        for path in sorted(ROOT.glob(pattern)):
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def first_pass(args: argparse.Namespace, path: Path, out: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """Generate (or reuse) the warehouse and build every mart of months 1 … N in order, timing each."""
    from readq.config import load_toml

    months_back = int(load_toml("rules.toml")["history"]["months"])
    t0 = time.perf_counter()
    reuse = args.reuse and path.exists()
    if path.exists() and not reuse:
        path.unlink()
    with contextlib.closing(duckdb.connect(str(path))) as conn:
        # reused: the same synthetic data (replace_month rebuilds whatever marts it already holds)
        labels = periods(FIRST_PERIOD, args.months) if reuse else generate(conn, args.meters, args.months, log=log)
        if reuse:   # the marts in the shape of today's schema.sql
            from warehouse.schema import ensure_schema

            for (table,) in conn.execute("select table_name from duckdb_tables() where schema_name = 'marts'"
                                         ).fetchall():
                conn.execute(f"drop table marts.{table}")
            conn.execute("delete from ops.mart_builds")
            ensure_schema(conn)
        rows = dict(conn.execute("select period, count(*) from core.readings group by period").fetchall())
    if reuse and rows != dict.fromkeys(labels, args.meters):
        raise SystemExit(f"{path} does not hold {args.meters:,} meters × {args.months} months: drop --reuse")
    gen_s = time.perf_counter() - t0
    if reuse:
        gen_s = math.nan if not Path(args.out).exists() else json.loads(Path(args.out).read_text())["generate_s"]
    log(f"generated {args.meters:,} × {args.months} months in {gen_s:.0f}s")
    from warehouse.marts import marts

    result: dict[str, Any] = {"meters": args.meters, "months": args.months, "labels": labels, "rows": rows,
                              "marts": list(args.marts) if args.marts else [m.name for m in marts()],
                              "code": code_fingerprint(),
                              "generate_s": gen_s, "months_back": months_back, "curve": [], "runs": {}}
    for k, period in enumerate(labels, start=1):
        partial = 3 < k < args.full_from
        built = materialize_month(path, period, HISTORY_MARTS if partial else args.marts)
        result["curve"].append({"period": period, "history": history_behind(labels, period, months_back),
                                "partial": partial, "load": os.getloadavg()[0], **built})
        log(f"built {period}{' (meter_readings, point_history only)' if partial else ''}: "
            f"{sum(v['seconds'] for v in built.values()):.1f}s "
            f"(reading_context {built.get('reading_context', {}).get('seconds', math.nan):.1f}s)")
        out.write_text(json.dumps(result), encoding="utf-8")
    return result


def child_build(args: argparse.Namespace) -> None:

    def log(msg: str) -> None:
        print(f"[{args.meters:,}] {msg}", file=sys.stderr, flush=True)

    path = Path(args.db)
    out = Path(args.out)
    previous = json.loads(out.read_text(encoding="utf-8")) if args.resume and out.exists() else {}
    if len(previous.get("curve", [])) == args.months:   # resumed: the first pass is done, re-time what is missing
        result: dict[str, Any] = previous
        labels, rows = result["labels"], result["rows"]
        if result["code"] != code_fingerprint():
            result["code_resumed"] = code_fingerprint()
    else:
        result = first_pass(args, path, out, log)
        labels, rows = result["labels"], result["rows"]
    base, last = labels[2], labels[-1]
    result["base"], result["last"] = base, last
    runs = result.setdefault("runs", {})
    for period in (base, last):
        runs.setdefault(period, [])
    while min(len(runs[base]), len(runs[last])) < args.runs:
        for period in (base, last):
            if len(runs[period]) < args.runs:
                runs[period].append(materialize_month(path, period, args.marts))
                result.setdefault("load", []).append(os.getloadavg()[0])
                total = sum(v["seconds"] for v in runs[period][-1].values())
                log(f"re-timed {period} run {len(runs[period])}: {total:.1f}s")
                out.write_text(json.dumps(result), encoding="utf-8")
    result["summary"] = summarise(result["runs"], base, last, rows)
    result["warehouse_mb"] = path.stat().st_size / 1e6
    out.write_text(json.dumps(result), encoding="utf-8")


def instrument(fn: Callable[..., Any]) -> tuple[Callable[..., Any], dict[tuple[int, int], float], dict[int, str]]:
    """A copy of `fn` that adds the seconds of each of its top-level statements to a dict keyed by
    (first line, last line) in fn's own file; also {first line: source text}."""
    lines, first = inspect.getsourcelines(fn)
    tree = ast.parse(textwrap.dedent("".join(lines)))
    ast.increment_lineno(tree, first - 1)
    fdef = tree.body[0]
    assert isinstance(fdef, ast.FunctionDef)
    fdef.decorator_list = []
    times: dict[tuple[int, int], float] = {}
    clock = {"t": 0.0}

    def mark(start: int, end: int) -> None:
        now = time.perf_counter()
        if start:
            times[(start, end)] = times.get((start, end), 0.0) + now - clock["t"]
        clock["t"] = now

    def call(start: int, end: int) -> ast.Expr:
        return ast.Expr(ast.Call(ast.Name("_bench_mark", ast.Load()), [ast.Constant(start), ast.Constant(end)], []))

    body: list[ast.stmt] = [call(0, 0)]
    original = list(fdef.body)
    for stmt in original:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
            continue  # the docstring
        end = stmt.end_lineno or stmt.lineno
        if isinstance(stmt, ast.Return) and stmt.value is not None:
            body += [ast.Assign([ast.Name("_bench_ret", ast.Store())], stmt.value), call(stmt.lineno, end),
                     ast.Return(ast.Name("_bench_ret", ast.Load()))]
        else:  # a compound statement (an `if` with an early return) is timed as one
            body += [stmt, call(stmt.lineno, end)]
    fdef.body = body
    ast.fix_missing_locations(tree)
    module = sys.modules[fn.__module__]
    namespace = dict(vars(module))
    namespace["_bench_mark"] = mark
    exec(compile(tree, inspect.getsourcefile(fn) or "<instrumented>", "exec"), namespace)
    text = {stmt.lineno: lines[stmt.lineno - first].strip() for stmt in original}
    return namespace[fn.__name__], times, text


def matrices_breakdown(conn: duckdb.DuckDBPyConnection, period: str, months_back: int) -> dict[str, float]:
    """Seconds of `checks.history.history_matrices` at `period`, and of its SQL alone (the batches of
    HISTORY_SQL read and dropped, nothing scattered): the rest is the scatter into the matrices."""
    import polars as pl

    from checks import history

    out: dict[str, float] = {}
    t0 = time.perf_counter()
    points = history.month_points(conn, "marts.meter_readings", period)
    out["points_s"] = time.perf_counter() - t0
    params = history.history_params(period, months_back)
    conn.register("bench_points", points.select("mp_id", i=pl.int_range(pl.len(), dtype=pl.Int32)))
    try:
        t0 = time.perf_counter()
        reader = conn.sql(history.HISTORY_SQL.format(history="marts.point_history", points="bench_points"),
                          params=params).to_arrow_reader(1 << 20)
        out["sql_rows"] = float(sum(batch.num_rows for batch in reader))
        out["sql_s"] = time.perf_counter() - t0
    finally:
        conn.unregister("bench_points")
    t0 = time.perf_counter()
    mats = history.history_matrices(conn, "marts.point_history", points, period, months_back)
    out["matrices_s"] = time.perf_counter() - t0
    out["matrices_mb"] = sum(m.nbytes for m in mats.values()) / 1e6
    return out


def child_profile(args: argparse.Namespace) -> None:
    from checks import history
    from readq.config import load_toml
    from warehouse.marts import data_seq, mart
    from warehouse.schema import next_seq

    path = Path(args.db)
    cfg = load_toml("rules.toml")
    months_back = int(cfg["history"]["months"])
    m = mart("reading_context")
    out: dict[str, Any] = {"meters": args.meters, "periods": {}, "code": code_fingerprint()}
    with mart_connection(path) as conn:
        labels = [r[0] for r in conn.execute("select distinct period from core.readings order by 1").fetchall()]
        for period in (labels[-1], labels[2]):
            prof: dict[str, Any] = {}
            first = history.period_of_index(history.month_index(period) - months_back)
            prof["window_rows"] = conn.execute("select count(*) from marts.meter_readings where period between ? and ?",
                                               [first, period]).fetchall()[0][0]
            peak_rss_reset()
            fn, times, text = instrument(history.context_from)
            t0 = time.perf_counter()
            rows = fn(conn, "marts.meter_readings", period, cfg, history="marts.point_history")
            prof["context_s"] = time.perf_counter() - t0
            prof["peak_rss_mb"] = rss_mb()[1]
            prof["lines"] = sorted(([s, e, sec, text.get(s, "")] for (s, e), sec in times.items()),
                                   key=lambda x: -x[2])
            # the rest of replace_month, in a transaction rolled back
            values = m.values(period)
            conn.execute("begin")
            t0 = time.perf_counter()
            conn.execute("delete from marts.reading_context where period = ?", [period])
            t1 = time.perf_counter()
            conn.register("context_rows", rows)
            conn.execute(m.sql, {k: v for k, v in values.items() if f"${k}" in m.sql})
            conn.unregister("context_rows")
            t2 = time.perf_counter()
            conn.execute("insert or replace into ops.mart_builds values (?, ?, ?, ?, ?, now()::timestamp)",
                         ["reading_context", period, data_seq(conn, period, months_back), next_seq(conn),
                          values["config_version"]])
            conn.execute("select count(*) from marts.reading_context where period = ?", [period]).fetchall()
            t3 = time.perf_counter()
            conn.execute("rollback")
            prof.update(delete_s=t1 - t0, insert_s=t2 - t1, record_s=t3 - t2)
            del rows
            if period == labels[-1] and args.meters < 500_000:
                profiler = cProfile.Profile()
                profiler.enable()
                history.context_from(conn, "marts.meter_readings", period, cfg, history="marts.point_history")
                profiler.disable()
                buf = io.StringIO()
                pstats.Stats(profiler, stream=buf).sort_stats("tottime").print_stats(25)
                prof["cprofile"] = buf.getvalue()
            prof["breakdown"] = matrices_breakdown(conn, period, months_back)
            out["periods"][period] = prof
            b = prof["breakdown"]
            print(f"[{args.meters:,}] profiled {period}: context {prof['context_s']:.1f}s (matrices "
                  f"{b['matrices_s']:.1f}s, their SQL {b['sql_s']:.1f}s), insert {prof['insert_s']:.1f}s",
                  file=sys.stderr, flush=True)
    out["last"], out["base"] = labels[-1], labels[2]
    Path(args.out).write_text(json.dumps(out), encoding="utf-8")


# ------------------------------------------------------------------------------------------------
# the report

def _f(x: float, digits: int = 2) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.{digits}f}"


def complete(r: dict[str, Any]) -> dict[str, Any]:
    """A size whose re-timings were cut short (the process was ended): when its first pass finished and
    each month has a re-timing, summarise the first pass's build with the re-timings that finished."""
    if "summary" in r or len(r.get("curve", [])) != r["months"] or not r.get("runs"):
        return r
    base, last = r["labels"][2], r["labels"][-1]
    if not (r["runs"].get(base) and r["runs"].get(last)):
        return r
    first = {c["period"]: {k: v for k, v in c.items() if isinstance(v, dict)} for c in r["curve"]}
    runs = {p: [first[p], *r["runs"][p]] for p in (base, last)}
    note = (f"the re-timings were cut short (the process was ended from outside after {len(r['runs'][base])} of "
            f"month 3 and {len(r['runs'][last])} of month {r['months']}): medians of those and the first pass's build")
    return {**r, "base": base, "last": last, "runs": runs, "summary": summarise(runs, base, last, r["rows"]),
            "note": note, "warehouse_mb": r.get("warehouse_mb", math.nan)}


def first_pass_s(r: dict[str, Any]) -> float:
    return sum(v["seconds"] + v["check_seconds"] for c in r["curve"] for v in c.values() if isinstance(v, dict))


def report(results: list[dict[str, Any]], profiles: dict[int, dict[str, Any]], runs: int, before: str = "") -> str:
    """The history section of docs/BENCHMARKS.md; `before` (the earlier results kept for comparison, between
    BEFORE_START and BEFORE_END) goes after the new ones, unchanged."""
    results = [complete(r) for r in results]
    done = [r for r in results if "summary" in r]
    lines = [
        "## A month with 24 months of history behind it (`history_bench.py`)",
        "",
        "Issue 8: materializing month N with 24 months of history behind it should cost at most 1.3× month 3.",
        "A synthetic warehouse is written straight into core.readings / core.assignments / ops.deliveries",
        "in SQL (N meters × 27 months: classes 85/12/3 %, 50 segments per 10,000 meters, 6 teams, 2 % 未抄,",
        "1 % 估抄, 1 in 1,000 reads a ×10 keying error, 1 % vacant, 0.5 % sustained drops, 0.2 % meter",
        "swaps, a 6.2 register advancing by a per-meter base use × season × noise, read dates at the 例日).",
        "Every mart of `marts()` (or those of `--marts`, named under each table) is materialized for months",
        "1 … 27 in dependency order, each in its own",
        "connection and transaction with the pipeline's settings (memory_limit), as the Dagster assets do;",
        "then month 3 (2 months of history) and month 27 (24 months: `[history] months`) are rebuilt in",
        f"turn, up to {runs} times each (as stated under each table). Seconds are medians of those runs, the",
        "ratio is month 27 / month 3 in the",
        "same run, rows/s = readings of the month / seconds, peak RSS = the process's high-water mark",
        "during that mart (reset before each). \"checks\" = the marts' asset checks after the commit.",
        "",
        stamp(runs),
        "",
    ]
    codes = {r.get("code") for r in done} | {p.get("code") for p in profiles.values()}
    if len(codes) > 1:
        lines += ["_The code was being changed while these ran: each table names the fingerprint of the code it ran "
                  "(`code_fingerprint()`: the mart SQL, warehouse/steps, checks/, config/), and the machine's load "
                  "differed between the sizes. Compare ratios within a size._", ""]
    for r in done:
        base, last, n = r["base"], r["last"], len(r["labels"])
        lines += [
            f"### {r['meters']:,} meters ({r['rows'][last]:,} readings a month; warehouse "
            f"{r['warehouse_mb']:,.0f} MB; generated in {r['generate_s']:.0f} s; first pass "
            f"{first_pass_s(r) / 60:.0f} min; code {r.get('code', '?')})",
            "",
            *([f"_{len(r['runs'][base])} run(s) of month 3, {len(r['runs'][last])} of month {n}: {r['note']}._", ""]
              if r.get("note") else []),
            *([f"_{len(r['runs'][base])} run(s) of month 3, {len(r['runs'][last])} of month {n}; marts: "
               f"{', '.join(r['marts'])}._", ""] if r.get("marts") and not r.get("note") else []),
            f"| mart | month 3 s | month {n} s | × month 3 | rows/s month 3 | rows/s month {n} | "
            f"peak RSS MB 3 / {n} |",
            "|---|---|---|---|---|---|---|",
        ]
        for s in r["summary"]:
            name = f"**{s['mart']}**" if s["mart"] == "total" else s["mart"]
            ratio_text = f"**{_f(s['ratio'])}**" if s["mart"] == "total" else _f(s["ratio"])
            lines.append(f"| {name} | {_f(s['base_s'])} | {_f(s['last_s'])} | {ratio_text} | "
                         f"{_f(s['base_rows_s'], 0)} | {_f(s['last_rows_s'], 0)} | "
                         f"{_f(s['base_rss_mb'], 0)} / {_f(s['last_rss_mb'], 0)} |")
        tot = r["summary"][-1]
        lines += [f"| checks (all marts) | {_f(tot['base_check_s'])} | {_f(tot['last_check_s'])} | "
                  f"{_f(ratio(tot['last_check_s'], tot['base_check_s']))} | | | |",
                  f"| total with checks | {_f(tot['base_s'] + tot['base_check_s'])} | "
                  f"{_f(tot['last_s'] + tot['last_check_s'])} | {_f(tot['with_checks_ratio'])} | | | |", ""]
    if done:
        lines += ["The first pass, month by month (one run each, seconds; `hist` = months of history behind it):", "",
                  "| month | hist | " + " | ".join(f"{r['meters'] // 1000:,}k {h}" for r in done
                                                    for h in ("total", "reading_context", "reader_forensics")) + " |",
                  "|---|---|" + "---|" * (3 * len(done))]
        for k, row in enumerate(done[0]["curve"]):
            cells = []
            for r in done:
                c = r["curve"][k] if k < len(r["curve"]) else None
                if c is None:
                    cells += ["", "", ""]
                elif c.get("partial"):
                    built = [name for name in HISTORY_MARTS if name in c]
                    seconds = sum(c[name]["seconds"] for name in built)
                    cells += [f"({_f(seconds, 1)}: {', '.join(built)} only)", "", ""]
                else:
                    cells += [_f(sum(v["seconds"] for v in c.values() if isinstance(v, dict)), 1),
                              _f(c["reading_context"]["seconds"], 1), _f(c["reader_forensics"]["seconds"], 1)]
            lines.append(f"| {k + 1} | {row['history']} | " + " | ".join(cells) + " |")
        lines.append("")
    for r in results:
        if "summary" not in r:
            spent = sum(v["seconds"] for c in r["curve"] for v in c.values() if isinstance(v, dict))
            lines += [f"_{r['meters']:,} meters: unfinished — {len(r['curve'])} of {r['months']} months built in "
                      f"the first pass ({spent:,.0f} s)._", ""]
    for size, p in sorted(profiles.items()):
        last = p["periods"][p["last"]]
        base = p["periods"][p["base"]]
        lines += [
            f"Where reading_context's time goes at {size:,} meters (one run, seconds; {p['last']} / {p['base']}; "
            f"{last['window_rows']:,} / {base['window_rows']:,} window rows): `checks.history.context_from` "
            f"{_f(last['context_s'])} / {_f(base['context_s'])}, insert {_f(last['insert_s'])} / "
            f"{_f(base['insert_s'])}, delete {_f(last['delete_s'])} / {_f(base['delete_s'])}; peak RSS "
            f"{_f(last['peak_rss_mb'], 0)} / {_f(base['peak_rss_mb'], 0)} MB. The statements of context_from "
            f"taking most (checks/history.py line, code {p.get('code', '?')}):",
            "",
            "| line | statement | month 27 s | month 3 s |",
            "|---|---|---|---|",
        ]
        base_lines = {(s, e): sec for s, e, sec, _ in base["lines"]}
        for s, e, sec, text in last["lines"][:10]:
            stmt = text.replace("|", "\\|")
            stmt = stmt if len(stmt) <= 70 else stmt[:67] + "…"
            lines.append(f"| {s}–{e} | `{stmt}` | {_f(sec)} | {_f(base_lines.get((s, e), math.nan))} |")
        lines.append("")
        if (b := last.get("breakdown")) and (a := base.get("breakdown")):
            lines += [
                f"The history matrices apart (seconds, one run, month 27 / month 3): the month's points "
                f"{_f(b['points_s'])} / {_f(a['points_s'])}; `history_matrices` {_f(b['matrices_s'])} / "
                f"{_f(a['matrices_s'])}, of which HISTORY_SQL alone (its {b['sql_rows']:,.0f} / {a['sql_rows']:,.0f} "
                f"rows read and dropped) {_f(b['sql_s'])} / {_f(a['sql_s'])}, the rest the scatter into the "
                f"{b['matrices_mb']:,.0f} MB of matrices.",
                "",
            ]
    lines += interpretation(done, profiles)
    if before:
        lines += ["", BEFORE_START, before.strip(), BEFORE_END]
    return "\n".join(lines)


BEFORE_START, BEFORE_END = "<!-- history-before:start -->", "<!-- history-before:end -->"


def kept_before(doc: str) -> str:
    """The earlier results kept in the history section of `doc` (between BEFORE_START and BEFORE_END)."""
    if BEFORE_START not in doc or BEFORE_END not in doc:
        return ""
    return doc.split(BEFORE_START, 1)[1].split(BEFORE_END, 1)[0]


def interpretation(done: list[dict[str, Any]], profiles: dict[int, dict[str, Any]]) -> list[str]:
    if not done:
        return []
    out = ["Reading: "]
    verdicts = []
    for r in done:
        tot = r["summary"][-1]
        worst = max(r["summary"][:-1], key=lambda s: s["last_s"] - s["base_s"])
        verdicts.append(f"at {r['meters']:,} meters month 27 costs {tot['ratio']:.2f}× month 3 "
                        f"({'within' if tot['ratio'] <= 1.3 else 'over'} the 1.3× of issue 8); the mart adding the "
                        f"most is {worst['mart']} ({worst['base_s']:.1f} → {worst['last_s']:.1f} s, "
                        f"{worst['ratio']:.2f}×)")
    out[0] += "; ".join(verdicts) + "."
    r = done[-1]
    rows_out = {p: {n: v["rows_out"] for n, v in r["runs"][p][0].items()} for p in (r["base"], r["last"])}
    flags = (rows_out[r["base"]].get("reading_flags", math.nan), rows_out[r["last"]].get("reading_flags", math.nan))
    rc = next(x for x in r["summary"] if x["mart"] == "reading_context")
    rc_rss = (f"reading_context at {r['meters']:,} meters: {rc['base_rss_mb']:,.0f} MB at month 3, "
              f"{rc['last_rss_mb']:,.0f} MB at month {r['months']}")
    window = ""
    if (prof := profiles.get(r["meters"])) is not None:
        a, b = prof["periods"][prof["base"]], prof["periods"][prof["last"]]
        window = (f" ({a['window_rows']:,} → {b['window_rows']:,} rows at {r['meters']:,} meters; "
                  f"`context_from` {a['context_s']:.1f} → {b['context_s']:.1f} s in the profile run")
        if (ba := a.get("breakdown")) and (bb := b.get("breakdown")):
            window += f", of which the history matrices {ba['matrices_s']:.1f} → {bb['matrices_s']:.1f} s"
        window += ")"
    out += [
        "",
        "**reading_context** is the mart whose cost grows with history. It reads its month from",
        "marts.meter_readings and the 24 months before it from marts.point_history (`history: rules.toml",
        "history.months`): each point's kept row of a month, already encoded in numbers when that month was",
        "built (checks/history.py `POINT_MONTHS_SQL`: month index, status code, read day with the 例日",
        "fallback, a hash of the meter number, the register values). At month 3 that window holds 3 months",
        f"of rows, at month 27 it holds 25{window}. What grows is the work per *window row*: one DuckDB query",
        "(`HISTORY_SQL`) scans those narrow columns and joins them onto the month's points by mp_id, an",
        "integer, streamed in batches of 2^20 rows and scattered straight into the point × month matrices",
        "(rows arrive in mp_key order, the points' order, so the writes run forward). The statistics on the",
        "matrices (medians, CUSUM, runs) are nearly the same at month 3 and 27: the matrices are",
        "`M = months + 1 = 25` columns wide whatever months exist (fuller matrices make the medians a little",
        "dearer). marts.point_history costs its month once (about as much as meter_readings' own insert",
        "would again) and is the same at month 3 and 27. The window is never held whole: the peak RSS is the",
        "matrices' plus a",
        f"batch and DuckDB's buffers ({rc_rss}). **reader_forensics** reads 12 months of meter_readings,",
        "reading_context and",
        "reading_flags (the residuals joined on (period, mp_id), computed once for both passes of the MAD),",
        "so it grows until month 12 and is flat after: small in seconds, large as a ratio.",
        "**reading_flags** reads only its month, but month 3 is a cheap month for the rules: with fewer than",
        "`min_history_months` = 3 months of history behind a point there is no expected value, so HIGH/LOW,",
        f"ROBUST_Z, SUSTAINED_DROP … stay silent ({flags[0]:,.0f} flags at month 3, {flags[1]:,.0f} at month 27,",
        "each with its evidence JSON). The other marts read their own month and stay flat. The machine was",
        "shared with other work during the runs (the curve's jumps from one month to the next are that load);",
        "month 3 and month 27 were rebuilt in turn so that the load falls on both.",
    ]
    return out


# ------------------------------------------------------------------------------------------------

def run_child(mode: str, meters: int, months: int, runs: int, db: Path, out: Path, full_from: int = 1,
              reuse: bool = False, resume: bool = False, only: Sequence[str] | None = None) -> None:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--meters", str(meters),
           "--months", str(months), "--runs", str(runs), "--db", str(db), "--out", str(out),
           "--full-from", str(full_from)] + (["--reuse"] if reuse else []) + (["--resume"] if resume else []) + \
        (["--marts", *only] if only else [])
    subprocess.run(cmd, check=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--months", type=int, default=27)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "readq_history_bench")
    parser.add_argument("--report-only", action="store_true", help="rewrite the doc section from <data>/*.json")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the warehouse files")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept warehouse file of the same size")
    parser.add_argument("--resume", action="store_true",
                        help="with --keep'd files: keep a finished first pass and add the missing re-timings")
    parser.add_argument("--full-from", type=int, default=1,
                        help="in the first pass, months 4 … K-1 build meter_readings and point_history only (the "
                             "history the later months read; K ≤ months - 11 keeps reader_forensics' 12 months "
                             "whole)")
    parser.add_argument("--marts", nargs="+", metavar="MART",
                        help="materialize only these marts of marts() (in its order; default: every one)")
    parser.add_argument("--child", choices=["build", "profile"], help=argparse.SUPPRESS)
    parser.add_argument("--meters", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "build":
        return child_build(args)
    if args.child == "profile":
        return child_profile(args)
    args.data.mkdir(parents=True, exist_ok=True)
    for size in args.sizes:
        if args.report_only:
            break
        db = args.data / f"history_{size}.duckdb"
        run_child("build", size, args.months, args.runs, db, args.data / f"history_{size}.json", args.full_from,
                  args.reuse, args.resume, args.marts)
        if not args.no_profile:
            run_child("profile", size, args.months, args.runs, db, args.data / f"history_profile_{size}.json")
        if not args.keep:
            db.unlink(missing_ok=True)
            Path(str(db) + ".wal").unlink(missing_ok=True)
    results = [json.loads(p.read_text(encoding="utf-8")) for size in args.sizes
               if (p := args.data / f"history_{size}.json").exists()]
    for r in results:
        if "warehouse_mb" not in r and (db := args.data / f"history_{r['meters']}.duckdb").exists():
            r["warehouse_mb"] = db.stat().st_size / 1e6
    profiles = {size: json.loads(p.read_text(encoding="utf-8")) for size in args.sizes
                if (p := args.data / f"history_profile_{size}.json").exists()}
    runs = max((len(next(iter(r["runs"].values()), [])) for r in results if r.get("runs")), default=args.runs)
    from benchmarks.report import RESULTS

    before = kept_before(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else ""
    print(write_section("history", report(results, profiles, runs, before)))


if __name__ == "__main__":
    main()
