"""docs/BENCHMARKS.md is shared by the benchmark scripts: each owns one marked section."""

from __future__ import annotations

import platform
from datetime import datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"
HEADER = """# Benchmarks

Each section is written by the script it names (`uv run python benchmarks/<script>.py`), from one
run of that script on this project's standard machine (2 cores, 24 GB). Times are medians of the
runs stated; ratios are taken within one run.
"""


def stamp(runs: int) -> str:
    return (f"_Run {datetime.now():%Y-%m-%d %H:%M}, {runs} run(s) each, Python {platform.python_version()}, "
            f"{platform.machine()}, {_cpus()} CPUs._")


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


def peak_rss_mb() -> float:
    """This process's own high-water mark in MB (ru_maxrss can carry the parent's across exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def write_section(name: str, body: str) -> str:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else HEADER
    if not text.startswith("# Benchmarks"):
        text = HEADER
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text, encoding="utf-8")
    return text
