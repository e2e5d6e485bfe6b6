"""Find the table in an export file, whatever its format and encoding: its header and where
its data rows start.

CSV in UTF-8, UTF-8 with BOM or GBK/GB18030 (detected, not configured); XLSX and XLS
(every sheet, or a chosen one). Title rows above the header are recorded as skipped; the
data rows themselves are read into DuckDB by `pipelines.ingest.worktable`.

Only regular files are read (a FIFO or /dev/zero would hang the ingest). The encoding is guessed
from the head and decided over the whole file as it is read; a file that is not CSV text at all
(UTF-16, a renamed workbook, binary) is told as such. Tables wider than `[ingest] max_columns`
are rejected. Merged cells of a sheet's data rows take their first cell's value (Excel stores it
only there); a hidden sheet loads, with a note.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import stat
import struct
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

import fastexcel
import numpy as np
import polars as pl

from checks.errors import FileRejected
from checks.mappings import all_mappings, normalize_header
from readq.config import load_toml

HEADER_SEARCH_ROWS = 15          # the header must be within the first rows
MIN_HEADER_MATCHES = 3           # known aliases a row needs to count as the header
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
CSV_SUFFIXES = {".csv", ".txt"}
HEAD_BYTES = 1 << 16             # the header is found, and the encoding guessed, in the first 64 KiB
DECODE_BLOCK = 1 << 20           # whole-file decoding checks read this much at a time
SAMPLE_ROWS = 200                # data rows kept as a sample (e.g. to tell a landing file's month)


@dataclass
class CsvSource:
    """Where a CSV's data rows are: DuckDB reads them from here (after transcoding, if needed)."""

    path: Path
    encoding: str
    skip_lines: int     # lines above the first data line (title rows, header)
    # The head held only ASCII, so "UTF-8" is a guess GB18030 would fit as well: the reader retries
    # as GB18030 if DuckDB then finds bytes that are not UTF-8 (a GBK file whose first 64 KiB are ASCII).
    ascii_head: bool = False
    newline: str = "\n"  # "\r": lines end in CR only (old Mac exports); the reader converts a copy to LF


@dataclass
class SheetTable:
    """One table found in a file: its header, and where its data rows are (a CSV file, or a
    sheet's text cells as a polars frame). `first_row` is the 1-based line/row number of the
    first data row, so every number can be traced back to the file."""

    sheet: str | None
    headers: list[str]
    header_row: int
    first_row: int
    source: CsvSource | pl.DataFrame
    encoding: str | None = None
    skipped: list[tuple[int, str]] = field(default_factory=list)  # title rows above the header
    notes: list[str] = field(default_factory=list)  # e.g. sheets of the workbook that hold no table
    sample: pl.DataFrame | None = None  # the first data rows as text (columns in header order)


def _text_frame(rows: list[list[str | None]], width: int) -> pl.DataFrame:
    fitted = [[(c if c != "" else None) for c in r[:width]] + [None] * (width - len(r)) for r in rows]
    return pl.DataFrame(fitted, schema={f"c{i}": pl.String for i in range(width)}, orient="row")


def known_aliases() -> set[str]:
    return {alias for m in all_mappings().values() for alias in m.alias_index()}


UNDECODABLE = "cannot decode the file as UTF-8 or GBK/GB18030"
REEXPORT = "re-export it as CSV (UTF-8 or GBK) or XLSX"
_UTF16 = ("it is UTF-16 text (what Excel saves as \"Unicode Text\", tab-separated), which is not read: open it "
          "in Excel and save it as \"CSV UTF-8 (Comma delimited)\" or as an Excel workbook (XLSX)")
# Files that are no CSV text whatever their name says, by their first bytes: what they are, what to do.
NOT_TEXT = (
    (b"PK\x03\x04", "it is a ZIP archive, most likely an Excel workbook (XLSX) renamed to .csv: rename it to "
                    ".xlsx (or open it in Excel and save it as CSV)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "it is an Excel 97-2003 workbook (XLS) renamed to .csv: rename it to "
                                          ".xls (or open it in Excel and save it as CSV)"),
    (b"\xff\xfe", _UTF16),
    (b"\xfe\xff", _UTF16),
)


def not_text(head: bytes) -> FileRejected | None:
    """The rejection of a file that is not CSV text at all (a workbook, UTF-16, binary), told as such:
    "cannot decode" would send the user looking for the wrong problem."""
    for magic, what in NOT_TEXT:
        if head.startswith(magic):
            return FileRejected(f"the file is not CSV text: {what}")
    if (nul := head.find(b"\x00")) >= 0:
        return FileRejected(f"the file is not CSV text: it holds NUL bytes (the first at byte offset {nul:,}), so it "
                            f"is binary data or UTF-16 text without a byte-order mark; {REEXPORT}")
    return None


@dataclass
class BadBytes:
    """Where a decoding of a file first fails."""

    offset: int
    data: bytes
    line: int = 0

    def __str__(self) -> str:  # for a statistician to find the spot in an editor
        return f"invalid bytes {self.data.hex(' ')} on line {self.line:,}, byte offset {self.offset:,}"


def _line_at(fh: io.BufferedReader, offset: int) -> int:
    """The 1-based line holding byte `offset` (counted in blocks; a CR-only file by its CRs)."""
    fh.seek(0)
    lf = cr = 0
    while offset > 0 and (block := fh.read(min(DECODE_BLOCK, offset))):
        lf, cr, offset = lf + block.count(b"\n"), cr + block.count(b"\r"), offset - len(block)
    return (lf or cr) + 1


def first_undecodable(path: Path, encoding: str) -> BadBytes | None:
    """The first bytes of `path` that `encoding` cannot decode (streamed, strict), or None."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0  # bytes read before the current block
    with open(path, "rb") as fh:
        while True:
            block = fh.read(DECODE_BLOCK)
            pending = len(decoder.getstate()[0])  # bytes of a character cut by the previous block
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                at = offset - pending + exc.start
                return BadBytes(at, exc.object[exc.start:exc.end][:8], _line_at(fh, at))
            if not block:
                return None
            offset += len(block)


def undecodable(path: Path, line: int | None = None) -> FileRejected:
    """Why the file is neither UTF-8 nor GBK/GB18030, as exactly as it can be said: what it is if it
    is not text, else where each decoding first fails over the whole file (`line`: where DuckDB
    found bytes that are not UTF-8, if it did)."""
    with open(path, "rb") as fh:
        if (rejected := not_text(fh.read(HEAD_BYTES))) is not None:
            return rejected
    utf8, gb = first_undecodable(path, "utf-8"), first_undecodable(path, "gb18030")
    if utf8 is not None and gb is not None:
        further, label = (utf8, "UTF-8") if utf8.offset >= gb.offset else (gb, "GBK")
        return FileRejected(f"{UNDECODABLE}: it is not UTF-8 ({utf8}) and not GBK/GB18030 either ({gb}); it reads "
                            f"as {label} up to line {further.line:,}: from there on it is damaged or in another "
                            f"encoding (two exports pasted together?); {REEXPORT}")
    if utf8 is not None:  # GB18030 would decode it, but the file starts as UTF-8 text (not ASCII only)
        return FileRejected(f"{UNDECODABLE}: it starts as UTF-8 text but is not UTF-8 further on ({utf8}); read as "
                            "GBK/GB18030 its UTF-8 part would be garbled, so it is probably two exports in different "
                            f"encodings pasted together: {REEXPORT}, in one piece")
    where = f" on line {line:,}" if line is not None else ""
    return FileRejected(f"{UNDECODABLE}: the reader found bytes that are not UTF-8{where}; {REEXPORT}")


def detect_encoding(head: bytes) -> str | None:
    """UTF-8 (with or without BOM) or GB18030 (a superset of GBK) as the file's first block says, or
    None when it is neither. Only a guess: the whole file is decoded strictly as it is read (an ASCII
    head guessed UTF-8 is retried as GB18030), so a wrong guess fails loudly, never silently."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            return encoding
        except UnicodeDecodeError:
            pass
    return None


def max_columns() -> int:
    return int(load_toml("readq.toml")["ingest"]["max_columns"])


def too_wide(what: str, count: int) -> FileRejected:
    """A table wider than any export of ours: rejected before DuckDB tries to hold it (10,000 columns
    exhaust its memory)."""
    return FileRejected(
        f"{what} has {count:,} columns, more than the {max_columns():,} a delivery may have ([ingest] max_columns "
        "in config/readq.toml): this is not a plain table export (a pivot or transposed sheet, or a broken "
        "export?); export the table again with one column per field, or raise max_columns if such a width is real")


MOJIBAKE = re.compile(r"[\u00c0-\u00ff]{2,}")  # GBK bytes shown as Latin-1 look like "³­±íÃ÷Ï¸"


def _alias_hits(row: list[str | None], aliases: set[str]) -> int:
    return sum(1 for cell in row if cell is not None and normalize_header(str(cell)) in aliases)


def find_header(rows: list[list[str | None]]) -> int:
    """0-based index of the first row that looks like a header of a known kind."""
    aliases = known_aliases()
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if _alias_hits(row, aliases) >= MIN_HEADER_MATCHES:
            return i
    sample = " ".join(str(c) for row in rows[:3] for c in row if c is not None)
    hint = (" The text looks garbled (mojibake): the file was probably decoded with the wrong encoding "
            "before it was saved; re-export it from the source system." if MOJIBAKE.search(sample) else "")
    raise FileRejected(
        f"no header row found in the first {HEADER_SEARCH_ROWS} rows: no row has at least "
        f"{MIN_HEADER_MATCHES} known column names (see config/mappings/*.toml for the names we know).{hint}"
    )


def merge_sub_header(header: list[str | None], below: list[str | None]) -> list[str | None] | None:
    """A two-row header (a merged group cell above its sub-columns): the merged header, or None.

    The row below the header counts as a sub-header when it holds only text, fewer cells than the
    header, and at least one known column name; its cells win where present.
    """
    aliases = known_aliases()
    cells = [c for c in below if c is not None and str(c).strip()]
    if not cells or len(cells) >= len([c for c in header if c is not None and str(c).strip()]):
        return None
    if any(re.fullmatch(r"[-+\d.,:/ ]+", str(c)) for c in cells) or _alias_hits(below, aliases) == 0:
        return None
    return [b if b is not None and str(b).strip() else h for h, b in zip(header, below, strict=False)]


def _unique_headers(cells: list[str | None]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, cell in enumerate(cells):
        name = (str(cell).strip() if cell is not None else "") or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}#{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def _title_rows(rows: list[list[str | None]], header_idx: int, first_row_no: int) -> list[tuple[int, str]]:
    out = []
    for i in range(header_idx):
        reason = "blank row" if all(c is None or not str(c).strip() for c in rows[i]) else "title row"
        out.append((first_row_no + i, reason))
    return out


def _trailing_empty_fields(rows: list[list[str | None]], width: int) -> int:
    """Fields the data lines carry beyond the header when all of them are empty (exports that end
    every line with a comma): read as unnamed columns, not as lines with too many fields."""
    sample = [r for r in rows[:SAMPLE_ROWS] if r]
    extra = max((len(r) - width for r in sample), default=0)
    if extra <= 0 or any(any(c.strip() for c in r[width:]) for r in sample):
        return 0
    return extra


def read_csv(path: Path) -> SheetTable:
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    if not head.strip():
        raise FileRejected("the file is empty")
    if (rejected := not_text(head)) is not None:
        raise rejected
    if (encoding := detect_encoding(head)) is None:
        raise undecodable(path)
    head_text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=size <= HEAD_BYTES)
    newline = "\r" if "\r" in head_text and "\n" not in head_text else "\n"  # CR only: an old Mac export
    lines = head_text.split(newline)
    if size > HEAD_BYTES:
        lines = lines[:-1]  # the last line of the block may be cut
    head_rows: list[list[str | None]] = [list(r) for r in csv.reader([ln.rstrip("\r") for ln in lines])]
    header_idx = find_header(head_rows)
    if len(head_rows[header_idx]) > max_columns():
        raise too_wide(f"the header (line {header_idx + 1})", len(head_rows[header_idx]))
    widest = max(range(header_idx, len(head_rows)), key=lambda i: len(head_rows[i]))
    if len(head_rows[widest]) > max_columns():
        raise too_wide(f"line {widest + 1}", len(head_rows[widest]))
    header = head_rows[header_idx]
    data_start = header_idx + 1
    if header_idx + 1 < len(head_rows) and (merged := merge_sub_header(header, head_rows[header_idx + 1])):
        header, data_start = merged, header_idx + 2
    names = _unique_headers(header + [None] * _trailing_empty_fields(head_rows[data_start:], len(header)))
    source = CsvSource(path, encoding, data_start, ascii_head=encoding == "utf-8" and head.isascii(), newline=newline)
    return SheetTable(sheet=None, headers=names, header_row=header_idx + 1, first_row=data_start + 1,
                      source=source, encoding=encoding,
                      skipped=_title_rows(head_rows, header_idx, 1),
                      sample=_text_frame(head_rows[data_start:data_start + SAMPLE_ROWS], len(names)))


def open_workbook(path: Path) -> fastexcel.ExcelReader:
    try:
        return fastexcel.read_excel(str(path))
    except Exception as exc:  # calamine raises its own error types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FileRejected(f"cannot open the workbook (not a readable XLSX/XLS file): {first}") from None


MERGE_REF = re.compile(rb'mergeCell\s[^>]*?ref="([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?"')
MERGE_TAIL = 4096  # bytes kept between blocks of a sheet's XML, so no <mergeCell> is cut in two
Range = tuple[int, int, int, int]  # a merged range, 0-based: first row, first column, last row, last column


def _column_number(letters: bytes) -> int:
    """0-based column of Excel column letters (b"A" -> 0, b"AA" -> 26)."""
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number - 1


def _xml_attributes(data: bytes, tag: str) -> Iterator[dict[str, str]]:
    """The attributes (local names) of every `tag` element of a small XML part, streamed."""
    for _, element in ElementTree.iterparse(io.BytesIO(data), events=("end",)):
        if element.tag.rsplit("}", 1)[-1] == tag:
            yield {k.rsplit("}", 1)[-1]: v for k, v in element.attrib.items()}
        element.clear()


def _part(base: str, target: str) -> str:
    """A relationship's target as a zip member name, relative to the part `base` it belongs to."""
    if target.startswith("/"):
        return target.lstrip("/")
    return os.path.normpath(str(PurePosixPath(base).parent / target)).replace(os.sep, "/")


def _sheet_part(book: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member holding a sheet's XML: the workbook part (from _rels/.rels), its <sheet> of that
    name, and the relationship its r:id names."""
    names = set(book.namelist())
    workbook = "xl/workbook.xml"
    if "_rels/.rels" in names:
        for rel in _xml_attributes(book.read("_rels/.rels"), "Relationship"):
            if rel.get("Type", "").endswith("/officeDocument"):
                workbook = _part("", rel["Target"])
    rid = next((s.get("id") for s in _xml_attributes(book.read(workbook), "sheet") if s.get("name") == sheet), None)
    rels = str(PurePosixPath(workbook).parent / "_rels" / (PurePosixPath(workbook).name + ".rels"))
    if rid is None or rels not in names:
        return None
    target = next((r["Target"] for r in _xml_attributes(book.read(rels), "Relationship") if r.get("Id") == rid), None)
    return _part(workbook, target) if target else None


def xlsx_merged_ranges(path: Path, sheet: str) -> list[Range] | None:
    """The merged ranges of an XLSX sheet (fastexcel does not expose them), or None if they cannot be
    read. They are <mergeCell ref="A2:A5"/> elements after the sheet's cells: the sheet's XML is
    decompressed in blocks and searched, never parsed whole (a big sheet's XML is hundreds of MB)."""
    ranges: list[Range] = []
    try:
        with zipfile.ZipFile(path) as book:
            if (part := _sheet_part(book, sheet)) is None:
                return None
            with book.open(part) as fh:
                carry = b""
                while True:
                    block = fh.read(DECODE_BLOCK)
                    buf = carry + block
                    cut = len(buf) if not block else max(0, len(buf) - MERGE_TAIL)
                    for m in MERGE_REF.finditer(buf):
                        if m.start() >= cut:
                            break
                        first_col, first_row, last_col, last_row = m.groups()
                        ranges.append((int(first_row) - 1, _column_number(first_col),
                                       int(last_row or first_row) - 1, _column_number(last_col or first_col)))
                    carry = buf[cut:]
                    if not block:
                        return ranges
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return None


OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_LAST_SECTOR = 0xFFFFFFFA  # sector numbers above this end a chain (or mark free / FAT sectors)


class _Compound:
    """The streams of an OLE2 compound file, the container of a legacy XLS (enough of [MS-CFB] to
    read one stream: header, FAT and DIFAT, directory, mini stream). Malformed -> ValueError."""

    def __init__(self, data: bytes) -> None:
        if data[:8] != OLE2_MAGIC or len(data) < 512:
            raise ValueError("not an OLE2 compound file")
        self.data = data
        self.sector = 1 << struct.unpack_from("<H", data, 0x1E)[0]
        self.mini = 1 << struct.unpack_from("<H", data, 0x20)[0]
        n_fat, first_dir = struct.unpack_from("<II", data, 0x2C)
        self.cutoff, first_minifat, _, first_difat, n_difat = struct.unpack_from("<IIIII", data, 0x38)
        fat_sectors = list(struct.unpack_from("<109I", data, 0x4C))
        per = self.sector // 4 - 1
        for _ in range(n_difat):
            if first_difat > _LAST_SECTOR:
                break
            entries = struct.unpack_from(f"<{per + 1}I", data, self._at(first_difat))
            fat_sectors += entries[:per]
            first_difat = entries[per]
        self.fat = np.concatenate([self._words(s) for s in fat_sectors[:n_fat]]) if n_fat else np.array([])
        self.entries = []
        directory = self._chain_bytes(first_dir, self.fat, self._sector_bytes)
        for i in range(len(directory) // 128):
            entry = directory[i * 128:(i + 1) * 128]
            length = struct.unpack_from("<H", entry, 64)[0]
            name = entry[:max(length - 2, 0)].decode("utf-16-le", "replace")
            start, size = struct.unpack_from("<II", entry, 116)
            self.entries.append((name, entry[66], start, size))
        self.minifat = (self._chain_bytes(first_minifat, self.fat, self._sector_bytes)
                        if first_minifat <= _LAST_SECTOR else b"")

    def _at(self, sector: int) -> int:
        offset = (sector + 1) * self.sector
        if offset >= len(self.data):
            raise ValueError(f"sector {sector} beyond the end of the file")
        return offset

    def _words(self, sector: int) -> np.ndarray:
        return np.frombuffer(self.data, dtype="<u4", count=self.sector // 4, offset=self._at(sector))

    def _sector_bytes(self, sector: int) -> bytes:
        return self.data[self._at(sector):self._at(sector) + self.sector]

    @staticmethod
    def _chain_bytes(start: int, table: np.ndarray, read: Callable[[int], bytes]) -> bytes:
        parts, seen = [], set()
        while start <= _LAST_SECTOR:
            if start in seen or start >= len(table):
                raise ValueError("broken sector chain")
            seen.add(start)
            parts.append(read(start))
            start = int(table[start])
        return b"".join(parts)

    def stream(self, *names: str) -> bytes | None:
        """The first of the streams `names` the file holds (small ones live in the mini stream)."""
        root = self.entries[0]
        for name, kind, start, size in self.entries:
            if kind != 2 or name not in names:
                continue
            if size >= self.cutoff:
                return self._chain_bytes(start, self.fat, self._sector_bytes)[:size]
            mini_stream = self._chain_bytes(root[2], self.fat, self._sector_bytes)
            minifat = np.frombuffer(self.minifat, dtype="<u4")
            return self._chain_bytes(start, minifat, partial(_slice, mini_stream, self.mini))[:size]
        return None


def _slice(data: bytes, size: int, k: int) -> bytes:
    return data[k * size:(k + 1) * size]


def _biff_records(stream: bytes, at: int, kinds: frozenset[int]) -> list[tuple[int, bytes]]:
    """(type, data) of the records of types `kinds` in the BIFF substream from `at` to its EOF record.
    A tight loop (a sheet of a million cells is a million records), slicing only what is wanted."""
    out, end, unpack = [], len(stream) - 4, struct.Struct("<HH").unpack_from
    while at <= end:
        kind, length = unpack(stream, at)
        if kind in kinds:
            out.append((kind, stream[at + 4:at + 4 + length]))
        if kind == 0x000A:  # EOF
            break
        at += 4 + length
    return out


BOUNDSHEET, MERGEDCELLS, EOF = 0x0085, 0x00E5, 0x000A


def _may_have_merges(substream: bytes) -> bool:
    """Whether a MERGEDCELLS record could be in a sheet's bytes: its type (e5 00) followed by a length
    of 2 + 8 x its count. Cheap (a byte search), so the records of a sheet without merged cells (the
    usual case) are never walked."""
    at = substream.find(b"\xe5\x00")
    while 0 <= at <= len(substream) - 6:
        length, count = struct.unpack_from("<HH", substream, at + 2)
        if count and length == 2 + 8 * count:
            return True
        at = substream.find(b"\xe5\x00", at + 1)
    return False


def xls_merged_ranges(path: Path, sheet: str) -> list[Range] | None:
    """The merged ranges of a legacy XLS (BIFF8) sheet, or None if they cannot be read: the sheet's
    position from the BOUNDSHEET records of the workbook stream, then its MERGEDCELLS records."""
    try:
        stream = _Compound(path.read_bytes()).stream("Workbook")
        if stream is None:
            return None  # BIFF5 and older ("Book"): not read
        sheets: dict[str, int] = {}
        for _, data in _biff_records(stream, 0, frozenset({BOUNDSHEET})):  # position, visibility, type, name
            count, high = data[6], data[7] & 1
            name = data[8:8 + count * 2].decode("utf-16-le") if high else data[8:8 + count].decode("latin-1")
            sheets[name] = struct.unpack_from("<I", data, 0)[0]
        if (position := sheets.get(sheet)) is None:
            return None
        end = min((p for p in sheets.values() if p > position), default=len(stream))
        if not _may_have_merges(stream[position:end]):
            return []
        ranges: list[Range] = []
        for _, data in _biff_records(stream, position, frozenset({MERGEDCELLS})):
            count = min(struct.unpack_from("<H", data, 0)[0], (len(data) - 2) // 8)  # then 4 x u16 each:
            for k in range(count):                                                    # rows, then columns
                top, bottom, left, right = struct.unpack_from("<HHHH", data, 2 + 8 * k)
                ranges.append((top, left, bottom, right))
        return ranges
    except (OSError, ValueError, IndexError, struct.error, UnicodeDecodeError):
        return None


def fill_merged(raw: pl.DataFrame, ranges: list[Range], columns: list[int], from_row: int) -> pl.DataFrame:
    """Every cell of a merged range takes the value of its first (top-left) cell, as the sheet shows it
    (Excel stores the value only there: a team cell spanning its rows would read as nulls). `columns`:
    the sheet column of each frame column; only ranges from row `from_row` on (the data rows: a merged
    header cell stays as it is, for the two-row header logic)."""
    position = {col: i for i, col in enumerate(columns)}
    spans: dict[int, list[tuple[int, int, str]]] = {}  # frame column -> (first row, last row, value)
    for top, left, bottom, right in ranges:
        if top < from_row or top >= raw.height or left not in position:
            continue
        value = raw[top, position[left]]
        if value is None:
            continue
        for col in range(left, right + 1):
            if col in position:
                spans.setdefault(position[col], []).append((top, min(bottom, raw.height - 1), value))
    updates = []
    for pos, cells in spans.items():
        which = np.full(raw.height, -1, dtype=np.int64)
        for k, (top, bottom, _) in enumerate(cells):
            which[top:bottom + 1] = k
        inside = which >= 0
        values = pl.Series([v for _, _, v in cells], dtype=pl.String).gather(np.where(inside, which, 0))
        name = raw.columns[pos]
        updates.append(pl.when(pl.lit(pl.Series(inside))).then(pl.lit(values)).otherwise(pl.col(name)).alias(name))
    return raw.with_columns(updates) if updates else raw


def read_excel_sheet(book: fastexcel.ExcelReader, sheet: str, n_rows: int | None = None, *,
                     path: Path | None = None) -> SheetTable:
    """One sheet as text cells (`n_rows`: only the first rows, to peek). `path`: the workbook, whose
    merged ranges are filled from their first cell (they are read in a thread while fastexcel loads
    the sheet, which leaves the GIL: the wait is hidden)."""
    ranges_of: Future[list[Range] | None] | None = None
    if path is not None:
        read_merged = xls_merged_ranges if path.suffix.lower() == ".xls" else xlsx_merged_ranges
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="readq-merged")
        ranges_of = pool.submit(read_merged, path, sheet)
        pool.shutdown(wait=False)  # the thread finishes its one task
    try:
        loaded = book.load_sheet(sheet, header_row=None, dtypes="string", skip_rows=0, n_rows=n_rows)
        raw = pl.from_arrow(loaded.to_arrow())  # faster than fastexcel's own to_polars for text cells
    except Exception as exc:
        raise FileRejected(f"cannot read sheet {sheet!r}: {exc}") from None
    if raw.height == 0:
        raise FileRejected(f"sheet {sheet!r} is empty")
    if raw.width > max_columns():
        raise too_wide(f"sheet {sheet!r}", raw.width)
    notes = [f"sheet {sheet!r} was hidden in the workbook"] if loaded.visible in ("hidden", "veryhidden") else []
    rows = [list(raw.row(i)) for i in range(min(raw.height, HEADER_SEARCH_ROWS + 1))]
    header_idx = find_header(rows)
    header, data_start = rows[header_idx], header_idx + 1
    if header_idx + 1 < len(rows) and (merged := merge_sub_header(header, rows[header_idx + 1])):
        header, data_start = merged, header_idx + 2
    if ranges_of is not None:
        ranges = ranges_of.result()
        if ranges is None:
            notes.append(f"sheet {sheet!r}: its merged cells could not be read, so they are not filled")
        elif ranges:
            columns = [c.absolute_index for c in loaded.available_columns()]  # it starts at the first used column
            raw = fill_merged(raw, ranges, columns, data_start)
    names = _unique_headers(header)
    data = raw.slice(data_start)
    return SheetTable(sheet=sheet, headers=names, header_row=header_idx + 1, first_row=data_start + 1,
                      source=data, skipped=_title_rows(rows, header_idx, 1), notes=notes,
                      sample=data.head(SAMPLE_ROWS).rename(lambda c: f"c{data.columns.index(c)}"))


SPECIAL_FILES = ((stat.S_ISFIFO, "a FIFO, i.e. a named pipe"), (stat.S_ISCHR, "a character device"),
                 (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a directory"), (stat.S_ISSOCK, "a socket"))


def require_regular_file(path: Path) -> None:
    """Only regular files are read (symlinks are followed to what they point at): reading a FIFO
    waits forever for a writer and a device such as /dev/zero never ends, both while the caller holds
    the warehouse lock. Checked without opening the file."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        link = f" (a symbolic link to {os.readlink(path)}, which does not exist)" if os.path.islink(path) else ""
        raise FileRejected(f"file not found: {path}{link}") from None
    except OSError as exc:
        raise FileRejected(f"cannot read the file: {exc.strerror or exc}") from None
    if stat.S_ISREG(mode):
        return
    what = next((name for test, name in SPECIAL_FILES if test(mode)), "not a file with data")
    if os.path.islink(path):
        what += f", which the symbolic link points at ({os.path.realpath(path)})"
    raise FileRejected(f"not a regular file ({what}): only regular files are read; put the export file itself in "
                       "the landing folder")


def read_file(path: Path, sheet: str | None = None, *, peek: bool = False) -> list[SheetTable]:
    """Every table in the file (one per sheet for workbooks; `sheet` picks one). `peek` reads only
    enough rows for the header and the sample (a CSV is only ever read that far here)."""
    suffix = path.suffix.lower()
    require_regular_file(path)
    if suffix in CSV_SUFFIXES:
        return [read_csv(path)]
    if suffix in EXCEL_SUFFIXES:
        book = open_workbook(path)
        names = list(book.sheet_names)
        if sheet is not None:
            if sheet not in names:
                raise FileRejected(f"sheet {sheet!r} not in the workbook (sheets: {', '.join(names)})")
            names = [sheet]
        tables, notes = [], []
        for name in names:
            try:
                tables.append(read_excel_sheet(book, name, HEADER_SEARCH_ROWS + 2 + SAMPLE_ROWS if peek else None,
                                               path=path))
            except FileRejected as exc:
                if len(names) == 1:
                    raise
                notes.append(f"sheet {name!r} skipped: {exc}")  # a cover or notes sheet; the others still load
        if not tables:
            raise FileRejected("no sheet of the workbook holds a table with a recognised header; " + "; ".join(notes))
        for table in tables:
            table.notes = [*notes, *table.notes]
        return tables
    raise FileRejected(f"unsupported file type {suffix or '(none)'}: expected .csv, .txt, .xlsx or .xls")
