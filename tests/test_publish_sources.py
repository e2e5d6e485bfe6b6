"""The snapshot carries the delivered rows behind each flag (the drill-down to the source line), with
personal data masked, and no other raw rows."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from warehouse.publish import publish


def _raw(con: duckdb.DuckDBPyConnection, row: int, name: str, phone: str, address: str) -> None:
    con.execute("insert into raw.readings (delivery_id, sheet, source_row, period, customer_no, customer_name, "
                "phone, address, meter_no, this_read) values ('d1', null, ?, '2024-03', ?, ?, ?, ?, 'M' || ?, '12')",
                [row, f"C{row}", name, phone, address, row])


def test_flagged_rows_are_published_masked_and_only_they(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    _raw(con, 2, "张三丰", "13812345678", "城关镇人民路88号")
    _raw(con, 3, "李四", "13900001111", "城关镇解放路1号")
    con.execute("""insert into marts.reading_flags values ('2024-03', 'T', 'R', 'S', 'C2', 'M2', 'C2/', 'HIGH', 'warn',
                   1, 1, 1, 3, ?, 'd1', null, 2, 'v', now())""", [json.dumps({"use_kwh": 1})])
    result = publish(con, tmp_path / "snap.duckdb")
    assert result.tables["raw.readings"] == 1
    with duckdb.connect(str(tmp_path / "snap.duckdb"), read_only=True) as snap:
        rows = snap.execute("select source_row, customer_name, phone, address from raw.readings").fetchall()
    assert rows == [(2, "张***", "138****5678", "城关镇人民路***")]


def test_masking_a_masked_value_changes_nothing() -> None:
    from checks.masking import mask_text

    for column, value in (("customer_name", "张三丰"), ("phone", "13812345678"), ("address", "城关镇人民路88号")):
        once = mask_text("readings", column, value)
        assert once != value and mask_text("readings", column, once) == once
