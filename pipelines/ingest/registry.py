"""The delivery registry (ops.deliveries): one row per file or sheet ever offered, with its
outcome, counts, message and the config version in force."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from readq.config import config_dir, config_version
from warehouse.schema import next_seq


@dataclass
class DeliveryResult:
    file: str
    sheet: str | None = None
    kind: str | None = None
    period: str | None = None
    status: str = "rejected"        # loaded | duplicate (delivered before: nothing changed) | rejected
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    message: str = ""
    delivery_id: str | None = None
    supersedes: list[str] = field(default_factory=list)     # earlier deliveries it replaced (some or all rows of)
    replaced: list[dict] = field(default_factory=list)      # per earlier delivery: its values replaced, its status now
    warnings: list[str] = field(default_factory=list)        # loaded, but the user should look (shown by readq ingest)
    seconds: dict[str, float] = field(default_factory=dict)  # where the load's time went: read, check, write

    def to_dict(self) -> dict:
        return asdict(self)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def record_config_version(conn: duckdb.DuckDBPyConnection) -> str:
    version = config_version()
    known = conn.execute("select 1 from ops.config_versions where config_version = ?", [version]).fetchall()
    if not known:
        root = config_dir()
        files = {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.toml"))}
        conn.execute("insert into ops.config_versions values (?, ?, ?)", [version, datetime.now(), json.dumps(files)])
    return version


def registry_status(conn: duckdb.DuckDBPyConnection, delivery_id: str) -> str | None:
    rows = conn.execute("select status from ops.deliveries where delivery_id = ?", [delivery_id]).fetchall()
    return rows[0][0] if rows else None


def record(conn: duckdb.DuckDBPyConnection, res: DeliveryResult, *, path: Path, sha: str, size: int,
           version: str, encoding: str | None = None, period_source: str | None = None, grain: str | None = None,
           scope: str | None = None, replaces: str | None = None, unmapped: list[str] | None = None) -> int:
    """Record a delivery (a rejected one replaces its earlier rejection); its seq."""
    conn.execute("delete from ops.deliveries where delivery_id = ? and status = 'rejected'", [res.delivery_id])
    seq = next_seq(conn)
    conn.execute(
        """insert into ops.deliveries (delivery_id, file_name, source_path, sha256, size_bytes, sheet, kind,
               period, period_source, grain, scope, encoding, status, replaces, rows_read, rows_loaded,
               rows_quarantined, rows_skipped, unmapped_columns, message, config_version, received_at, seq)
           values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [res.delivery_id, path.name, str(path), sha, size, res.sheet, res.kind, res.period, period_source,
         grain, scope, encoding, res.status, replaces, res.rows_read, res.rows_loaded, res.rows_quarantined,
         res.rows_skipped, unmapped or [], res.message, version, datetime.now(), seq],
    )
    return seq
