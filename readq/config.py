"""Where things live and which configuration is in force.

`READQ_HOME` selects the data folder (default `./data`): landing, archive, warehouse,
published snapshot, reports. `READQ_CONFIG` may point at another config folder (default:
the repository's `config/`). Every computed result records `config_version()`.
"""

from __future__ import annotations

import copy
import errno
import hashlib
import os
import tempfile
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]


def config_dir() -> Path:
    return Path(os.environ.get("READQ_CONFIG", REPO_ROOT / "config")).resolve()


@cache
def _load_toml(path: str, mtime_ns: int) -> dict[str, Any]:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def load_toml(name: str) -> dict[str, Any]:
    """Load `config/<name>` (e.g. ``"targets.toml"`` or ``"mappings/readings.toml"``)."""
    path = config_dir() / name
    if not path.exists():
        raise FileNotFoundError(f"config file not found: {path}")
    # a copy: the parse is cached, and a caller that changes its dict must not change everyone's config
    return copy.deepcopy(_load_toml(str(path), path.stat().st_mtime_ns))


def config_version() -> str:
    """`<declared version>+<8 hex of the sha256 over every config file>`.

    The declared version is what a human bumps; the hash catches edits nobody bumped.
    """
    root = config_dir()
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.toml")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    declared = load_toml("readq.toml").get("version", "0")
    return f"{declared}+{digest.hexdigest()[:8]}"


@dataclass(frozen=True)
class Home:
    """The data folder layout under READQ_HOME."""

    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def warehouse_dir(self) -> Path:
        return self.root / "warehouse"

    @property
    def warehouse(self) -> Path:
        return self.warehouse_dir / "warehouse.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.root / "published"

    @property
    def published(self) -> Path:
        return self.published_dir / load_toml("readq.toml")["publish"]["snapshot_name"]

    @property
    def readable(self) -> Path:
        """What the read-only commands read: the published snapshot (what the dashboards show), else the
        pipeline's own file when nothing was published yet."""
        return self.published if self.published.exists() else self.warehouse

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def demo_truth(self) -> Path:
        """Ground truth of the demo generator. The pipeline never reads it."""
        return self.root / "demo_truth"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    def ensure(self) -> Home:
        """Create the layout and prove each folder writable (by writing a probe file), or raise
        `DataFolderError` saying what is wrong. `mkdir` succeeds on an existing read-only folder, and
        `os.access` says yes to root on a read-only mount: only a write tells the truth before a load
        fails halfway."""
        for p in (self.landing, self.archive, self.warehouse_dir, self.published_dir, self.reports,
                  self.dagster_home):
            try:
                p.mkdir(parents=True, exist_ok=True)
                with tempfile.TemporaryFile(dir=p, prefix=".readq-probe-"):
                    pass
            except OSError as exc:
                raise DataFolderError(self.root, describe_os_error(exc)) from exc
        return self


class DataFolderError(RuntimeError):
    """The data folder (READQ_HOME) cannot be used: not writable, on a read-only file system, or a path
    through a regular file. Not a lock conflict (`warehouse.connection.WarehouseBusy`) and not bad input."""

    def __init__(self, root: Path, reason: str, *, problem: str = "is not writable") -> None:
        super().__init__(f"the data folder {root} {problem} ({reason}): set READQ_HOME to a folder you can write, "
                         "or fix its permissions")
        self.root = root
        self.reason = reason


def describe_os_error(exc: OSError) -> str:
    """What the operating system said, in a few words, with the path it said it about."""
    what = {errno.EACCES: "permission denied", errno.EPERM: "permission denied",
            errno.EROFS: "read-only file system", errno.ENOTDIR: "a part of the path is a file, not a folder",
            errno.EEXIST: "a file is in the way of a folder", errno.ENOSPC: "no space left on the device",
            errno.EDQUOT: "disk quota exceeded"}.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    return f"{what}: {exc.filename}" if exc.filename else what


def home() -> Home:
    return Home(Path(os.environ.get("READQ_HOME", "data")).resolve())
