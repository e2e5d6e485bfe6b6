"""Publish a read-only snapshot for the dashboards, one changed month at a time.

DuckDB allows one writer or many readers per file, across processes, so the dashboards never open the
pipeline's file. They read the snapshot: a small DuckDB file (`published/warehouse.duckdb`) and, beside it,
Parquet parts, one file per table and billing month (`published/parts/<schema>.<table>/<period>-<sig>.parquet`).

- The marts and the delivered rows behind every flag and ledger row (raw.*, personal columns masked) are
  published as parts. In the snapshot each is a view over its parts that casts every column to the
  warehouse's type, so a query sees the same table it would in the warehouse.
- The delivery registry, quarantine reasons (without the delivered value) and the other ops tables are small:
  they are copied whole into the snapshot file.

A part's name carries the signature of what it holds: for a mart, its build in ops.mart_builds (every
rebuild of a month takes a new seq); for the delivered rows, the builds of the flags and the ledger of that
month, the month's deliveries and the masking in force. A part whose name already exists holds those rows
and is kept. A month's build therefore writes that month's parts, not a copy of the whole warehouse (the
first publish writes them all). A part is written to a temporary name, then renamed: a part never holds a
partial file under its name.

The new snapshot file is written to `<snapshot>.next`, closed and swapped in with `os.replace`. Readers
see the old snapshot with its parts or the new one with its parts, never a mix and never a partial file.
The parts only the old snapshot used are kept for config/readq.toml [publish] keep_retired_seconds (a
reader may still be reading them), then removed by a later publish. A moved data folder needs a new publish
(`readq build` publishes every time):
the views name their parts by absolute path. `ops.snapshot_parts` in the snapshot lists every part
(warehouse/query.py allows the guarded Query connection to read exactly those files).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from checks.casting import quote
from checks.masking import mask_column, personal_columns
from checks.values import sql_literal
from readq.config import load_toml
from warehouse.schema import latest_change

PARTS_DIR = "parts"                     # beside the snapshot file
PARTS_TABLE = "ops.snapshot_parts"      # in the snapshot: every part its views read
WHOLE = {                               # copied whole into the snapshot file (small, or without a period)
    "ops": ("deliveries", "delivery_grains", "skipped_rows", "config_versions", "mart_builds"),
    "quarantine": ("rows",),
}
# Tables that stay in the warehouse: marts.point_history is marts.meter_readings again, encoded in numbers
# for reading_context's history scan (warehouse/sql/point_history.sql); no page or query needs it.
INTERNAL = {"marts.point_history"}
# Columns that never leave the warehouse (personal data as delivered; views get the masked form).
WITHHELD = {"quarantine.rows": ("raw_value",)}
# The delivered rows behind every flag and every assessment ledger row (drill-down to the source line), per
# input kind and month, personal columns masked: only those rows leave the warehouse, not all of raw.
_LEDGER_ROWS = """
    select r.* from raw.{kind} r
    semi join marts.assessment_ledger l
      on l.delivery_id = r.delivery_id and l.source_row = r.source_row and l.sheet is not distinct from r.sheet
    where r.period = $period
"""
SOURCE_ROWS = {
    "readings": """
    select r.* from raw.readings r
    semi join marts.reading_flags f
      on f.delivery_id = r.delivery_id and f.source_row = r.source_row and f.sheet is not distinct from r.sheet
    where r.period = $period
    union""" + _LEDGER_ROWS.format(kind="readings"),
    "review_findings": _LEDGER_ROWS.format(kind="review_findings"),
    "field_anomalies": _LEDGER_ROWS.format(kind="field_anomalies"),
}
# The order a table's parts are written in, so that a page's lookup of one metering point (the Anomalies
# page's meter view) reads one row group of each month, not the whole month: Parquet keeps each row group's
# min and max per column, and DuckDB skips the row groups a filter cannot match.
PART_ORDER: dict[str, tuple[str, ...]] = {
    "marts.reading_context": ("mp_key",),
    "marts.reading_flags": ("mp_key",),
    "marts.meter_readings": ("mp_key",),
}
# Rows per Parquet row group of an ordered table: smaller than DuckDB's default (122,880), so a lookup reads
# few rows beyond the ones it wants.
ORDERED_ROW_GROUP = 16_384
# The marts whose rows decide which delivered rows are published (SOURCE_ROWS joins them).
SOURCE_MARTS = ("reading_flags", "assessment_ledger")


@dataclass(frozen=True)
class Part:
    """One table's rows of one month, as a Parquet file beside the snapshot."""

    table: str          # schema.table
    period: str
    path: Path
    written: bool       # False: an existing file with the same signature was kept


@dataclass
class PublishResult:
    path: Path
    tables: dict[str, int]                          # schema.table -> rows
    size_bytes: int                                 # the snapshot file and every part it reads
    parts: list[Part] = field(default_factory=list)
    removed: int = 0                                # parts of older snapshots removed

    @property
    def parts_written(self) -> int:
        return sum(p.written for p in self.parts)


def _digest(*values: object) -> str:
    return hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest()[:16]


def _columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """(column, DuckDB type) of the warehouse's `schema.table`, withheld columns left out."""
    schema, name = table.split(".", 1)
    withheld = set(WITHHELD.get(table, ()))
    rows = conn.execute("""select column_name, data_type from duckdb_columns()
                           where database_name = current_database() and schema_name = ? and table_name = ?
                           order by column_index""", [schema, name]).fetchall()
    return [(c, t) for c, t in rows if c not in withheld]


def _tables(conn: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    return [f"{schema}.{r[0]}" for r in conn.execute(
        "select table_name from duckdb_tables() where database_name = current_database() and schema_name = ? "
        "order by 1", [schema]).fetchall()]


def _builds(conn: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], int]:
    return {(m, p): int(s) for m, p, s in conn.execute("select mart, period, seq from ops.mart_builds").fetchall()}


def _content(conn: duckdb.DuckDBPyConnection, select: str, params: dict[str, object]) -> tuple[int, str]:
    """Rows and a hash of the rows `select` returns: the signature of rows no build record describes."""
    n, h = conn.execute(f"select count(*), coalesce(sum(hash(t)), 0) from ({select}) t", params).fetchall()[0]
    return int(n), str(h)


def _write(conn: duckdb.DuckDBPyConnection, select: str, params: dict[str, object], path: Path,
           order: tuple[str, ...] = ()) -> None:
    """`select` into the Parquet file `path` (sorted by `order`), under a temporary name first (never a
    partial file under it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    if order:
        select = f"select * from ({select}) order by {', '.join(quote(c) for c in order)}"
    options = f", row_group_size {ORDERED_ROW_GROUP}" if order else ""
    try:
        conn.execute(f"copy ({select}) to {sql_literal(str(tmp))} (format parquet{options})", params)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _mart_parts(conn: duckdb.DuckDBPyConnection, table: str, folder: Path,
                builds: dict[tuple[str, str], int]) -> list[Part]:
    name = table.split(".", 1)[1]
    order = PART_ORDER.get(table, ())
    shape = (_columns(conn, table), order, ORDERED_ROW_GROUP if order else None)
    select = f"select * from {table} where period = $period"
    parts = []
    for (period,) in conn.execute(f"select distinct period from {table} order by 1").fetchall():
        params = {"period": period}
        seq = builds.get((name, period))
        inputs = ("build", seq) if seq is not None else ("rows", _content(conn, select, params))
        sig = _digest(shape, inputs)
        path = folder / table / f"{period}-{sig}.parquet"
        written = not path.exists()
        if written:
            _write(conn, select, params, path, order)
        parts.append(Part(table, period, path, written))
    return parts


def _masking(kind: str) -> object:
    return personal_columns(kind), load_toml("readq.toml")["privacy"]


def _source_parts(conn: duckdb.DuckDBPyConnection, kind: str, folder: Path,
                  builds: dict[tuple[str, str], int]) -> list[Part]:
    """The delivered rows behind the flags and ledger rows of each month, personal columns masked."""
    table = f"raw.{kind}"
    shape = _columns(conn, table)
    periods = [r[0] for r in conn.execute(
        "select distinct period from marts.reading_flags union select distinct period from marts.assessment_ledger "
        "order by 1").fetchall()]
    delivered = dict(conn.execute("select period, max(seq) from ops.deliveries group by period").fetchall())
    parts = []
    for period in periods:
        params = {"period": period}
        seqs = [builds.get((m, period)) for m in SOURCE_MARTS]
        inputs = (("builds", seqs, delivered.get(period)) if None not in seqs
                  else ("rows", _content(conn, SOURCE_ROWS[kind], params)))
        path = folder / table / f"{period}-{_digest(shape, _masking(kind), inputs)}.parquet"
        written = not path.exists()
        if written:
            rows = conn.sql(SOURCE_ROWS[kind], params=params).pl()
            masked = rows.with_columns(mask_column(kind, c, pl.col(c)).alias(c)
                                       for c in personal_columns(kind) if c in rows.columns)
            conn.register("masked_source_rows", masked)
            try:
                _write(conn, "select * from masked_source_rows", {}, path)
            finally:
                conn.unregister("masked_source_rows")
        parts.append(Part(table, period, path, written))
    return parts


def _view_sql(conn: duckdb.DuckDBPyConnection, table: str, parts: list[Part]) -> str:
    """A view over `parts` with the warehouse table's columns and types."""
    columns = ", ".join(f"cast({quote(c)} as {t}) as {quote(c)}" for c, t in _columns(conn, table))
    files = ", ".join(sql_literal(str(p.path)) for p in parts)
    return f"select {columns} from read_parquet([{files}])"


def _previous_parts(conn: duckdb.DuckDBPyConnection, target: Path) -> set[Path]:
    """The parts the snapshot now in place reads (none if it lists none or cannot be read)."""
    if not target.exists():
        return set()
    try:
        conn.execute("attach ? as previous_snapshot (read_only)", [str(target)])
    except duckdb.Error:
        return set()
    try:
        return {Path(r[0]) for r in conn.execute(f"select path from previous_snapshot.{PARTS_TABLE}").fetchall()}
    except duckdb.Error:
        return set()      # a snapshot published before parts existed
    finally:
        conn.execute("detach previous_snapshot")


def _retire(folder: Path, keep: set[Path], retired: Iterable[Path], keep_seconds: float) -> int:
    """Mark the parts the old snapshot used as retired now (their mtime), then remove every file under
    `folder` that the new snapshot does not read and that was retired (or left by a crash) longer ago than
    `keep_seconds`; files removed."""
    now = time.time()
    for path in retired:
        if path not in keep:
            with contextlib.suppress(OSError):      # already gone
                os.utime(path, (now, now))
    removed = 0
    for path in folder.glob("*/*"):
        try:
            if path not in keep and now - path.stat().st_mtime >= keep_seconds:
                path.unlink()
                removed += 1
        except OSError:
            pass                  # removed meanwhile
    return removed


def publish(conn: duckdb.DuckDBPyConnection, target: Path) -> PublishResult:
    """Publish the warehouse open on `conn` as the snapshot `target` (see the module docstring)."""
    folder = target.parent / PARTS_DIR
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(target.name + ".next")
    for leftover in (staging, staging.with_name(staging.name + ".wal")):
        leftover.unlink(missing_ok=True)
    # the state this snapshot holds: recorded once it is in place, so `marts.unpublished` can tell
    state = latest_change(conn)
    builds = _builds(conn)
    by_table: dict[str, list[Part]] = {}
    for table in _tables(conn, "marts"):
        if table not in INTERNAL:
            by_table[table] = _mart_parts(conn, table, folder, builds)
    for kind in SOURCE_ROWS:
        by_table[f"raw.{kind}"] = _source_parts(conn, kind, folder, builds)
    parts = [p for found in by_table.values() for p in found]

    whole = [t for schema, names in WHOLE.items() for t in _tables(conn, schema) if t.split(".", 1)[1] in names]
    conn.execute("attach ? as snapshot", [str(staging)])
    try:
        for schema in ("marts", "raw", *WHOLE):
            conn.execute(f"create schema if not exists snapshot.{schema}")
        for table in whole:
            columns = ", ".join(quote(c) for c, _ in _columns(conn, table))
            conn.execute(f"create table snapshot.{table} as select {columns} from {table}")
        for table, found in by_table.items():
            if found:
                conn.execute(f"create view snapshot.{table} as {_view_sql(conn, table, found)}")
            else:   # no month yet: an empty table of the same shape
                columns = ", ".join(quote(c) for c, _ in _columns(conn, table))
                conn.execute(f"create table snapshot.{table} as select {columns} from {table} limit 0")
        conn.execute(f"create table snapshot.{PARTS_TABLE} (table_name varchar, period varchar, path varchar)")
        if parts:
            conn.executemany(f"insert into snapshot.{PARTS_TABLE} values (?, ?, ?)",
                             [[p.table, p.period, str(p.path)] for p in parts])
        tables = {t: conn.execute(f"select count(*) from snapshot.{t}").fetchall()[0][0] for t in (*whole, *by_table)}
    finally:
        conn.execute("detach snapshot")
    retired = _previous_parts(conn, target)
    os.replace(staging, target)
    conn.execute("insert into ops.publishes values (?, now(), ?)", [state, str(target)])
    keep = {p.path for p in parts}
    removed = _retire(folder, keep, retired, float(load_toml("readq.toml")["publish"]["keep_retired_seconds"]))
    size = target.stat().st_size + sum(p.stat().st_size for p in keep)
    return PublishResult(path=target, tables=tables, size_bytes=size, parts=parts, removed=removed)
