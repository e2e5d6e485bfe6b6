"""Workbooks (XLSX) of the exports and the monthly report: plain tabular sheets (`Sheet`: a title row, a
header row, the rows, notes under them) and sheets that write themselves (`SheetWriter`, such as the
seed's two-row 差错统计表 of pipelines/reports/error_table.py), in one file.

Every text cell goes through checks.exports.neutralise_formulas, xlsxwriter runs with
XLSXWRITER_OPTIONS (no string becomes a formula or a link), and the file is written beside its
target and renamed into place, so a reader never opens half a workbook.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import polars as pl

FORMATS = {"count": "#,##0", "points": "0.00", "score": "0.00", "percent": "0.00%", "decimal": "0.00",
           "text": "@"}


@dataclass(frozen=True)
class Column:
    name: str                 # the frame's column
    header: str               # its header cell
    format: str = "text"      # a key of FORMATS
    width: int = 12


@dataclass(frozen=True)
class Sheet:
    name: str
    title: str
    columns: list[Column]
    frame: pl.DataFrame
    notes: list[str] = field(default_factory=list)


class SheetWriter(Protocol):
    """A worksheet that lays itself out: `write(book)` adds it to the xlsxwriter book; the data rows written."""

    def write(self, book: Any) -> int: ...


def write_workbook(path: Path, sheets: list[Sheet | SheetWriter]) -> int:
    """Write `sheets` to `path` (atomically); the data rows written."""
    import xlsxwriter

    from checks.exports import XLSXWRITER_OPTIONS, neutralise_formulas

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    rows = 0
    book = xlsxwriter.Workbook(str(tmp), XLSXWRITER_OPTIONS)
    try:
        title_fmt = book.add_format({"bold": True, "font_size": 14})
        head = book.add_format({"bold": True, "border": 1, "text_wrap": True, "valign": "vcenter",
                                "bg_color": "#DDEBF7"})
        cell = {k: book.add_format({"num_format": f, "border": 1}) for k, f in FORMATS.items()}
        for s in sheets:
            if not isinstance(s, Sheet):
                rows += s.write(book)
                continue
            sheet = book.add_worksheet(s.name[:31])
            sheet.write_string(0, 0, s.title, title_fmt)
            for k, c in enumerate(s.columns):
                sheet.write_string(1, k, c.header, head)
                sheet.set_column(k, k, c.width)
            body = neutralise_formulas(s.frame.select([c.name for c in s.columns]))
            for r, values in enumerate(body.iter_rows(), start=2):
                for k, (c, value) in enumerate(zip(s.columns, values, strict=True)):
                    write_cell(sheet, r, k, value, cell[c.format])
            for n, line in enumerate(s.notes, start=body.height + 3):
                sheet.write_string(n, 0, line)
            sheet.freeze_panes(2, 0)
            rows += body.height
    finally:
        book.close()
    os.replace(tmp, path)
    return rows


def write_cell(sheet: Any, row: int, col: int, value: object, fmt: Any) -> None:
    """One cell: blank for None, 是/否 for a flag, a number, else text (already neutralised)."""
    if value is None:
        sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        sheet.write_string(row, col, "是" if value else "否", fmt)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value, fmt)
    else:
        sheet.write_string(row, col, str(value), fmt)
