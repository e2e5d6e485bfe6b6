"""Open the warehouse from the CLI, with a message a user understands when it is busy."""

from __future__ import annotations

from pathlib import Path

import duckdb

from readq.config import load_toml
from warehouse.schema import ensure_schema


class WarehouseBusy(RuntimeError):
    pass


def connection_config() -> dict[str, str]:
    """DuckDB settings of the pipeline's connections (config/readq.toml [warehouse])."""
    return {"memory_limit": str(load_toml("readq.toml")["warehouse"]["memory_limit"])}


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    if read_only and not path.exists():
        raise FileNotFoundError(f"no warehouse at {path} yet: run `readq demo` or `readq ingest` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = duckdb.connect(str(path), read_only=read_only, config=connection_config())
    except duckdb.IOException as exc:
        raise WarehouseBusy(
            f"the warehouse {path} is in use by another process (a running build or `dg dev` run?); "
            f"try again when it has finished. DuckDB said: {str(exc).splitlines()[0]}") from None
    if not read_only:
        ensure_schema(conn)
    return conn
