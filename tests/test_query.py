"""Read-only SQL for statisticians (warehouse/query.py, `readq query`): what runs, what is refused and
why, each DuckDB guard on its own, the timeout, the row limit, masking, and the column catalogue.

The snapshot is made the way the pipeline makes it: the full warehouse schema (`ensure_schema`), a
few rows, `publish()`. marts.kpi_team_month holds two teams over three months:

    period   team  customers_due  customers_read
    2026-01  城东        1000            990
    2026-01  城西         500            480
    2026-02  城东        1010           1000
    2026-02  城西         505            500
    2026-03  城东        1020           1020
    2026-03  城西         510            495

The warehouse also holds personal data as delivered (张三丰, 13812345678, 城关镇人民路88号 in raw and
core; 李四光 as a quarantined raw value): the snapshot, and so every query, must show it masked or not
at all.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from readq.cli import main
from readq.config import Home
from warehouse.publish import publish
from warehouse.query import (
    QueryFailed,
    QueryRefused,
    QueryTimedOut,
    load_catalogue,
    missing_meanings,
    open_readonly_snapshot,
    query_snapshot,
    run_query,
    settings,
    snapshot_columns,
)
from warehouse.schema import ensure_schema

KPI = [
    ("2026-01", "城东", 1000, 990), ("2026-01", "城西", 500, 480),
    ("2026-02", "城东", 1010, 1000), ("2026-02", "城西", 505, 500),
    ("2026-03", "城东", 1020, 1020), ("2026-03", "城西", 510, 495),
]
DIGITS = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]  # a reader's last-digit counts (a list column)
NAME, PHONE, ADDRESS, QUARANTINED_NAME = "张三丰", "13812345678", "城关镇人民路88号", "李四光"
# A cross join of 4·10¹⁰ pairs: minutes of work on any machine, so the timeout always fires first.
SLOW = "select max(hash(a.range, b.range)) from range(200000) a, range(200000) b"


# Filler for NOT NULL columns a row here does not care about (other marts keep gaining columns).
FILLER = {"VARCHAR": "", "BOOLEAN": False, "DATE": datetime(2026, 4, 1).date(), "TIMESTAMP": datetime(2026, 4, 1),
          "JSON": "{}"}


def insert(con: duckdb.DuckDBPyConnection, table: str, values: dict[str, object]) -> None:
    """One row into `table`: `values`, and a neutral value (0, '', false) in every other NOT NULL column."""
    schema, name = table.split(".")
    required = con.execute("""select column_name, data_type from duckdb_columns()
                              where schema_name = ? and table_name = ? and not is_nullable""",
                           [schema, name]).fetchall()
    row = {c: FILLER.get(t, [] if t.endswith("[]") else 0) for c, t in required if c not in values} | values
    columns = ", ".join(f'"{c}"' for c in row)
    con.execute(f"insert into {table} ({columns}) values ({', '.join('?' for _ in row)})", list(row.values()))


def _fill(con: duckdb.DuckDBPyConnection) -> None:
    for period, team, due, read in KPI:
        insert(con, "marts.kpi_team_month", {
            "period": period, "team": team, "customers_due": due, "customers_read": read,
            "customers_missed": due - read, "meters_due": due, "actual_read_rate": read / due,
            "actual_read_rate_target": 1.0, "error_rate_target": 0.001, "config_version": "test"})
    insert(con, "raw.readings", {"delivery_id": "d1", "source_row": 2, "period": "2026-03", "customer_no": "C1",
                                 "customer_name": NAME, "phone": PHONE, "address": ADDRESS, "meter_no": "M1",
                                 "this_read": "=1+2"})
    insert(con, "core.customers", {"period": "2026-03", "customer_no": "C1", "customer_name": NAME, "phone": PHONE,
                                   "address": ADDRESS, "delivery_id": "d0", "source_row": 2})
    insert(con, "marts.reading_flags", {
        "period": "2026-03", "team": "城东", "reader": "王芳", "segment_no": "S1", "customer_no": "C1",
        "meter_no": "M1", "mp_key": "C1/", "rule_id": "HIGH", "severity": "warn", "evidence": "{}",
        "delivery_id": "d1", "source_row": 2, "config_version": "test"})
    insert(con, "quarantine.rows", {"delivery_id": "d2", "kind": "readings", "period": "2026-03", "source_row": 7,
                                    "stage": "validate", "column_name": "customer_name", "check_name": "not_nullable",
                                    "raw_value": QUARANTINED_NAME, "masked_value": "李***"})
    insert(con, "marts.reader_forensics", {"period": "2026-03", "team": "城东", "reader": "王芳", "reads": 10,
                                           "reads_month": 10, "months": 1, "digit_counts": DIGITS,
                                           "flag_reasons": [], "config_version": "test"})


def build_snapshot(folder: Path) -> tuple[Path, Path]:
    """(the warehouse, its published snapshot) under `folder`, with the rows of the module docstring."""
    path = folder / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    try:
        ensure_schema(con)
        _fill(con)
        publish(con, folder / "published.duckdb")
    finally:
        con.close()
    return path, folder / "published.duckdb"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_snapshot(tmp_path_factory.mktemp("query"))


@pytest.fixture(scope="module")
def warehouse(built: tuple[Path, Path]) -> Path:
    return built[0]


@pytest.fixture(scope="module")
def snapshot(built: tuple[Path, Path]) -> Path:
    return built[1]


def rows(snapshot: Path, sql: str, limit: int = 1000) -> list[tuple]:
    return query_snapshot(snapshot, sql, limit=limit, timeout=30).frame.rows()


# --- what runs ------------------------------------------------------------------------------------

def test_select_with_a_cte_and_a_window_function(snapshot: Path) -> None:
    sql = """
    with centre as (
        select period, sum(customers_read) as read, sum(customers_due) as due from marts.kpi_team_month group by period
    )
    select period, read, due,
           sum(due) over (order by period) as due_to_date,
           rank() over (order by read * 1.0 / due desc) as best
    from centre order by period
    """
    assert rows(snapshot, sql) == [
        ("2026-01", 1470, 1500, 1500, 3),   # 990 + 480, 1000 + 500; 1470 / 1500 = 0.980
        ("2026-02", 1500, 1515, 3015, 2),   # 1500 / 1515 = 0.990
        ("2026-03", 1515, 1530, 4545, 1),   # 1515 / 1530 = 0.990196…
    ]


def test_running_total_per_team(snapshot: Path) -> None:
    sql = """select team, period, sum(customers_due) over (partition by team order by period) as due
             from marts.kpi_team_month order by team, period"""
    assert rows(snapshot, sql) == [("城东", "2026-01", 1000), ("城东", "2026-02", 2010), ("城东", "2026-03", 3030),
                                   ("城西", "2026-01", 500), ("城西", "2026-02", 1005), ("城西", "2026-03", 1515)]


@pytest.mark.parametrize(("sql", "expected"), [
    ("from marts.kpi_team_month select team, customers_due where period = '2026-03' order by team",
     [("城东", 1020), ("城西", 510)]),
    ("values (1, 'a'), (2, 'b')", [(1, "a"), (2, "b")]),
    ("select count(*) from marts.kpi_team_month;", [(6,)]),  # a trailing semicolon is still one statement
    ("select * from (pivot marts.kpi_team_month on team in ('城东', '城西') using sum(customers_due) group by period) "
     "order by period", [("2026-01", 1000, 500), ("2026-02", 1010, 505), ("2026-03", 1020, 510)]),
])
def test_other_select_forms(snapshot: Path, sql: str, expected: list[tuple]) -> None:
    assert rows(snapshot, sql) == expected


def test_describe_and_summarize_are_selects(snapshot: Path) -> None:
    described = query_snapshot(snapshot, "describe marts.kpi_team_month").frame
    assert described["column_name"].to_list()[:3] == ["period", "team", "customers_due"]
    summary = query_snapshot(snapshot, "summarize select customers_due from marts.kpi_team_month").frame
    assert (summary["min"][0], summary["max"][0], summary["count"][0]) == ("500", "1020", 6)


def test_row_limit_truncates_and_says_so(snapshot: Path) -> None:
    sql = "select period, team from marts.kpi_team_month order by period desc, team"
    result = query_snapshot(snapshot, sql, limit=2)
    assert result.truncated and result.limit == 2
    assert result.frame.rows() == [("2026-03", "城东"), ("2026-03", "城西")]  # the first two, in order
    exact = query_snapshot(snapshot, sql, limit=6)
    assert not exact.truncated and exact.frame.height == 6


def test_limit_above_the_configured_maximum_is_refused(snapshot: Path) -> None:
    cap = settings().max_limit
    with pytest.raises(QueryRefused) as exc:
        query_snapshot(snapshot, "select 1", limit=cap + 1)
    assert exc.value.reason == "limit" and f"1 to {cap}" in str(exc.value)


def test_types_polars_cannot_hold_come_back_as_text(snapshot: Path) -> None:
    result = query_snapshot(snapshot, "select interval 3 day as a, 1 as a, union_value(n := 2) as u")
    assert result.frame.columns == ["a", "a_1", "u"]
    assert result.frame.rows() == [("3 days", 1, "2")]


# --- what is refused, one class at a time ---------------------------------------------------------

def test_read_csv_of_etc_passwd_fails(snapshot: Path) -> None:
    with pytest.raises(QueryRefused) as exc:
        query_snapshot(snapshot, "SELECT * FROM read_csv('/etc/passwd')")
    assert exc.value.reason == "file"
    assert "only the tables of the published snapshot can be read" in str(exc.value)
    assert "file system operations are disabled" in exc.value.detail  # DuckDB's guard said no, not ours


REFUSED = [
    # writes of any kind: the statement check refuses them before DuckDB's read-only attach would
    ("insert into marts.kpi_team_month (period) values ('x')", "write"),
    ("update marts.kpi_team_month set customers_due = 0", "write"),
    ("delete from marts.kpi_team_month", "write"),
    ("truncate marts.kpi_team_month", "write"),
    ("create table marts.mine as select 1", "write"),
    ("create temp table mine as select 1", "write"),  # temp is writable in DuckDB: only the check stops it
    ("create or replace view v as select 1", "write"),
    ("create macro twice(x) as 2 * x", "write"),
    ("drop table marts.kpi_team_month", "write"),
    ("alter table marts.kpi_team_month add column x int", "write"),
    ("comment on table marts.kpi_team_month is 'x'", "write"),
    ("merge into marts.kpi_team_month t using (select 1 as i) s on false when not matched then insert (period) "
     "values ('x')", "write"),
    ("vacuum", "write"),
    # file access by statement
    ("copy marts.kpi_team_month to '/tmp/readq_query_test.csv'", "file"),
    ("copy marts.kpi_team_month from '/etc/passwd'", "file"),
    ("export database '/tmp/readq_query_export'", "file"),
    # attach and detach (DuckDB itself allows ATTACH ':memory:' with external access off)
    ("attach ':memory:' as scratch", "attach"),
    ("attach '/tmp/other.duckdb' as other", "attach"),
    ("detach snapshot", "attach"),
    # extensions
    ("install httpfs", "extension"),
    ("force install httpfs", "extension"),
    ("load httpfs", "extension"),
    # settings, pragmas, procedures
    ("set threads = 1", "configuration"),
    ("set enable_external_access = true", "configuration"),
    ("reset memory_limit", "configuration"),
    ("set variable x = 1", "configuration"),
    ("use system", "configuration"),
    ("pragma enable_profiling", "configuration"),
    ("pragma version", "configuration"),
    ("import database '/tmp/readq_query_export'", "configuration"),
    ("call pragma_version()", "configuration"),
    ("checkpoint", "configuration"),
    # any other statement
    ("explain select 1", "statement"),
    ("explain analyze select 1", "statement"),
    ("begin transaction", "statement"),
    ("prepare p as select 1", "statement"),
    ("update extensions", "statement"),  # a type the Python client cannot even name
    ("pivot marts.kpi_team_month on team using sum(customers_due)", "pivot"),
    # more than one statement, or none: nothing runs
    ("select 1; select 2", "multiple"),
    ("select 1; drop table marts.kpi_team_month", "multiple"),
    ("", "empty"),
    ("  ;  ", "empty"),
    ("-- a comment only", "empty"),
]


@pytest.mark.parametrize(("sql", "reason"), REFUSED, ids=[s for s, _ in REFUSED])
def test_refused_statements(snapshot: Path, sql: str, reason: str) -> None:
    with pytest.raises(QueryRefused) as exc:
        query_snapshot(snapshot, sql)
    assert exc.value.reason == reason, str(exc.value)
    assert str(exc.value)  # an English sentence for the CLI; the page shows query_reason_<reason>


FILE_FUNCTIONS = [
    "select * from read_csv('/etc/passwd')",
    "select * from read_csv_auto('/etc/hostname')",
    "select * from read_parquet('/tmp/x.parquet')",
    "select * from read_json('/etc/passwd')",
    "select * from read_text('/etc/passwd')",
    "select * from read_blob('/etc/passwd')",
    "select * from glob('/etc/*')",
    "select * from sniff_csv('/etc/passwd')",
    "select * from parquet_metadata('/tmp/x.parquet')",
    "select * from read_csv('https://example.com/x.csv')",
    "select * from duckdb_secrets()",
    "select count(*) from (select * from query('select * from read_text(''/etc/passwd'')'))",
]


@pytest.mark.parametrize("sql", FILE_FUNCTIONS)
def test_file_functions_inside_a_select_are_refused(snapshot: Path, sql: str) -> None:
    """A SELECT that reads a file passes the statement check: DuckDB's external-access guard stops it."""
    with pytest.raises(QueryRefused) as exc:
        query_snapshot(snapshot, sql)
    assert exc.value.reason == "file"


def test_a_file_path_as_a_table_name_is_not_read(snapshot: Path) -> None:
    with pytest.raises(QueryFailed) as exc:
        query_snapshot(snapshot, "select * from '/etc/passwd'")
    assert exc.value.reason == "sql" and "does not exist" in exc.value.detail


@pytest.mark.parametrize(("sql", "option"), [
    ("select * from enable_profiling()", "enable_profiling"),
    ("select * from enable_logging()", "enable_logging"),
])
def test_functions_that_change_a_setting_are_refused(snapshot: Path, sql: str, option: str) -> None:
    """A SELECT calling a setting-changing table function passes the statement check: the lock stops it."""
    with pytest.raises(QueryRefused) as exc:
        query_snapshot(snapshot, sql)
    assert exc.value.reason == "setting" and option in str(exc.value)


def test_a_write_hidden_in_a_select_is_refused_and_changes_nothing(snapshot: Path) -> None:
    sql = ("with x as (insert into marts.kpi_team_month (period, team) values ('2099-01', 'x') returning *) "
           "select * from x")
    with pytest.raises(QueryRefused) as exc:
        query_snapshot(snapshot, sql)
    assert exc.value.reason == "read_only"
    assert rows(snapshot, "select count(*) from marts.kpi_team_month") == [(6,)]


def test_mistakes_are_failures_not_refusals(snapshot: Path) -> None:
    with pytest.raises(QueryFailed) as exc:
        query_snapshot(snapshot, "selec 1")
    assert exc.value.reason == "syntax" and "syntax error" in exc.value.detail
    with pytest.raises(QueryFailed) as exc:
        query_snapshot(snapshot, "select nosuch from marts.kpi_team_month")
    assert exc.value.reason == "sql" and "nosuch" in exc.value.detail


# --- each DuckDB guard on its own (no statement check in front) -------------------------------------

def test_each_guard_holds_by_itself(snapshot: Path) -> None:
    conn = open_readonly_snapshot(snapshot)
    try:
        settings_now = dict(conn.execute(
            "select name, value from duckdb_settings() where name in ('enable_external_access', 'lock_configuration')"
        ).fetchall())
        assert settings_now == {"enable_external_access": "false", "lock_configuration": "true"}
        databases = conn.execute("select database_name, readonly from duckdb_databases() where not internal"
                                 ).fetchall()
        assert databases == [("snapshot", True)]  # the in-memory catalog is gone; the snapshot is read-only
        with pytest.raises(duckdb.InvalidInputException, match="read-only mode"):
            conn.execute("insert into ops.deliveries (delivery_id) values ('x')")
        with pytest.raises(duckdb.CatalogException, match="not an table"):   # a mart is a view over its parts
            conn.execute("insert into marts.kpi_team_month (period, team) values ('x', 'y')")
        with pytest.raises(duckdb.CatalogException):  # no writable catalog to create a table in
            conn.execute("create table memory.main.t as select 1")
        with pytest.raises(duckdb.PermissionException, match="disabled by configuration"):
            conn.execute("select * from read_csv('/etc/passwd')")
        with pytest.raises(duckdb.PermissionException):
            conn.execute("copy marts.kpi_team_month to '/tmp/readq_query_test.csv'")
        with pytest.raises(duckdb.PermissionException):
            conn.execute("attach '/tmp/readq_query_other.duckdb' as other")
        with pytest.raises(duckdb.PermissionException):
            conn.execute("load httpfs")
        for statement in ("set enable_external_access = true", "set lock_configuration = false",
                          "reset enable_external_access", "pragma enable_profiling"):
            with pytest.raises(duckdb.InvalidInputException, match="configuration has been locked"):
                conn.execute(statement)
        assert conn.execute("select current_setting('enable_external_access')").fetchall() == [(False,)]
    finally:
        conn.close()
    assert not Path("/tmp/readq_query_test.csv").exists()


def test_only_the_snapshots_own_parts_can_be_read(snapshot: Path, tmp_path: Path) -> None:
    """The views read Parquet parts beside the snapshot: the guarded connection may open exactly those files,
    not another Parquet file in the same folder, nor one reached by climbing out of it (where the pipeline's
    warehouse could be)."""
    conn = open_readonly_snapshot(snapshot)
    try:
        parts = [r[0] for r in conn.execute("select path from ops.snapshot_parts "
                                            "where table_name = 'marts.kpi_team_month'").fetchall()]
        assert parts
        assert conn.execute(f"select count(*) from read_parquet('{parts[0]}')").fetchall()[0][0] > 0
        stranger = Path(parts[0]).with_name("planted.parquet")
        outside = snapshot.parent / "outside.parquet"
        with duckdb.connect() as other:
            for path in (stranger, outside):
                other.execute(f"copy (select 1 as x) to '{path}' (format parquet)")
        try:
            for path in (stranger, Path(parts[0]).parent / ".." / ".." / outside.name, outside):
                with pytest.raises(duckdb.PermissionException):
                    conn.execute(f"select * from read_parquet('{path}')")
                with pytest.raises(duckdb.PermissionException):
                    conn.execute(f"select * from read_blob('{path}')")
        finally:
            stranger.unlink()
            outside.unlink()
    finally:
        conn.close()


def test_no_replacement_scan_of_python_variables(snapshot: Path) -> None:
    import polars as pl

    secret_frame = pl.DataFrame({"x": [1]})  # noqa: F841 — what a replacement scan would find by name
    with pytest.raises(QueryFailed) as exc:
        query_snapshot(snapshot, "select * from secret_frame")
    assert exc.value.reason == "sql"


def test_the_other_pages_keep_opening_the_snapshot_while_a_query_runs(snapshot: Path) -> None:
    """The dashboards open the snapshot with their own configuration (dashboards/data.py): a guarded
    connection must not hold the file's DuckDB instance with another one (DuckDB would refuse them)."""
    guarded = open_readonly_snapshot(snapshot)
    try:
        with duckdb.connect(str(snapshot), read_only=True, config={"python_enable_replacements": False}) as page:
            assert page.execute("select count(*) from marts.kpi_team_month").fetchall() == [(6,)]
            second = open_readonly_snapshot(snapshot)
            second.close()
    finally:
        guarded.close()


# --- the timeout ------------------------------------------------------------------------------------

def test_a_slow_query_is_interrupted_at_the_timeout(snapshot: Path) -> None:
    conn = open_readonly_snapshot(snapshot)
    try:
        with pytest.raises(QueryTimedOut) as exc:
            run_query(conn, SLOW, limit=10, timeout=0.2)
    finally:
        conn.close()
    assert exc.value.reason == "timeout"
    assert "Interrupted" in exc.value.detail  # DuckDB's InterruptException, raised by conn.interrupt()
    assert "longer than 0.2 s and was interrupted" in str(exc.value)


def test_a_fast_query_is_not_interrupted_later(snapshot: Path) -> None:
    conn = open_readonly_snapshot(snapshot)
    try:
        assert run_query(conn, "select 42", limit=1, timeout=0.5).frame.rows() == [(42,)]
        import time

        time.sleep(0.7)  # the timer was cancelled: the next statement is not interrupted
        assert conn.execute("select count(*) from range(3000000)").fetchall() == [(3000000,)]
    finally:
        conn.close()


def test_a_query_past_the_memory_limit_fails_with_a_message_and_writes_no_temp_files(
        snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # DuckDB's default temp directory is ./.tmp
    conn = open_readonly_snapshot(snapshot, memory_limit="20MB")
    try:
        with pytest.raises(QueryFailed) as exc:  # 8 million distinct strings: far more than 20 MB of hash table
            run_query(conn, "select md5(range::varchar) as h, count(*) from range(8000000) group by h", 5, None)
    finally:
        conn.close()
    assert exc.value.reason == "memory" and "Out of Memory" in exc.value.detail
    assert list(tmp_path.iterdir()) == []  # no spilling to disk: external access is off


# --- masking: the query path reaches only the snapshot ------------------------------------------------

def test_personal_data_is_masked_or_absent_in_every_table(snapshot: Path) -> None:
    conn = open_readonly_snapshot(snapshot)
    try:
        tables = sorted({table for table, _, _ in snapshot_columns(conn)})
        found = {}
        for table in tables:
            for value in (NAME, PHONE, ADDRESS, QUARANTINED_NAME):
                # the whole row as text: every column, JSON and lists included
                n = run_query(conn, f"select count(*) from {table} t where t::varchar like '%{value}%'", 1,
                              None).frame.item()
                if n:
                    found[(table, value)] = n
        assert found == {}
        masked = run_query(conn, "select customer_name, phone, address from raw.readings", 10, None).frame.rows()
        assert masked == [("张***", "138****5678", "城关镇人民路***")]
        assert run_query(conn, "select masked_value from quarantine.rows", 10, None).frame.rows() == [("李***",)]
    finally:
        conn.close()


@pytest.mark.parametrize("sql", [
    "select raw_value from quarantine.rows",  # withheld at publish
    "select customer_name from core.customers",  # core is not published
    "select * from core.readings",
])
def test_unmasked_data_cannot_be_named(snapshot: Path, sql: str) -> None:
    with pytest.raises(QueryFailed) as exc:
        query_snapshot(snapshot, sql)
    assert exc.value.reason == "sql"


def test_the_pipeline_warehouse_cannot_be_reached(snapshot: Path, warehouse: Path) -> None:
    for sql in (f"attach '{warehouse}' as wh (read_only)", f"select * from read_blob('{warehouse}')"):
        with pytest.raises(QueryRefused):
            query_snapshot(snapshot, sql)


# --- the catalogue of meanings ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def schema_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A snapshot of every table the current schema publishes (warehouse/sql/schema.sql, sql/ddl/*.sql)."""
    target = tmp_path_factory.mktemp("catalogue") / "published.duckdb"
    con = duckdb.connect(":memory:")
    try:
        ensure_schema(con)
        publish(con, target)
    finally:
        con.close()
    return target


def test_every_published_column_has_a_meaning(schema_snapshot: Path) -> None:
    conn = open_readonly_snapshot(schema_snapshot)
    try:
        columns = snapshot_columns(conn)
    finally:
        conn.close()
    assert {"marts.kpi_team_month", "ops.deliveries", "quarantine.rows", "raw.readings"} <= {t for t, _, _ in columns}
    missing = missing_meanings(columns, load_catalogue())
    by_table: dict[str, list[str]] = {}
    for name in missing:
        schema, table, *column = name.split(".")
        by_table.setdefault(f"{schema}.{table}", []).extend(column or ["(the table itself)"])
    report = "\n".join(f"  {table}: {', '.join(cols)}" for table, cols in by_table.items())
    assert missing == [], f"warehouse/catalogue.toml gives no meaning (zh and en) for:\n{report}"


def test_the_catalogue_names_no_table_or_column_that_is_gone(schema_snapshot: Path) -> None:
    conn = open_readonly_snapshot(schema_snapshot)
    try:
        present = {(t, c) for t, c, _ in snapshot_columns(conn)}
    finally:
        conn.close()
    catalogue = load_catalogue()
    stale = [f"{table}.{column}" for table, entry in catalogue.tables.items() for column in entry.columns
             if (table, column) not in present]
    assert stale == [], f"warehouse/catalogue.toml describes columns no published table has: {stale}"
    used = {c for _, c in present}
    assert sorted(set(catalogue.shared) - used) == []  # a shared meaning nobody uses is dead text


def test_shared_and_suffixed_meanings() -> None:
    catalogue = load_catalogue()
    assert catalogue.column("marts.spc_cusum", "period").zh == "电费年月（YYYY-MM）"  # shared
    assert catalogue.column("marts.meters_due", "team").en.startswith("reading team: from the export")  # own wins
    derived = catalogue.column("marts.kpi_team_month", "missed_rate_mom")
    assert (derived.zh, derived.en) == ("missed_rate 较上月的变化", "change of missed_rate against the previous month")
    own = catalogue.column("marts.kpi_team_month", "error_rate_target")  # its own entry, not the template
    assert own.en.startswith("error-rate target: manual and remote")
    assert catalogue.column("marts.kpi_team_month", "nosuch_target") is None  # no base meaning, no meaning


def test_missing_meanings_sees_a_new_mart() -> None:
    columns = [("marts.kpi_team_month", "period", "VARCHAR"), ("marts.brand_new", "x", "DOUBLE")]
    assert missing_meanings(columns, load_catalogue()) == ["marts.brand_new", "marts.brand_new.x"]


# --- the CLI ------------------------------------------------------------------------------------------

@pytest.fixture
def published(data_home: Home, snapshot: Path) -> Path:
    data_home.published.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(snapshot, data_home.published)
    return data_home.published


def test_cli_json(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["query", "select team, customers_read from marts.kpi_team_month where period = '2026-02' "
                 "order by team", "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0
    assert json.loads(captured.out) == [{"team": "城东", "customers_read": 1000},
                                        {"team": "城西", "customers_read": 500}]
    assert "2 rows" in captured.err


def test_cli_table_says_when_truncated(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["query", "select period, team, customers_due from marts.kpi_team_month order by customers_due desc",
                 "--limit", "2"])
    out = capsys.readouterr().out
    assert code == 0
    assert "1020" in out and "1010" in out and "1000" not in out.replace("1000 rows", "")
    assert "truncated at the limit of 2" in out


def test_cli_csv_is_for_a_spreadsheet(published: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code = main(["query", "select source_row, this_read from raw.readings", "--format", "csv"])
    assert code == 0
    text = capsysbinary.readouterr().out.decode("utf-8")
    assert text == "\ufeffsource_row,this_read\n2,'=1+2\n"  # BOM; the delivered "=1+2" cannot run as a formula


def test_cli_csv_writes_lists_as_json(published: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["query", "select reader, digit_counts from marts.reader_forensics", "--format", "csv"]) == 0
    assert capsysbinary.readouterr().out.decode("utf-8") == (
        '\ufeffreader,digit_counts\n王芳,"[3, 1, 4, 1, 5, 9, 2, 6, 5, 3]"\n')  # DIGITS as JSON


def test_cli_refuses_read_csv_with_exit_64(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["query", "SELECT * FROM read_csv('/etc/passwd')"])
    err = capsys.readouterr().err
    assert code == 64
    assert "refused" in err and "file, URL and extension access is disabled" in err
    assert "root:" not in err


def test_cli_refuses_a_write(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "drop table marts.kpi_team_month"]) == 64
    assert "the snapshot is read-only" in capsys.readouterr().err
    assert rows(published, "select count(*) from marts.kpi_team_month") == [(6,)]


def test_cli_timeout_exits_1(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", SLOW, "--timeout", "0.2"]) == 1
    assert "timed out" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["--limit", "0"], ["--limit", "many"], ["--timeout", "0"], ["--format", "xml"]])
def test_cli_usage_errors(published: Path, args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "select 1", *args]) == 64
    capsys.readouterr()


def test_cli_limit_above_the_maximum(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "select 1", "--limit", str(settings().max_limit + 1)]) == 64
    assert f"at most {settings().max_limit:,}" in capsys.readouterr().err


def test_cli_without_a_snapshot_exits_3(data_home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "select 1"]) == 3
    assert "no published snapshot" in capsys.readouterr().err


def test_the_examples_in_docs_query_md_run(snapshot: Path) -> None:
    import re
    import shlex

    text = (Path(__file__).parents[1] / "docs" / "query.md").read_text(encoding="utf-8")
    sql_blocks = re.findall(r"```sql\n(.*?)```", text, flags=re.S)
    examples = [s.strip() for block in sql_blocks for s in block.split(";") if s.strip() and
                not all(line.startswith("--") for line in s.strip().splitlines())]
    for line in re.findall(r"^uv run readq query (.+)$", text, flags=re.M):
        examples.append(shlex.split(line.split(" > ")[0])[0])
    assert len(examples) >= 6
    for sql in examples:
        query_snapshot(snapshot, sql, limit=10)  # raises if an example is refused or wrong
