"""What is waiting in the landing folder, for which billing month, and where it goes when loaded."""

from __future__ import annotations

import os
import shutil
import stat
from functools import cache
from pathlib import Path

import duckdb

from checks.errors import FileRejected
from checks.mappings import code_tables, load_mapping
from checks.values import install_macros
from pipelines.ingest.classify import classify
from pipelines.ingest.period import period_from_columns, period_from_file_name
from pipelines.ingest.readers import read_file
from pipelines.ingest.registry import file_sha256
from pipelines.ingest.worktable import Typing, WorkTable, load_frame, skip_blank_and_totals, text_of
from readq.config import load_toml


def landing_files(landing: Path) -> list[Path]:
    """The files waiting, with a landing extension. Also a FIFO, a device or a link to one (anything
    but a directory that exists): the ingest rejects it, saying what it is, rather than it being
    silently ignored; nothing here opens it."""
    extensions = {e.lower() for e in load_toml("readq.toml")["pipeline"]["extensions"]}
    if not landing.exists():
        return []
    return sorted(p for p in landing.rglob("*") if p.suffix.lower() in extensions and p.exists()
                  and not p.is_dir() and not p.name.startswith((".", "~$")))


def _is_regular(path: Path) -> bool:
    """A regular file (a link followed): only those are opened; a FIFO would block its reader forever."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


@cache
def _period_from_content(path: str, mtime_ns: int, size: int) -> str | None:
    """The month the file's first rows carry (as the ingest would decide it), or None (also for
    anything but a regular file, which is never opened)."""
    if not _is_regular(Path(path)):
        return None
    try:
        table = read_file(Path(path), peek=True)[0]
        match = classify(table.headers, Path(path).name)
    except FileRejected:
        return None
    if table.sample is None or table.sample.height == 0:
        return None
    mapping = load_mapping(match.kind)
    columns = text_of(table.headers, match.columns)
    work = WorkTable("peek")
    with duckdb.connect() as conn:
        install_macros(conn, code_tables())
        load_frame(conn, table.sample, table.first_row, work, Typing.of(mapping, columns))
        skip_blank_and_totals(conn, work, len(table.headers))
        return period_from_columns(conn, work, mapping, set(columns))


def period_of_file(path: Path) -> str | None:
    """The file's billing month, decided as the ingest decides it: from its first rows' 电费年月 (or
    reading date) when it has one, else from its name; None if neither tells. A FIFO or a device is
    never opened: its name tells (so that the ingest of that month rejects it, saying what it is)."""
    if not _is_regular(path):
        return period_from_file_name(path.name)
    info = path.stat()
    return _period_from_content(str(path), info.st_mtime_ns, info.st_size) or period_from_file_name(path.name)


def files_for_period(landing: Path, period: str) -> list[Path]:
    return [p for p in landing_files(landing) if period_of_file(p) == period]


def pending_periods(landing: Path) -> list[str]:
    return sorted({p for f in landing_files(landing) if (p := period_of_file(f)) is not None})


def archive_file(path: Path, archive_root: Path, period: str | None) -> Path:
    """Move a processed file out of the landing folder (never overwriting an archived file)."""
    target_dir = archive_root / (period or "unknown")
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / path.name
    if target.exists():
        target = target_dir / f"{path.stem}.{file_sha256(path)[:8]}{path.suffix}"
    shutil.move(str(path), target)
    return target
