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
