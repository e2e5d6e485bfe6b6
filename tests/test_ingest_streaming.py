"""Big and broken exports: every line of the file is a row, a skipped line or a quarantined line,
with its true line number; a file rejected part-way or a load killed before its commit leaves
nothing behind."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipelines.ingest import worktable
from pipelines.ingest.deliver import ingest_path
from warehouse.connection import connect

HEADER = "电费年月,抄表班组,抄表段编号,抄表员,用户编号,电能表编号,上次示数,本次示数,抄表状态\n"


def row(i: int) -> str:
    return f"2024-03,城东,S1,张三,C{i:05d},M{i:05d},{i},{i + 10},已抄\n"


def messy_body(newline: str = "\n") -> str:
    body = "".join(row(i) for i in range(100))
    body += "\n"                                                    # blank line 103
    body += "".join(row(i) for i in range(100, 150))
    body += "   \n"                                                 # whitespace only, line 154
    body += "2024-03,城东,S1,张三,C99998,M99998,1,2,已抄,多余\n"        # too many fields, line 155
    body += "2024-03,城东,S1,张三,C99997,M99997,5\n"                  # too short: padded, line 156
    body += "\n"                                                    # blank, line 157
    body += "".join(row(i) for i in range(150, 200))
    body += row(7)                                                  # an exact repeat of line 10, line 208
    return body.replace("\n", newline)


@pytest.mark.parametrize("encoding,newline", [("utf-8", "\n"), ("gbk", "\n"), ("utf-8", "\r\n"),
                                              ("utf-8", "mixed")], ids=["utf8", "gbk", "crlf", "lf-and-crlf"])
def test_every_line_keeps_its_line_number(con, tmp_path, encoding, newline) -> None:
    path = tmp_path / "抄表明细_2024-03_城东.csv"
    body = messy_body("\r\n" if newline == "\r\n" else "\n")
    if newline == "mixed":  # a file pasted together from a Windows and a Linux export
        body = body.replace(row(120), row(120).replace("\n", "\r\n"))
    path.write_bytes(("XX供电公司" + ("\r\n" if newline == "\r\n" else "\n") + HEADER.replace("\n", "\r\n"
                      if newline == "\r\n" else "\n") + body).encode(encoding))
    [res] = ingest_path(con, path)
    # 201 good rows + the padded one (quarantined: 本次示数 missing) + the repeat + the wide line
    assert (res.status, res.rows_read, res.rows_loaded, res.rows_quarantined) == ("loaded", 203, 200, 3)
    # title on line 1, header on line 2: customer i < 100 sits on line i + 3, later ones after the gaps
    lines = dict(con.execute("select customer_no, source_row from core.readings").fetchall())
    assert (lines["C00000"], lines["C00099"], lines["C00100"], lines["C00149"]) == (3, 102, 104, 153)
    assert (lines["C00150"], lines["C00199"]) == (158, 207)
    assert con.execute("select source_row, check_name, message from quarantine.rows order by 1, 3").fetchall() == [
        (155, "too_many_fields", "10 fields where the header has 9"),
        (156, "not_nullable", "read_status failed not_nullable (value ∅)"),
        (156, "not_nullable", "this_read failed not_nullable (value ∅)"),
        (208, "duplicate_row", "exact repeat of row 10")]
    assert con.execute("select source_row, reason from ops.skipped_rows order by 1").fetchall() == [
        (1, "title row"), (103, "blank row"), (154, "blank row"), (157, "blank row")]
    assert con.execute("select count(*), min(source_row), max(source_row) from raw.readings").fetchall() == [
        (202, 3, 208)]
    assert con.execute("select last_read from raw.readings where source_row = 156").fetchall() == [("5",)]
    assert con.execute("select count(*) from raw.readings where reader like '%\r%' or read_status like '%\r%'"
                       ).fetchall() == [(0,)]


def test_a_line_break_inside_a_quoted_value_is_kept_and_said(con, tmp_path) -> None:
    path = tmp_path / "抄表明细_2024-03_城东.csv"
    quoted = '2024-03,城东,S1,"张\n三",C00500,M00500,1,2,已抄\n'
    path.write_text(HEADER + row(0) + quoted + row(1), encoding="utf-8")
    [res] = ingest_path(con, path)
    assert (res.status, res.rows_loaded) == ("loaded", 3)
    assert con.execute("select reader from core.readings where customer_no = 'C00500'").fetchall() == [("张\n三",)]
    assert "1 line break(s) inside quoted values: line numbers after the first of them are approximate" in res.message


def test_gbk_without_iconv_loads_the_same(con, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(worktable.shutil, "which", lambda name: None)  # the Python codec path
    path = tmp_path / "抄表明细_2024-03_城东.csv"
    path.write_bytes(("XX供电公司\n" + HEADER + messy_body()).encode("gbk"))
    [res] = ingest_path(con, path)
    assert (res.status, res.rows_loaded, res.rows_quarantined) == ("loaded", 200, 3)
    assert con.execute("select source_row from core.readings where customer_no = 'C00150'").fetchall() == [(158,)]


@pytest.mark.parametrize("encoding,iconv", [("gbk", True), ("gbk", False), ("utf-8", True)])
def test_undecodable_bytes_late_in_the_file_reject_it_and_leave_nothing(con, tmp_path, monkeypatch,
                                                                         encoding, iconv) -> None:
    if not iconv:
        monkeypatch.setattr(worktable.shutil, "which", lambda name: None)
    # past the first 64 KiB (where the encoding is judged)
    body = "".join(row(i) for i in range(2000)).encode(encoding) + b"\xff\xff\xff\n" + row(2000).encode(encoding)
    assert len(body) > 1 << 16
    path = tmp_path / "抄表明细_2024-03_城东.csv"
    path.write_bytes(HEADER.encode(encoding) + body)
    [res] = ingest_path(con, path)
    assert res.status == "rejected" and "cannot decode the file as UTF-8 or GBK/GB18030" in res.message
    for table in ("raw.readings", "core.readings", "quarantine.rows"):
        assert con.execute(f"select count(*) from {table}").fetchall() == [(0,)], table
    assert con.execute("select status from ops.deliveries").fetchall() == [("rejected",)]


def test_a_load_that_fails_before_its_commit_leaves_the_previous_delivery_in_force(con, tmp_path,
                                                                                    monkeypatch) -> None:
    from pipelines.ingest import deliver

    first = tmp_path / "抄表明细_2024-03_城东.csv"
    first.write_bytes((HEADER + "".join(row(i) for i in range(50))).encode("gbk"))
    assert ingest_path(con, first)[0].status == "loaded"

    original = deliver._write_layers

    def crash_after_writing(*args, **kwargs):
        original(*args, **kwargs)  # raw, core and quarantine written inside the transaction ...
        raise RuntimeError("power cut")  # ... and then the load dies before its commit

    monkeypatch.setattr(deliver, "_write_layers", crash_after_writing)
    corrected = tmp_path / "抄表明细_2024-03_城东_更正.csv"
    corrected.write_bytes((HEADER + "".join(row(i) for i in range(1000, 1060))).encode("gbk"))
    with pytest.raises(RuntimeError):
        ingest_path(con, corrected)
    # the earlier delivery is still the one in force, untouched; nothing of the failed one is visible
    assert con.execute("select count(*), min(customer_no) from core.readings").fetchall() == [(50, "C00000")]
    assert con.execute("select count(*) from raw.readings").fetchall() == [(50,)]
    assert con.execute("select status from ops.deliveries").fetchall() == [("loaded",)]
    assert con.execute("select count(*) from duckdb_tables() where temporary").fetchall() == [(0,)]


KILLED = """
import os, sys
from pathlib import Path
from pipelines.ingest import deliver
from warehouse.connection import connect

original = deliver._write_layers
def killed(*args, **kwargs):
    original(*args, **kwargs)
    os._exit(9)  # the process dies mid-transaction: no rollback, no cleanup
deliver._write_layers = killed
with connect(Path(sys.argv[1])) as conn:
    deliver.ingest_path(conn, Path(sys.argv[2]))
"""


def test_a_killed_load_leaves_nothing_visible(tmp_path) -> None:
    db = tmp_path / "warehouse.duckdb"
    first = tmp_path / "抄表明细_2024-03_城东.csv"
    first.write_bytes((HEADER + "".join(row(i) for i in range(50))).encode("gbk"))
    with connect(db) as conn:
        assert ingest_path(conn, first)[0].status == "loaded"
    corrected = tmp_path / "抄表明细_2024-03_城东_更正.csv"
    corrected.write_bytes((HEADER + "".join(row(i) for i in range(1000, 1060))).encode("gbk"))
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(KILLED), str(db), str(corrected)],
                          cwd=Path(__file__).parents[1], capture_output=True, text=True)
    assert done.returncode == 9, done.stderr
    with connect(db) as conn:
        assert conn.execute("select count(*), min(customer_no) from core.readings").fetchall() == [(50, "C00000")]
        assert conn.execute("select count(*) from raw.readings").fetchall() == [(50,)]
        assert conn.execute("select count(*) from quarantine.rows").fetchall() == [(0,)]
        assert conn.execute("select status from ops.deliveries").fetchall() == [("loaded",)]


def test_a_quote_left_open_mid_file_quarantines_the_rest_as_one_line(con, tmp_path) -> None:
    """The reader cannot tell where such a value ends: the lines from the open quote on are kept
    (as one quarantined line with their text), the lines before it load; no false note."""
    path = tmp_path / "抄表明细_2024-03_城东.csv"
    broken = '2024-03,城东,S1,"张三,C00500,M00500,1,2,已抄\n'
    path.write_text(HEADER + row(0) + row(1) + broken + row(2) + row(3), encoding="utf-8")
    [res] = ingest_path(con, path)
    assert (res.status, res.rows_loaded, res.rows_quarantined) == ("loaded", 2, 1)
    assert "line break" not in res.message
    [(line, check, raw)] = con.execute("select source_row, check_name, raw_value from quarantine.rows").fetchall()
    assert (line, check) == (4, "unparseable_line")
    assert "C00500" in raw and "C00003" in raw  # nothing lost: the swallowed lines are in the raw value


def test_lines_ending_in_a_comma_the_header_lacks_load(con, tmp_path) -> None:
    """Some exports end every data line with a comma: an empty unnamed column, not a broken line."""
    path = tmp_path / "抄表明细_2024-03_城东.csv"
    path.write_text(HEADER + "".join(row(i).replace("\n", ",\n") for i in range(5)), encoding="utf-8")
    [res] = ingest_path(con, path)
    assert (res.status, res.rows_loaded, res.rows_quarantined) == ("loaded", 5, 0)
    assert "extra columns kept in raw: column_10" in res.message
