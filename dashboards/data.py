"""Read-only access to the published snapshot (`readq.config.home().published`).

Each query opens a short-lived read-only DuckDB connection and closes it, so the pipeline can
swap the file with `os.replace` at any time. Results are cached with `st.cache_data` keyed by the
file's path and stamp (mtime, size, inode): a new publish changes the key and shows up on the
next rerun. Queries are fixed SQL with parameters; nothing from the URL is interpolated.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import polars as pl
import streamlit as st

from checks.mappings import KINDS, load_mapping
from readq.config import home, load_toml


class Snapshot(NamedTuple):
    """Identity of one published snapshot file (the cache key)."""

    path: str
    mtime_ns: int
    size: int
    inode: int


class SnapshotError(Exception):
    """The snapshot exists but cannot be read or lacks a table; `reason` is an i18n key."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


def snapshot_path() -> Path:
    return home().published


def current_snapshot() -> Snapshot | None:
    """The published snapshot's identity, or None when nothing has been published yet."""
    path = snapshot_path()
    try:
        st_ = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return Snapshot(str(path), st_.st_mtime_ns, st_.st_size, st_.st_ino)


@st.cache_data(show_spinner=False, max_entries=64, ttl=3600)
def _query(snap: Snapshot, sql: str, params: tuple[Any, ...] = ()) -> pl.DataFrame:
    # No replacement scans: an unknown table name must not resolve to a Python variable.
    con = duckdb.connect(snap.path, read_only=True, config={"python_enable_replacements": False})
    try:
        return con.sql(sql, params=list(params)).pl()
    finally:
        con.close()


def query(snap: Snapshot, sql: str, params: tuple[Any, ...] = ()) -> pl.DataFrame:
    """Run fixed `sql` with `params` on the snapshot; errors become `SnapshotError`."""
    try:
        return _query(snap, sql, params)
    except duckdb.CatalogException as exc:
        raise SnapshotError("missing_table", str(exc)) from exc
    except duckdb.Error as exc:
        raise SnapshotError("snapshot_unreadable", str(exc)) from exc


@st.cache_data(show_spinner=False, max_entries=64, ttl=3600)
def _query_many(snap: Snapshot, queries: tuple[tuple[str, tuple[Any, ...]], ...]) -> list[pl.DataFrame]:
    con = duckdb.connect(snap.path, read_only=True, config={"python_enable_replacements": False})
    try:
        return [con.sql(sql, params=list(params)).pl() for sql, params in queries]
    finally:
        con.close()


def query_many(snap: Snapshot, queries: tuple[tuple[str, tuple[Any, ...]], ...]) -> list[pl.DataFrame]:
    """Run several fixed queries (each `(sql, params)`) on one short-lived connection, cached as one:
    a page that needs a few small results opens the snapshot once, not once per query (an open costs
    tens of milliseconds). Errors become `SnapshotError`, as in `query`."""
    try:
        return _query_many(snap, queries)
    except duckdb.CatalogException as exc:
        raise SnapshotError("missing_table", str(exc)) from exc
    except duckdb.Error as exc:
        raise SnapshotError("snapshot_unreadable", str(exc)) from exc


KPI_SQL = """
select period, team, customers_due, customers_read, customers_missed, customers_estimated,
       customers_remote, customers_with_error, actual_read_rate, missed_rate, estimated_rate,
       error_rate, errors_per_10k, actual_read_rate_target, error_rate_target,
       config_version, computed_at
from marts.kpi_team_month
order by period, team
"""


def kpi_team_month(snap: Snapshot) -> pl.DataFrame:
    """All rows of marts.kpi_team_month (small: teams × months)."""
    try:
        return query(snap, KPI_SQL)
    except SnapshotError as exc:
        if exc.reason == "missing_table":
            raise SnapshotError("no_kpi_table", exc.detail) from exc
        raise


def targets(snap: Snapshot, config_version: str) -> dict[str, Any]:
    """targets.toml as recorded for `config_version` in the snapshot's ops.config_versions.

    Falls back to the current config folder when the snapshot has no record of that version
    (targets not in the mart, such as 漏抄率 and 估抄率, come from here).
    """
    try:
        df = query(
            snap,
            "select files::varchar as files from ops.config_versions where config_version = ?",
            (config_version,),
        )
    except SnapshotError:
        df = pl.DataFrame()
    if df.height:
        files: dict[str, str] = json.loads(df["files"][0])
        for name, text in files.items():
            if Path(name).name == "targets.toml":
                return tomllib.loads(text)
    try:
        return load_toml("targets.toml")
    except FileNotFoundError:
        return {}


# --- Data quality page: delivery registry, quarantine, skipped rows -------------------------

QUALITY_TABLES: dict[str, tuple[str, ...]] = {
    "ops.deliveries": ("delivery_id", "file_name", "status", "rows_read", "rows_loaded", "rows_quarantined"),
    "quarantine.rows": ("delivery_id", "source_row", "check_name"),
    "ops.skipped_rows": ("delivery_id", "source_row", "reason"),
}

QUALITY_COLUMNS_SQL = """
select schema_name || '.' || table_name as table_name, column_name
from duckdb_columns()
where database_name = current_database() and schema_name in ('ops', 'quarantine')
"""


def quality_columns(snap: Snapshot) -> dict[str, set[str]]:
    """{"schema.table": column names} for the snapshot's ops and quarantine tables."""
    df = query(snap, QUALITY_COLUMNS_SQL)
    columns: dict[str, set[str]] = {}
    for table, column in df.iter_rows():
        columns.setdefault(table, set()).add(column)
    return columns


def missing_quality_tables(columns: dict[str, set[str]]) -> list[str]:
    """The data-quality tables (or their key columns) an older snapshot lacks."""
    return [table for table, needed in QUALITY_TABLES.items() if not set(needed) <= columns.get(table, set())]


DELIVERIES_SQL = """
select delivery_id, file_name, sheet, kind, period, status, rows_read, rows_loaded, rows_quarantined,
       rows_skipped, message, encoding, period_source, scope, superseded_by,
       array_to_string(unmapped_columns, ', ') as unmapped_columns, config_version, received_at
from ops.deliveries
order by received_at desc, file_name, sheet
"""


def deliveries(snap: Snapshot) -> pl.DataFrame:
    """Every delivery in the registry (one row per file, per sheet for workbooks), newest first."""
    return query(snap, DELIVERIES_SQL)


DETAIL_COUNTS_SQL = """
with q as (
    select delivery_id, count(distinct source_row) as rows_recorded from quarantine.rows group by delivery_id
), s as (
    select delivery_id, count(*) as skipped_recorded from ops.skipped_rows group by delivery_id
)
select delivery_id, coalesce(q.rows_recorded, 0)::bigint as quarantine_recorded,
       coalesce(s.skipped_recorded, 0)::bigint as skipped_recorded
from q full join s using (delivery_id)
"""


def detail_counts(snap: Snapshot) -> pl.DataFrame:
    """Per delivery: distinct rows listed in quarantine.rows and rows listed in ops.skipped_rows."""
    return query(snap, DETAIL_COUNTS_SQL)


REASONS_SQL = """
select delivery_id, kind, check_name, column_name,
       count(*)::bigint as failures, count(distinct source_row)::bigint as rows
from quarantine.rows
group by delivery_id, kind, check_name, column_name
"""


def quarantine_reasons(snap: Snapshot) -> pl.DataFrame:
    """Quarantine entries counted per delivery, check and column (one row may fail several checks)."""
    return query(snap, REASONS_SQL)


# masked_value is what views show; raw_value (personal data as delivered) is never read here.
_QUARANTINED_SQL = """
select sheet, source_row, stage, column_name, check_name, {value} as masked_value, message
from quarantine.rows
where delivery_id = ?
order by source_row, column_name nulls first, check_name
limit ?
"""
QUARANTINED_SQL = _QUARANTINED_SQL.format(value="masked_value")
QUARANTINED_SQL_UNMASKED_SNAPSHOT = _QUARANTINED_SQL.format(value="null::varchar")


def quarantined_rows(snap: Snapshot, delivery_id: str, *, has_masked_value: bool, limit: int) -> pl.DataFrame:
    """The first `limit` quarantine entries of one delivery, with masked values (none on snapshots
    without them). Ask for one more than you show to tell whether there are more."""
    sql = QUARANTINED_SQL if has_masked_value else QUARANTINED_SQL_UNMASKED_SNAPSHOT
    return query(snap, sql, (delivery_id, int(limit)))


SKIPPED_SQL = """
select sheet, source_row, reason from ops.skipped_rows where delivery_id = ? order by source_row
"""


def skipped_rows(snap: Snapshot, delivery_id: str) -> pl.DataFrame:
    """Title, blank and totals rows of one delivery."""
    return query(snap, SKIPPED_SQL, (delivery_id,))


class MappingLabels(NamedTuple):
    """Names from config/mappings for display: kind -> (label_zh, label_en); (kind, column) -> header."""

    kinds: dict[str, tuple[str, str]]
    headers: dict[tuple[str, str], str]


def mapping_labels() -> MappingLabels:
    """Kind labels and the marketing-system header of each column (empty if the config is unreadable)."""
    try:
        mappings = [load_mapping(kind) for kind in KINDS]
    except Exception:  # a broken config folder must not break the page: codes are shown instead
        return MappingLabels({}, {})
    return MappingLabels(
        {m.kind: (m.label_zh, m.label_en) for m in mappings},
        {(m.kind, name): spec.header_zh for m in mappings for name, spec in m.columns.items()},
    )
