"""Masking of personal data (names, phones, addresses) for every view and export.

The warehouse keeps what was delivered; what leaves it — published snapshots, dashboards, CLI
listings, downloads — shows these masked forms unless a user explicitly asks otherwise.
Which columns are personal is declared in config/mappings (`personal = true`); how much of a
value stays visible is in config/readq.toml [privacy].
"""

from __future__ import annotations

import csv

import polars as pl

from readq.config import load_toml

STARS = "***"


def _privacy() -> dict[str, int]:
    return load_toml("readq.toml")["privacy"]


def mask_text(column: str, value: str | None) -> str | None:
    """One value of a personal column, masked; other columns pass through."""
    if value is None or column not in MASKERS:
        return value
    return pl.select(MASKERS[column](pl.lit(value, pl.String))).item()


def _name(expr: pl.Expr) -> pl.Expr:
    return expr.str.slice(0, _privacy()["name_keep_chars"]) + pl.lit(STARS)


def _phone(expr: pl.Expr) -> pl.Expr:
    p = _privacy()
    head, tail = p["phone_keep_head"], p["phone_keep_tail"]
    digits = expr.str.replace_all(r"\D", "")
    long_enough = digits.str.len_chars() > head + tail
    return (pl.when(long_enough)
            .then(digits.str.slice(0, head) + pl.lit("****") + digits.str.slice(-tail, tail))
            .otherwise(pl.lit(STARS)))


def _address(expr: pl.Expr) -> pl.Expr:
    return expr.str.slice(0, _privacy()["address_keep_chars"]) + pl.lit(STARS)


MASKERS = {"customer_name": _name, "phone": _phone, "address": _address}


def mask_column(column: str, expr: pl.Expr) -> pl.Expr:
    """The masked form of a column expression when the column is personal, else the expression."""
    return MASKERS[column](expr) if column in MASKERS else expr


def mask_by_column(value: pl.Expr, column_name: pl.Expr) -> pl.Expr:
    """Mask `value` where `column_name` names a personal column (long-form failure frames)."""
    out = value
    for column, masker in MASKERS.items():
        out = pl.when(column_name == column).then(masker(value)).otherwise(out)
    return out


def mask_line(line: str, headers_to_columns: list[str | None]) -> str:
    """A raw CSV line with the fields under personal columns masked (by position)."""
    try:
        fields = next(csv.reader([line]))
    except csv.Error:
        fields = line.split(",")
    out = []
    for i, field in enumerate(fields):
        column = headers_to_columns[i] if i < len(headers_to_columns) else None
        out.append(mask_text(column, field) if column in MASKERS and field else field)
    return ",".join(out)
