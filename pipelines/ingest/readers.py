"""Find the table in an export file, whatever its format and encoding: its header and where
its data rows start.

CSV in UTF-8, UTF-8 with BOM or GBK/GB18030 (detected, not configured); XLSX and XLS
(every sheet, or a chosen one). Title rows above the header are recorded as skipped; the
data rows themselves are read into DuckDB by `pipelines.ingest.worktable`.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import polars as pl

from checks.errors import FileRejected
from checks.mappings import all_mappings, normalize_header

HEADER_SEARCH_ROWS = 15          # the header must be within the first rows
MIN_HEADER_MATCHES = 3           # known aliases a row needs to count as the header
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
CSV_SUFFIXES = {".csv", ".txt"}
HEAD_BYTES = 1 << 16             # encoding and header are judged on the first 64 KiB
SAMPLE_ROWS = 200                # data rows kept as a sample (e.g. to tell a landing file's month)


@dataclass
class CsvSource:
    """Where a CSV's data rows are: DuckDB reads them from here (after transcoding, if needed)."""

    path: Path
    encoding: str
    skip_lines: int     # lines above the first data line (title rows, header)


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


def undecodable(offset: int | None) -> FileRejected:
    where = f" (invalid bytes at offset {offset})" if offset is not None else ""
    return FileRejected(
        f"cannot decode the file as UTF-8 or GBK/GB18030{where}; re-export it as CSV (UTF-8 or GBK) or XLSX"
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
        raise undecodable(exc.start) from None


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
    encoding = detect_encoding(head)
    head_text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=size <= HEAD_BYTES)
    lines = head_text.split("\n")
    if size > HEAD_BYTES:
        lines = lines[:-1]  # the last line of the block may be cut
    head_rows: list[list[str | None]] = [list(r) for r in csv.reader([ln.rstrip("\r") for ln in lines])]
    header_idx = find_header(head_rows)
    header = head_rows[header_idx]
    data_start = header_idx + 1
    if header_idx + 1 < len(head_rows) and (merged := merge_sub_header(header, head_rows[header_idx + 1])):
        header, data_start = merged, header_idx + 2
    names = _unique_headers(header + [None] * _trailing_empty_fields(head_rows[data_start:], len(header)))
    return SheetTable(sheet=None, headers=names, header_row=header_idx + 1, first_row=data_start + 1,
                      source=CsvSource(path, encoding, data_start), encoding=encoding,
                      skipped=_title_rows(head_rows, header_idx, 1),
                      sample=_text_frame(head_rows[data_start:data_start + SAMPLE_ROWS], len(names)))


def open_workbook(path: Path) -> fastexcel.ExcelReader:
    try:
        return fastexcel.read_excel(str(path))
    except Exception as exc:  # calamine raises its own error types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FileRejected(f"cannot open the workbook (not a readable XLSX/XLS file): {first}") from None


def read_excel_sheet(book: fastexcel.ExcelReader, sheet: str, n_rows: int | None = None) -> SheetTable:
    """One sheet as text cells (`n_rows`: only the first rows, to peek)."""
    try:
        loaded = book.load_sheet(sheet, header_row=None, dtypes="string", skip_rows=0, n_rows=n_rows)
        raw = pl.from_arrow(loaded.to_arrow())  # faster than fastexcel's own to_polars for text cells
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
    data = raw.slice(data_start)
    return SheetTable(sheet=sheet, headers=names, header_row=header_idx + 1, first_row=data_start + 1,
                      source=data, skipped=_title_rows(rows, header_idx, 1),
                      sample=data.head(SAMPLE_ROWS).rename(lambda c: f"c{data.columns.index(c)}"))


def read_file(path: Path, sheet: str | None = None, *, peek: bool = False) -> list[SheetTable]:
    """Every table in the file (one per sheet for workbooks; `sheet` picks one). `peek` reads only
    enough rows for the header and the sample (a CSV is only ever read that far here)."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise FileRejected(f"file not found: {path}")
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
                tables.append(read_excel_sheet(book, name, HEADER_SEARCH_ROWS + 2 + SAMPLE_ROWS if peek else None))
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
