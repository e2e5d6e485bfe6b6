"""Open the warehouse from the CLI, with a message a user understands when it is busy."""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse.schema import ensure_schema


class WarehouseBusy(RuntimeError):
    pass


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    if read_only and not path.exists():
        raise FileNotFoundError(f"no warehouse at {path} yet: run `readq demo` or `readq ingest` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        raise WarehouseBusy(
            f"the warehouse {path} is in use by another process (a running build or `dg dev` run?); "
            f"try again when it has finished. DuckDB said: {str(exc).splitlines()[0]}") from None
    if not read_only:
        ensure_schema(conn)
    return conn
