"""Open the warehouse from the CLI, with a message a user understands when it cannot be opened.

Two different problems look alike to DuckDB (both are an `IOException`): another process holds the
file's lock (wait, then try again: `WarehouseBusy`), or the folder cannot be written — permissions, a
read-only file system, a path that is not a folder (fix the folder or choose another:
`readq.config.DataFolderError`). The message says which.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from readq.config import DataFolderError, describe_os_error, load_toml
from warehouse.schema import ensure_schema

# Words of DuckDB's (and the OS's) messages when the file or its folder cannot be written or opened.
_FOLDER_PROBLEMS = ("permission denied", "read-only file system", "is a directory", "not a directory",
                    "no such file or directory", "operation not permitted")


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse's lock (a running build, `dg dev`, a second `readq ingest`)."""


def connection_config() -> dict[str, str]:
    """DuckDB settings of the pipeline's connections (config/readq.toml [warehouse])."""
    return {"memory_limit": str(load_toml("readq.toml")["warehouse"]["memory_limit"])}


def open_error(path: Path, exc: duckdb.IOException) -> Exception:
    """What an IOException from opening `path` means for the user: busy, an unusable folder, or itself."""
    said = str(exc).splitlines()[0]
    text = said.lower()
    if "conflicting lock" in text:
        return WarehouseBusy(
            f"the warehouse {path} is in use by another process (a running build or `dg dev` run?); "
            f"try again when it has finished. DuckDB said: {said}")
    if any(word in text for word in _FOLDER_PROBLEMS):
        problem = "is not writable" if ("permission" in text or "read-only" in text) else "cannot be used"
        return DataFolderError(path.parent, f"the warehouse {path.name}: {said}", problem=problem)
    if "lock" in text:
        return WarehouseBusy(f"the warehouse {path} is locked; try again later. DuckDB said: {said}")
    return exc


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse at `path` (read-only: it must exist; read-write: its schema is ensured).

    A read-only open writes nothing, so `readq quarantine` works in a read-only data folder.
    """
    if read_only and not path.exists():
        raise FileNotFoundError(f"no warehouse at {path} yet: run `readq demo` or `readq ingest` first")
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataFolderError(path.parent, describe_os_error(exc)) from exc
    try:
        conn = duckdb.connect(str(path), read_only=read_only, config=connection_config())
    except duckdb.IOException as exc:
        error = open_error(path, exc)
        if error is exc:
            raise
        raise error from None
    if not read_only:
        ensure_schema(conn)
    return conn
