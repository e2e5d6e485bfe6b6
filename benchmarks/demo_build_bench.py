"""Demo build benchmark: `readq demo --no-serve` at the default size (and others), timed by phase.

    uv run python benchmarks/demo_build_bench.py [--customers 100000] [--months 24] [--runs 1]

Generation and the Dagster build run in a fresh data folder each run; results go to the `demo`
section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import stamp, write_section  # noqa: E402

CHILD = r"""
import json, os, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from benchmarks.report import peak_rss_mb
customers, months, root = int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
os.environ["READQ_HOME"] = str(root)
os.environ["DAGSTER_HOME"] = str(root / "dagster")
from readq.config import home
from readq.demo import generate_demo
from readq.build import build
h = home().ensure()
t0 = time.perf_counter()
summary = generate_demo(h.landing, h.demo_truth, customers=customers, months=months)
t1 = time.perf_counter()
report = build(h)
t2 = time.perf_counter()
assert not report.failed, report.failed
print(json.dumps({"generate_s": t1 - t0, "build_s": t2 - t1, "rows": summary.rows_per_kind["readings"],
                  "files": len(summary.files), "warehouse_mb": h.warehouse.stat().st_size / 1e6,
                  "peak_rss_mb": peak_rss_mb()}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    runs = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(args.customers), str(args.months), tmp],
                                 capture_output=True, text=True, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    body = "\n".join([
        "## Demo centre: generate and build (`demo_build_bench.py`)",
        "",
        "`readq demo --no-serve` without the server: the generator writes the exports, then every month is",
        "materialized in-process with Dagster (ingest, KPI mart) and the snapshot is published.",
        "",
        stamp(args.runs),
        "",
        "| customers | months | export files | reading rows | generate s | build s | total s | build rows/s | "
        "warehouse MB | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {args.customers:,} | {args.months} | {med['files']:.0f} | {med['rows']:,.0f} | {med['generate_s']:.1f} | "
        f"{med['build_s']:.1f} | {med['generate_s'] + med['build_s']:.1f} | {med['rows'] / med['build_s']:,.0f} | "
        f"{med['warehouse_mb']:,.0f} | {med['peak_rss_mb']:,.0f} |",
    ])
    print(write_section("demo", body))


if __name__ == "__main__":
    main()
