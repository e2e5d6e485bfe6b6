"""One file in, every row accounted for: loaded into core, or quarantined with its reason,
or the whole file rejected with a message. Also: the delivery registry, duplicates and
supersession.

Each delivery is atomic. Its chunks stream into private staging tables (committed as they go,
so memory stays bounded however big the file — DuckDB holds a transaction's appends in
memory), and one short transaction then moves them into raw/core/quarantine, records the
delivery and supersedes the earlier one. A load that fails or is killed leaves only staging
tables, which `drop_stale_staging` removes: the warehouse keeps its previous state.
Do not call `ingest_path` inside an open transaction. The registry lives in `registry.py`, the
staging tables in `staging.py`."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from checks.casting import SOURCE_ROW, cast_frame
from checks.mappings import load_mapping
from checks.masking import mask_by_column, mask_line
from checks.schemas import validate
from pipelines.ingest.classify import classify
from pipelines.ingest.errors import FileRejected
from pipelines.ingest.period import decide_period, normalize_period, period_from_file_name
from pipelines.ingest.readers import Chunk, SheetTable, read_file
from pipelines.ingest.registry import DeliveryResult, file_sha256, record, record_config_version, registry_status
from pipelines.ingest.staging import create_staging, drop_staging, insert_frame, staging_names, temp_staging_max_bytes


class _Duplicates:
    """Exact repeats of an earlier row of the same file (across chunks): quarantined, naming the
    row they repeat. Rows are remembered by a 64-bit hash of their values."""

    def __init__(self) -> None:
        self.seen = pl.DataFrame(schema={"_hash": pl.UInt64, "_first": pl.Int64})

    def failures(self, canonical: pl.DataFrame) -> pl.DataFrame:
        values = [c for c in canonical.columns if c != SOURCE_ROW]
        hashed = canonical.select(SOURCE_ROW, pl.struct(values).hash().alias("_hash"))
        hashed = hashed.join(self.seen, on="_hash", how="left").with_columns(
            pl.coalesce("_first", pl.col(SOURCE_ROW).min().over("_hash")).alias("_first"))
        self.seen = pl.concat([self.seen, hashed.filter(pl.col(SOURCE_ROW) == pl.col("_first"))
                               .select("_hash", "_first")])
        return hashed.filter(pl.col(SOURCE_ROW) != pl.col("_first")).select(
            SOURCE_ROW, pl.lit(None, pl.String).alias("column_name"), pl.lit("duplicate_row").alias("check_name"),
            pl.lit(None, pl.String).alias("raw_value"),
            pl.format("exact repeat of row {}", "_first").alias("detail"))


@dataclass
class _Delivery:
    """What one delivery accumulates while its chunks stream through."""

    res: DeliveryResult
    kind: str
    sheet: str | None
    columns: dict[str, str]
    unmapped: list[str]
    headers: list[str] = field(default_factory=list)  # the file's headers, in order
    period_source: str | None = None
    scope_values: dict[str, set] = field(default_factory=dict)
    duplicates: _Duplicates = field(default_factory=_Duplicates)
    staging: dict[str, str] = field(default_factory=dict)
    skipped: list[tuple[int, str]] = field(default_factory=list)


def _prepare_chunk(d: _Delivery, chunk: Chunk, *, file_name: str,
                   explicit_period: str | None) -> dict[str, pl.DataFrame] | None:
    """Pure polars work on one chunk: the frames to write to staging (raw, core, quarantine)."""
    mapping = load_mapping(d.kind)
    res = d.res
    canonical = chunk.frame.select(pl.col(SOURCE_ROW), *[pl.col(h).alias(c) for h, c in d.columns.items()])
    if res.period is None:
        if canonical.height == 0 and not chunk.bad_lines:
            return None
        res.period, d.period_source = decide_period(canonical, mapping.period_columns, file_name, explicit_period)
    res.rows_read += canonical.height + len(chunk.bad_lines)
    res.rows_skipped += len(chunk.skipped)
    d.skipped += chunk.skipped

    typed, cast_failures = cast_frame(canonical, mapping)
    # every row belongs to the delivery's month; a row stating another month is quarantined
    typed = typed.with_columns(pl.col("period").fill_null(res.period))
    other_month = typed.filter(pl.col("period") != res.period).select(
        SOURCE_ROW, pl.lit("period").alias("column_name"),
        pl.lit(f"period_matches_delivery({res.period})").alias("check_name"), pl.col("period").alias("raw_value"))
    cast_failures = pl.concat([cast_failures, d.duplicates.failures(canonical), other_month], how="diagonal")
    castable = typed.filter(~pl.col(SOURCE_ROW).is_in(cast_failures[SOURCE_ROW].unique().implode()))
    good, check_failures = validate(d.kind, castable.drop(SOURCE_ROW), castable[SOURCE_ROW])
    good = good.with_columns(castable[SOURCE_ROW].filter(
        ~castable[SOURCE_ROW].is_in(check_failures[SOURCE_ROW].unique().implode())).alias(SOURCE_ROW))

    by_position = [d.columns.get(h) for h in d.headers]
    unreadable = pl.DataFrame(
        [(n, None, check, raw, detail, mask_line(raw, by_position)) for n, check, detail, raw in chunk.bad_lines],
        schema={SOURCE_ROW: pl.Int64, "column_name": pl.String, "check_name": pl.String, "raw_value": pl.String,
                "detail": pl.String, "masked_value": pl.String}, orient="row")
    failures = pl.concat([
        unreadable.with_columns(pl.lit("read").alias("stage")),
        cast_failures.with_columns(pl.lit("cast").alias("stage")),
        check_failures.with_columns(pl.lit("validate").alias("stage")),
    ], how="diagonal").rechunk()  # polars 2.1 panics formatting a many-chunk frame ("i < self.len()")
    failures = failures.with_columns(
        pl.coalesce("masked_value", mask_by_column(pl.col("raw_value"), pl.col("column_name"))).alias("masked_value"))
    res.rows_loaded += good.height
    res.rows_quarantined += failures[SOURCE_ROW].n_unique()
    for column in mapping.scope_columns:
        if column in good.columns:
            d.scope_values.setdefault(column, set()).update(good[column].drop_nulls().unique().to_list())

    lineage = [pl.lit(res.delivery_id).alias("delivery_id"), pl.lit(d.sheet, pl.String).alias("sheet"),
               pl.col(SOURCE_ROW).cast(pl.Int32).alias("source_row")]
    extras = (pl.struct([pl.col(h) for h in d.unmapped]).struct.json_encode() if d.unmapped
              else pl.lit(None, pl.String))
    raw_cols = [pl.col(h).alias(c) for h, c in d.columns.items() if c != "period"]
    raw_period = next((pl.col(h) for h, c in d.columns.items() if c == "period"), pl.lit(None, pl.String))
    return {
        "raw": chunk.frame.select(*lineage, raw_period.alias("period"), *raw_cols, extras.alias("extras")),
        "core": good.select(*lineage, pl.exclude(SOURCE_ROW)),
        "quarantine": failures.select(
            pl.lit(res.delivery_id).alias("delivery_id"), pl.lit(d.kind).alias("kind"),
            pl.lit(res.period).alias("period"), pl.lit(d.sheet, pl.String).alias("sheet"),
            pl.col(SOURCE_ROW).cast(pl.Int32).alias("source_row"), "stage", "column_name", "check_name",
            "raw_value", pl.coalesce("detail", pl.format("{} failed {} (value {})", pl.col("column_name"),
                                                         "check_name", pl.col("masked_value").fill_null("∅")))
            .alias("message"), "masked_value"),
    }


def _prepared_chunks(d: _Delivery, table: SheetTable, *, file_name: str,
                     explicit_period: str | None) -> Iterator[dict[str, pl.DataFrame]]:
    """Chunks prepared one ahead in a worker thread, so polars (parse, cast, validate) and DuckDB
    (writing the previous chunk) run at the same time; both release the GIL. Order is kept."""
    def prepare_all() -> Iterator[dict[str, pl.DataFrame]]:
        for chunk in table.chunks():
            prepared = _prepare_chunk(d, chunk, file_name=file_name, explicit_period=explicit_period)
            if prepared is not None:
                yield prepared

    source = prepare_all()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="readq-prepare") as pool:
        ahead = pool.submit(next, source, None)
        while (prepared := ahead.result()) is not None:
            ahead = pool.submit(next, source, None)
            yield prepared


def _load_table(conn: duckdb.DuckDBPyConnection, table: SheetTable, res: DeliveryResult, *, path: Path,
                sha: str, size: int, version: str, kind: str | None, period: str | None) -> None:
    match = classify(table.headers, path.name, kind)
    res.kind = match.kind
    d = _Delivery(res=res, kind=match.kind, sheet=table.sheet, columns=match.columns, unmapped=match.unmapped,
                  headers=table.headers,
                  staging=staging_names(res.delivery_id, in_memory=size <= temp_staging_max_bytes()))
    res.rows_skipped = len(table.skipped)
    d.skipped = list(table.skipped)
    create_staging(conn, match.kind, d.staging)
    try:
        for prepared in _prepared_chunks(d, table, file_name=path.name, explicit_period=period):
            for layer, frame in prepared.items():
                insert_frame(conn, d.staging[layer], frame)
        if res.rows_read == 0:
            raise FileRejected("the file has a header but no data rows")
        conn.execute("begin")
        try:
            _publish_delivery(conn, d, table, path=path, sha=sha, size=size, version=version)
            conn.execute("commit")
        except BaseException:
            conn.execute("rollback")
            raise
    finally:
        drop_staging(conn, d.staging)


def _publish_delivery(conn: duckdb.DuckDBPyConnection, d: _Delivery, table: SheetTable, *, path: Path, sha: str,
                      size: int, version: str) -> None:
    """Inside the delivery's transaction: staging -> raw/core/quarantine, supersession, registry."""
    res, mapping = d.res, load_mapping(d.kind)
    conn.execute(f"insert into raw.{d.kind} select * from {d.staging['raw']}")
    conn.execute(f"insert into core.{d.kind} select * from {d.staging['core']}")
    conn.execute(f"insert into quarantine.rows select * from {d.staging['quarantine']}")
    if d.skipped:
        conn.executemany("insert into ops.skipped_rows values (?, ?, ?, ?)",
                         [[res.delivery_id, d.sheet, row, reason] for row, reason in d.skipped])

    scope = "|".join("+".join(sorted(map(str, d.scope_values.get(c, set())))) or "*"
                     for c in mapping.scope_columns) or "*"
    earlier = conn.execute(
        """select delivery_id from ops.deliveries where kind = ? and period = ? and scope = ?
           and status = 'loaded' and delivery_id <> ?""",
        [d.kind, res.period, scope, res.delivery_id]).fetchall()
    res.supersedes = [r[0] for r in earlier]
    for (old,) in earlier:
        conn.execute(f"delete from core.{d.kind} where delivery_id = ?", [old])
        conn.execute("update ops.deliveries set status = 'superseded', superseded_by = ? where delivery_id = ?",
                     [res.delivery_id, old])
    res.status = "superseded" if earlier else "loaded"
    parts = [f"{res.rows_loaded} rows loaded"]
    if res.rows_quarantined:
        parts.append(f"{res.rows_quarantined} quarantined")
    if res.rows_skipped:
        parts.append(f"{res.rows_skipped} skipped (title/blank/totals)")
    if d.unmapped:
        parts.append(f"extra columns kept in raw: {', '.join(d.unmapped)}")
    if earlier:
        parts.append(f"supersedes {', '.join(res.supersedes)}")
    parts += table.notes
    res.message = "; ".join(parts)
    record(conn, res, path=path, sha=sha, size=size, version=version, encoding=table.encoding,
            period_source=d.period_source, scope=scope, unmapped=d.unmapped)


def _likely_period(path: Path, explicit: str | None) -> str | None:
    """For a rejected file: the month its name or the user states, so it is listed under that month."""
    try:
        return period_from_file_name(path.name) or (normalize_period(explicit) if explicit else None)
    except FileRejected:
        return None


def ingest_path(conn: duckdb.DuckDBPyConnection, path: Path, *, kind: str | None = None,
                period: str | None = None, sheet: str | None = None) -> list[DeliveryResult]:
    """Ingest one file (each sheet a delivery, each atomic). Never raises for bad input: rejects and records."""
    path = Path(path)
    version = record_config_version(conn)
    sha, size = file_sha256(path), path.stat().st_size
    try:
        tables = read_file(path, sheet)
    except FileRejected as exc:
        res = DeliveryResult(file=path.name, sheet=sheet, kind=kind, message=str(exc), delivery_id=sha[:16],
                             period=_likely_period(path, period))
        record(conn, res, path=path, sha=sha, size=size, version=version)
        return [res]
    multi = len(tables) > 1 or sheet is not None
    results = []
    for table in tables:
        delivery_id = sha[:16] + (f":{table.sheet}" if multi and table.sheet else "")
        res = DeliveryResult(file=path.name, sheet=table.sheet, delivery_id=delivery_id)
        if registry_status(conn, delivery_id) in ("loaded", "superseded"):
            old = conn.execute("select kind, period, rows_read, rows_loaded, rows_quarantined from ops.deliveries "
                               "where delivery_id = ?", [delivery_id]).fetchall()[0]
            res.kind, res.period, res.rows_read, res.rows_loaded, res.rows_quarantined = old
            res.status, res.message = "duplicate", f"already delivered as {delivery_id}; nothing changed"
            results.append(res)
            continue
        try:
            _load_table(conn, table, res, path=path, sha=sha, size=size, version=version, kind=kind, period=period)
        except FileRejected as exc:
            res.status, res.message = "rejected", str(exc)
            res.period = res.period or _likely_period(path, period)
            res.rows_loaded = res.rows_quarantined = res.rows_read = 0
            record(conn, res, path=path, sha=sha, size=size, version=version, encoding=table.encoding)
        results.append(res)
    return results
