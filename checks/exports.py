"""Cells that leave the product as files (CSV downloads, `readq quarantine --format csv`) cannot run as formulas.

A spreadsheet opening a CSV treats a cell starting with `=`, `+`, `-` or `@` (and, in some programs,
a tab or carriage return before them) as a formula: a delivered customer name such as
`=HYPERLINK("http://…")` or `@SUM(…)` would execute on the statistician's machine ("CSV injection").
Every exported frame goes through `neutralise_formulas`, which prefixes such text cells with a single
quote `'` (shown as text, never evaluated). Genuine numbers such as `-150` or `+3.5` are left alone:
they cannot execute, and a quote would turn them into text. Masking of personal data is the other
half of what leaves the warehouse: checks/masking.py.

XLSX: there is no user-facing workbook export yet. Any future one must write the neutralised frame
with xlsxwriter opened as `xlsxwriter.Workbook(path, XLSXWRITER_OPTIONS)` (or polars
`write_excel(..., workbook=...)` on such a workbook): by default xlsxwriter turns every string starting
with `=` into a formula and every URL-like string into a hyperlink.
"""

from __future__ import annotations

import polars as pl

# Leading characters a spreadsheet may evaluate (OWASP "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGER = r"^(?:[\t\r]|\s*[=+\-@])"  # also after leading blanks: some programs trim them first
# A number (-150, +3.5, -1,234.5, -1e-3, -5%) cannot execute: kept as it is, so it stays a number.
_NUMBER = r"^\s*[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?\s*$"
QUOTE = "'"
XLSXWRITER_OPTIONS: dict[str, bool] = {"strings_to_formulas": False, "strings_to_urls": False}


def neutralise_text(value: str | None) -> str | None:
    """One cell (or header) as `neutralise_formulas` writes it."""
    return None if value is None else pl.select(_neutralised(pl.lit(value, pl.String))).item()


def _neutralised(column: pl.Expr) -> pl.Expr:
    risky = column.str.contains(_TRIGGER) & ~column.str.contains(_NUMBER)
    return pl.when(risky).then(pl.lit(QUOTE) + column).otherwise(column)


def neutralise_formulas(df: pl.DataFrame) -> pl.DataFrame:
    """`df` with every text cell that a spreadsheet would evaluate prefixed with `'`; numbers untouched.

    Text columns (String, Categorical, Enum) are checked, and so are the column names (the header row
    is cells too). Numeric columns cannot hold a formula and stay typed.
    """
    text = [name for name, dtype in df.schema.items()
            if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)]
    out = df.with_columns(_neutralised(pl.col(name).cast(pl.String)).alias(name) for name in text)
    renames = {name: neutralise_text(name) for name in out.columns if neutralise_text(name) != name}
    return out.rename(renames) if renames else out


def csv_bytes(df: pl.DataFrame) -> bytes:
    """The CSV a user downloads: formulas neutralised, UTF-8 with a BOM (so Excel opens it as UTF-8)."""
    return ("\ufeff" + neutralise_formulas(df).write_csv()).encode("utf-8")
