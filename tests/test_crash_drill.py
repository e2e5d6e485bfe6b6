"""Crash drill: `readq build` killed with SIGKILL at random points (ingest, mart builds, publish), then run
again. After each kill the warehouse opens and the published snapshot is the one before the build or the one
after it, never a partial one; the rerun completes and its marts equal a clean run's (warehouse/checksums.py)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from readq.config import Home
from readq.demo import generate_demo
from warehouse.checksums import mart_checksums, published_checksums
from warehouse.connection import connect

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[1]
TRIALS = 10
FIRST, SECOND = "2026-09", "2026-10"


def run_build(root: Path) -> subprocess.Popen:
    env = {**os.environ, "READQ_HOME": str(root), "DAGSTER_HOME": str(root / "dagster")}
    return subprocess.Popen([sys.executable, "-m", "readq.cli", "build"], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def land(files: list[Path], landing: Path) -> None:
    for path in files:
        shutil.copy(path, landing / path.name)


def published(h: Home) -> dict:
    with duckdb.connect(str(h.published), read_only=True) as snap:
        return published_checksums(snap)


def in_warehouse(h: Home) -> dict:
    with connect(h.warehouse, read_only=True) as conn:
        return mart_checksums(conn)


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A centre with FIRST built and published (the state before), SECOND's files to land, and a clean
    build of SECOND on top (the state after), timed."""
    root = tmp_path_factory.mktemp("drill")
    generate_demo(root / "files", root / "truth", customers=300, months=2, end_month=SECOND)
    files = sorted((root / "files").rglob("*.*"))
    first = [f for f in files if FIRST in f.name]
    second = [f for f in files if f not in first]
    base = Home(root / "base").ensure()
    land(first, base.landing)
    assert run_build(base.root).wait() == 0
    clean = root / "clean"
    shutil.copytree(base.root, clean)
    land(second, Home(clean).landing)
    started = time.perf_counter()
    assert run_build(clean).wait() == 0
    seconds = time.perf_counter() - started
    return {"root": root, "base": base, "second": second, "seconds": seconds,
            "left": sorted(p.name for p in Home(clean).landing.iterdir()),      # rejected files stay
            "before": published(base), "after": published(Home(clean)), "marts": in_warehouse(Home(clean))}


def test_a_build_killed_anywhere_leaves_a_whole_state_and_reruns_to_a_clean_runs_marts(drill: dict) -> None:
    rng = random.Random(20261203)
    seen = {"before": 0, "after": 0}
    for trial in range(TRIALS):
        root = drill["root"] / f"trial{trial}"
        shutil.copytree(drill["base"].root, root)
        h = Home(root)
        land(drill["second"], h.landing)
        delay = rng.uniform(0.05, 1.0) * drill["seconds"]
        proc = run_build(root)
        time.sleep(delay)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

        snapshot = published(h)                              # readable, and one whole state
        state = "before" if snapshot == drill["before"] else "after" if snapshot == drill["after"] else None
        assert state is not None, f"trial {trial}, killed after {delay:.1f} s: the snapshot is neither state"
        seen[state] += 1
        in_warehouse(h)                                      # the warehouse opens (DuckDB replays its WAL)

        assert run_build(root).wait() == 0, f"trial {trial}: the rerun failed"
        assert published(h) == drill["after"], f"trial {trial}: the rerun's snapshot differs from a clean run's"
        differ = sorted(m for m, c in in_warehouse(h).items() if c != drill["marts"][m])
        assert not differ, f"trial {trial}, killed after {delay:.1f} s: marts differ from a clean run's: {differ}"
        assert sorted(p.name for p in h.landing.iterdir()) == drill["left"], f"trial {trial}: landing folder"
        shutil.rmtree(root)
    assert seen["before"] > 0                                # some kills came before the publish's swap
