"""Publish a read-only snapshot for the dashboards.

DuckDB allows one writer or many readers per file, across processes, so the dashboards
never open the pipeline's file: the pipeline copies the published layers (marts, the
delivery registry, quarantine reasons, the delivered rows behind each flag with personal data masked)
into `<snapshot>.next`, closes it, and swaps it in
with `os.replace` — readers see the old snapshot or the new one, never a partial one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from checks.masking import mask_column, personal_columns
from warehouse.schema import latest_change

PUBLISHED = {
    "marts": None,                      # every table
    "ops": ("deliveries", "delivery_grains", "skipped_rows", "config_versions", "mart_builds"),
    "quarantine": ("rows",),
}
# Tables that stay in the warehouse: marts.point_history is marts.meter_readings again, encoded in numbers
# for reading_context's history scan (warehouse/sql/point_history.sql); no page or query needs it.
INTERNAL = {"marts.point_history"}
# Columns that never leave the warehouse (personal data as delivered; views get the masked form).
WITHHELD = {"quarantine.rows": ("raw_value",)}
# The delivered rows behind every flag and every assessment ledger row (drill-down to the source line),
# per input kind, personal columns masked: only those rows leave the warehouse, not all of raw.
_LEDGER_ROWS = """
    semi join marts.assessment_ledger l
      on l.delivery_id = r.delivery_id and l.source_row = r.source_row and l.sheet is not distinct from r.sheet
"""
SOURCE_ROWS = {
    "readings": """
    select r.* from raw.readings r
    semi join marts.reading_flags f
      on f.delivery_id = r.delivery_id and f.source_row = r.source_row and f.sheet is not distinct from r.sheet
    union
    select r.* from raw.readings r""" + _LEDGER_ROWS,
    "review_findings": "select r.* from raw.review_findings r" + _LEDGER_ROWS,
    "field_anomalies": "select r.* from raw.field_anomalies r" + _LEDGER_ROWS,
}


@dataclass
class PublishResult:
    path: Path
    tables: dict[str, int]
    size_bytes: int


def _publish_source_rows(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The raw rows behind a flag or a ledger row into the snapshot (attached as `snapshot`), personal data
    masked; rows per raw table."""
    conn.execute("create schema if not exists snapshot.raw")
    counts = {}
    for kind, sql in SOURCE_ROWS.items():
        rows = conn.sql(sql).pl()
        masked = rows.with_columns(mask_column(kind, c, pl.col(c)).alias(c)
                                   for c in personal_columns(kind) if c in rows.columns)
        conn.register("masked_source_rows", masked)
        try:
            conn.execute(f"create table snapshot.raw.{kind} as select * from masked_source_rows")
        finally:
            conn.unregister("masked_source_rows")
        counts[f"raw.{kind}"] = masked.height
    return counts


def publish(conn: duckdb.DuckDBPyConnection, target: Path) -> PublishResult:
    """Copy the published layers from the warehouse open on `conn` into `target`, atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(target.name + ".next")
    for leftover in (staging, staging.with_name(staging.name + ".wal")):
        leftover.unlink(missing_ok=True)
    tables: dict[str, int] = {}
    # the state this snapshot holds: recorded once it is in place, so `marts.unpublished` can tell
    state = latest_change(conn)
    conn.execute("attach ? as snapshot", [str(staging)])
    try:
        for schema, names in PUBLISHED.items():
            conn.execute(f"create schema if not exists snapshot.{schema}")
            found = [r[0] for r in conn.execute(
                "select table_name from duckdb_tables() where database_name = current_database() "
                "and schema_name = ? order by 1", [schema]).fetchall()]
            for name in found:
                if (names is not None and name not in names) or f"{schema}.{name}" in INTERNAL:
                    continue
                withheld = WITHHELD.get(f"{schema}.{name}")
                columns = f"* exclude ({', '.join(withheld)})" if withheld else "*"
                conn.execute(f"create table snapshot.{schema}.{name} as select {columns} from {schema}.{name}")
                tables[f"{schema}.{name}"] = conn.execute(
                    f"select count(*) from snapshot.{schema}.{name}").fetchall()[0][0]
        tables.update(_publish_source_rows(conn))
    finally:
        conn.execute("detach snapshot")
    os.replace(staging, target)
    conn.execute("insert into ops.publishes values (?, now(), ?)", [state, str(target)])
    return PublishResult(path=target, tables=tables, size_bytes=target.stat().st_size)
