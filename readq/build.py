"""Materialize months in-process with Dagster (the same assets `dg dev` shows), then publish."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from pipelines.defs.ingest.assets import ingest_month
from pipelines.defs.kpis.assets import kpi_team_month
from pipelines.defs.publish.assets import published_warehouse
from pipelines.defs.resources import build_resources
from pipelines.ingest.landing import pending_periods
from pipelines.partitions import partition_of
from readq.config import Home


@dataclass
class BuildReport:
    periods: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    published: str | None = None


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
    """The Dagster instance under READQ_HOME, so runs made here show in `readq ui`."""
    os.environ.setdefault("DAGSTER_HOME", str(data_home.dagster_home))
    ensure_dagster_home(Path(os.environ["DAGSTER_HOME"]))
    return dg.DagsterInstance.get()


def build(data_home: Home, periods: list[str] | None = None,
          progress: Callable[[str, int, int], None] | None = None) -> BuildReport:
    """Ingest and compute every month waiting in the landing folder (or `periods`), then publish."""
    data_home.ensure()
    periods = sorted(periods if periods is not None else pending_periods(data_home.landing))
    resources = build_resources(data_home)
    instance = instance_for(data_home)
    report = BuildReport(periods=periods)
    for i, period in enumerate(periods):
        if progress:
            progress(f"month {period}", i, len(periods))
        result = dg.materialize([ingest_month, kpi_team_month], partition_key=partition_of(period),
                                resources=resources, instance=instance, raise_on_error=False,
                                tags={"readq/trigger": "cli"}, run_config=QUIET)
        if not result.success:
            report.failed[period] = _failure_message(result)
    if progress:
        progress("publish", len(periods), len(periods))
    result = dg.materialize([published_warehouse], resources=resources, instance=instance, raise_on_error=False,
                            run_config=QUIET)
    if result.success:
        report.published = str(data_home.published)
    else:
        report.failed["publish"] = _failure_message(result)
    return report


def _failure_message(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_failure and event.step_failure_data is not None:
            return event.step_failure_data.error.message.strip() if event.step_failure_data.error else "failed"
    return "failed"
