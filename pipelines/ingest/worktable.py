"""A delivery's working table: the delivered text and its typed values, inside DuckDB.

A CSV is parsed by DuckDB's own parallel reader (GBK is first transcoded to a UTF-8 temporary
file), an Excel sheet comes from fastexcel; either way the rows land in one TEMP table with the
text of every column (`c0..cN`, in file order) and two values per row (`_dirty`, `_hash`). A view
over it adds `_pos` (the row's position) and `_source_row` (its line in the file, or its row in
the sheet); `WorkTable.rows` adds the typed values (`_t_<column>`, by the SQL of
`checks.casting`) a query reads. Lines the reader could not use —
blank lines, lines with too many fields or a broken quote, too-short lines (padded, as a
spreadsheet would) — are accounted for here, so every line of the file is either a row, a
skipped line or a quarantined line.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from checks.casting import row_columns, typed_columns
from checks.errors import FileRejected
from checks.mappings import KindMapping
from checks.values import sql_literal
from pipelines.ingest.readers import CsvSource, SheetTable, undecodable

# A totals row: its first value starts with one of these words (then a non-word character or the end).
TOTALS_SQL = r"^(合计|总计|小计|共计|total|sum)($|[^\p{L}\p{N}_])"
SCAN_BLOCK = 1 << 25
UNPARSEABLE = {
    "UNQUOTED VALUE": "a quoted value is not closed",
    "LINE SIZE OVER MAXIMUM": "the line is longer than the reader accepts",
}


@dataclass
class WorkTable:
    """One delivery's temporary tables, and the SQL to read its rows."""

    tag: str
    typing: Typing | None = None

    def rows(self, columns: Iterable[str] = (), *, live: bool = True) -> str:
        """A subquery of the rows (`_pos`, `_source_row`, text `c0..cN`, `_dirty`, `_hash`) with the
        typed values `_t_<column>` of `columns` (only those: each costs binding and computing).
        `live` leaves out blank and totals rows."""
        typed = [self.typing.typed[c] for c in columns] if self.typing else []
        skip = f" anti join {self.skip} using (_pos)" if live else ""
        return f"(select {', '.join(['*', *typed])} from {self.view}{skip})"

    def temp(self, what: str) -> str:
        """One of the delivery's TEMP tables: work, skip, fail, rej, scan, gaps."""
        return f"temp.main.rq_{what}_{self.tag}"

    @property
    def table(self) -> str:
        return self.temp("work")

    @property
    def skip(self) -> str:
        return self.temp("skip")

    @property
    def failures(self) -> str:
        return self.temp("fail")

    @property
    def view(self) -> str:
        return f"rq_rows_{self.tag}"

    def drop(self, conn: duckdb.DuckDBPyConnection) -> None:
        conn.execute(f"drop view if exists {self.view}")
        for what in ("work", "skip", "fail", "rej", "scan", "gaps"):
            conn.execute(f"drop table if exists {self.temp(what)}")


@dataclass
class Typing:
    """What the working table computes besides the text: values per row while loading (`_dirty`,
    `_hash`), and the typed value of every canonical column in its view."""

    per_row: list[str]
    typed: dict[str, str]  # column -> `typed AS _t_<column>`

    @classmethod
    def of(cls, mapping: KindMapping, text_of: dict[str, str]) -> Typing:
        return cls(row_columns(mapping, text_of), typed_columns(mapping, text_of))


@dataclass
class Loaded:
    """What loading the text found besides rows."""

    skipped: list[tuple[int, str]] = field(default_factory=list)           # (line/row, reason)
    bad_lines: list[tuple[int, str, str, str]] = field(default_factory=list)  # (line, check, detail, raw)
    notes: list[str] = field(default_factory=list)


def text_columns(width: int) -> list[str]:
    return [f"c{i}" for i in range(width)]


def text_of(headers: list[str], columns: dict[str, str]) -> dict[str, str]:
    """canonical column -> its text column (`c<i>`) in the working table, from the file's headers
    and the header -> canonical column match."""
    return {canonical: f"c{headers.index(header)}" for header, canonical in columns.items()}


# ---------------------------------------------------------------- CSV ------------------------------

@contextmanager
def utf8_file(src: CsvSource, *, unify_newlines: bool = False) -> Iterator[Path]:
    """The CSV as UTF-8 on disk: the file itself, or a transcoded temporary copy (GB18030).
    `unify_newlines` also turns CRLF into LF (for files that mix both, which DuckDB refuses)."""
    if src.encoding.startswith("utf-8") and not unify_newlines:
        yield src.path
        return
    with tempfile.TemporaryDirectory(prefix="readq-") as folder:
        out = Path(folder) / "utf8.csv"
        _transcode(src.path, out, src.encoding, unify_newlines)
        yield out


def _transcode(path: Path, out: Path, encoding: str, unify_newlines: bool = False) -> None:
    iconv = shutil.which("iconv")
    if iconv and not unify_newlines:  # glibc's iconv: strict, and about 3x faster than Python's codec
        done = subprocess.run([iconv, "-f", encoding.upper(), "-t", "UTF-8", "-o", str(out), str(path)],
                              capture_output=True, text=True)
        if done.returncode == 0:
            return
        position = done.stderr.rsplit("position", 1)[-1].strip() if "position" in done.stderr else "?"
        raise undecodable(int(position) if position.isdigit() else None)
    offset = 0
    with open(path, "rb") as fh, open(out, "wb") as dst:
        carry = b""
        while True:
            data = fh.read(SCAN_BLOCK)
            buf = carry + data
            cut = len(buf) if not data else buf.rfind(b"\n") + 1  # GB18030 never uses 0x0A inside a character
            block, carry = buf[:cut], buf[cut:]
            try:
                text = block.decode(encoding)
                dst.write((text.replace("\r\n", "\n") if unify_newlines else text).encode("utf-8"))
            except UnicodeDecodeError as exc:
                raise undecodable(offset + exc.start) from None
            offset += len(block)
            if not data:
                return


@dataclass
class LineScan:
    """Where the lines of the data region are: how many, and which are empty."""

    lines: int = 0
    blank: list[int] = field(default_factory=list)  # 0-based line indexes within the data region


def _start_of_line(path: Path, skip_lines: int) -> int:
    """Byte offset where line `skip_lines` + 1 begins."""
    start = 0
    with open(path, "rb") as fh:
        data = fh.read(1 << 16)
        while skip_lines and data:
            nl = data.find(b"\n", start)
            if nl < 0:
                more = fh.read(1 << 16)
                if not more:
                    return len(data)
                data += more
                continue
            start, skip_lines = nl + 1, skip_lines - 1
    return start


def scan_lines(path: Path, skip_lines: int) -> LineScan:
    """Count the lines after the first `skip_lines` and find the empty ones (vectorised, in blocks)."""
    start = _start_of_line(path, skip_lines)
    scan = LineScan()
    previous_end = -1          # index (within the region) of the last newline seen, -1 before the first
    previous_cr = False        # the byte before the current block's start was '\r'
    position = 0
    with open(path, "rb") as fh:
        fh.seek(start)
        while data := fh.read(SCAN_BLOCK):
            arr = np.frombuffer(data, dtype=np.uint8)
            newlines = np.flatnonzero(arr == 10) + position
            if newlines.size:
                starts = np.concatenate(([previous_end + 1], newlines[:-1] + 1))
                length = newlines - starts
                cr_only = np.zeros(length.shape, dtype=bool)
                ones = np.flatnonzero(length == 1)
                if ones.size:
                    local = starts[ones] - position
                    inside = local >= 0
                    values = np.empty(ones.size, dtype=bool)
                    values[inside] = arr[local[inside]] == 13
                    values[~inside] = previous_cr
                    cr_only[ones] = values
                empty = np.flatnonzero((length == 0) | cr_only) + scan.lines
                scan.blank.extend(empty.tolist())
                scan.lines += newlines.size
                previous_end = int(newlines[-1])
            previous_cr = bool(arr[-1] == 13)
            position += len(data)
    if position > previous_end + 1:  # a last line without a newline
        scan.lines += 1
    return scan


def _read_csv_sql(path: Path, skip: int, width: int, tag: str) -> str:
    columns = ", ".join(f"'{c}': 'VARCHAR'" for c in text_columns(width))
    return (f"read_csv({sql_literal(str(path))}, header = false, skip = {skip}, columns = {{{columns}}}, "
            "auto_detect = false, delim = ',', quote = '\"', escape = '\"', null_padding = false, "
            f"ignore_errors = true, store_rejects = true, rejects_table = 'rq_rej_{tag}', "
            f"rejects_scan = 'rq_scan_{tag}')")


def _parse(conn: duckdb.DuckDBPyConnection, src: CsvSource, work: WorkTable, select: str, width: int,
           unify_newlines: bool = False) -> LineScan:
    """DuckDB parses the file into the working table while a thread scans its lines. The scan reads
    the delivered file itself: GB18030 and CRLF -> LF keep every line and every empty line where it
    was, so it runs beside the transcoding too (numpy, iconv and DuckDB all leave the GIL)."""
    scan_result: dict[str, LineScan] = {}
    scanner = threading.Thread(target=lambda: scan_result.update(scan=scan_lines(src.path, src.skip_lines)))
    scanner.start()
    try:
        with utf8_file(src, unify_newlines=unify_newlines) as path:
            source = _read_csv_sql(path, src.skip_lines, width, work.tag)
            conn.execute(f"create temp table {work.table} as select null::bigint as _line, {select} "
                         f"from {source}")
    finally:
        scanner.join()
    return scan_result["scan"]


def _line_fields(line: str) -> list[str] | None:
    try:
        return next(csv.reader([line], strict=True))
    except (csv.Error, StopIteration):
        return None


def load_csv(conn: duckdb.DuckDBPyConnection, src: CsvSource, first: int, work: WorkTable, typing: Typing,
             width: int) -> Loaded:
    """The CSV's data lines (from line `first` on) into the working table."""
    loaded = Loaded()
    cols = text_columns(width)
    try:
        scan = _parse(conn, src, work, ", ".join(cols + typing.per_row), width)
    except duckdb.InvalidInputException as exc:
        if "invalid state" not in str(exc):
            raise
        work.drop(conn)  # LF and CRLF mixed in one file: read a copy with LF only
        scan = _parse(conn, src, work, ", ".join(cols + typing.per_row), width, unify_newlines=True)
    rejects = conn.execute(
        f"select distinct on (line) line, error_type, csv_line, error_message from {work.temp('rej')} "
        "order by line").fetchall()
    excluded = {first + i for i in scan.blank}
    loaded.skipped += [(first + i, "blank row") for i in scan.blank]
    padded: list[list] = []
    for line, error_type, text, message in rejects:
        line = int(line)
        text = (text or "").strip("\r\n")
        excluded.update(range(line, line + text.count("\n") + 1))  # a broken quote can swallow the lines after it
        if error_type == "INVALID ENCODING":
            raise FileRejected(f"cannot decode the file as UTF-8 or GBK/GB18030 (invalid bytes on line {line}); "
                               "re-export it as CSV (UTF-8 or GBK) or XLSX")
        fields = _line_fields(text)
        if error_type == "MISSING COLUMNS" and not text.strip():
            loaded.skipped.append((line, "blank row"))
        elif error_type == "MISSING COLUMNS" and fields is not None:
            padded.append([line, *[f if f != "" else None for f in fields], *[None] * (width - len(fields))])
        elif error_type == "TOO MANY COLUMNS" and fields is not None:
            loaded.bad_lines.append((line, "too_many_fields", f"{len(fields)} fields where the header has {width}",
                                     text))
        else:
            reason = UNPARSEABLE.get(error_type, message)
            loaded.bad_lines.append((line, "unparseable_line", f"unparseable line ({reason})", text))
    if padded:  # too-short lines: the missing trailing fields are empty, as in a spreadsheet
        frame = pl.DataFrame(padded, schema={"_line": pl.Int64, **{c: pl.String for c in cols}}, orient="row")
        conn.register("rq_padded", frame)
        try:
            conn.execute(f"insert into {work.table} select _line, {', '.join(cols + typing.per_row)} from rq_padded")
        finally:
            conn.unregister("rq_padded")
    rows = conn.execute(f"select count(*) from {work.table} where _line is null").fetchall()[0][0]
    if rows + len(excluded) < scan.lines:
        loaded.notes.append(f"{scan.lines - rows - len(excluded)} line break(s) inside quoted values: line numbers "
                            "after the first of them are approximate")
    _create_view(conn, work, first, sorted(e - first for e in excluded))
    return loaded


def _create_view(conn: duckdb.DuckDBPyConnection, work: WorkTable, first: int, excluded: list[int]) -> None:
    """The rows view: `_pos`, `_source_row` and the working table's columns (`WorkTable.rows` adds
    the typed values a query asks for). A native row at position p sits on line
    first + p + (number of excluded lines before it): found with an ASOF join on the gaps."""
    if not excluded:
        conn.execute(f"create or replace temp view {work.view} as select rowid as _pos, "
                     f"coalesce(_line, {first} + rowid) as _source_row, * exclude (_line) from {work.table}")
        return
    gaps = np.asarray(excluded, dtype=np.int64)
    # excluded line e (relative) is preceded by e - i rows; rows from position e - i on shift by i + 1
    frame = pl.DataFrame({"g": gaps - np.arange(gaps.size), "k": np.arange(1, gaps.size + 1)})
    frame = frame.group_by("g").agg(pl.col("k").max()).sort("g")
    conn.register("rq_gap_frame", frame)
    try:
        conn.execute(f"create or replace temp table {work.temp('gaps')} as select * from rq_gap_frame")
    finally:
        conn.unregister("rq_gap_frame")
    conn.execute(
        f"create or replace temp view {work.view} as select w._pos, "
        f"coalesce(w._line, {first} + w._pos + coalesce(g.k, 0)) as _source_row, w.* exclude (_line, _pos) "
        f"from (select rowid as _pos, * from {work.table}) w asof left join {work.temp('gaps')} g on w._pos >= g.g")


# ---------------------------------------------------------------- Excel ----------------------------

def load_frame(conn: duckdb.DuckDBPyConnection, frame: pl.DataFrame, first: int, work: WorkTable,
               typing: Typing) -> Loaded:
    """A sheet's rows (text) into the working table; row numbers run on from `first`."""
    work.typing = typing
    cols = text_columns(frame.width)
    frame = frame.rename(dict(zip(frame.columns, cols, strict=True)))
    conn.register("rq_sheet", frame)
    try:
        conn.execute(f"create temp table {work.table} as select null::bigint as _line, "
                     f"{', '.join(cols + typing.per_row)} from rq_sheet")
    finally:
        conn.unregister("rq_sheet")
    _create_view(conn, work, first, [])
    return Loaded()


def load_work_table(conn: duckdb.DuckDBPyConnection, table: SheetTable, work: WorkTable,
                    typing: Typing) -> Loaded:
    work.typing = typing
    if isinstance(table.source, CsvSource):
        loaded = load_csv(conn, table.source, table.first_row, work, typing, len(table.headers))
    else:
        loaded = load_frame(conn, table.source, table.first_row, work, typing)
    loaded.skipped += skip_blank_and_totals(conn, work, len(table.headers))
    return loaded


def skip_blank_and_totals(conn: duckdb.DuckDBPyConnection, work: WorkTable, width: int) -> list[tuple[int, str]]:
    """Rows with no value at all and totals rows (first value 合计/总计/…): recorded, not loaded."""
    first_value = f"trim(coalesce({', '.join(text_columns(width))}))"
    conn.execute(
        f"create or replace temp table {work.skip} as select _pos, _source_row, "
        f"case when {first_value} is null or {first_value} = '' then 'blank row' else 'totals row' end as reason "
        f"from {work.rows(live=False)} where {first_value} is null or {first_value} = '' "
        f"or regexp_matches({first_value}, {sql_literal(TOTALS_SQL)}, 'i')")
    return [(int(r), reason) for r, reason in
            conn.execute(f"select _source_row, reason from {work.skip}").fetchall()]
