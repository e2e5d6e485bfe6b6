"""Big and broken exports: every line of the file is a row, a skipped line or a quarantined line,
with its true line number; a file rejected part-way or a load killed before its commit leaves
nothing behind."""

from __future__ import annotations

import re
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
    body += row(8).replace(",8,", ",8.0,")                          # the same values spelt otherwise, line 209
    return body.replace("\n", newline)


@pytest.mark.parametrize("encoding,newline", [("utf-8", "\n"), ("gbk", "\n"), ("utf-8", "\r\n"),
                                              ("utf-8", "mixed"), ("utf-8", "\r"), ("gbk", "\r")],
                         ids=["utf8", "gbk", "crlf", "lf-and-crlf", "cr-only", "gbk-cr-only"])
def test_every_line_keeps_its_line_number(con, tmp_path, encoding, newline) -> None:
    path = tmp_path / "抄表明细_2024-03_城东.csv"
    ends = newline if newline in ("\r\n", "\r") else "\n"  # CR only: an old Mac export
    body = messy_body(ends)
    if newline == "mixed":  # a file pasted together from a Windows and a Linux export
        body = body.replace(row(120), row(120).replace("\n", "\r\n"))
    path.write_bytes(("XX供电公司" + ends + HEADER.replace("\n", ends) + body).encode(encoding))
    [res] = ingest_path(con, path)
    # 200 good rows + the padded one (quarantined: 本次示数 missing) + the wide line; the repeats dropped
    assert (res.status, res.rows_read, res.rows_loaded, res.rows_quarantined) == ("loaded", 202, 200, 2)
    # title on line 1, header on line 2: customer i < 100 sits on line i + 3, later ones after the gaps
    lines = dict(con.execute("select customer_no, source_row from core.readings").fetchall())
    assert (lines["C00000"], lines["C00099"], lines["C00100"], lines["C00149"]) == (3, 102, 104, 153)
    assert (lines["C00150"], lines["C00199"]) == (158, 207)
    assert con.execute("select source_row, check_name, message from quarantine.rows order by 1, 3").fetchall() == [
        (155, "too_many_fields", "10 fields where the header has 9"),
        (156, "not_nullable", "read_status failed not_nullable (value ∅)"),
        (156, "not_nullable", "this_read failed not_nullable (value ∅)")]
    assert con.execute("select source_row, reason from ops.skipped_rows order by 1").fetchall() == [
        (1, "title row"), (103, "blank row"), (154, "blank row"), (157, "blank row"),
        (208, "exact repeat of line 10"), (209, "repeat of line 11 (same values)")]
    assert con.execute("select count(*), min(source_row), max(source_row) from raw.readings").fetchall() == [
        (201, 3, 207)]
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
    assert (res.status, res.rows_loaded, res.rows_quarantined) == ("loaded", 200, 2)
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


# ---------------------------------------------------------------- issue 7 ---------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
@pytest.mark.parametrize("pattern", ["[1]", "?", "*", "{1}"])
def test_a_name_with_glob_characters_reads_only_that_file(con, tmp_path, encoding, pattern) -> None:
    """DuckDB's read_csv expands a path as a glob: `抄表明细_2024-03[1].csv` would read its neighbour."""
    own = tmp_path / f"抄表明细_2024-03{pattern}.csv"
    neighbour = tmp_path / "抄表明细_2024-031.csv"  # what the pattern matches
    own.write_bytes((HEADER + "".join(row(i) for i in range(3))).encode(encoding))
    neighbour.write_bytes((HEADER + "".join(row(i) for i in range(100, 105))).encode(encoding))
    [res] = ingest_path(con, own)
    assert (res.status, res.rows_loaded) == ("loaded", 3)
    assert con.execute("select list(customer_no order by customer_no) from raw.readings").fetchall() == [
        (["C00000", "C00001", "C00002"],)]


@pytest.mark.parametrize("iconv", [True, False])
def test_a_name_starting_with_a_dash_is_not_an_option(con, tmp_path, monkeypatch, iconv) -> None:
    if not iconv:
        monkeypatch.setattr(worktable.shutil, "which", lambda name: None)
    monkeypatch.chdir(tmp_path)
    path = Path("-c抄表明细_2024-03.csv")  # relative, as a user may type it
    path.write_bytes((HEADER + "".join(row(i) for i in range(4))).encode("gbk"))
    [res] = ingest_path(con, path)
    assert (res.status, res.rows_loaded) == ("loaded", 4)
    assert con.execute("select encoding from ops.deliveries").fetchall() == [("gb18030",)]
    assert con.execute("select distinct reader from core.readings").fetchall() == [("张三",)]


@pytest.mark.parametrize("iconv", [True, False])
def test_a_gbk_file_whose_first_70_kib_are_ascii_is_read_as_gb18030(con, tmp_path, monkeypatch, iconv) -> None:
    """The encoding is guessed from the first 64 KiB (ASCII: UTF-8 or GB18030 alike) and decided over
    the whole file: DuckDB finds bytes that are not UTF-8, the file is read again as GB18030."""
    if not iconv:
        monkeypatch.setattr(worktable.shutil, "which", lambda name: None)
    header = "amt_ym,team,mr_sect_no,writor_name,cons_no,asset_no,last_mr_num,this_read,mr_status_code\n"
    ascii_rows = "".join(f"202403,East,S1,Zhao,C{i:05d},M{i:05d},{i},{i + 10},01\n" for i in range(1600))
    assert ascii_rows.isascii() and len(header + ascii_rows) > 70 * 1024
    path = tmp_path / "抄表明细_2024-03_城东.csv"
    path.write_bytes((header + ascii_rows + "202403,城东,S1,张三,C99999,M99999,1,2,已抄\n").encode("gbk"))
    [res] = ingest_path(con, path)
    assert (res.status, res.rows_loaded, res.rows_quarantined) == ("loaded", 1601, 0), res.message
    assert con.execute("select source_row, team, reader, read_status from core.readings where customer_no = 'C99999'"
                       ).fetchall() == [(1602, "城东", "张三", "READ")]
    assert con.execute("select encoding from ops.deliveries").fetchall() == [("gb18030",)]


def test_undecodable_files_say_where_each_encoding_fails(con, tmp_path) -> None:
    ascii_head = tmp_path / "抄表明细_2024-03_城东.csv"
    ascii_head.write_bytes(("amt_ym,team,mr_sect_no,writor_name,cons_no,asset_no,last_mr_num,this_read,"
                            "mr_status_code\n" + "".join(f"2024-03,East,S1,Zhao,C{i:05d},M{i:05d},1,2,01\n"
                                                         for i in range(2000))).encode() + b"2024-03,\xff\xfe\n")
    [res] = ingest_path(con, ascii_head)
    assert res.status == "rejected"
    assert res.message.startswith(
        "cannot decode the file as UTF-8 or GBK/GB18030: it is not UTF-8 (invalid bytes ff on line 2,002, byte "
        "offset ") and "and not GBK/GB18030 either (invalid bytes ff on line 2,002" in res.message

    utf8_head = tmp_path / "抄表明细_2024-03_城西.csv"
    utf8_head.write_bytes((HEADER + "".join(row(i) for i in range(2000))).encode() + "2024-03,城西\n".encode("gbk"))
    [res] = ingest_path(con, utf8_head)
    assert res.status == "rejected"
    assert "it is not UTF-8 (invalid bytes b3 on line 2,002, byte offset 109,938) and not GBK/GB18030 either " \
           "(invalid bytes " in res.message
    assert "it reads as UTF-8 up to line 2,002: from there on it is damaged or in another encoding (two exports " \
           "pasted together?)" in res.message


def test_a_line_of_3_mb_is_quarantined_whole(con, tmp_path) -> None:
    """Longer than DuckDB's line limit (2 MB), and longer than the 10,000 bytes its rejects table keeps."""
    path = tmp_path / "抄表明细_2024-03_城东.csv"
    long = row(1).rstrip("\n") + ',"' + "很长的备注" * 200_000 + '"'  # 3 MB, a quoted field too many
    path.write_text(HEADER + row(0) + long + "\n" + row(2), encoding="utf-8")
    [res] = ingest_path(con, path)
    assert (res.status, res.rows_loaded, res.rows_quarantined) == ("loaded", 2, 1)
    [(line, check, raw)] = con.execute("select source_row, check_name, raw_value from quarantine.rows").fetchall()
    assert (line, check, len(raw.encode())) == (3, "unparseable_line", len(long.encode()))
    assert raw == long
    assert con.execute("select list(source_row order by source_row) from core.readings").fetchall() == [([2, 4],)]


READ_SPECIAL = """
import sys
from pathlib import Path
from checks.errors import FileRejected
from pipelines.ingest.landing import landing_files, period_of_file
from pipelines.ingest.readers import read_file
path = Path(sys.argv[1])
print(sorted(p.name for p in landing_files(path.parent)), period_of_file(path))
try:
    read_file(path)
except FileRejected as exc:
    print(exc)
"""


@pytest.mark.parametrize("kind", ["fifo", "link to /dev/zero", "directory"])
def test_only_regular_files_are_read(tmp_path, kind) -> None:
    """A FIFO blocks its reader forever, /dev/zero never ends: never opened, rejected saying what they
    are, and still listed in the landing folder (so the rejection is shown). In a subprocess with a
    timeout, so a regression fails instead of hanging the tests."""
    import os

    from checks.errors import FileRejected
    from pipelines.ingest.readers import require_regular_file

    path = tmp_path / "landing" / "抄表明细_2024-03_城东.csv"
    path.parent.mkdir()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    else:
        path.symlink_to("/dev/zero")
    what = {"fifo": "a FIFO, i.e. a named pipe", "link to /dev/zero": "a character device, which the symbolic link "
            "points at (/dev/zero)", "directory": "a directory"}[kind]
    expected = f"not a regular file ({what}): only regular files are read"
    with pytest.raises(FileRejected, match=re.escape(expected)):
        require_regular_file(path)
    done = subprocess.run([sys.executable, "-c", READ_SPECIAL, str(path)], cwd=Path(__file__).parents[1],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    listed = [] if kind == "directory" else ["抄表明细_2024-03_城东.csv"]
    assert done.stdout.splitlines() == [f"{listed} 2024-03", expected + "; put the export file itself in the "
                                        "landing folder"]
