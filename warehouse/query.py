"""Read-only SQL over the published snapshot: the guarded connection behind `readq query` and the
Query page (docs/query.md), and the catalogue of what each published column means.

The guards are DuckDB's own; tests/test_query.py tries each one at our DuckDB version (2.0.1):

1. **Read-only.** The snapshot is attached `READ_ONLY` into a private in-memory DuckDB, whose own
   writable catalog (`memory`) is then detached: every table a query can name is in the snapshot and
   cannot be written (`INSERT`, `CREATE`, `nextval` … fail with "attached in read-only mode"). Not
   `duckdb.connect(path, read_only=True, config=…)`: DuckDB shares one instance per file and process
   and refuses a second connection with another configuration, so while a guarded query ran, every
   other page's connection to the snapshot would fail ("different configuration"), and the reverse.
2. **No external access.** `enable_external_access = false`, set once the snapshot is attached: no
   file but the snapshot's own Parquet parts (`allowed_paths`: exactly the files its views read, listed in
   its ops.snapshot_parts), no URL, secret or extension can be reached (`read_csv`, `read_parquet`, `read_json`,
   `read_text`, `read_blob`, `glob`, `COPY`, `EXPORT`, `ATTACH` of a file, `INSTALL`, `LOAD`).
   Python replacement scans are off, so a table name never resolves to a Python variable.
3. **Locked configuration.** `lock_configuration = true`: `SET`, `RESET`, `PRAGMA` and table
   functions that change a setting (`enable_profiling()`, `enable_logging()`) fail.
4. **One SELECT.** `extract_statements` must find exactly one statement, of type SELECT (which
   covers `WITH …`, `FROM …`, `VALUES`, `DESCRIBE`, `SHOW`, `SUMMARIZE`, `PIVOT … IN (…)`); any other
   type (`INSERT`, `COPY`, `ATTACH`, `SET`, `CALL`, `EXPLAIN`, a transaction …) is refused before
   anything runs. No keyword list: the parser says what a statement is.
5. **A row limit and a timeout.** At most `limit` rows are fetched (one more tells whether the
   result was truncated). DuckDB has no statement timeout: a timer thread calls
   `connection.interrupt()` after `timeout` seconds and the query ends with "Interrupted!".

Personal data: a query reaches only the snapshot, which holds personal data masked
(`warehouse/publish.py`: `quarantine.rows` without `raw_value`, the flagged `raw.readings` rows with
names, phones and addresses masked, no `core` tables); the pipeline's warehouse is never opened.
"""

from __future__ import annotations

import json
import re
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from checks.values import sql_literal
from readq.config import load_toml
from warehouse.schema import has_relation

CATALOGUE_PATH = Path(__file__).with_name("catalogue.toml")
SNAPSHOT_ALIAS = "snapshot"

# Statement types and why each is refused (reason codes; the page's text keys are query_reason_<code>).
_REFUSED_TYPES: dict[str, str] = {
    "INSERT": "write", "UPDATE": "write", "DELETE": "write", "CREATE": "write", "DROP": "write",
    "ALTER": "write", "MERGE_INTO": "write", "VACUUM": "write", "COPY_DATABASE": "write",
    "CREATE_FUNC": "write", "ANALYZE": "write",
    "COPY": "file", "EXPORT": "file",
    "ATTACH": "attach", "DETACH": "attach",
    "LOAD": "extension", "EXTENSION": "extension",
    "SET": "configuration", "VARIABLE_SET": "configuration", "PRAGMA": "configuration", "CALL": "configuration",
}
_MESSAGES: dict[str, str] = {
    "empty": "there is no SQL statement to run",
    "multiple": "only one statement per query is allowed; this text holds {n}",
    "write": "the snapshot is read-only: statements that write or create anything are refused ({kind})",
    "read_only": "the snapshot is read-only: this query tries to change it (a sequence's nextval, for one)",
    "file": "file, URL and extension access is disabled: only the tables of the published snapshot can be read",
    "attach": "ATTACH and DETACH are refused: queries read the published snapshot only",
    "extension": "INSTALL and LOAD are refused: extensions cannot be installed or loaded",
    "configuration": "SET, RESET, PRAGMA and CALL are refused: the configuration of a query is locked ({kind})",
    "setting": "the configuration of a query is locked: the setting {kind} cannot be changed",
    "statement": "only a SELECT query (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE) is allowed, "
                 "not {kind}",
    "pivot": "a PIVOT statement without an IN list runs several statements: name the values, "
             "PIVOT … ON column IN ('a', 'b') USING …",
    "timeout": "the query ran longer than {seconds:g} s and was interrupted; narrow it down (filter by "
               "period, aggregate, add a LIMIT)",
    "interrupted": "the query was interrupted",
    "syntax": "the SQL has a syntax error",
    "sql": "the query names a table, column or function that does not exist here, or uses one wrongly",
    "error": "the query failed",
    "memory": "the query needs more memory than a query may use (config/readq.toml [query] memory_limit); "
              "aggregate first or narrow it down (filter by period)",
    "no_snapshot": "no published snapshot at {path}: run `readq demo` or `readq build` first",
    "limit": "the row limit must be a whole number from 1 to {max}",
}
_OPTION = re.compile(r'configuration option "([^"]+)"')
# Types polars cannot take from DuckDB (or shows as raw bytes): returned as their text instead.
_AS_TEXT = re.compile(r"\b(INTERVAL|UNION|TIME WITH TIME ZONE|VARIANT|BIT)\b")


class QueryError(Exception):
    """A query that did not run or did not finish. `reason` is a stable code (the page shows the text
    `query_reason_<reason>` in the user's language), `str()` says it in English, `detail` is DuckDB's
    own message when there is one (the SQL quoted in it is the user's, shown as plain text)."""

    def __init__(self, reason: str, detail: str = "", **fmt: Any) -> None:
        self.reason = reason
        self.detail = detail
        self.fmt = fmt
        super().__init__(_MESSAGES[reason].format(**fmt))


class QueryRefused(QueryError):
    """A guard said no: a statement other than one SELECT, a write, file access, a setting."""


class QueryTimedOut(QueryError):
    """Interrupted after the timeout."""


class QueryFailed(QueryError):
    """The SQL itself is wrong (syntax, unknown table or column) or DuckDB could not finish it."""


@dataclass(frozen=True)
class QuerySettings:
    """config/readq.toml [query]."""

    default_limit: int
    max_limit: int
    timeout_seconds: float
    memory_limit: str


def settings() -> QuerySettings:
    q = load_toml("readq.toml")["query"]
    return QuerySettings(int(q["default_limit"]), int(q["max_limit"]), float(q["timeout_seconds"]),
                         str(q["memory_limit"]))


@dataclass(frozen=True)
class QueryResult:
    frame: pl.DataFrame  # at most `limit` rows
    truncated: bool  # the query had more rows than `limit`
    limit: int


def open_readonly_snapshot(path: Path, *, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """A guarded connection on the snapshot at `path` (see the module docstring); close it when done."""
    if not Path(path).is_file():
        raise QueryFailed("no_snapshot", path=str(path))
    conn = duckdb.connect(":memory:", config={
        "python_enable_replacements": False,
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "allow_community_extensions": False,
        "memory_limit": memory_limit or settings().memory_limit,
    })
    try:
        conn.execute(f"attach ? as {SNAPSHOT_ALIAS} (read_only)", [str(path)])
        conn.execute(f"use {SNAPSHOT_ALIAS}")
        conn.execute("detach memory")  # the in-memory catalog was the only writable one (temp aside)
        parts = snapshot_parts(conn)
        if parts:   # the snapshot's views read these files (warehouse/publish.py), and nothing else may be read
            conn.execute("set allowed_paths = [" + ", ".join(sql_literal(p) for p in parts) + "]")
        conn.execute("set enable_external_access = false")
        conn.execute("set lock_configuration = true")  # last: nothing above can be undone from now on
    except BaseException:
        conn.close()
        raise
    return conn


def snapshot_parts(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """The Parquet files the views of the snapshot open on `conn` read (its ops.snapshot_parts); none for a
    snapshot without parts (a team's copy holds tables only)."""
    if not has_relation(conn, "ops.snapshot_parts"):
        return []
    return [r[0] for r in conn.execute("select path from ops.snapshot_parts").fetchall()]


def check_statement(conn: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse `sql` unless it is exactly one SELECT statement (parsed by DuckDB, nothing is run)."""
    try:
        statements = conn.extract_statements(sql)
    except duckdb.ParserException as exc:
        raise QueryFailed("syntax", str(exc)) from None
    if not statements:
        raise QueryRefused("empty")
    if len(statements) > 1:
        raise QueryRefused("multiple", n=len(statements))
    try:
        kind = statements[0].type.name
    except ValueError as exc:  # a type the Python client does not know (UPDATE EXTENSIONS: "29 is not a valid …")
        raise QueryRefused("statement", str(exc), kind="UNKNOWN") from None
    if kind == "SELECT":
        return
    if kind == "MULTI":
        raise QueryRefused("pivot", kind=kind)
    raise QueryRefused(_REFUSED_TYPES.get(kind, "statement"), kind=kind)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _unique(names: list[str]) -> list[str]:
    """Column names made unique as polars does (a, a_1, a_2 …)."""
    seen: set[str] = set()
    out = []
    for name in names:
        candidate, n = name, 0
        while candidate in seen:
            n += 1
            candidate = f"{name}_{n}"
        seen.add(candidate)
        out.append(candidate)
    return out


def _fetch(conn: duckdb.DuckDBPyConnection, sql: str, rows: int) -> pl.DataFrame:
    rel = conn.sql(sql)
    types = [str(t) for t in rel.types]
    if any(_AS_TEXT.search(t) for t in types):  # positional: the names may repeat
        rel = rel.project(", ".join(
            f"#{i}{'::varchar' if _AS_TEXT.search(t) else ''} as {_quote(name)}"
            for i, (t, name) in enumerate(zip(types, _unique(rel.columns), strict=True), start=1)))
    return rel.limit(rows).pl()


_VIEW_WRITE = re.compile(r"is not an? table|Can only (update|delete from) base table")


def _failure(exc: duckdb.Error) -> QueryError:
    """DuckDB's error as a refusal (a guard fired while the query was bound or run) or a failure."""
    text = str(exc)
    if isinstance(exc, duckdb.PermissionException):
        return QueryRefused("file", text)
    if "configuration has been locked" in text:
        option = _OPTION.search(text)
        return QueryRefused("setting", text, kind=option.group(1) if option else "?")
    if "read-only mode" in text or _VIEW_WRITE.search(text):   # a published mart is a view over its parts
        return QueryRefused("read_only", text)
    if isinstance(exc, duckdb.OutOfMemoryException):
        return QueryFailed("memory", text)
    if isinstance(exc, duckdb.ParserException):
        return QueryFailed("syntax", text)
    if isinstance(exc, duckdb.CatalogException | duckdb.BinderException):
        return QueryFailed("sql", text)
    return QueryFailed("error", text)


def run_query(conn: duckdb.DuckDBPyConnection, sql: str, limit: int, timeout: float | None) -> QueryResult:
    """Check `sql` (one SELECT) and run it on a connection from `open_readonly_snapshot`, fetching at
    most `limit` rows; interrupted after `timeout` seconds (None or ≤ 0: no timeout).

    Raises QueryRefused (a guard), QueryTimedOut, QueryFailed (a mistake in the SQL, or DuckDB could
    not finish it). Use a connection for one query: an interrupt that fires as a query ends is not
    meant for the next one.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a whole number ≥ 1, not {limit!r}")
    check_statement(conn, sql)
    fired = threading.Event()

    def interrupt() -> None:
        fired.set()
        conn.interrupt()

    timer = threading.Timer(timeout, interrupt) if timeout and timeout > 0 else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        frame = _fetch(conn, sql, limit + 1)
    except duckdb.InterruptException as exc:
        if fired.is_set():
            raise QueryTimedOut("timeout", str(exc), seconds=timeout) from None
        raise QueryFailed("interrupted", str(exc)) from None
    except duckdb.Error as exc:
        raise _failure(exc) from None
    except pl.exceptions.PolarsError as exc:  # a value polars cannot hold
        raise QueryFailed("error", f"{type(exc).__name__}: {exc}") from None
    finally:
        if timer is not None:
            timer.cancel()
    truncated = frame.height > limit
    return QueryResult(frame.head(limit) if truncated else frame, truncated, limit)


def query_snapshot(path: Path, sql: str, *, limit: int | None = None, timeout: float | None = None) -> QueryResult:
    """Open the snapshot guarded, run one query with the configured (or given) limit and timeout, close."""
    cfg = settings()
    limit = cfg.default_limit if limit is None else limit
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= cfg.max_limit:
        raise QueryRefused("limit", max=cfg.max_limit)
    conn = open_readonly_snapshot(path, memory_limit=cfg.memory_limit)
    try:
        return run_query(conn, sql, limit, cfg.timeout_seconds if timeout is None else timeout)
    finally:
        conn.close()


# Flat types a CSV cell holds as they are; anything else (lists, structs, maps, bytes) is written as text.
_FLAT = (pl.String, pl.Boolean, pl.Date, pl.Datetime, pl.Time, pl.Duration, pl.Decimal, pl.Categorical, pl.Enum,
         pl.Null)


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.hex()
    return json.dumps(value, ensure_ascii=False, default=str)


def flat_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every column a CSV cannot hold as it is (List, Struct, Map, Binary) as text: nested
    values as JSON (`[3, 1, 4]`, `{"a": 1}`), bytes as hex. Other columns unchanged."""
    changes = [pl.Series(name, [_cell_text(v) for v in frame[name].to_list()], dtype=pl.String)
               for name, dtype in frame.schema.items()
               if not (dtype.is_numeric() or isinstance(dtype, _FLAT))]
    return frame.with_columns(changes) if changes else frame


# --- The catalogue: what each published table and column means (warehouse/catalogue.toml) ------------

@dataclass(frozen=True)
class Meaning:
    zh: str
    en: str


@dataclass(frozen=True)
class TableMeaning:
    name: str  # schema.table
    zh: str
    en: str
    columns: dict[str, Meaning]


@dataclass(frozen=True)
class Catalogue:
    """warehouse/catalogue.toml: per table its meaning and its columns'; `shared` columns mean the same in
    every table that has them (a table's own entry wins); a column `<base><suffix>` whose base has a
    meaning takes the suffix's template (`{base}` is the base column's name)."""

    tables: dict[str, TableMeaning]
    shared: dict[str, Meaning]
    suffixes: dict[str, Meaning]

    def column(self, table: str, column: str) -> Meaning | None:
        found = self._direct(table, column)
        if found is not None:
            return found
        for suffix in sorted(self.suffixes, key=len, reverse=True):
            base = column[: -len(suffix)]
            if column.endswith(suffix) and base and self._direct(table, base) is not None:
                template = self.suffixes[suffix]
                return Meaning(template.zh.format(base=base), template.en.format(base=base))
        return None

    def _direct(self, table: str, column: str) -> Meaning | None:
        entry = self.tables.get(table)
        return (entry.columns.get(column) if entry else None) or self.shared.get(column)


def _meanings(entries: dict[str, Any]) -> dict[str, Meaning]:
    return {name: Meaning(str(m.get("zh", "")), str(m.get("en", ""))) for name, m in entries.items()}


def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    """The catalogue file: [schema.table] (zh, en, columns), [columns] (shared), [suffixes]."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    shared = _meanings(data.pop("columns", {}))
    suffixes = _meanings(data.pop("suffixes", {}))
    tables: dict[str, TableMeaning] = {}
    for schema, entries in data.items():
        for table, entry in entries.items():
            name = f"{schema}.{table}"
            tables[name] = TableMeaning(name, str(entry.get("zh", "")), str(entry.get("en", "")),
                                        _meanings(entry.get("columns", {})))
    return Catalogue(tables, shared, suffixes)


# Every column of every table in the snapshot open on a connection (guarded or plain read-only).
SNAPSHOT_COLUMNS_SQL = """
select schema_name || '.' || table_name as table_name, column_name, data_type
from duckdb_columns()
where database_name = current_database() and not internal
order by schema_name, table_name, column_index
"""


def snapshot_columns(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(schema.table, column, type) of every column in the snapshot, in table and column order."""
    return [(t, c, d) for t, c, d in conn.execute(SNAPSHOT_COLUMNS_SQL).fetchall()]


def missing_meanings(columns: list[tuple[str, str, str]], catalogue: Catalogue) -> list[str]:
    """The tables and columns of `columns` the catalogue gives no meaning (zh and en) for."""
    missing = []
    for table in dict.fromkeys(t for t, _, _ in columns):
        entry = catalogue.tables.get(table)
        if entry is None or not entry.zh.strip() or not entry.en.strip():
            missing.append(table)
    for table, column, _ in columns:
        meaning = catalogue.column(table, column)
        if meaning is None or not meaning.zh.strip() or not meaning.en.strip():
            missing.append(f"{table}.{column}")
    return missing
