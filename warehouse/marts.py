"""The marts: one SQL file per table in warehouse/sql/, its header declaring what it is.

    -- marts.kpi_team_month: 实抄率 … per team and month.        (the first line: table and description)
    -- partition: month                                         (rebuilt one billing month at a time)
    -- inputs: core.readings, core.assignments, ops.deliveries  (the tables it reads: its asset's deps)
    -- param error_target_manual: targets.toml error_rate.target_manual   (a config value, as $name)
    -- param scoring_hash: assessment.toml @sha256                     (12 hex of that file's sha256)
    -- prepare: reading_context                                  (optional: a Python step, see below)
    -- history: rules.toml history.months                         (optional: months before it also read)
    -- key: team, reader?                                          (the columns one row of a month stands for;
                                                                   `?`: may be null, as at another level)

The key becomes the mart's check `key_not_null_and_unique` (beside the checks of
warehouse/sql/checks/<mart>.<check>.sql): per month no two rows share a key, and no key column
without `?` is null.

A mart that reads months before its own (`history:` a number, or a config value) is stale when any of
those months changed after its build, and its Dagster asset depends on those months' partitions.

A mart whose logic is not SQL (the history of every metering point, the rule functions) names a
prepare step: `warehouse/steps/<name>.py`, whose `prepare(conn, values)` returns {name: polars frame}.
Those frames are registered on the connection for the SQL file, which still writes the table
(`insert … select * from final`), so every mart is built, recorded and rebuilt the same way.

The Dagster asset of each mart is made from this header (`pipelines/defs/marts/assets.py`), so a new
mart is its SQL file plus its DDL in sql/ddl/<table>.sql. Every SQL file gets `$period` and
`$config_version`. A month is rebuilt in one transaction, which also records in ops.mart_builds the
state of the data it was built from, so a month whose data changed after its marts (a load that
committed, then the build failed or was killed) is found and rebuilt (`stale_months`).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

import duckdb

from checks.periods import shift_month
from readq.config import config_dir, config_version, load_toml
from warehouse.schema import latest_change, next_seq
from warehouse.sql import SQL_DIR, load_sql

HEADER_LINE = re.compile(r"^--\s?(.*)$")
TITLE = re.compile(r"^marts\.(\w+):\s*(.+)$")
PARAM = re.compile(r"^param (\w+):\s*([\w/.-]+\.toml)\s+([\w.]+|@sha256)$")
INSERT = re.compile(r"^\s*insert into marts\.(\w+) by name\s*$", re.MULTILINE)
FILE_HASH = "@sha256"                          # `param x: file.toml @sha256`: 12 hex of the file's sha256
PREPARE = re.compile(r"^prepare:\s*(\w+)$")
COUNT_BY = re.compile(r"^count by:\s*(\w+(?:\s*,\s*\w+)*)$")
HISTORY = re.compile(r"^history:\s*(\d+|[\w/.-]+\.toml\s+[\w.]+)$")
KEY = re.compile(r"^key:\s*(\w+\??(?:\s*,\s*\w+\??)*)$")
MACRO_CALL = re.compile(r"\brq_\w+\(")        # a call of the ingest's value macros (checks/values.py)
Prepare = Callable[[duckdb.DuckDBPyConnection, dict[str, object]], dict[str, object]]


@dataclass(frozen=True)
class MartCheck:
    """A check of a mart's month: SQL (with $period) returning the rows that break it; none = passed."""

    name: str
    description: str
    sql: str

    def violations(self, conn: duckdb.DuckDBPyConnection, period: str, limit: int = 20) -> tuple[int, list[tuple]]:
        """(rows breaking the check, the first `limit` of them). A check reading raw text as the ingest
        does (the rq_* value macros) gets them on its connection first."""
        if MACRO_CALL.search(self.sql):
            from checks.mappings import code_tables
            from checks.values import install_macros
            install_macros(conn, code_tables())
        rows = conn.execute(f"select * from ({self.sql}) limit {int(limit) + 1}", {"period": period}).fetchall()
        total = len(rows) if len(rows) <= limit else int(
            conn.execute(f"select count(*) from ({self.sql})", {"period": period}).fetchall()[0][0])
        return total, rows[:limit]


@dataclass(frozen=True)
class Mart:
    """A mart as its SQL file declares it."""

    name: str
    description: str
    partition: str                              # "month"
    inputs: tuple[str, ...]                     # schema.table it reads
    params: dict[str, tuple[str, str]] = field(default_factory=dict)  # $name -> (config file, dotted key)
    prepare: str | None = None                  # warehouse/steps/<prepare>.py, run before the SQL
    history: str = "0"                          # months before the month it reads: a number or "file.toml key"
    count_by: tuple[str, ...] = ()              # columns whose row counts the Dagster asset shows
    key: tuple[str, ...] = ()                   # columns a row of a month stands for ('x?': may be null)

    @property
    def history_months(self) -> int:
        if self.history.isdigit():
            return int(self.history)
        file, dotted = self.history.split()
        value: object = load_toml(file)
        for part in dotted.split("."):
            value = value[part]  # type: ignore[index]
        return int(value)  # type: ignore[call-overload]

    @property
    def checks(self) -> tuple[MartCheck, ...]:
        """The mart's checks: its key's (`key_check`), then warehouse/sql/checks/<mart>.<check>.sql, each
        returning the rows that break it."""
        found = [self.key_check()] if self.key else []
        for path in sorted((SQL_DIR / "checks").glob(f"{self.name}.*.sql")):
            text = path.read_text(encoding="utf-8")
            doc = " ".join(m.group(1).strip() for line in text.splitlines()
                           if (m := HEADER_LINE.match(line.strip())))
            found.append(MartCheck(path.stem.split(".", 1)[1], doc, text))
        return tuple(found)

    def key_check(self) -> MartCheck:
        """Per month, no two rows with the same key and no null in a key column not marked `?`."""
        columns = [c.rstrip("?") for c in self.key]
        listed = ", ".join(f'"{c}"' for c in columns)
        nulls = " or ".join(f'"{c}" is null' for c, declared in zip(columns, self.key, strict=True)
                            if not declared.endswith("?"))
        sql = (f"select {listed}, count(*) as copies from marts.{self.name} where period = $period "
               f"group by all having count(*) > 1{f' or {nulls}' if nulls else ''}")
        return MartCheck("key_not_null_and_unique",
                         f"One row per {', '.join(self.key)} and month; the rows returned are the keys "
                         "doubled or null.", sql)

    def step(self) -> Prepare | None:
        if self.prepare is None:
            return None
        return importlib.import_module(f"warehouse.steps.{self.prepare}").prepare  # type: ignore[no-any-return]

    @property
    def sql(self) -> str:
        return load_sql(self.name)

    @property
    def select_sql(self) -> str:
        """The SQL without its leading `insert into marts.<name> by name`: the rows it would write, to
        read (e.g. a ledger under another scoring version, `readq assess --compare`)."""
        text = self.sql
        found = INSERT.search(text)
        if found is None or found.group(1) != self.name:
            raise ValueError(f"warehouse/sql/{self.name}.sql: no `insert into marts.{self.name} by name` line")
        return text[:found.start()] + text[found.end():]

    def values(self, period: str, sources: dict[str, str] | None = None) -> dict[str, object]:
        """The SQL's parameters for one month: $period, $config_version and the declared config values.
        `sources` replaces config files by their text ({"assessment.toml": text}): the values another
        version of a file would give (its $config_version stays the one in force)."""
        out: dict[str, object] = {"period": period, "config_version": config_version()}
        for name, (file, dotted) in self.params.items():
            text = (sources or {}).get(file)
            if dotted == FILE_HASH:
                raw = text.encode() if text is not None else (config_dir() / file).read_bytes()
                out[name] = hashlib.sha256(raw).hexdigest()[:12]
                continue
            value: object = tomllib.loads(text) if text is not None else load_toml(file)
            for part in dotted.split("."):
                value = value[part]  # type: ignore[index]
            out[name] = value
        return out


def parse_header(name: str, text: str) -> Mart | None:
    """The mart a SQL file declares in its leading comment lines, or None (e.g. schema.sql)."""
    header = []
    for line in text.splitlines():
        if not (m := HEADER_LINE.match(line.strip())):
            break
        header.append(m.group(1).strip())
    fields: dict[str, str] = {}
    params: dict[str, tuple[str, str]] = {}
    prepare = None
    history = "0"
    count_by: tuple[str, ...] = ()
    key_columns: tuple[str, ...] = ()
    description = ""
    for line in header:
        if (title := TITLE.match(line)) and title.group(1) == name:
            description = title.group(2)
        elif (param := PARAM.match(line)) is not None:
            params[param.group(1)] = (param.group(2), param.group(3))
        elif (step := PREPARE.match(line)) is not None:
            prepare = step.group(1)
        elif (counted := COUNT_BY.match(line)) is not None:
            count_by = tuple(c.strip() for c in counted.group(1).split(","))
        elif (back := HISTORY.match(line)) is not None:
            history = " ".join(back.group(1).split())
        elif (keyed := KEY.match(line)) is not None:
            key_columns = tuple(c.strip() for c in keyed.group(1).split(","))
        elif ":" in line and line.split(":", 1)[0] in ("partition", "inputs"):
            key, value = line.split(":", 1)
            fields[key] = value.strip()
        elif description and not fields and not params and prepare is None and history == "0" and not count_by \
                and not key_columns:
            description += " " + line
    if "partition" not in fields:
        return None
    if fields["partition"] != "month":
        raise ValueError(f"warehouse/sql/{name}.sql: unknown partition {fields['partition']!r} (known: month)")
    inputs = tuple(i.strip() for i in fields.get("inputs", "").split(",") if i.strip())
    return Mart(name, description, fields["partition"], inputs, params, prepare, history, count_by, key_columns)


@cache
def marts() -> tuple[Mart, ...]:
    """Every mart under warehouse/sql/, each after the marts it reads (else in name order)."""
    found = (parse_header(p.stem, p.read_text(encoding="utf-8")) for p in sorted(SQL_DIR.glob("*.sql")))
    pending = {m.name: m for m in found if m is not None}
    ordered: list[Mart] = []
    while pending:
        ready = [m for m in pending.values()
                 if not any(i.startswith("marts.") and i[6:] in pending for i in m.inputs)]
        if not ready:
            raise ValueError(f"warehouse/sql/: the marts {sorted(pending)} read each other in a cycle")
        for m in ready:
            ordered.append(pending.pop(m.name))
    return tuple(ordered)


def mart(name: str) -> Mart:
    for m in marts():
        if m.name == name:
            return m
    raise KeyError(f"no mart {name!r} in warehouse/sql/")


def data_seq(conn: duckdb.DuckDBPyConnection, period: str, months_back: int = 0) -> int:
    """The state of a month's data (and of the `months_back` months before it): the seq of the latest
    delivery that loaded (0: none)."""
    first = shift_month(period, -months_back)
    return int(conn.execute("select coalesce(max(seq), 0) from ops.deliveries where period between ? and ? "
                            "and status <> 'rejected'", [first, period]).fetchall()[0][0])


def replace_month(conn: duckdb.DuckDBPyConnection, table: str, period: str) -> int:
    """Delete and rebuild `marts.<table>` for one month inside the caller's transaction, and record
    the build in ops.mart_builds; rows written."""
    m = mart(table)
    values = m.values(period)
    frames = step(conn, values) if (step := m.step()) is not None else {}
    conn.execute(f"delete from marts.{table} where period = ?", [period])
    try:
        for name, frame in frames.items():
            conn.register(name, frame)
        conn.execute(m.sql, {k: v for k, v in values.items() if f"${k}" in m.sql})
    finally:
        for name in frames:
            with contextlib.suppress(duckdb.Error):   # an aborted transaction is rolled back by the caller
                conn.unregister(name)
    conn.execute("insert or replace into ops.mart_builds values (?, ?, ?, ?, ?, ?)",
                 [table, period, data_seq(conn, period, m.history_months), next_seq(conn), config_version(),
                  datetime.now()])
    return conn.execute(f"select count(*) from marts.{table} where period = ?", [period]).fetchall()[0][0]


def stale_months(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Months whose data (or, for a mart with history, the data of the months it reads) changed after one
    of their marts was built, whose input mart was rebuilt after it, or that a mart was never built for."""
    stale: set[str] = set()
    for m in marts():
        rows = conn.execute(
            """with months as (
                   select period, max(seq) as data_seq from ops.deliveries
                   where status <> 'rejected' and period is not null group by period),
               windowed as (
                   select a.period, max(b.data_seq) as data_seq
                   from months a
                   join months b on b.period <= a.period
                    and b.period >= strftime(strptime(a.period || '-01', '%Y-%m-%d') - to_months(?), '%Y-%m')
                   group by a.period),
               inputs as (
                   select period, max(seq) as seq from ops.mart_builds where list_contains(?, mart) group by period)
               select w.period from windowed w
               left join ops.mart_builds b on b.mart = ? and b.period = w.period
               left join inputs i on i.period = w.period
               where b.data_seq is null or b.data_seq < w.data_seq or i.seq > b.seq""",
            [m.history_months, [i[6:] for i in m.inputs if i.startswith("marts.")], m.name]).fetchall()
        stale.update(r[0] for r in rows)
    return sorted(stale)


def unpublished(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse changed (a delivery, a rejection, a mart build) since the last snapshot."""
    published = conn.execute("select coalesce(max(seq), 0) from ops.publishes").fetchall()[0][0]
    return latest_change(conn) > int(published)
