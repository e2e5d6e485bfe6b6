"""A delivery's working table: the delivered text and its typed values, inside DuckDB.

A CSV is parsed by DuckDB's own parallel reader from a fixed name in a private temporary folder
(a link to the file, or a copy transcoded from GBK or with CR-only line ends turned into LF: read_csv
takes a path as a glob pattern, so a delivered name never reaches it), an Excel sheet comes from
fastexcel; either way the rows land in one TEMP table with the
text of every column (`c0..cN`, in file order) and two values per row (`_dirty`, `_hash`). A view
over it adds `_pos` (the row's position) and `_source_row` (its line in the file, or its row in
the sheet); `WorkTable.rows` adds the typed values (`_t_<column>`, by the SQL of
`checks.casting`) a query reads. Lines the reader could not use —
blank lines, lines with too many fields or a broken quote, too-short lines (padded, as a
spreadsheet would) — are accounted for here, so every line of the file is either a row, a
skipped line or a quarantined line (with its whole text, however long).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import duckdb
import numpy as np
import polars as pl

from checks.casting import row_columns, typed_columns
from checks.mappings import KindMapping
from checks.values import WHITESPACE, sql_literal
from pipelines.ingest.readers import CsvSource, SheetTable, undecodable
from readq.config import load_toml

# A totals row: its first non-blank value starts with one of these words (then a non-word character
# or the end), and the kind's key columns are empty (see `totals_keys`).
TOTALS_WORDS = ("合计", "总计", "小计", "共计", "total", "sum")
TOTALS_SQL = rf"^({'|'.join(TOTALS_WORDS)})($|[^\p{{L}}\p{{N}}_])"
# What a blank cell may hold: whitespace, also the ideographic (full-width) space, NBSP and the
# typographic spaces Excel users paste.
BLANK_CHARS = WHITESPACE + "\u3000" + "".join(chr(c) for c in range(0x2000, 0x200B))
SCAN_BLOCK = 1 << 25
# DuckDB's rejects table keeps about this many bytes of a rejected line (`csv_line`, cut at a
# character): a line that long may have been cut, so it is read again from the file, whole.
REJECTED_LINE_BYTES = 10_000
# read_csv takes its path as a glob pattern: a path with these characters could read other files.
GLOB_CHARS = re.compile(r"[*?\[\]{}]")
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
        """One of the delivery's TEMP tables: work, skip, cand, fail, rej, scan, gaps."""
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
        for what in ("work", "skip", "cand", "fail", "rej", "scan", "gaps"):
            conn.execute(f"drop table if exists {self.temp(what)}")


@dataclass
class Typing:
    """What the working table computes besides the text: values per row while loading (`_dirty`,
    `_hash`), and the typed value of every canonical column in its view."""

    per_row: list[str]
    typed: dict[str, str]  # column -> `typed AS _t_<column>`
    totals_keys: list[str] = field(default_factory=list)  # text columns a totals row leaves empty

    @classmethod
    def of(cls, mapping: KindMapping, text_of: dict[str, str]) -> Typing:
        return cls(row_columns(mapping, text_of), typed_columns(mapping, text_of), totals_keys(mapping, text_of))


def totals_keys(mapping: KindMapping, text_of: dict[str, str]) -> list[str]:
    """The text columns (`c<i>`) a totals row leaves empty: the kind's key columns other than the
    period, and `[ingest] totals_blank_columns` (config/readq.toml), those the file has; if it has
    none of them, its required text columns. A row labelled 合计 or Total whose key is filled in is a
    row of data (a customer named "Total 加油站")."""
    extra = load_toml("readq.toml")["ingest"]["totals_blank_columns"]
    wanted = dict.fromkeys(c for c in (*mapping.key, *extra) if c != "period")
    keys = [text_of[c] for c in wanted if c in text_of]
    return keys or [text_of[s.name] for s in mapping.columns.values()
                    if s.required and s.type == "str" and not s.codes and s.name in text_of]


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

class NotDecodable(Exception):
    """The CSV is not in the encoding it is read as (DuckDB or the transcoding found such bytes)."""

    def __init__(self, line: int | None = None) -> None:
        super().__init__(line)
        self.line = line


@contextmanager
def utf8_file(src: CsvSource, *, unify_newlines: bool = False) -> Iterator[Path]:
    """The CSV as UTF-8 on disk, under a fixed name in a private temporary folder: a link to the file
    itself, or a transcoded copy (GB18030; CR-only line ends, or with `unify_newlines` CRLF mixed
    with LF, turned into LF). DuckDB's read_csv takes a path as a glob pattern, so a delivered name is
    never given to it: `抄表明细_2024-03[1].csv` would read `抄表明细_2024-031.csv`'s rows."""
    with tempfile.TemporaryDirectory(prefix="readq-") as folder:
        if GLOB_CHARS.search(folder):
            raise RuntimeError(f"the temporary folder {folder} has glob characters (*?[]{{}}): set TMPDIR to a "
                               "plain path")
        out = Path(folder) / "delivery.csv"
        newline = "\r" if src.newline == "\r" else "\r\n" if unify_newlines else None
        if src.encoding.startswith("utf-8") and newline is None:
            _link(src.path, out)
        else:
            _transcode(src.path, out, src.encoding, newline)
        yield out


def _link(path: Path, out: Path) -> None:
    """`out` reads as `path` (a symbolic link; a hard link or a copy where links are not allowed)."""
    try:
        out.symlink_to(path.resolve())
    except OSError:
        try:
            os.link(path, out)
        except OSError:
            shutil.copyfile(path, out)


def _transcode(path: Path, out: Path, encoding: str, newline: str | None = None) -> None:
    """`path` in `encoding` -> UTF-8 in `out`, strictly (NotDecodable on the first bad bytes); `newline`
    "\r" turns CR-only line ends into LF, "\r\n" turns CRLF into LF."""
    iconv = shutil.which("iconv")
    if iconv and newline is None and not encoding.startswith("utf-8"):
        # glibc's iconv: strict, and about 3x faster than Python's codec. Given absolute paths (faster
        # than stdin), so no file name (one starting with "-") can be taken for an option.
        done = subprocess.run([iconv, "-f", encoding.upper(), "-t", "UTF-8", "-o", os.path.abspath(out),
                               os.path.abspath(path)], capture_output=True, text=True)
        if done.returncode == 0:
            return
        # not decodable, as far as iconv can tell: Python's codec (the one that says where) decides
    with open(path, "rb") as fh, open(out, "wb") as dst:
        carry = b""
        while True:
            data = fh.read(SCAN_BLOCK)
            buf = carry + data
            if not data:
                cut = len(buf)
            elif newline == "\r":  # after the last CR, never between a CR and its LF
                cut = buf.rfind(b"\r", 0, len(buf) - 1) + 1
                cut += 1 if 0 < cut < len(buf) and buf[cut] == 0x0A else 0
            else:
                cut = buf.rfind(b"\n") + 1  # GB18030 never uses 0x0A (or 0x0D) inside a character
            block, carry = buf[:cut], buf[cut:]
            try:
                text = block.decode(encoding)
            except UnicodeDecodeError:
                raise NotDecodable() from None
            if newline is not None:
                text = text.replace("\r\n", "\n")
                if newline == "\r":
                    text = text.replace("\r", "\n")
            dst.write(text.encode("utf-8"))
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


Reject = tuple[int, str, str, str]  # line, DuckDB's error type, the line's text (whole), DuckDB's message


def _parse(conn: duckdb.DuckDBPyConnection, src: CsvSource, work: WorkTable, select: str, width: int,
           unify_newlines: bool = False) -> tuple[LineScan, list[Reject]]:
    """DuckDB parses the file into the working table while a thread scans its lines. The scan reads
    the delivered file itself: GB18030 and CRLF -> LF keep every line and every empty line where it
    was, so it runs beside the transcoding too (numpy, iconv and DuckDB all leave the GIL); a CR-only
    file has its lines only in the LF copy, which is scanned once written. The rejected lines are read
    while the file DuckDB read still exists (a long one is read again from it, whole)."""
    scanned: dict[str, LineScan] = {}

    def scan(path: Path) -> threading.Thread:
        thread = threading.Thread(target=lambda: scanned.update(scan=scan_lines(path, src.skip_lines)))
        thread.start()
        return thread

    scanner = None if src.newline == "\r" else scan(src.path)
    try:
        with utf8_file(src, unify_newlines=unify_newlines) as path:
            scanner = scanner or scan(path)
            source = _read_csv_sql(path, src.skip_lines, width, work.tag)
            conn.execute(f"create temp table {work.table} as select null::bigint as _line, {select} "
                         f"from {source}")
            rejects = _rejects(conn, work, path)
    finally:
        if scanner is not None:
            scanner.join()
    return scanned["scan"], rejects


def _parse_csv(conn: duckdb.DuckDBPyConnection, src: CsvSource, work: WorkTable, select: str,
               width: int) -> tuple[LineScan, list[Reject]]:
    try:
        return _parse(conn, src, work, select, width)
    except duckdb.InvalidInputException as exc:
        if "invalid state" not in str(exc):
            raise
        work.drop(conn)  # LF and CRLF mixed in one file: read a copy with LF only
        return _parse(conn, src, work, select, width, unify_newlines=True)


def _rejects(conn: duckdb.DuckDBPyConnection, work: WorkTable, path: Path) -> list[Reject]:
    """DuckDB's rejected lines, one entry per line. Bytes that are not UTF-8 mean the file is not in
    the encoding it is read as: NotDecodable (the caller retries or rejects the file)."""
    rej = work.temp("rej")
    bad = conn.execute(f"select min(line) from {rej} where error_type = 'INVALID ENCODING'").fetchall()[0][0]
    if bad is not None:
        raise NotDecodable(int(bad))
    # a line's first error (by byte): later ones on the same line describe fragments of it
    rows = conn.execute(f"select distinct on (line) line, error_type, csv_line, error_message, line_byte_position, "
                        f"byte_position from {rej} order by line, byte_position").fetchall()
    return [(int(line), error_type, _whole_line(path, line_at, error_at, text or ""), message)
            for line, error_type, text, message, line_at, error_at in rows]


def _whole_line(path: Path, line_at: int | None, error_at: int | None, text: str) -> str:
    """A rejected line's text, whole. DuckDB keeps only its first REJECTED_LINE_BYTES of a line, and for
    some quoting errors (a quote inside a quoted value) it names the line before instead (its start and
    its text: its error byte then lies outside them). Such a line is read again from the file DuckDB
    read, from its start up to the first line end outside quotes: quarantine.rows.raw_value keeps what
    the file held. Positions are DuckDB's, 1-based."""
    kept = len(text.encode())
    consistent = bool(text) and line_at is not None and (error_at is None or line_at <= error_at <= line_at + kept)
    if consistent and kept < REJECTED_LINE_BYTES - 4:  # (DuckDB cuts before a whole character)
        return text
    with open(path, "rb") as fh:
        start = _found_at(fh, line_at, text) if consistent else _line_start(fh, error_at)
        if start is None:
            return text  # not where DuckDB said: keep what it kept
        return _record_from(fh, start)


def _found_at(fh: BinaryIO, line_at: int, text: str) -> int | None:
    """The 0-based offset where the line DuckDB kept the start of begins (checked against its text)."""
    prefix = text[:64].encode("utf-8")
    for start in (max(line_at - 1, 0), line_at, max(line_at - 2, 0)):
        fh.seek(start)
        if fh.read(len(prefix)) == prefix:
            return start
    return None


def _line_start(fh: BinaryIO, error_at: int | None) -> int | None:
    """The 0-based offset of the start of the line holding the (1-based) byte `error_at`."""
    if error_at is None:
        return None
    end = max(error_at - 1, 0)
    while end > 0:
        begin = max(0, end - (1 << 16))
        fh.seek(begin)
        newline = fh.read(end - begin).rfind(b"\n")
        if newline >= 0:
            return begin + newline + 1
        end = begin
    return 0


def _record_from(fh: BinaryIO, start: int) -> str:
    """The text from `start` to the first line end outside quotes (or the end of the file)."""
    fh.seek(start)
    out, quoted = bytearray(), False
    while block := fh.read(SCAN_BLOCK):
        at = 0
        while True:
            end = block.find(b"\n", at)
            quote = block.find(b'"', at, end if end >= 0 else len(block))
            if quote >= 0:
                quoted, at = not quoted, quote + 1
            elif end < 0:
                break
            elif quoted:
                at = end + 1
            else:
                out += block[:end]
                return out.decode("utf-8", "replace").rstrip("\r")
        out += block
    return out.decode("utf-8", "replace").rstrip("\r\n")


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
    select = ", ".join(cols + typing.per_row)
    try:
        scan, rejects = _parse_csv(conn, src, work, select, width)
    except NotDecodable as exc:
        work.drop(conn)
        if not (src.encoding == "utf-8" and src.ascii_head):
            raise undecodable(src.path, exc.line) from None
        src.encoding = "gb18030"  # its ASCII head fits GB18030 as well: the strict transcoding decides
        try:
            scan, rejects = _parse_csv(conn, src, work, select, width)
        except NotDecodable:
            work.drop(conn)
            raise undecodable(src.path) from None
    excluded = {first + i for i in scan.blank}
    loaded.skipped += [(first + i, "blank row") for i in scan.blank]
    padded: list[list] = []
    for line, error_type, text, message in rejects:
        text = text.strip("\r\n")
        excluded.update(range(line, line + text.count("\n") + 1))  # a broken quote can swallow the lines after it
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
        table.encoding = table.source.encoding  # GB18030, if an ASCII head's UTF-8 guess was wrong
    else:
        loaded = load_frame(conn, table.source, table.first_row, work, typing)
    loaded.skipped += skip_blank_and_totals(conn, work, len(table.headers))
    return loaded


def skip_blank_and_totals(conn: duckdb.DuckDBPyConnection, work: WorkTable, width: int) -> list[tuple[int, str]]:
    """Blank rows (every cell empty or whitespace) and totals rows (the first non-blank cell 合计/总计/
    Total/…, and the key columns `work.typing.totals_keys` empty, but for the label's own cell):
    recorded, not loaded. The whole row decides; only rows whose first cell is empty or starts with a
    blank or a label word can be either, so the rest of the row is looked at for those alone (one
    anchored regex per row: a million clean rows cost milliseconds)."""
    blank = sql_literal(BLANK_CHARS)
    candidate = sql_literal(f"^([{BLANK_CHARS}]|{'|'.join(TOTALS_WORDS)})")
    cols = text_columns(width)
    filled = [f"coalesce(trim({c}, {blank}) <> '', false)" for c in cols]
    first = f"list_position([{', '.join(filled)}], true)"  # 1-based position of the first non-blank cell
    keys = work.typing.totals_keys if work.typing else []
    keys_empty = " and ".join(f"(not {filled[cols.index(k)]} or _first = {cols.index(k) + 1})" for k in keys) or "true"
    totals = sql_literal(TOTALS_SQL)
    rows, candidates = work.rows(live=False), work.temp("cand")
    conn.execute(f"create or replace temp table {candidates} as select _pos from {rows} "
                 f"where c0 is null or c0 = '' or regexp_matches(c0, {candidate}, 'i')")
    conn.execute(f"create or replace temp table {work.skip} (_pos bigint, _source_row bigint, reason varchar)")
    if conn.execute(f"select count(*) from {candidates}").fetchall()[0][0]:
        conn.execute(
            f"insert into {work.skip} select _pos, _source_row, "
            f"case when _first is null then 'blank row' else 'totals row' end as reason "
            f"from (select _pos, _source_row, {first} as _first, [{', '.join(cols)}] as _cells, "
            f"{', '.join(keys) or 'null'} from {rows} semi join {candidates} using (_pos)) "
            f"where _first is null or (regexp_matches(trim(_cells[_first], {blank}), {totals}, 'i') and {keys_empty})")
    return [(int(r), reason) for r, reason in
            conn.execute(f"select _source_row, reason from {work.skip} order by _source_row").fetchall()]
