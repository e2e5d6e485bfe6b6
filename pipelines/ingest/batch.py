"""Ingest a list of files, then archive each one unless it was rejected: the one loop behind
`readq ingest`, `readq build` and the Dagster `ingest_month` asset."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from pipelines.ingest.deliver import ingest_path
from pipelines.ingest.landing import archive_file
from pipelines.ingest.registry import DeliveryResult

Progress = Callable[[str, int, int], None]   # (what, done, total)


def _inside(path: Path, folder: Path) -> bool:
    try:
        return folder.resolve() in path.resolve().parents
    except OSError:
        return False


def ingest_and_archive(conn: duckdb.DuckDBPyConnection, files: list[Path], *, landing: Path, archive: Path,
                       kind: str | None = None, period: str | None = None, sheet: str | None = None,
                       progress: Progress | None = None) -> list[DeliveryResult]:
    """Each file ingested (each delivery atomic); a file from `landing` that was not rejected moves to
    `archive/<month>/` once its deliveries committed (a rejected one stays for the user to see)."""
    results: list[DeliveryResult] = []
    for i, path in enumerate(files):
        if progress:
            progress(path.name, i, len(files))
        stage = (lambda what, name=path.name, i=i: progress(f"{name}: {what}", i, len(files))) if progress else None
        file_results = ingest_path(conn, path, kind=kind, period=period, sheet=sheet, on_stage=stage)
        results += file_results
        if _inside(path, landing) and all(r.status != "rejected" for r in file_results):
            archived = archive_file(path, archive, file_results[0].period)
            conn.execute("update ops.deliveries set archived_path = ? where source_path = ?",
                         [str(archived), str(path)])
    if progress:
        progress("done", len(files), len(files))
    return results
