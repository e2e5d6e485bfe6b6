"""Big exports stream through in blocks: line numbers, duplicates and rejections stay exact
across block boundaries, and a file rejected part-way leaves nothing behind."""

from __future__ import annotations

import pytest

from pipelines.ingest import readers
from pipelines.ingest.deliver import ingest_path
from pipelines.ingest.staging import drop_stale_staging

HEADER = "电费年月,抄表班组,抄表段编号,抄表员,用户编号,电能表编号,上次示数,本次示数,抄表状态\n"


def row(i: int) -> str:
    return f"2024-03,城东,S1,张三,C{i:05d},M{i:05d},{i},{i + 10},已抄\n"


def use_blocks(monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    original = readers.read_csv
    monkeypatch.setattr(readers, "read_csv", lambda path, block_bytes=None: original(path, block_bytes=size))


def test_rows_keep_their_line_numbers_across_blocks(con, tmp_path, monkeypatch) -> None:
    use_blocks(monkeypatch, 300)
    body = "".join(row(i) for i in range(200))
    body += row(7)                                  # an exact repeat of line 9, far away in another block
    body += "2024-03,城东,S1,张三,C99999,M99999,1,2,已抄,多余\n"  # too many fields, in the last block
    path = tmp_path / "抄表明细_2024-03_城东.csv"
    path.write_bytes(("XX供电公司\n" + HEADER + body).encode("gbk"))
    [res] = ingest_path(con, path)
    assert (res.status, res.rows_read, res.rows_loaded, res.rows_quarantined) == ("loaded", 202, 200, 2)
    # title on line 1, header on line 2: customer i sits on line i + 3
    assert con.execute("select source_row from core.readings where customer_no = 'C00150'").fetchall() == [(153,)]
    assert con.execute("select source_row, check_name, message from quarantine.rows order by 1").fetchall() == [
        (203, "duplicate_row", "exact repeat of row 10"),
        (204, "too_many_fields", "10 fields where the header has 9")]
    assert con.execute("select count(*), min(source_row), max(source_row) from raw.readings").fetchall() == [
        (201, 3, 203)]


def test_undecodable_bytes_late_in_the_file_reject_it_and_leave_nothing(con, tmp_path, monkeypatch) -> None:
    use_blocks(monkeypatch, 16_384)
    # past the first 64 KiB (where the encoding is judged), so rows were already loaded when it fails
    body = "".join(row(i) for i in range(2000)).encode("gbk") + b"\xff\xff\xff\n" + row(2000).encode("gbk")
    assert len(body) > readers.HEAD_BYTES
    path = tmp_path / "抄表明细_2024-03_城东.csv"
    path.write_bytes(HEADER.encode("gbk") + body)
    [res] = ingest_path(con, path)
    assert res.status == "rejected" and "cannot decode the file as UTF-8 or GBK/GB18030" in res.message
    for table in ("raw.readings", "core.readings", "quarantine.rows"):
        assert con.execute(f"select count(*) from {table}").fetchall() == [(0,)], table
    assert con.execute("select status from ops.deliveries").fetchall() == [("rejected",)]


@pytest.mark.parametrize("staging_limit", [0, 1 << 30], ids=["disk-staging", "memory-staging"])
def test_a_load_that_fails_part_way_leaves_the_previous_delivery_in_force(con, tmp_path, monkeypatch,
                                                                          staging_limit) -> None:
    from pipelines.ingest import deliver

    monkeypatch.setattr(deliver, "temp_staging_max_bytes", lambda: staging_limit)
    use_blocks(monkeypatch, 300)
    first = tmp_path / "抄表明细_2024-03_城东.csv"
    first.write_bytes((HEADER + "".join(row(i) for i in range(50))).encode("gbk"))
    assert ingest_path(con, first)[0].status == "loaded"

    calls = {"n": 0}
    original = deliver.insert_frame

    def crash_on_third_write(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("power cut")
        return original(*args, **kwargs)

    monkeypatch.setattr(deliver, "insert_frame", crash_on_third_write)
    corrected = tmp_path / "抄表明细_2024-03_城东_更正.csv"
    corrected.write_bytes((HEADER + "".join(row(i) for i in range(1000, 1060))).encode("gbk"))
    with pytest.raises(RuntimeError):
        ingest_path(con, corrected)
    # the earlier delivery is still the one in force, untouched; nothing of the failed one is visible
    assert con.execute("select count(*), min(customer_no) from core.readings").fetchall() == [(50, "C00000")]
    assert con.execute("select count(*) from raw.readings").fetchall() == [(50,)]
    assert con.execute("select status from ops.deliveries").fetchall() == [("loaded",)]
    assert drop_stale_staging(con) == 0  # its staging tables were dropped on the way out


def test_staging_left_by_a_killed_process_is_dropped(con) -> None:
    con.execute("create schema if not exists staging")
    con.execute('create table staging."raw_deadbeef" as select 1 as x')
    assert drop_stale_staging(con) == 1
    assert drop_stale_staging(con) == 0
