"""Page-speed benchmark: each dashboard page's server-side script on a published snapshot, and the publish.

    uv run python benchmarks/pages_bench.py --home data [--runs 5]          # a data folder already built
    uv run python benchmarks/pages_bench.py --customers 100000 --months 24  # build a demo first (slow)

Every page of `dashboards.app.PAGES` runs under Streamlit's AppTest (the same script a browser session
runs, without the browser), plus the drill-down views (a team's reader on the Errors page, a flagged
meter on the Anomalies page), --runs times each:

- cold: the data cache cleared before the run (the first visit after a publish);
- warm: the cache kept (every later visit and rerun).

Every snapshot read goes through `dashboards.data.reading`; it is timed, so each page's slowest query is
named (the tables it reads). Then `warehouse.publish.publish` runs on a copy of the warehouse into a scratch
folder: the first publish (every part), a publish with nothing changed and, --runs times, one after the last
month's marts were rebuilt: what a month's build pays for the dashboards to see it.

Results go to the `pages` section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import peak_rss_mb, stamp, write_section  # noqa: E402

TARGET_S = 1.0  # the goal: a page under a second
TABLE = re.compile(r"\b(?:from|join)\s+((?:marts|ops|raw|quarantine)\.[a-z_]+)", re.I)


def tables_of(args: tuple) -> str:
    """The tables a timed read names (its SQL texts), for the report."""
    texts = [a for a in args if isinstance(a, str)]
    for a in args:
        if isinstance(a, tuple):
            texts += [q[0] for q in a if isinstance(q, tuple) and q and isinstance(q[0], str)]
    found = sorted({m.group(1).lower() for t in texts for m in TABLE.finditer(t)})
    return ", ".join(found)


def drill_params(snapshot: Path) -> dict[str, dict[str, str]]:
    """URL parameters of the drill-down views: the reader and the meter with the most flags of the last month."""
    import duckdb

    from dashboards.errors import reader_option

    with duckdb.connect(str(snapshot), read_only=True) as con:
        row = con.execute("""
            with month as (
                select * from marts.reading_flags where period = (select max(period) from marts.reading_flags)
            ),
            top as (select team, reader from month group by all order by count(*) desc, team, reader limit 1)
            select m.period, m.team, m.reader, m.mp_key from month m join top using (team, reader)
            group by all order by count(*) desc, m.mp_key limit 1
        """).fetchall()
    if not row:
        return {}
    month, team, reader, meter = row[0]
    return {
        "errors (a reader)": {"page": "views/errors.py", "month": month, "team": team,
                              "reader": reader_option(team, reader)},
        "anomalies (a meter)": {"page": "views/anomalies.py", "month": month, "team": team, "meter": meter},
    }


def run_pages(home: Path, runs: int) -> dict:
    os.environ["READQ_HOME"] = str(home)
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboards import data
    from dashboards.app import PAGES
    from readq.config import Home

    h = Home(home)
    views = {spec.url_path: {"page": f"views/{spec.file}"} for spec in PAGES}
    views.update(drill_params(h.published))
    reads: list[tuple[float, str]] = []
    original = data.reading

    def timed(read, *args):
        t0 = time.perf_counter()
        try:
            return original(read, *args)
        finally:
            named = tables_of(args)
            reads.append((time.perf_counter() - t0, named if named else f"{getattr(read, '__name__', read)}()"))

    data.reading = timed
    app = str(ROOT / "dashboards" / "app.py")

    def run(params: dict[str, str]) -> AppTest:
        at = AppTest.from_file(app, default_timeout=600)
        for k, v in params.items():
            if k != "page":
                at.query_params[k] = v
        return at.switch_page(params["page"])

    for params in views.values():   # imports and first-use costs out of the way
        run(params).run()
    # AppTest's own cost per run (it scans every installed package's metadata for components, ~1 s here; a
    # served app does that once at start): a one-line script's time, subtracted from each page's
    baseline = []
    for _ in range(runs):
        at = AppTest.from_string("import streamlit as st\nst.write('x')", default_timeout=600)
        t0 = time.perf_counter()
        at.run()
        baseline.append(time.perf_counter() - t0)
    harness = statistics.median(baseline)
    results = {"_harness_s": harness}
    for name, params in views.items():
        cold, warm, slowest = [], [], []
        for _ in range(runs):
            for phase in ("cold", "warm"):
                if phase == "cold":
                    st.cache_data.clear()
                reads.clear()
                at = run(params)
                t0 = time.perf_counter()
                at.run()
                elapsed = time.perf_counter() - t0
                if at.exception:
                    raise RuntimeError(f"{name}: {[e.value for e in at.exception]}")
                (cold if phase == "cold" else warm).append(elapsed)
                if phase == "cold" and reads:
                    slowest.append(max(reads))
        top = max(slowest) if slowest else (0.0, "—")
        results[name] = {"cold_s": statistics.median(cold), "warm_s": statistics.median(warm),
                         "cold_max_s": max(cold), "slowest_read_s": top[0], "slowest_read": top[1]}
    data.reading = original
    return results


def ensure_parts(home: Path) -> None:
    """Publish the data folder's snapshot again if it predates the Parquet parts (pages read what users get)."""
    import duckdb

    from readq.config import Home
    from warehouse.connection import connect
    from warehouse.publish import PARTS_TABLE, publish

    h = Home(home)
    with duckdb.connect(str(h.published), read_only=True) as con:
        has_parts = con.execute("select count(*) from duckdb_tables() where schema_name || '.' || table_name = ?",
                                [PARTS_TABLE]).fetchall()[0][0]
    if not has_parts:
        with connect(h.warehouse) as conn:
            publish(conn, h.published)


def time_publish(home: Path, runs: int) -> dict:
    """On a copy of the warehouse, into a scratch folder: the first publish (every part written), a publish
    with nothing changed, and a publish after the last month's marts were rebuilt (the build of one month)."""
    import shutil

    from readq.config import Home
    from warehouse.connection import connect
    from warehouse.marts import marts, replace_month
    from warehouse.publish import publish

    h = Home(home)
    with tempfile.TemporaryDirectory(dir=h.root) as tmp:
        warehouse = Path(tmp) / "warehouse.duckdb"
        shutil.copy(h.warehouse, warehouse)
        target = Path(tmp) / "published" / "warehouse.duckdb"
        with connect(warehouse) as conn:
            t0 = time.perf_counter()
            first = publish(conn, target)
            full = time.perf_counter() - t0
            unchanged, month, written = [], [], []
            period = conn.execute("select max(period) from marts.meter_readings").fetchall()[0][0]
            for _ in range(runs):
                t0 = time.perf_counter()
                publish(conn, target)
                unchanged.append(time.perf_counter() - t0)
                conn.execute("begin")
                for m in marts():
                    replace_month(conn, m.name, period)
                conn.execute("commit")
                t0 = time.perf_counter()
                result = publish(conn, target)
                month.append(time.perf_counter() - t0)
                written.append(result.parts_written)
    return {"full_s": full, "parts": len(first.parts), "snapshot_mb": first.size_bytes / 1e6,
            "unchanged_s": statistics.median(unchanged), "month_s": statistics.median(month),
            "month_max_s": max(month), "month_parts": statistics.median(written), "period": period}


def build_demo(customers: int, months: int, root: Path) -> None:
    env = {**os.environ, "READQ_HOME": str(root), "DAGSTER_HOME": str(root / "dagster")}
    subprocess.run([sys.executable, "-m", "readq.cli", "demo", "--customers", str(customers), "--months", str(months),
                    "--no-serve"], env=env, check=True, cwd=ROOT)


def describe(home: Path) -> str:
    import duckdb

    from readq.config import Home

    with duckdb.connect(str(Home(home).published), read_only=True) as con:
        months, meters = con.execute("select count(distinct period), count(*) filter (where period = "
                                     "(select max(period) from marts.meter_readings)) "
                                     "from marts.meter_readings").fetchall()[0]
    return f"{meters:,} readings in the last month, {months} months"


def report(pages: dict, pub: dict, runs: int, what: str) -> str:
    pages = dict(pages)
    harness = pages.pop("_harness_s")
    lines = [
        f"## Dashboard pages and the publish, {what} (`pages_bench.py`)",
        "",
        stamp(runs),
        "",
        f"Snapshot: {what}. Each page's script under AppTest (no browser); cold = the data cache cleared first "
        f"(the first visit after a publish), warm = cached. Target: under {TARGET_S:g} s a page. AppTest's own "
        f"cost, {harness:.2f} s a run (a one-line script's run: it scans the installed packages for "
        "components on every run, which a served app does once), is in every time below; ⚠ marks a page whose "
        "cold time less that cost is over the target.",
        "",
        "| page | cold median (s) | cold max (s) | warm median (s) | slowest read (s) | its tables |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, r in pages.items():
        flag = "" if r["cold_s"] - harness < TARGET_S else " ⚠"
        lines.append(f"| {name}{flag} | {r['cold_s']:.2f} | {r['cold_max_s']:.2f} | {r['warm_s']:.2f} | "
                     f"{r['slowest_read_s']:.2f} | {r['slowest_read']} |")
    slow = max(pages.items(), key=lambda kv: kv[1]["cold_s"])
    over = [n for n, r in pages.items() if r["cold_s"] - harness >= TARGET_S]
    lines += ["", f"Slowest page (cold): **{slow[0]}**, {slow[1]['cold_s']:.2f} s; its slowest read: "
                  f"{slow[1]['slowest_read']} ({slow[1]['slowest_read_s']:.2f} s). Over the target: "
                  f"{', '.join(over) or 'none'}.", "",
              "Publish (warehouse/publish.py: Parquet parts per table and month, a new snapshot file of views "
              "over them), on a copy of the warehouse:", "",
              "| publish | parts written | time (s) |", "|---|---:|---:|",
              f"| first (every part; one run) | {pub['parts']:,} | {pub['full_s']:.1f} |",
              f"| nothing changed (median) | 0 | {pub['unchanged_s']:.2f} |",
              f"| after the marts of {pub['period']} were rebuilt (median; max {pub['month_max_s']:.2f} s) | "
              f"{pub['month_parts']:.0f} | {pub['month_s']:.2f} |", "",
              f"Snapshot with its parts: {pub['snapshot_mb']:,.0f} MB. Target: one month's publish under 10 s at 1M "
              f"customers. Peak RSS of the benchmark process: {peak_rss_mb():,.0f} MB."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, help="a data folder with a built warehouse and a published snapshot")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--section", default="pages",
                        help="the section of docs/BENCHMARKS.md to write (one per demo size)")
    args = parser.parse_args()
    home = args.home
    scratch = None
    if home is None:
        scratch = tempfile.TemporaryDirectory()
        home = Path(scratch.name) / "home"
        build_demo(args.customers, args.months, home)
    home = home.resolve()
    ensure_parts(home)
    pages = run_pages(home, args.runs)
    pub = time_publish(home, args.runs)
    body = report(pages, pub, args.runs, describe(home))
    write_section(args.section, body)
    print(body)
    if scratch is not None:
        scratch.cleanup()


if __name__ == "__main__":
    main()
