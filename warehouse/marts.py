"""The marts: one SQL file per table in warehouse/sql/, its header declaring what it is.

    -- marts.kpi_team_month: 实抄率 … per team and month.        (the first line: table and description)
    -- partition: month                                         (rebuilt one billing month at a time)
    -- inputs: core.readings, core.assignments, ops.deliveries  (the tables it reads: its asset's deps)
    -- param error_target_manual: targets.toml error_rate.target_manual   (a config value, as $name)

The Dagster asset of each mart is made from this header (`pipelines/defs/marts/assets.py`), so a new
mart is its SQL file plus its DDL in sql/schema.sql. Every SQL file gets `$period` and
`$config_version`. A month is rebuilt in one transaction, which also records in ops.mart_builds the
state of the data it was built from, so a month whose data changed after its marts (a load that
committed, then the build failed or was killed) is found and rebuilt (`stale_months`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

import duckdb

from readq.config import config_version, load_toml
from warehouse.schema import latest_change, next_seq
from warehouse.sql import SQL_DIR, load_sql

HEADER_LINE = re.compile(r"^--\s?(.*)$")
TITLE = re.compile(r"^marts\.(\w+):\s*(.+)$")
PARAM = re.compile(r"^param (\w+):\s*([\w/.-]+\.toml)\s+([\w.]+)$")


@dataclass(frozen=True)
class Mart:
    """A mart as its SQL file declares it."""

    name: str
    description: str
    partition: str                              # "month"
    inputs: tuple[str, ...]                     # schema.table it reads
    params: dict[str, tuple[str, str]] = field(default_factory=dict)  # $name -> (config file, dotted key)

    @property
    def sql(self) -> str:
        return load_sql(self.name)

    def values(self, period: str) -> dict[str, object]:
        """The SQL's parameters for one month: $period, $config_version and the declared config values."""
        out: dict[str, object] = {"period": period, "config_version": config_version()}
        for name, (file, dotted) in self.params.items():
            value: object = load_toml(file)
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
    description = ""
    for line in header:
        if (title := TITLE.match(line)) and title.group(1) == name:
            description = title.group(2)
        elif (param := PARAM.match(line)) is not None:
            params[param.group(1)] = (param.group(2), param.group(3))
        elif ":" in line and line.split(":", 1)[0] in ("partition", "inputs"):
            key, value = line.split(":", 1)
            fields[key] = value.strip()
        elif description and not fields and not params:
            description += " " + line
    if "partition" not in fields:
        return None
    if fields["partition"] != "month":
        raise ValueError(f"warehouse/sql/{name}.sql: unknown partition {fields['partition']!r} (known: month)")
    inputs = tuple(i.strip() for i in fields.get("inputs", "").split(",") if i.strip())
    return Mart(name, description, fields["partition"], inputs, params)


@cache
def marts() -> tuple[Mart, ...]:
    """Every mart under warehouse/sql/, in name order."""
    found = (parse_header(p.stem, p.read_text(encoding="utf-8")) for p in sorted(SQL_DIR.glob("*.sql")))
    return tuple(m for m in found if m is not None)


def mart(name: str) -> Mart:
    for m in marts():
        if m.name == name:
            return m
    raise KeyError(f"no mart {name!r} in warehouse/sql/")


def data_seq(conn: duckdb.DuckDBPyConnection, period: str) -> int:
    """The state of a month's data: the seq of its latest delivery that loaded (0: none)."""
    return int(conn.execute("select coalesce(max(seq), 0) from ops.deliveries where period = ? "
                            "and status <> 'rejected'", [period]).fetchall()[0][0])


def replace_month(conn: duckdb.DuckDBPyConnection, table: str, period: str) -> int:
    """Delete and rebuild `marts.<table>` for one month inside the caller's transaction, and record
    the build in ops.mart_builds; rows written."""
    m = mart(table)
    conn.execute(f"delete from marts.{table} where period = ?", [period])
    conn.execute(m.sql, m.values(period))
    conn.execute("insert or replace into ops.mart_builds values (?, ?, ?, ?, ?, ?)",
                 [table, period, data_seq(conn, period), next_seq(conn), config_version(), datetime.now()])
    return conn.execute(f"select count(*) from marts.{table} where period = ?", [period]).fetchall()[0][0]


def stale_months(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Months whose data changed after one of their marts was built, or that a mart was never built for."""
    names = [m.name for m in marts()]
    if not names:
        return []
    rows = conn.execute(
        """with months as (
               select period, max(seq) as data_seq from ops.deliveries
               where status <> 'rejected' and period is not null group by period),
           expected as (select period, data_seq, unnest(?) as mart from months)
           select distinct e.period from expected e
           left join ops.mart_builds b on b.mart = e.mart and b.period = e.period
           where b.data_seq is null or b.data_seq < e.data_seq order by 1""", [names]).fetchall()
    return [r[0] for r in rows]


def unpublished(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse changed (a delivery, a rejection, a mart build) since the last snapshot."""
    published = conn.execute("select coalesce(max(seq), 0) from ops.publishes").fetchall()[0][0]
    return latest_change(conn) > int(published)
