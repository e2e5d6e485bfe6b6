"""Private staging tables of a delivery in flight: rows stream in chunk by chunk, and only the
delivery's final transaction moves them into raw/core/quarantine."""

from __future__ import annotations

import re

import duckdb
import polars as pl

from readq.config import load_toml

STAGING = "staging"


def drop_stale_staging(conn: duckdb.DuckDBPyConnection) -> int:
    """Remove staging tables left by a load that was killed (one writer at a time: none is live)."""
    stale = conn.execute("select table_name from duckdb_tables() where schema_name = ? and "
                         "database_name = current_database()", [STAGING]).fetchall()
    for (name,) in stale:
        conn.execute(f'drop table if exists {STAGING}."{name}"')
    return len(stale)


def staging_names(delivery_id: str, in_memory: bool) -> dict[str, str]:
    """Staging tables of one delivery: TEMP (in memory, no WAL; fastest) for files up to
    [ingest] temp_staging_max_bytes, else in the `staging` schema on disk (bounded memory)."""
    tag = re.sub(r"[^0-9A-Za-z]", "_", delivery_id)
    schema = "temp.main" if in_memory else STAGING
    return {layer: f'{schema}."{STAGING}_{layer}_{tag}"' for layer in ("raw", "core", "quarantine")}


def temp_staging_max_bytes() -> int:
    return int(load_toml("readq.toml")["ingest"]["temp_staging_max_bytes"])


def create_staging(conn: duckdb.DuckDBPyConnection, kind: str, names: dict[str, str]) -> None:
    conn.execute(f"create schema if not exists {STAGING}")
    sources = {"raw": f"raw.{kind}", "core": f"core.{kind}", "quarantine": "quarantine.rows"}
    for layer, table in names.items():
        temp = "temp " if table.startswith("temp.") else ""
        conn.execute(f"create or replace {temp}table {table} as select * from {sources[layer]} limit 0")


def drop_staging(conn: duckdb.DuckDBPyConnection, names: dict[str, str]) -> None:
    for table in names.values():
        conn.execute(f"drop table if exists {table}")


def insert_frame(conn: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    if frame.height == 0:
        return
    conn.register("_frame", frame)
    try:
        conn.execute(f"insert into {table} by name select * from _frame")
    finally:
        conn.unregister("_frame")
