"""Within one delivery the kind's key is unique (for readings: meter and read type of the month).

An exact repeat of a row is dropped and counted: it is listed in ops.skipped_rows ("exact repeat of
line N", or "repeat of line N (same values)" when only the spelling differs, e.g. `1,000` and `1000`)
and stays in raw. Rows that share a key but differ in their values are all quarantined
(`duplicate_key`): nobody can tell which of them is right, and the marts must never count a meter
twice. Both work on a delivery's working table (`worktable.WorkTable`).
"""

from __future__ import annotations

import duckdb

from checks.values import sql_literal
from pipelines.ingest.worktable import WorkTable

DUPLICATE_KEY = "duplicate_key"


def drop_exact_repeats(conn: duckdb.DuckDBPyConnection, work: WorkTable) -> list[tuple[int, str]]:
    """Rows whose mapped text equals an earlier row's (`_hash`): moved to the skip list; (line, reason)."""
    conn.execute(f"""
        insert into {work.skip} by name
        with repeated as (select _hash, min(_source_row) as first from {work.rows()} group by _hash
                          having count(*) > 1)
        select _pos, _source_row, 'exact repeat of line ' || first as reason
        from {work.rows()} join repeated using (_hash)
        where _source_row <> first""")
    return [(int(r), reason) for r, reason in conn.execute(
        f"select _source_row, reason from {work.skip} where reason like 'exact repeat of line %'").fetchall()]


def split_key_repeats(conn: duckdb.DuckDBPyConnection, work: WorkTable, *, key: dict[str, str],
                      key_columns: list[str], required: list[str], values: list[str],
                      typed: list[str]) -> list[tuple[int, str]]:
    """Among the rows not failing yet, rows sharing `key` ({label: typed SQL of the canonical
    `key_columns`}): the later ones of a
    group whose typed `values` are all equal are skipped as repeats; every row of a group whose values
    differ goes to the failures table as `duplicate_key`. Rows whose `required` key parts are missing
    are left to the schema check (not_nullable). Returns the skipped (line, reason)."""
    if not key:
        return []
    parts = [f"{expr} as k{i}" for i, expr in enumerate(key.values())]
    ks = [f"k{i}" for i in range(len(key))]
    present = " and ".join(f"{expr} is not null" for expr in required) or "true"
    same = " and ".join(f"r.{k} is not distinct from g.{k}" for k in ks)
    shown = ", ".join(f"coalesce(cast(g.{k} as varchar), '∅')" for k in ks)
    label = sql_literal(f"({', '.join(key)})")
    # first the keys that repeat (only the key columns typed: cheap), then the values of their rows alone
    conn.execute(f"""
        create or replace temp table {work.temp('keys')} as
        with r as (
            select _pos, _source_row, {', '.join(parts)}
            from {work.rows(key_columns)} anti join {work.failures} using (_pos)
            where {present}
        ), g as (
            select {', '.join(ks)} from r group by all having count(*) > 1
        )
        select r.* from r join g on {same}""")
    conn.execute(f"""
        create or replace temp table {work.temp('keyvals')} as
        with r as (
            select k.*, v.vh from {work.temp('keys')} k
            join (select _pos, hash({', '.join(values)}) as vh from {work.rows(typed)}
                  semi join {work.temp('keys')} using (_pos)) v using (_pos)
        ), g as (
            select {', '.join(ks)}, count(distinct vh) as kinds, min(_source_row) as first,
                   string_agg(cast(_source_row as varchar), ', ' order by _source_row) as lines
            from r group by all
        )
        select r._pos, r._source_row, g.kinds, g.first, g.lines, concat_ws(', ', {shown}) as shown
        from r join g on {same}""")
    conn.execute(f"""
        insert into {work.failures} by name
        select _pos, null as column_name, '{DUPLICATE_KEY}' as check_name, null as raw_value,
               'key ' || {label} || ' = (' || shown || ') is repeated on lines ' || lines
               || ' with different values' as detail, 'validate' as stage
        from {work.temp('keyvals')} where kinds > 1""")
    conn.execute(f"""
        insert into {work.skip} by name
        select _pos, _source_row, 'repeat of line ' || first || ' (same values)' as reason
        from {work.temp('keyvals')} where kinds = 1 and _source_row <> first""")
    repeats = conn.execute(f"select _source_row, 'repeat of line ' || first || ' (same values)' "
                           f"from {work.temp('keyvals')} where kinds = 1 and _source_row <> first").fetchall()
    for what in ("keys", "keyvals"):
        conn.execute(f"drop table {work.temp(what)}")
    return [(int(r), reason) for r, reason in repeats]
