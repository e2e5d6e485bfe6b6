"""Create the warehouse schema: the static DDL in sql/schema.sql, the DDL of each newer mart in
sql/ddl/<table>.sql (one file per table, beside its mart's SQL), plus, per input kind,
raw.<kind> (every delivered value as text, unmapped columns in `extras`) and core.<kind>
(typed canonical columns), both carrying lineage (delivery_id, sheet, source_row)."""

from __future__ import annotations

import duckdb

from checks.casting import DUCKDB_TYPES
from checks.mappings import KINDS, load_mapping
from warehouse.sql import SQL_DIR, load_sql

LINEAGE = "delivery_id VARCHAR NOT NULL, sheet VARCHAR, source_row INTEGER NOT NULL"
# Bumped when a table of sql/schema.sql changes shape; a warehouse of another version is refused
# with a message rather than half-working. 2: supersession by grain (ops.delivery_grains), mart builds.
# 3: kpi_team_month gains every KPI of the brief (its DDL in sql/ddl/), marts of issue 9.
SCHEMA_VERSION = 3


class WarehouseOutdated(RuntimeError):
    """The warehouse file was created by an earlier readq whose tables have another shape."""


def raw_ddl(kind: str) -> str:
    cols = ", ".join(f'"{c}" VARCHAR' for c in load_mapping(kind).columns if c != "period")
    return (f"CREATE TABLE IF NOT EXISTS raw.{kind} ({LINEAGE}, period VARCHAR, {cols}, extras JSON)")


def core_ddl(kind: str) -> str:
    mapping = load_mapping(kind)
    cols = ", ".join(
        f'"{c.name}" {DUCKDB_TYPES[c.type]}' for c in mapping.columns.values() if c.name != "period"
    )
    return f"CREATE TABLE IF NOT EXISTS core.{kind} (period VARCHAR NOT NULL, {cols}, {LINEAGE})"


def next_seq(conn: duckdb.DuckDBPyConnection) -> int:
    """The next number in the order of changes to the warehouse (deliveries, mart builds, publishes)."""
    return int(conn.execute("select nextval('ops.change_seq')").fetchall()[0][0])


def latest_change(conn: duckdb.DuckDBPyConnection) -> int:
    """The seq of the newest delivery or mart build: the state a snapshot published now would hold."""
    found = conn.execute("""select greatest((select coalesce(max(seq), 0) from ops.deliveries),
                                            (select coalesce(max(seq), 0) from ops.mart_builds))""").fetchall()
    return int(found[0][0])


# Every table and view of the database open on a connection, as "schema.table": in a published snapshot the
# marts are views over Parquet parts (warehouse/publish.py), so "does it have marts.x" must see both.
RELATIONS_SQL = """
select schema_name || '.' || table_name as name from duckdb_tables() where database_name = current_database()
union all
select schema_name || '.' || view_name from duckdb_views() where database_name = current_database() and not internal
"""


def has_relation(conn: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the database open on `conn` (a warehouse or a snapshot) holds the table or view `schema.table`."""
    return bool(conn.execute(f"select count(*) from ({RELATIONS_SQL}) where name = ?", [name]).fetchall()[0][0])


def _existing_version(conn: duckdb.DuckDBPyConnection) -> int | None:
    """The schema version of the warehouse open on `conn`; None if it holds no warehouse yet."""
    tables = {r[0] for r in conn.execute(
        "select table_name from duckdb_tables() where database_name = current_database() and schema_name = 'ops'"
    ).fetchall()}
    if "deliveries" not in tables:
        return None
    if "schema_info" not in tables:
        return 1
    found = conn.execute("select max(version) from ops.schema_info").fetchall()[0][0]
    return 1 if found is None else int(found)


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    version = _existing_version(conn)
    if version is not None and version != SCHEMA_VERSION:
        path = conn.execute("select path from duckdb_databases() where database_name = current_database()"
                            ).fetchall()[0][0]
        raise WarehouseOutdated(
            f"the warehouse {path} has schema version {version}, this readq needs {SCHEMA_VERSION}: move that file "
            "aside (or delete it), put the archived exports back into the landing folder and run `readq build`")
    conn.execute(load_sql("schema"))
    for ddl in sorted((SQL_DIR / "ddl").glob("*.sql")):
        conn.execute(ddl.read_text(encoding="utf-8"))
    if version is None:
        conn.execute("insert into ops.schema_info values (?)", [SCHEMA_VERSION])
    for kind in KINDS:
        conn.execute(raw_ddl(kind))
        conn.execute(core_ddl(kind))
