"""A readq process killed mid-run leaves its Dagster run STARTED and its slot in the `duckdb` pool (limit 1)
taken; the next readq run must not wait for it for ever (readq/build.py `release_dead_runs`, found by the
crash drill)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg

from readq.build import ensure_dagster_home, release_dead_runs, run_tags

HOLDER = textwrap.dedent("""
    import sys, time
    import dagster as dg
    from readq.build import run_tags

    @dg.asset(pool="duckdb")
    def holds_the_pool() -> None:
        open(sys.argv[1], "w").close()        # the slot is claimed: tell the test, then hang
        time.sleep(600)

    dg.materialize([holds_the_pool], instance=dg.DagsterInstance.get(), tags=run_tags())
""")


@dg.asset(pool="duckdb")
def needs_the_pool() -> int:
    return 1


def test_a_killed_runs_pool_slot_is_freed_for_the_next_run(tmp_path: Path, monkeypatch) -> None:
    home = ensure_dagster_home(tmp_path / "dagster")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    started = tmp_path / "started"
    script = tmp_path / "holder.py"
    script.write_text(HOLDER, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), str(started)], env={**os.environ},
                            cwd=Path(__file__).resolve().parents[1], start_new_session=True)
    try:
        for _ in range(600):
            if started.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert started.exists(), "the holder never claimed the pool"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    instance = dg.DagsterInstance.get()
    stuck = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    assert len(stuck) == 1 and instance.event_log_storage.get_concurrency_run_ids() == {stuck[0].run_id}

    assert release_dead_runs(instance) == [stuck[0].run_id]
    assert instance.get_run_by_id(stuck[0].run_id).status == dg.DagsterRunStatus.FAILURE
    assert instance.event_log_storage.get_concurrency_run_ids() == set()
    # the next run gets the slot (before the fix it waited for ever in InstanceConcurrencyContext.claim)
    assert dg.materialize([needs_the_pool], instance=instance, tags=run_tags()).success
    assert release_dead_runs(instance) == []          # a live or finished run is left alone
