"""Checksums of the marts: what two warehouses must agree on when they hold the same data.

`mart_checksums(conn)` gives, per mart and month, the row count and an order-free hash of every row
(the sum of each row's hash): two warehouses built from the same files — in another order, twice over, or
after a crash and a rerun — must give equal checksums. Columns recording when a row was computed
(`VOLATILE`) are left out: they say when the work ran, not what the data says. Floating-point values are
compared to `DOUBLE_DIGITS` decimals: a sum of doubles depends on the order its rows were added in (the
last bits of 156487.7 differ between two loads of the same files).
"""

from __future__ import annotations

import duckdb

from checks.casting import quote
from warehouse.marts import marts

VOLATILE = ("computed_at", "built_at")
DOUBLE_DIGITS = 6
FLOATS = ("DOUBLE", "FLOAT", "REAL")


def table_checksum(conn: duckdb.DuckDBPyConnection, table: str) -> dict[str, tuple[int, str]]:
    """{period: (rows, hash)} of `schema.table` (which has a period column), volatile columns left out."""
    schema, name = table.split(".", 1)
    columns = [(c, t) for c, t in conn.execute(
        "select column_name, data_type from duckdb_columns() where database_name = current_database() "
        "and schema_name = ? and table_name = ? order by column_index", [schema, name]).fetchall() if c not in VOLATILE]
    listed = ", ".join(f"round({quote(c)}, {DOUBLE_DIGITS})" if t in FLOATS else quote(c) for c, t in columns)
    rows = conn.execute(f"select period, count(*), sum(hash({listed})::hugeint)::varchar from {table} "
                        "group by period order by period").fetchall()
    return {p: (int(n), str(h)) for p, n, h in rows}


def mart_checksums(conn: duckdb.DuckDBPyConnection) -> dict[str, dict[str, tuple[int, str]]]:
    """{mart: {period: (rows, hash)}} of every mart of warehouse/sql/ in the database open on `conn`."""
    return {m.name: table_checksum(conn, f"marts.{m.name}") for m in marts()}


def published_checksums(snapshot: duckdb.DuckDBPyConnection) -> dict[str, dict[str, tuple[int, str]]]:
    """The same of every published mart, on a connection to a snapshot (warehouse/publish.py keeps its
    INTERNAL marts in the warehouse)."""
    from warehouse.publish import INTERNAL

    return {m.name: table_checksum(snapshot, f"marts.{m.name}") for m in marts() if f"marts.{m.name}" not in INTERNAL}
