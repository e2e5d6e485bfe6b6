"""Create the warehouse schema: the static DDL in sql/schema.sql plus, per input kind,
raw.<kind> (every delivered value as text, unmapped columns in `extras`) and core.<kind>
(typed canonical columns), both carrying lineage (delivery_id, sheet, source_row)."""

from __future__ import annotations

import duckdb

from checks.casting import DUCKDB_TYPES
from checks.mappings import KINDS, load_mapping
from warehouse.sql import load_sql

LINEAGE = "delivery_id VARCHAR NOT NULL, sheet VARCHAR, source_row INTEGER NOT NULL"


def raw_ddl(kind: str) -> str:
    cols = ", ".join(f'"{c}" VARCHAR' for c in load_mapping(kind).columns if c != "period")
    return (f"CREATE TABLE IF NOT EXISTS raw.{kind} ({LINEAGE}, period VARCHAR, {cols}, extras JSON)")


def core_ddl(kind: str) -> str:
    mapping = load_mapping(kind)
    cols = ", ".join(
        f'"{c.name}" {DUCKDB_TYPES[c.type]}' for c in mapping.columns.values() if c.name != "period"
    )
    return f"CREATE TABLE IF NOT EXISTS core.{kind} (period VARCHAR NOT NULL, {cols}, {LINEAGE})"


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(load_sql("schema"))
    for kind in KINDS:
        conn.execute(raw_ddl(kind))
        conn.execute(core_ddl(kind))
