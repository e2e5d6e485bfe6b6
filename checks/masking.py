"""Masking of personal data (names, phones, addresses) for every view and export.

The warehouse keeps what was delivered; what leaves it — published snapshots, dashboards, CLI
listings, downloads — shows these masked forms unless a user explicitly asks otherwise.
Which columns are personal, and in which style each is masked, is declared per kind in
config/mappings (`personal = true`, `mask = "name" | "phone" | "address"`): a column may be personal
in one kind and not in another, and marking a new column needs no code. How much of a value stays
visible is in config/readq.toml [privacy]. (Formula neutralisation of exported cells: checks/exports.py.)
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from functools import cache

import polars as pl

from checks.mappings import load_mapping
from readq.config import config_dir, load_toml

STARS = "***"


def _privacy() -> dict[str, int]:
    return load_toml("readq.toml")["privacy"]


def _name(expr: pl.Expr) -> pl.Expr:
    return expr.str.slice(0, _privacy()["name_keep_chars"]) + pl.lit(STARS)


def _phone(expr: pl.Expr) -> pl.Expr:
    p = _privacy()
    head, tail = p["phone_keep_head"], p["phone_keep_tail"]
    digits = expr.str.replace_all(r"\D", "")
    long_enough = digits.str.len_chars() > head + tail
    already = expr.str.contains(r"^\d*\*{4}\d*$")           # masked before: masking again changes nothing
    return (pl.when(already).then(expr).when(long_enough)
            .then(digits.str.slice(0, head) + pl.lit("****") + digits.str.slice(-tail, tail))
            .otherwise(pl.lit(STARS)))


def _address(expr: pl.Expr) -> pl.Expr:
    return expr.str.slice(0, _privacy()["address_keep_chars"]) + pl.lit(STARS)


# mask style (a mapping's `mask`, checks.mappings.ColumnSpec.MASK_STYLES) -> how a value is masked
STYLES: dict[str, Callable[[pl.Expr], pl.Expr]] = {"name": _name, "phone": _phone, "address": _address}


@cache
def _styles(kind: str, path: str, mtime_ns: int) -> dict[str, str]:
    return {c.name: c.mask or "name" for c in load_mapping(kind).columns.values() if c.personal}


def personal_columns(kind: str) -> dict[str, str]:
    """column -> mask style of the personal columns of `kind`, as its mapping declares them.

    Cached per mapping file and modification time: quarantining a file of many unreadable lines
    masks each line, and must not re-read the mapping for every one.
    """
    path = config_dir() / "mappings" / f"{kind}.toml"
    return _styles(kind, str(path), path.stat().st_mtime_ns)


def mask_column(kind: str, column: str, expr: pl.Expr) -> pl.Expr:
    """The masked form of a column expression when `column` is personal in `kind`, else the expression."""
    style = personal_columns(kind).get(column)
    return STYLES[style](expr) if style else expr


def mask_text(kind: str, column: str | None, value: str | None) -> str | None:
    """One value of `column` of `kind`, masked when the column is personal; other values pass through."""
    style = personal_columns(kind).get(column) if column else None
    if value is None or style is None:
        return value
    return pl.select(STYLES[style](pl.lit(value, pl.String))).item()


def mask_by_column(kind: str, value: pl.Expr, column_name: pl.Expr) -> pl.Expr:
    """Mask `value` where `column_name` names a personal column of `kind` (long-form failure frames)."""
    out = value
    for column, style in personal_columns(kind).items():
        out = pl.when(column_name == column).then(STYLES[style](value)).otherwise(out)
    return out


def mask_line(kind: str, line: str, headers_to_columns: list[str | None]) -> str:
    """A raw CSV line of a `kind` delivery with the fields under its personal columns masked (by position)."""
    try:
        fields = next(csv.reader([line]))
    except (csv.Error, StopIteration):
        fields = line.split(",")
    personal = personal_columns(kind)
    out = []
    for i, field in enumerate(fields):
        column = headers_to_columns[i] if i < len(headers_to_columns) else None
        out.append(mask_text(kind, column, field) if column in personal and field else field)
    return ",".join(out)
