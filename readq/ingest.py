"""`readq ingest`: load files now, each delivery atomic, then refresh the marts of the
months they touched and publish. Every file ends loaded, duplicate, superseded or rejected."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dagster as dg

from pipelines.defs.kpis.assets import kpi_team_month
from pipelines.defs.publish.assets import published_warehouse
from pipelines.defs.resources import build_resources
from pipelines.ingest.deliver import ingest_path
from pipelines.ingest.landing import archive_file, landing_files
from pipelines.ingest.registry import DeliveryResult
from pipelines.partitions import partition_of
from readq.build import QUIET, instance_for
from readq.config import Home
from warehouse.connection import connect


def expand(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        files.extend(landing_files(p) if p.is_dir() else [p])
    return files


def ingest_files(data_home: Home, paths: list[Path], *, kind: str | None = None, period: str | None = None,
                 sheet: str | None = None,
                 progress: Callable[[str, int, int], None] | None = None) -> list[DeliveryResult]:
    files = expand(paths)
    results: list[DeliveryResult] = []
    with connect(data_home.warehouse) as conn:
        for i, path in enumerate(files):
            if progress:
                progress(path.name, i, len(files))
            if not path.exists():
                results.append(DeliveryResult(file=str(path), message=f"file not found: {path}"))
                continue
            stage = (lambda what, name=path.name, i=i: progress(f"{name}: {what}", i, len(files))) if progress else None
            file_results = ingest_path(conn, path, kind=kind, period=period, sheet=sheet, on_stage=stage)
            results += file_results
            in_landing = data_home.landing.resolve() in path.resolve().parents
            if in_landing and all(r.status != "rejected" for r in file_results):
                archived = archive_file(path, data_home.archive, file_results[0].period)
                conn.execute("update ops.deliveries set archived_path = ? where source_path = ?",
                             [str(archived), str(path)])
        if progress:
            progress("done", len(files), len(files))
    return results


def refresh(data_home: Home, periods: set[str]) -> bool:
    """Rebuild the marts of the touched months and publish (through Dagster, so the UI shows it)."""
    resources = build_resources(data_home)
    instance = instance_for(data_home)
    ok = True
    for period in sorted(periods):
        ok &= dg.materialize([kpi_team_month], partition_key=partition_of(period), resources=resources,
                             instance=instance, raise_on_error=False, run_config=QUIET).success
    ok &= dg.materialize([published_warehouse], resources=resources, instance=instance,
                         raise_on_error=False, run_config=QUIET).success
    return ok
