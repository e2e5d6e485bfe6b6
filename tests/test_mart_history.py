"""Marts that read earlier months (`-- history:` in their header) are stale when any month they read
changed, and a mart is stale when a mart it reads was rebuilt after it."""

from __future__ import annotations

from datetime import datetime

import duckdb

from warehouse.marts import mart, marts, stale_months


def _delivery(con: duckdb.DuckDBPyConnection, delivery_id: str, period: str, seq: int) -> None:
    con.execute("insert into ops.deliveries (delivery_id, file_name, source_path, sha256, size_bytes, kind, period, "
                "status, config_version, received_at, seq) values (?, 'f', 'f', 'x', 1, 'readings', ?, 'loaded', "
                "'v', now(), ?)", [delivery_id, period, seq])


def _built(con: duckdb.DuckDBPyConnection, name: str, period: str, data_seq: int, seq: int) -> None:
    con.execute("insert or replace into ops.mart_builds values (?, ?, ?, ?, 'v', ?)",
                [name, period, data_seq, seq, datetime.now()])


def test_a_changed_month_makes_the_months_reading_it_stale(con: duckdb.DuckDBPyConnection) -> None:
    assert mart("reading_context").history_months == 24 and mart("kpi_team_month").history_months == 0
    _delivery(con, "a", "2024-01", 1)
    _delivery(con, "b", "2024-02", 2)
    seq = 10
    for period, window_seq in (("2024-01", 1), ("2024-02", 2)):
        for m in marts():
            own = 1 if period == "2024-01" else 2
            _built(con, m.name, period, window_seq if m.history_months else own, seq)
            seq += 1
    assert stale_months(con) == []
    _delivery(con, "a2", "2024-01", 100)         # January corrected: February's history changed
    assert stale_months(con) == ["2024-01", "2024-02"]
    for m in marts():                             # January rebuilt, February's own marts too (not history ones)
        _built(con, m.name, "2024-01", 100, seq)
        seq += 1
    assert stale_months(con) == ["2024-02"]


def test_a_mart_rebuilt_after_its_reader_makes_the_reader_stale(con: duckdb.DuckDBPyConnection) -> None:
    _delivery(con, "a", "2024-01", 1)
    seq = 10
    for m in marts():
        _built(con, m.name, "2024-01", 1, seq)
        seq += 1
    assert stale_months(con) == []
    _built(con, "reading_context", "2024-01", 1, 500)   # rebuilt alone: the flags built from it are older
    assert stale_months(con) == ["2024-01"]
