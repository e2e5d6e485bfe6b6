"""One file in, every row accounted for: loaded into core, or quarantined with its reason,
or the whole file rejected with a message. Also: the delivery registry, repeated keys and
supersession.

The file's rows go into a TEMP working table inside DuckDB (`worktable.py`: the text as parsed,
typed values computed in SQL where they are read). Exact repeats, stage 1 (cast failures), rows of
another month and repeated keys (`keys.py`) are found in SQL; stage 2 (pandera) validates the
checked columns in polars, in batches of rows. One transaction then writes raw/core/quarantine,
records the delivery and replaces, per grain value (the segments of a readings file), what earlier
deliveries held (`supersede.py`). A load that fails or is killed before that commit leaves nothing
visible (TEMP tables die with the connection): the warehouse keeps its previous state. Do not call
`ingest_path` inside an open transaction. The registry lives in `registry.py`."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from checks.casting import cast_failures_sql, castable_columns, quote, typed_name
from checks.errors import FileRejected
from checks.mappings import KindMapping, code_tables, load_mapping
from checks.masking import mask_by_column, mask_line
from checks.periods import check_period
from checks.schemas import validate, validated_columns
from checks.values import install_macros, sql_literal
from pipelines.ingest.classify import classify
from pipelines.ingest.keys import drop_exact_repeats, split_key_repeats
from pipelines.ingest.period import decide_period, normalize_period, period_and_column, period_from_file_name
from pipelines.ingest.readers import SheetTable, read_file, require_regular_file
from pipelines.ingest.registry import DeliveryResult, file_sha256, record, record_config_version, registry_status
from pipelines.ingest.supersede import Replacement, describe_values, shared_elsewhere, supersede
from pipelines.ingest.worktable import Loaded, Typing, WorkTable, load_work_table, text_of
from readq.config import load_toml


@dataclass
class _Delivery:
    """One delivery in flight: its result, mapping and working tables."""

    res: DeliveryResult
    mapping: KindMapping
    sheet: str | None
    columns: dict[str, str]           # file header -> canonical column
    unmapped: list[str]
    headers: list[str]                # the file's headers, in order
    work: WorkTable
    text_of: dict[str, str] = field(init=False)  # canonical column -> its text column in the work table
    period_source: str | None = None
    skipped: list[tuple[int, str]] = field(default_factory=list)
    loaded: Loaded = field(default_factory=Loaded)

    def __post_init__(self) -> None:
        self.text_of = text_of(self.headers, self.columns)

    @property
    def kind(self) -> str:
        return self.mapping.kind

    def header_of(self, column: str) -> str:
        """The file's header of a canonical column (the canonical name if the file lacks it)."""
        return next((h for h, c in self.columns.items() if c == column), column)

    def value(self, column: str) -> str:
        """SQL for the value a row holds in a canonical column: typed, the period filled from the delivery."""
        if column == "period":
            return f"coalesce({typed_name(column)}, {sql_literal(self.res.period)})"
        return typed_name(column)


def _insert_failures(conn: duckdb.DuckDBPyConnection, d: _Delivery, sql: str) -> None:
    conn.execute(f"insert into {d.work.failures} by name {sql}")


def _find_failures(conn: duckdb.DuckDBPyConnection, d: _Delivery) -> None:
    """Stage 1, rows of another month, repeated keys, then stage 2 — each on the rows still standing."""
    res, work, text_of = d.res, d.work, d.text_of
    conn.execute(f"create or replace temp table {work.failures} (_pos bigint, column_name varchar, "
                 "check_name varchar, raw_value varchar, detail varchar, stage varchar default 'cast')")
    _insert_failures(conn, d, cast_failures_sql(d.mapping, text_of,
                                                work.rows(castable_columns(d.mapping, text_of))))
    if "period" in text_of:
        _insert_failures(conn, d, f"""
            select _pos, 'period' as column_name, 'period_matches_delivery({res.period})' as check_name,
                   {typed_name('period')} as raw_value from {work.rows(['period'])}
            where {typed_name('period')} <> {sql_literal(res.period)}""")
    key_columns = [c for c in d.mapping.row_key if c in text_of]
    d.skipped += split_key_repeats(
        conn, work, key={d.header_of(c): d.value(c) for c in key_columns}, key_columns=key_columns,
        required=[d.value(c) for c in key_columns if d.mapping.columns[c].required],
        values=[d.value(c) for c in d.mapping.columns], typed=list(d.mapping.columns))
    checked = ", ".join(f"{d.value(c)} as {c}" for c in validated_columns(d.kind))
    validated = work.rows(validated_columns(d.kind))
    # stage 2 in batches of rows (every rule is row-wise), so memory stays bounded for big files
    batch = int(load_toml("readq.toml")["ingest"]["validate_batch_rows"])
    positions = conn.execute(f"select count(*) from {work.table}").fetchall()[0][0]
    for low in range(0, positions, batch):
        typed = conn.sql(f"select _pos, {checked} from {validated} anti join {work.failures} using (_pos) "
                         f"where _pos >= {low} and _pos < {low + batch}").pl()
        _insert_frame(conn, work.failures, validate(d.kind, typed).with_columns(stage=pl.lit("validate")))


def _quarantine_frame(conn: duckdb.DuckDBPyConnection, d: _Delivery) -> pl.DataFrame:
    """Every quarantined row with its reasons: cell failures (masked) and unreadable lines."""
    res = d.res
    grain_rows = d.work.rows([d.mapping.grain] if d.mapping.grain else [], live=False)
    cells = conn.sql(f"select v._source_row, f.column_name, f.check_name, f.raw_value, f.detail, f.stage, "
                     f"{_grain_value(d)} as grain_value from {d.work.failures} f join {grain_rows} v using (_pos)").pl()
    cells = cells.with_columns(mask_by_column(d.kind, pl.col("raw_value"), pl.col("column_name")).alias("masked_value"))
    by_position = [d.columns.get(h) for h in d.headers]
    unreadable = pl.DataFrame(
        [(n, None, check, raw, detail, mask_line(d.kind, raw, by_position), "read")
         for n, check, detail, raw in d.loaded.bad_lines],
        schema={"_source_row": pl.Int64, "column_name": pl.String, "check_name": pl.String, "raw_value": pl.String,
                "detail": pl.String, "masked_value": pl.String, "stage": pl.String}, orient="row")
    unreadable = unreadable.with_columns(grain_value=pl.lit(None, pl.String))  # an unreadable line has no grain
    failures = pl.concat([unreadable, cells.select(unreadable.columns)]).rechunk()
    return failures.select(
        pl.lit(res.delivery_id).alias("delivery_id"), pl.lit(d.kind).alias("kind"),
        pl.lit(res.period).alias("period"), pl.lit(d.sheet, pl.String).alias("sheet"),
        pl.col("_source_row").cast(pl.Int32).alias("source_row"), "stage", "column_name", "check_name",
        "raw_value", pl.coalesce("detail", pl.format("{} failed {} (value {})", pl.col("column_name"),
                                                     "check_name", pl.col("masked_value").fill_null("∅")))
        .alias("message"), "masked_value", "grain_value")


def _decide_period(conn: duckdb.DuckDBPyConnection, d: _Delivery, file_name: str,
                   explicit: str | None) -> None:
    """The month most rows carry in the first period-bearing column present, else the file name or --period;
    a month the warehouse does not accept (checks.periods) rejects the file, whatever told it."""
    if (found := period_and_column(conn, d.work, d.mapping, set(d.text_of))) is not None:
        month, column = found
        told = "its" if d.mapping.columns[column].type == "period" else "the dates in its"
        d.res.period, d.period_source = check_period(month, f"from {told} {d.header_of(column)} column"), "column"
    else:
        d.res.period, d.period_source = decide_period(file_name, explicit)


def _count(conn: duckdb.DuckDBPyConnection, rows: str) -> int:
    return int(conn.execute(f"select count(*) from {rows}").fetchall()[0][0])


def _grain_value(d: _Delivery) -> str:
    """SQL for a parsed row's grain value ('' for no value, one more grain value). A row missing a
    required grain (a segment) belongs to no grain: NULL, like an unreadable line, goes with the delivery."""
    grain = d.mapping.grain
    if grain is None:
        return "''"
    return typed_name(grain) if d.mapping.columns[grain].required else f"coalesce({typed_name(grain)}, '')"


def _grains(conn: duckdb.DuckDBPyConnection, d: _Delivery) -> dict[str, tuple[int, int]]:
    """grain value -> (rows loaded, rows quarantined) of the delivery's readable rows."""
    columns = [d.mapping.grain] if d.mapping.grain else []
    return {g: (int(loaded), int(quarantined)) for g, loaded, quarantined in conn.execute(f"""
        select grain_value, count(*) filter (where not failed), count(*) filter (where failed) from (
            select {_grain_value(d)} as grain_value, _pos in (select _pos from {d.work.failures}) as failed
            from {d.work.rows(columns)})
        where grain_value is not null group by 1""").fetchall()}


def _load_table(conn: duckdb.DuckDBPyConnection, table: SheetTable, res: DeliveryResult, *, path: Path,
                sha: str, size: int, version: str, kind: str | None, period: str | None,
                on_stage: Callable[[str], None]) -> None:
    match = classify(table.headers, path.name, kind)
    res.kind = match.kind
    d = _Delivery(res=res, mapping=load_mapping(match.kind), sheet=table.sheet, columns=match.columns,
                  unmapped=match.unmapped, headers=table.headers,
                  work=WorkTable(re.sub(r"[^0-9A-Za-z]", "_", res.delivery_id)))
    install_macros(conn, code_tables())
    clock = time.perf_counter()

    def lap(stage: str, following: str | None = None) -> None:
        nonlocal clock
        now = time.perf_counter()
        res.seconds[stage] = round(now - clock, 3)
        clock = now
        if following:
            on_stage(following)

    on_stage("reading")
    try:
        d.loaded = load_work_table(conn, table, d.work, Typing.of(d.mapping, d.text_of))
        lap("read", "checking")
        d.skipped = table.skipped + d.loaded.skipped + drop_exact_repeats(conn, d.work)
        if _count(conn, d.work.rows()) + len(d.loaded.bad_lines) == 0:
            raise FileRejected("the file has a header but no data rows")
        _decide_period(conn, d, path.name, period)
        _find_failures(conn, d)
        d.skipped.sort()
        live = _count(conn, d.work.rows())
        quarantined = conn.execute(f"select count(distinct _pos) from {d.work.failures}").fetchall()[0][0]
        res.rows_read = live + len(d.loaded.bad_lines)
        res.rows_quarantined = quarantined + len(d.loaded.bad_lines)
        res.rows_loaded = live - quarantined
        res.rows_skipped = len(d.skipped)
        grains = _grains(conn, d)
        failures = _quarantine_frame(conn, d)
        lap("check", "writing")
        conn.execute("begin")
        try:
            _publish_delivery(conn, d, table, failures, grains, path=path, sha=sha, size=size, version=version)
            conn.execute("commit")
            lap("write")
        except BaseException:
            conn.execute("rollback")
            raise
    finally:
        d.work.drop(conn)


def _good_rows(d: _Delivery, columns: list[str]) -> str:
    """The rows that passed every check, with the typed values of `columns`."""
    return f"(select * from {d.work.rows(columns)} anti join {d.work.failures} using (_pos))"


def _write_layers(conn: duckdb.DuckDBPyConnection, d: _Delivery, failures: pl.DataFrame) -> None:
    """raw (every readable row, as text), core (the rows that passed, typed), quarantine."""
    res = d.res
    lineage = f"{sql_literal(res.delivery_id)} as delivery_id, {sql_literal(d.sheet) if d.sheet else 'null'} " \
              "as sheet, cast(_source_row as integer) as source_row"
    raw_cols = [f"{d.text_of[c]} as {quote(c)}" for c in d.mapping.columns if c in d.text_of]
    extras = (("json_object(" + ", ".join(f"{sql_literal(h)}, c{d.headers.index(h)}" for h in d.unmapped) + ")")
              if d.unmapped else "null")
    conn.execute(f"insert into raw.{d.kind} by name select {lineage}, {', '.join(raw_cols)}, "
                 f"{extras} as extras from {d.work.rows()}")
    core_cols = [f"{d.value(c)} as {quote(c)}" for c in d.mapping.columns]
    conn.execute(f"insert into core.{d.kind} by name select {lineage}, {', '.join(core_cols)} "
                 f"from {_good_rows(d, list(d.mapping.columns))}")
    _insert_frame(conn, "quarantine.rows", failures)


def _replacement_warnings(d: _Delivery, replaced: list[Replacement], elsewhere: list[tuple[str, int]]) -> list[str]:
    """A replacement that shares few keys with what it replaces (the same segment, other customers), and
    keys other files of the month hold too: loaded, but worth a look."""
    minimum = float(load_toml("readq.toml")["ingest"]["min_shared_keys"])
    keys = ", ".join(d.header_of(c) for c in d.mapping.row_key)
    out = [f"{describe_values(d.mapping, r.values)}: this file shares only {r.keys_shared} of the {r.keys_before} "
           f"keys ({keys}) of {r.file_name}, which it replaces ({r.shared_share:.0%}); check that it really is a "
           "corrected export of the same data"
           for r in replaced if r.keys_before and r.shared_share < minimum]
    out += [f"{n} keys ({keys}) of this file are also in {file_name}, in force for the same month: the marts "
            "count each once (from the latest delivery)" for file_name, n in elsewhere]
    return out


def _message(d: _Delivery, table: SheetTable, replaced: list[Replacement]) -> str:
    res = d.res
    repeats = sum(1 for _, reason in d.skipped if "repeat of line" in reason)
    parts = [f"{res.rows_loaded} rows loaded"]
    if res.rows_quarantined:
        parts.append(f"{res.rows_quarantined} quarantined")
    if res.rows_skipped > repeats:
        parts.append(f"{res.rows_skipped - repeats} skipped (title/blank/totals)")
    if repeats:
        parts.append(f"{repeats} exact repeat(s) of other rows dropped")
    if d.unmapped:
        parts.append(f"extra columns kept in raw: {', '.join(d.unmapped)}")
    for r in replaced:
        parts.append(f"replaces {describe_values(d.mapping, r.values)} of {r.file_name} "
                     f"({r.delivery_id}, now {r.status})")
    return "; ".join(parts + table.notes + d.loaded.notes)


def _insert_frame(conn: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Insert a polars frame's rows by column name (executemany costs about a millisecond a row)."""
    if frame.height:
        conn.register("rq_rows", frame)
        try:
            conn.execute(f"insert into {table} by name select * from rq_rows")
        finally:
            conn.unregister("rq_rows")


def _publish_delivery(conn: duckdb.DuckDBPyConnection, d: _Delivery, table: SheetTable, failures: pl.DataFrame,
                      grains: dict[str, tuple[int, int]], *, path: Path, sha: str, size: int, version: str) -> None:
    """Inside the delivery's transaction: raw/core/quarantine, what it covers and replaces, registry."""
    res, mapping = d.res, d.mapping
    _write_layers(conn, d, failures)
    skipped = pl.DataFrame({"source_row": [r for r, _ in d.skipped], "reason": [why for _, why in d.skipped]},
                           schema={"source_row": pl.Int32, "reason": pl.String})
    _insert_frame(conn, "ops.skipped_rows", skipped.select(pl.lit(res.delivery_id).alias("delivery_id"),
                                                           pl.lit(d.sheet, pl.String).alias("sheet"), pl.all()))
    covered = pl.DataFrame([(g, n, q) for g, (n, q) in sorted(grains.items())], orient="row",
                           schema={"grain_value": pl.String, "rows_loaded": pl.Int64, "rows_quarantined": pl.Int64})
    _insert_frame(conn, "ops.delivery_grains", covered.select(
        pl.lit(res.delivery_id).alias("delivery_id"), pl.lit(d.kind).alias("kind"), pl.lit(res.period).alias("period"),
        pl.all()))  # a file of a thousand segments: one insert, not a thousand
    replaced = supersede(conn, mapping, period=res.period, delivery_id=res.delivery_id)
    res.supersedes = [r.delivery_id for r in replaced]
    res.replaced = [r.to_dict() for r in replaced]
    res.warnings = _replacement_warnings(
        d, replaced, shared_elsewhere(conn, mapping, period=res.period, delivery_id=res.delivery_id))
    res.status = "loaded"
    res.message = _message(d, table, replaced)
    record(conn, res, path=path, sha=sha, size=size, version=version, encoding=table.encoding,
           period_source=d.period_source, grain=mapping.grain,
           scope=describe_values(mapping, list(grains)) if grains else None,
           replaces="; ".join(f"{describe_values(mapping, r.values)} of {r.file_name} ({r.delivery_id})"
                              for r in replaced) or None,
           unmapped=d.unmapped)


def _likely_period(path: Path, explicit: str | None) -> str | None:
    """For a rejected file: the month its name or the user states, so it is listed under that month."""
    try:
        return period_from_file_name(path.name) or (normalize_period(explicit) if explicit else None)
    except FileRejected:
        return None


def ingest_path(conn: duckdb.DuckDBPyConnection, path: Path, *, kind: str | None = None,
                period: str | None = None, sheet: str | None = None,
                on_stage: Callable[[str], None] | None = None) -> list[DeliveryResult]:
    """Ingest one file (each sheet a delivery, each atomic). Never raises for bad input: rejects and records.
    `on_stage` hears what a delivery is doing (reading, checking, writing), for progress displays."""
    path = Path(path)
    version = record_config_version(conn)
    try:
        require_regular_file(path)  # a FIFO or a device would hang the hashing below
    except FileRejected as exc:  # recorded under the path (there is no content to name it by)
        res = DeliveryResult(file=path.name, sheet=sheet, kind=kind, message=str(exc),
                             delivery_id="path:" + hashlib.sha256(str(path).encode()).hexdigest()[:11],
                             period=_likely_period(path, period))
        record(conn, res, path=path, sha="", size=0, version=version)
        return [res]
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
        if (status := registry_status(conn, delivery_id)) not in (None, "rejected"):
            old = conn.execute("select kind, period, rows_read, rows_loaded, rows_quarantined from ops.deliveries "
                               "where delivery_id = ?", [delivery_id]).fetchall()[0]
            res.kind, res.period, res.rows_read, res.rows_loaded, res.rows_quarantined = old
            res.status, res.message = "duplicate", f"already delivered as {delivery_id} ({status}); nothing changed"
            if period is not None and res.period is not None and period != res.period:
                # the same bytes cannot be two months' export: say where they are rather than seem to load
                res.message = (f"already delivered as {delivery_id} ({status}) for {res.period}, so it is not "
                               f"also loaded as {period}; nothing changed")
            results.append(res)
            continue
        try:
            _load_table(conn, table, res, path=path, sha=sha, size=size, version=version, kind=kind, period=period,
                        on_stage=on_stage or (lambda stage: None))
        except FileRejected as exc:
            res.status, res.message = "rejected", str(exc)
            res.period = res.period or _likely_period(path, period)
            res.rows_loaded = res.rows_quarantined = res.rows_read = res.rows_skipped = 0
            record(conn, res, path=path, sha=sha, size=size, version=version, encoding=table.encoding)
        results.append(res)
    return results
