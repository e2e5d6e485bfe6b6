"""What is waiting in the landing folder, for which billing month, and where it goes when loaded."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import polars as pl

from checks.mappings import load_mapping
from pipelines.ingest.classify import classify
from pipelines.ingest.errors import FileRejected
from pipelines.ingest.period import decide_period, period_from_file_name
from pipelines.ingest.readers import read_file
from pipelines.ingest.registry import file_sha256
from readq.config import load_toml


def landing_files(landing: Path) -> list[Path]:
    extensions = {e.lower() for e in load_toml("readq.toml")["pipeline"]["extensions"]}
    if not landing.exists():
        return []
    return sorted(p for p in landing.rglob("*") if p.is_file() and p.suffix.lower() in extensions
                  and not p.name.startswith((".", "~$")))


@cache
def _peek_period(path: str, mtime_ns: int, size: int) -> str | None:
    try:
        table = read_file(Path(path))[0]
        match = classify(table.headers, Path(path).name)
        first = next(table.chunks())  # the first block is enough to tell the month
        canonical = first.frame.select([pl.col(h).alias(c) for h, c in match.columns.items()])
        return decide_period(canonical, load_mapping(match.kind).period_columns, Path(path).name, None)[0]
    except FileRejected:
        return None


def period_of_file(path: Path) -> str | None:
    """The file's billing month: from its name when it says, else from its content; None if neither."""
    if (p := period_from_file_name(path.name)) is not None:
        return p
    stat = path.stat()
    return _peek_period(str(path), stat.st_mtime_ns, stat.st_size)


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
