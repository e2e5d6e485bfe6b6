"""A published snapshot cut to some teams: what a team leader's dashboards read (config/readq.toml [scoping]).

`write_scoped(published, teams, target)` copies into a new DuckDB file, atomically (`<target>.next`, then
`os.replace`), only what those teams may see:

- a table with a `team` column: the teams' rows (raw.* excepted, see below);
- `via` tables: the rows whose key columns match the teams' rows of another table (a metering point's
  history);
- `as_team` tables: a centre-level table rebuilt from the teams' rows of its team-level table;
- `whole_tables`: as they are (no team's numbers in them);
- raw.* (the delivered rows behind flags and ledger rows): the rows behind the teams' rows of any table
  copied above (the delivered team column is often empty: teams come from the assignments);
- ops.deliveries and ops.delivery_grains: the files behind those rows; quarantine.rows and
  ops.skipped_rows only of files that hold no other team's rows;
- every other table is left out, so no query can reach it.

The copy holds no row of another team: the dashboards, their downloads, the monthly report and the Query
page read it as they read the whole snapshot. Values are copied as published (already masked).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

DELIVERY_TABLES = ("ops.deliveries", "ops.delivery_grains")
FILE_DETAIL_TABLES = ("quarantine.rows", "ops.skipped_rows")


@dataclass(frozen=True)
class Via:
    table: str
    source: str
    on: tuple[str, ...]


@dataclass(frozen=True)
class ScopingPolicy:
    whole_tables: tuple[str, ...] = ()
    via: tuple[Via, ...] = ()
    as_team: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> ScopingPolicy:
        return cls(whole_tables=tuple(cfg.get("whole_tables", ())),
                   via=tuple(Via(v["table"], v["from"], tuple(v["on"])) for v in cfg.get("via", ())),
                   as_team=dict(cfg.get("as_team", {})))


@dataclass
class ScopedResult:
    path: Path
    rows: dict[str, int]        # table -> rows copied
    left_out: list[str]         # tables of the snapshot not copied


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _qualified(name: str, db: str | None = None) -> str:
    schema, table = name.split(".", 1)
    return ".".join(_ident(p) for p in ((db,) if db else ()) + (schema, table))


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = con.execute("""
        select schema_name || '.' || table_name, list(column_name order by column_index)
        from duckdb_columns() where database_name = 'src' and not internal
        group by all""").fetchall()
    return {name: list(cols) for name, cols in rows}


def _key_join(a: str, b: str, cols: Iterable[str]) -> str:
    return " and ".join(f"{a}.{_ident(c)} is not distinct from {b}.{_ident(c)}" for c in cols)


def write_scoped(published: Path, teams: Sequence[str], target: Path, policy: ScopingPolicy) -> ScopedResult:
    """Copy what `teams` may see of the snapshot `published` into `target` (atomically); see the module."""
    if not teams:
        raise ValueError("a scoped snapshot needs at least one team")
    nxt = target.with_name(f"{target.name}.{uuid.uuid4().hex}.next")  # two sessions may build the same copy
    target.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(nxt))
    rows: dict[str, int] = {}
    try:
        con.execute("attach '" + str(published).replace("'", "''") + "' as src (read_only)")
        columns = _columns(con)
        team_list = list(teams)
        keyed: list[str] = []        # copied tables holding delivery_id and source_row

        def create(name: str, select: str, params: list[Any] | None = None) -> None:
            schema = name.split(".", 1)[0]
            con.execute(f"create schema if not exists {_ident(schema)}")
            con.execute(f"create table {_qualified(name)} as {select}", params or [])
            rows[name] = con.execute(f"select count(*) from {_qualified(name)}").fetchall()[0][0]
            if {"delivery_id", "source_row"} <= set(columns.get(name, ())):
                keyed.append(name)

        in_teams = "list_contains(?::varchar[], team)"
        for name, cols in columns.items():
            if "team" in cols and not name.startswith("raw.") and name not in policy.as_team:
                create(name, f"select * from {_qualified(name, 'src')} where {in_teams}", [team_list])
        for v in policy.via:
            if v.table in columns and v.source in rows:
                create(v.table, f"select * from {_qualified(v.table, 'src')} t semi join {_qualified(v.source)} s "
                                f"on {_key_join('t', 's', v.on)}")
        for centre, level in policy.as_team.items():
            if centre in columns and level in columns:
                cols = ", ".join(_ident(c) for c in columns[centre] if c in columns[level])
                create(centre, f"select {cols} from {_qualified(level, 'src')} where {in_teams} order by period",
                       [team_list])
        for name in policy.whole_tables:
            if name in columns:
                create(name, f"select * from {_qualified(name, 'src')}")

        # the delivered rows behind the teams' rows: (delivery_id, sheet, source_row) of every keyed copy
        parts = []
        for name in keyed:
            sheet = "sheet" if "sheet" in columns[name] else "null::varchar"
            parts.append(f"select delivery_id, {sheet} as sheet, source_row from {_qualified(name)}")
        con.execute("create temp table keys as " + (" union ".join(parts) if parts else
                    "select null::varchar as delivery_id, null::varchar as sheet, null::bigint as source_row "
                    "where false"))
        for name, cols in columns.items():
            if name.startswith("raw.") and {"delivery_id", "source_row"} <= set(cols):
                sheet = "and k.sheet is not distinct from r.sheet" if "sheet" in cols else ""
                create(name, f"select r.* from {_qualified(name, 'src')} r semi join keys k "
                             f"on k.delivery_id = r.delivery_id and k.source_row = r.source_row {sheet}")
        con.execute("create temp table files as select distinct delivery_id from keys")
        # files holding another team's rows anywhere in the snapshot
        others = [f"select delivery_id from {_qualified(n, 'src')} where not {in_teams}"
                  for n, cols in columns.items() if {"team", "delivery_id"} <= set(cols) and not n.startswith("raw.")]
        con.execute("create temp table shared as " + (" union ".join(others) if others else
                    "select null::varchar as delivery_id where false"), [team_list] * len(others))
        for name in DELIVERY_TABLES:
            if name in columns:
                create(name, f"select * from {_qualified(name, 'src')} where delivery_id in (select delivery_id "
                             "from files)")
        for name in FILE_DETAIL_TABLES:
            if name in columns:
                create(name, f"select * from {_qualified(name, 'src')} where delivery_id in (select delivery_id "
                             "from files) and delivery_id not in (select delivery_id from shared "
                             "where delivery_id is not null)")
        con.execute("detach src")
        con.execute("checkpoint")
        con.close()
    except BaseException:
        con.close()
        for leftover in (nxt, nxt.with_name(nxt.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    os.replace(nxt, target)
    return ScopedResult(target, rows, sorted(set(columns) - set(rows)))
