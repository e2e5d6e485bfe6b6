"""Materialize months in-process with Dagster (the same assets `dg dev` shows), then publish.

`build` takes every month waiting in the landing folder plus every month whose marts are older than
its data (a load that committed, then its marts failed or were killed: repaired here), and
publishes when the warehouse changed since the last snapshot. Landing files whose month cannot be
told, or falls outside the accepted months, are offered to the ingest directly, which rejects and
records them with the reason (they are never silently left behind)."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from checks.periods import accepted_months
from pipelines.defs.ingest.assets import ingest_month
from pipelines.defs.marts.assets import MART_ASSETS
from pipelines.defs.publish.assets import published_warehouse
from pipelines.defs.reports.assets import monthly_report
from pipelines.defs.resources import build_resources
from pipelines.ingest.batch import ingest_and_archive
from pipelines.ingest.landing import landing_files, period_of_file
from pipelines.ingest.registry import DeliveryResult
from pipelines.partitions import partition_of
from readq.config import Home
from warehouse.connection import connect
from warehouse.marts import stale_months, unpublished


@dataclass
class BuildReport:
    periods: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    published: str | None = None
    repaired: list[str] = field(default_factory=list)     # months rebuilt because their marts were stale
    unplaced: list[DeliveryResult] = field(default_factory=list)  # landing files of no accepted month (rejected)


# In-process runs log to the console at WARNING: the CLI shows progress bars, the UI the details.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
DAGSTER_YAML = """# written by readq: the Dagster instance of this data folder
telemetry:
  enabled: false
concurrency:
  pools:
    default_limit: 1   # DuckDB has one writer: assets in pool "duckdb" run one at a time
"""


def ensure_dagster_home(dagster_home: Path) -> Path:
    """The instance folder with its dagster.yaml (telemetry off, one DuckDB writer at a time)."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    if not (dagster_home / "dagster.yaml").exists():
        (dagster_home / "dagster.yaml").write_text(DAGSTER_YAML)
    return dagster_home


def instance_for(data_home: Home) -> dg.DagsterInstance:
    """The Dagster instance under READQ_HOME, so runs made here show in `readq ui`; runs a killed readq left
    behind are closed first (`release_dead_runs`)."""
    os.environ.setdefault("DAGSTER_HOME", str(data_home.dagster_home))
    ensure_dagster_home(Path(os.environ["DAGSTER_HOME"]))
    instance = dg.DagsterInstance.get()
    release_dead_runs(instance)
    return instance


# Tags of every run readq starts in-process: the process and machine that run it, so a later readq can tell
# a run whose process is gone (killed, a power cut) from one still running.
PID_TAG, HOST_TAG = "readq/pid", "readq/host"
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def run_tags() -> dict[str, str]:
    return {"readq/trigger": "cli", PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True                 # another user's process: alive
    return True


def release_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Close the runs a readq process on this machine started and did not finish because it is gone (kill -9):
    mark them failed and free the pool slots they held. A killed run keeps its slot in the `duckdb` pool
    (limit 1) for ever, and every later run would wait for it. Runs of other processes (the daemon, `dg dev`)
    are left alone unless they finished and still hold a slot. The run ids released."""
    released = []
    host = socket.gethostname()
    holders = instance.event_log_storage.get_concurrency_run_ids()
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.NOT_STARTED,
                                                                 dg.DagsterRunStatus.STARTING,
                                                                 dg.DagsterRunStatus.STARTED])):
        pid = run.tags.get(PID_TAG)
        if run.tags.get(HOST_TAG) == host and pid and pid.isdigit() and int(pid) != os.getpid() \
                and not _alive(int(pid)):
            instance.report_run_failed(run, message=f"readq process {pid} ended without finishing this run "
                                                    "(killed?); closed by the next readq run")
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            released.append(run.run_id)
    for run_id in holders - set(released):
        run = instance.get_run_by_id(run_id)
        if run is None or run.status in FINISHED:
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
            released.append(run_id)
    return released


def _in_range(period: str) -> bool:
    first, last = accepted_months()
    return first <= period <= last


def warehouse_state(data_home: Home) -> tuple[list[str], bool]:
    """(months whose marts are older than their data, whether a snapshot is due); nothing for a new folder."""
    if not data_home.warehouse.exists():
        return [], True
    with connect(data_home.warehouse) as conn:
        return stale_months(conn), unpublished(conn)


def build_months(data_home: Home, periods: list[str], *, with_ingest: bool,
                 progress: Callable[[str, int, int], None] | None = None) -> dict[str, str]:
    """Materialize each month (the ingest of its landing files, if `with_ingest`, every mart and the
    monthly report) through Dagster; {month: failure message} for the months that failed."""
    resources = build_resources(data_home)
    instance = instance_for(data_home)
    assets = [ingest_month, *MART_ASSETS, monthly_report] if with_ingest else [*MART_ASSETS, monthly_report]
    failed = {}
    for i, period in enumerate(periods):
        if progress:
            progress(f"month {period}", i, len(periods))
        result = dg.materialize(assets, partition_key=partition_of(period), resources=resources, instance=instance,
                                raise_on_error=False, tags=run_tags(), run_config=QUIET)
        if not result.success:
            failed[period] = _failure_message(result)
    return failed


def publish_snapshot(data_home: Home) -> str | None:
    """Publish the dashboards' snapshot through Dagster; the failure message, or None."""
    result = dg.materialize([published_warehouse], resources=build_resources(data_home),
                            instance=instance_for(data_home), raise_on_error=False, tags=run_tags(),
                            run_config=QUIET)
    return None if result.success else _failure_message(result)


def build(data_home: Home, periods: list[str] | None = None,
          progress: Callable[[str, int, int], None] | None = None) -> BuildReport:
    """Ingest and compute every month waiting in the landing folder (or `periods`) and every stale
    month, then publish."""
    data_home.ensure()
    files = {path: period_of_file(path) for path in landing_files(data_home.landing)}
    unplaced = [path for path, period in files.items() if period is None or not _in_range(period)]
    stale, _ = warehouse_state(data_home)
    stale = [p for p in stale if _in_range(p)]
    waiting = {p for p in files.values() if p is not None and _in_range(p)}
    chosen = sorted(set(periods) if periods is not None else waiting | set(stale))
    report = BuildReport(periods=chosen, repaired=[p for p in chosen if p in stale and p not in waiting])
    if unplaced:
        with connect(data_home.warehouse) as conn:
            report.unplaced = ingest_and_archive(conn, unplaced, landing=data_home.landing, archive=data_home.archive)
    report.failed = build_months(data_home, chosen, with_ingest=True, progress=progress)
    if progress:
        progress("publish", len(chosen), len(chosen))
    if (failure := publish_snapshot(data_home)) is None:
        report.published = str(data_home.published)
    else:
        report.failed["publish"] = failure
    return report


def _failure_message(result: dg.ExecuteInProcessResult) -> str:
    """What went wrong, in the words of the error that caused it (not Dagster's wrapper)."""
    for event in result.all_events:
        if event.is_failure and event.step_failure_data is not None and event.step_failure_data.error:
            error = event.step_failure_data.error
            while error.cause is not None:
                error = error.cause
            message = error.message.strip()
            return message if message.startswith(error.cls_name or "\0") else f"{error.cls_name}: {message}"
    return "failed"
