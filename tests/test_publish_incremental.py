"""A publish writes the Parquet parts of the months that changed, not a copy of the whole warehouse, and the
snapshot it swaps in holds exactly what the warehouse holds (warehouse/publish.py)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import duckdb
import pytest

from readq.config import Home
from tests.test_pipeline_month import EAST, READING_HEADER, materialize_month, write_month
from warehouse import publish as publishing
from warehouse.connection import connect
from warehouse.publish import PARTS_TABLE, SOURCE_ROWS, publish

REPO_ROOT = Path(__file__).resolve().parents[1]


def write_april(landing: Path, first_register: str = "150") -> None:
    """城东's readings again for 2024-04, C1's register given as `first_register` (a redelivery corrects it)."""
    rows = [[*r] for r in EAST]
    for r in rows:
        r[0] = "2024-04"
        r[13] = "2024-04-05"
    rows[0][8] = first_register
    text = "\n".join([",".join(READING_HEADER)] + [",".join(f'"{v}"' if "," in v else v for v in r) for r in rows])
    (landing / f"抄表明细_2024-04_城东_{first_register}.csv").write_bytes((text + "\n").encode("gbk"))


@pytest.fixture
def two_months(data_home: Home) -> Home:
    write_month(data_home.landing)
    assert materialize_month(data_home).success
    write_april(data_home.landing)
    assert materialize_month(data_home, "2024-04-01").success
    return data_home


def dump(snapshot: Path) -> dict[str, list[tuple]]:
    """Every relation of the snapshot, its rows sorted (NULLs first)."""
    with duckdb.connect(str(snapshot), read_only=True) as con:
        names = [r[0] for r in con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() "
            "where database_name = current_database() and table_name <> 'snapshot_parts' "
            "union all select schema_name || '.' || view_name from duckdb_views() "
            "where database_name = current_database() and not internal").fetchall()]
        return {n: sorted(con.execute(f"select * from {n}").fetchall(), key=repr) for n in names}


def parts(snapshot: Path) -> dict[tuple[str, str], str]:
    with duckdb.connect(str(snapshot), read_only=True) as con:
        return {(t, p): path for t, p, path in con.execute(f"select * from {PARTS_TABLE}").fetchall()}


def test_a_changed_month_publishes_only_its_own_parts(two_months: Home, tmp_path: Path) -> None:
    h = two_months
    target = h.published
    with connect(h.warehouse) as conn:
        first = publish(conn, target)
        assert first.parts_written == len(first.parts) > 0
        assert {p.period for p in first.parts} == {"2024-03", "2024-04"}
        before, before_parts = dump(target), parts(target)
        old_snapshot = tmp_path / "old.duckdb"
        shutil.copy(target, old_snapshot)             # what a dashboard that opened it before the next publish reads

        again = publish(conn, target)
        assert again.parts_written == 0                # nothing changed: every part is kept
        assert dump(target) == before and parts(target) == before_parts

    write_april(h.landing, first_register="160")      # a corrected April: C1 used 60, not 50
    assert materialize_month(h, "2024-04-01").success
    with connect(h.warehouse) as conn:
        changed = publish(conn, target)
    written = [p for p in changed.parts if p.written]
    assert written and {p.period for p in written} == {"2024-04"}
    after_parts = parts(target)
    assert {k: v for k, v in after_parts.items() if k[1] == "2024-03"} == \
           {k: v for k, v in before_parts.items() if k[1] == "2024-03"}       # March: the same files
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select use_kwh from marts.reading_context where period = '2024-04' and meter_no = 'M1'"
                           ).fetchall() == [(60.0,)]
    # the retired April parts stay for keep_retired_seconds: the old snapshot still answers, unchanged
    assert dump(old_snapshot) == before


def test_the_snapshot_holds_what_the_warehouse_holds(two_months: Home) -> None:
    h = two_months
    with connect(h.warehouse) as conn:
        result = publish(conn, h.published)
        conn.execute("attach ? as snap (read_only)", [str(h.published)])
        try:
            for table in (t for t in result.tables if t.startswith("marts.")):
                shape = "select column_name, data_type from duckdb_columns() where database_name = ? and " \
                        "schema_name = ? and table_name = ? order by column_index"
                schema, name = table.split(".")
                assert conn.execute(shape, ["snap", schema, name]).fetchall() == \
                       conn.execute(shape, ["warehouse", schema, name]).fetchall(), table
                for a, b in (("snap", "warehouse"), ("warehouse", "snap")):
                    extra = conn.execute(f"select count(*) from (from {a}.{table} except all from {b}.{table})"
                                         ).fetchall()[0][0]
                    assert extra == 0, f"{table}: {extra} rows in {a} that {b} lacks"
            # the delivered rows behind every flag and ledger row, whatever their month, once each
            for kind, sql in SOURCE_ROWS.items():
                every_month = sql.replace("$period", "r.period")
                behind = conn.execute(f"select delivery_id, source_row, sheet from ({every_month})").fetchall()
                published = conn.execute(f"select delivery_id, source_row, sheet from snap.raw.{kind}").fetchall()
                assert sorted(published, key=repr) == sorted(set(behind), key=repr), kind
            assert result.tables["raw.readings"] > 0 and result.tables["marts.meter_readings"] > 0
        finally:
            conn.execute("detach snap")


def test_a_publish_that_fails_midway_leaves_the_snapshot_in_place(two_months: Home,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    h = two_months
    with connect(h.warehouse) as conn:
        publish(conn, h.published)
    before, stamp = dump(h.published), h.published.stat().st_mtime_ns
    write_april(h.landing, first_register="170")
    assert materialize_month(h, "2024-04-01").success

    real_write, calls = publishing._write, []

    def failing(*args: object) -> None:
        calls.append(args)
        if len(calls) == 4:
            raise OSError("disk full")
        real_write(*args)

    monkeypatch.setattr(publishing, "_write", failing)
    with connect(h.warehouse) as conn, pytest.raises(OSError, match="disk full"):
        publish(conn, h.published)
    assert h.published.stat().st_mtime_ns == stamp and dump(h.published) == before
    assert not list(h.published.parent.glob("parts/*/*.tmp"))       # no half-written part left
    monkeypatch.setattr(publishing, "_write", real_write)
    with connect(h.warehouse) as conn:
        retry = publish(conn, h.published)
    # the 3 parts written before the failure are kept and reused, the rest written now
    assert 0 < retry.parts_written == sum(p.period == "2024-04" for p in retry.parts) - 3
    with duckdb.connect(str(h.published), read_only=True) as con:
        assert con.execute("select use_kwh from marts.reading_context where period = '2024-04' and meter_no = 'M1'"
                           ).fetchall() == [(70.0,)]


def test_parts_no_snapshot_reads_are_removed_once_retired_long_enough(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    (folder / "marts.x").mkdir(parents=True)
    kept, retired_now, stale, crashed = (folder / "marts.x" / n for n in ("a.parquet", "b.parquet", "c.parquet",
                                                                          "d.parquet.1.tmp"))
    hour_ago = time.time() - 3600
    for path in (kept, retired_now, stale, crashed):
        path.write_bytes(b"x")
        os.utime(path, (hour_ago, hour_ago))
    # b was read by the snapshot just replaced: retired now, kept for the grace; c was retired an hour ago
    removed = publishing._retire(folder, keep={kept}, retired=[retired_now], keep_seconds=600)
    assert removed == 2 and kept.exists() and retired_now.exists() and not stale.exists() and not crashed.exists()
    assert publishing._retire(folder, keep={kept}, retired=[], keep_seconds=0) == 1 and not retired_now.exists()
    assert kept.exists()


def test_a_fresh_publish_prunes_what_an_older_snapshot_used(two_months: Home, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config", config)
    text = (config / "readq.toml").read_text(encoding="utf-8")
    (config / "readq.toml").write_text(text.replace("keep_retired_seconds = 600", "keep_retired_seconds = 0"),
                                       encoding="utf-8")
    monkeypatch.setenv("READQ_CONFIG", str(config))
    h = two_months
    with connect(h.warehouse) as conn:
        publish(conn, h.published)
    write_april(h.landing, first_register="180")
    assert materialize_month(h, "2024-04-01").success
    with connect(h.warehouse) as conn:
        result = publish(conn, h.published)
    on_disk = set((h.published.parent / "parts").glob("*/*"))
    assert on_disk == {p.path for p in result.parts}              # only what the snapshot reads
