"""`readq ingest`: load files now, each delivery atomic, then rebuild the marts of every month whose
data changed (the months these files touched, and any month a failed or killed run left behind) and
publish. Every file ends loaded, duplicate or rejected."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipelines.ingest.batch import ingest_and_archive
from pipelines.ingest.landing import landing_files
from pipelines.ingest.registry import DeliveryResult
from readq.build import build_months, publish_snapshot, warehouse_state
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
    with connect(data_home.warehouse) as conn:
        return ingest_and_archive(conn, expand(paths), landing=data_home.landing, archive=data_home.archive,
                                  kind=kind, period=period, sheet=sheet, progress=progress)


def refresh_months(data_home: Home) -> dict[str, str]:
    """Rebuild the marts of every month whose data is newer than its marts, then publish if the warehouse
    changed (through Dagster, so the UI shows it); {month or "publish": failure} for what failed."""
    stale, _ = warehouse_state(data_home)
    failed = build_months(data_home, stale, with_ingest=False)
    if warehouse_state(data_home)[1] and (failure := publish_snapshot(data_home)) is not None:
        failed["publish"] = failure
    return failed
