"""Read an export file into text columns, whatever its format and encoding.

CSV in UTF-8, UTF-8 with BOM or GBK/GB18030 (detected, not configured); XLSX and XLS
(every sheet, or a chosen one). Title rows above the header, blank rows and totals rows
are skipped and recorded. Every kept row carries `_source_row`: its 1-based line (CSV) or
row (Excel) number in the file, so any number can be traced back to it.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import polars as pl

from checks.mappings import all_mappings, normalize_header
from pipelines.ingest.errors import FileRejected
from readq.config import load_toml

HEADER_SEARCH_ROWS = 15          # the header must be within the first rows
MIN_HEADER_MATCHES = 3           # known aliases a row needs to count as the header
TOTALS_WORDS = re.compile(r"^(合计|总计|小计|共计|total|sum)\b", re.IGNORECASE)
SOURCE_ROW = "_source_row"
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
CSV_SUFFIXES = {".csv", ".txt"}
HEAD_BYTES = 1 << 16             # encoding and header are judged on the first 64 KiB


@dataclass
class Chunk:
    """A block of data rows: text columns named by the file's headers, plus `_source_row`."""

    frame: pl.DataFrame
    skipped: list[tuple[int, str]] = field(default_factory=list)          # (row, blank row | totals row)
    bad_lines: list[tuple[int, str, str, str]] = field(default_factory=list)  # (line, check, detail, raw text)


@dataclass
class SheetTable:
    """One table found in a file; its rows come in chunks so big files stream in bounded memory."""

    sheet: str | None
    headers: list[str]
    header_row: int
    chunks: Callable[[], Iterator[Chunk]]
    encoding: str | None = None
    skipped: list[tuple[int, str]] = field(default_factory=list)  # title rows above the header
    notes: list[str] = field(default_factory=list)  # e.g. sheets of the workbook that hold no table


def known_aliases() -> set[str]:
    return {alias for m in all_mappings().values() for alias in m.alias_index()}


def _undecodable(offset: int) -> FileRejected:
    return FileRejected(
        f"cannot decode the file as UTF-8 or GBK/GB18030 (invalid bytes at offset {offset}); "
        "re-export it as CSV (UTF-8 or GBK) or XLSX"
    )


def detect_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM) or GB18030 (a superset of GBK), judged on the file's first block;
    the rest is decoded strictly as it streams, so a wrong guess fails loudly, never silently."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise _undecodable(exc.start) from None


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


def _drop_blank_and_totals(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[tuple[int, str]]]:
    """Drop rows with no value at all and totals rows (first value 合计/总计/…), recording both."""
    data_cols = [c for c in frame.columns if c != SOURCE_ROW]
    blank = pl.sum_horizontal([pl.col(c).is_not_null() for c in data_cols]) == 0
    first_value = pl.coalesce([pl.col(c) for c in data_cols]).str.strip_chars()
    totals = first_value.str.contains(TOTALS_WORDS.pattern).fill_null(False)
    marked = frame.with_columns(_blank=blank, _totals=~blank & totals)
    dropped = marked.filter(pl.col("_blank") | pl.col("_totals"))
    if dropped.height == 0:
        return frame, []
    skipped = sorted((r, "blank row" if b else "totals row")
                     for r, b in zip(dropped[SOURCE_ROW].to_list(), dropped["_blank"].to_list(), strict=True))
    return marked.filter(~pl.col("_blank") & ~pl.col("_totals")).drop("_blank", "_totals"), skipped


def _title_rows(rows: list[list[str | None]], header_idx: int, first_row_no: int) -> list[tuple[int, str]]:
    out = []
    for i in range(header_idx):
        reason = "blank row" if all(c is None or not str(c).strip() for c in rows[i]) else "title row"
        out.append((first_row_no + i, reason))
    return out


def _parse_block_strict(block: bytes, width: int) -> pl.DataFrame:
    schema = {f"c{i}": pl.String for i in range(width)}
    return pl.read_csv(io.BytesIO(block), has_header=False, schema=schema, truncate_ragged_lines=False)


def _parse_block_tolerant(text: str, width: int,
                          first_line: int) -> tuple[pl.DataFrame, list[tuple[int, str, str, str]]]:
    """Line by line (only for blocks polars refuses): rows with extra fields or a broken quote are
    kept aside with their line number and raw text instead of failing the whole file."""
    good: list[list[str | None]] = []
    bad: list[tuple[int, str, str, str]] = []
    for offset, line in enumerate(text.split("\n")):
        line = line.rstrip("\r")
        number = first_line + offset
        if offset and not line and offset == text.count("\n"):
            break  # the newline that ends the block
        try:
            fields = next(csv.reader([line], strict=True)) if line else []
        except csv.Error as exc:
            bad.append((number, "unparseable_line", f"unparseable line ({exc})", line))
            continue
        if len(fields) > width:
            bad.append((number, "too_many_fields", f"{len(fields)} fields where the header has {width}", line))
            continue
        good.append([str(number), *[f if f != "" else None for f in fields], *[None] * (width - len(fields))])
    schema = {SOURCE_ROW: pl.String, **{f"c{i}": pl.String for i in range(width)}}
    frame = pl.DataFrame(good, schema=schema, orient="row").with_columns(pl.col(SOURCE_ROW).cast(pl.Int64))
    return frame, bad


def _csv_blocks(path: Path, start: int, encoding: str, block_bytes: int) -> Iterator[tuple[bytes, int]]:
    """(UTF-8 bytes of whole lines, number of lines in them) from byte `start` on.

    GB18030 never uses 0x0A inside a character, so cutting at newlines is safe before decoding.
    """
    decoder_name = "utf-8" if encoding.startswith("utf-8") else encoding
    offset = start
    with open(path, "rb") as fh:
        fh.seek(start)
        carry = b""
        while True:
            data = fh.read(block_bytes)
            buf = carry + data
            if not data:
                if buf:
                    yield _transcode(buf, decoder_name, offset), buf.count(b"\n") + (not buf.endswith(b"\n"))
                return
            cut = buf.rfind(b"\n")
            if cut < 0:
                carry = buf
                continue
            block, carry = buf[: cut + 1], buf[cut + 1:]
            yield _transcode(block, decoder_name, offset), block.count(b"\n")
            offset += len(block)


def _transcode(block: bytes, encoding: str, offset: int) -> bytes:
    if encoding == "utf-8":
        try:
            block.decode("utf-8")  # validate: polars would otherwise fail deep inside
        except UnicodeDecodeError as exc:
            raise _undecodable(offset + exc.start) from None
        return block
    try:
        return block.decode(encoding).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise _undecodable(offset + exc.start) from None


def _name_columns(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    data_cols = [c for c in frame.columns if c != SOURCE_ROW]
    return frame.rename(dict(zip(data_cols, names, strict=True)))


def read_csv(path: Path, block_bytes: int | None = None) -> SheetTable:
    block_bytes = block_bytes or int(load_toml("readq.toml")["ingest"]["csv_block_bytes"])
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    if not head.strip():
        raise FileRejected("the file is empty")
    encoding = detect_encoding(head)
    head_text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=size <= HEAD_BYTES)
    head_lines = head_text.split("\n")[: HEADER_SEARCH_ROWS + 1]
    head_rows: list[list[str | None]] = [list(r) for r in csv.reader([ln.rstrip("\r") for ln in head_lines])]
    header_idx = find_header(head_rows)
    header = head_rows[header_idx]
    data_start = header_idx + 1
    if header_idx + 1 < len(head_rows) and (merged := merge_sub_header(header, head_rows[header_idx + 1])):
        header, data_start = merged, header_idx + 2
    names = _unique_headers(header)
    # byte offset of the first data line, counted on the raw bytes (the header lines are in `head`)
    start = 0
    for _ in range(data_start):
        nl = head.find(b"\n", start)
        start = len(head) if nl < 0 else nl + 1

    def chunks() -> Iterator[Chunk]:
        line = data_start + 1  # 1-based number of the block's first line
        for block, n_lines in _csv_blocks(path, start, encoding, block_bytes):
            bad: list[tuple[int, str, str, str]] = []
            try:
                frame = _parse_block_strict(block, len(names)).with_row_index(SOURCE_ROW, offset=line)
                frame = frame.with_columns(pl.col(SOURCE_ROW).cast(pl.Int64)).select(SOURCE_ROW, pl.exclude(SOURCE_ROW))
            except pl.exceptions.PolarsError:  # ragged or broken lines: this block goes line by line
                frame, bad = _parse_block_tolerant(block.decode("utf-8"), len(names), line)
            frame = _name_columns(frame, names)
            frame, skipped = _drop_blank_and_totals(frame)
            line += n_lines
            yield Chunk(frame, skipped, bad)

    return SheetTable(sheet=None, headers=names, header_row=header_idx + 1, chunks=chunks, encoding=encoding,
                      skipped=_title_rows(head_rows, header_idx, 1))


def sheet_names(path: Path) -> list[str]:
    try:
        return list(fastexcel.read_excel(str(path)).sheet_names)
    except Exception as exc:  # calamine raises its own error types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FileRejected(f"cannot open the workbook (not a readable XLSX/XLS file): {first}") from None


def read_excel_sheet(path: Path, sheet: str) -> SheetTable:
    try:
        loaded = fastexcel.read_excel(str(path)).load_sheet(sheet, header_row=None, dtypes="string", skip_rows=0)
        raw = loaded.to_polars()
    except Exception as exc:
        raise FileRejected(f"cannot read sheet {sheet!r}: {exc}") from None
    if raw.height == 0:
        raise FileRejected(f"sheet {sheet!r} is empty")
    rows = [list(raw.row(i)) for i in range(min(raw.height, HEADER_SEARCH_ROWS + 1))]
    header_idx = find_header(rows)
    header, data_start = rows[header_idx], header_idx + 1
    if header_idx + 1 < len(rows) and (merged := merge_sub_header(header, rows[header_idx + 1])):
        header, data_start = merged, header_idx + 2
    names = _unique_headers(header)
    frame = raw.slice(data_start)
    frame.columns = names
    frame = frame.with_row_index(SOURCE_ROW, offset=data_start + 1).with_columns(pl.col(SOURCE_ROW).cast(pl.Int64))

    def chunks() -> Iterator[Chunk]:
        kept, skipped = _drop_blank_and_totals(frame)
        yield Chunk(kept, skipped)

    return SheetTable(sheet=sheet, headers=names, header_row=header_idx + 1, chunks=chunks,
                      skipped=_title_rows(rows, header_idx, 1))


def read_file(path: Path, sheet: str | None = None) -> list[SheetTable]:
    """Every table in the file (one per sheet for workbooks; `sheet` picks one)."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise FileRejected(f"file not found: {path}")
    if suffix in CSV_SUFFIXES:
        return [read_csv(path)]
    if suffix in EXCEL_SUFFIXES:
        names = sheet_names(path)
        if sheet is not None:
            if sheet not in names:
                raise FileRejected(f"sheet {sheet!r} not in the workbook (sheets: {', '.join(names)})")
            names = [sheet]
        tables, notes = [], []
        for name in names:
            try:
                tables.append(read_excel_sheet(path, name))
            except FileRejected as exc:
                if len(names) == 1:
                    raise
                notes.append(f"sheet {name!r} skipped: {exc}")  # a cover or notes sheet; the others still load
        if not tables:
            raise FileRejected("no sheet of the workbook holds a table with a recognised header; " + "; ".join(notes))
        for table in tables:
            table.notes = notes
        return tables
    raise FileRejected(f"unsupported file type {suffix or '(none)'}: expected .csv, .txt, .xlsx or .xls")
