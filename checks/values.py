"""Vectorised value normalisation for messy exports (product brief §3, "Values").

Every function returns a polars expression, so a million rows cost one pass. A value that
is present but cannot be read becomes null here; `checks.casting` compares with the raw
text to quarantine exactly those rows.
"""

from __future__ import annotations

import polars as pl

# Written for "no value" in exports: blank, dashes, the literal null.
MISSING_MARKERS = ("", "-", "--", "---", "—", "——", "/", "null", "NULL", "None", "nan", "NaN", "#N/A")

DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y%m%d%H%M%S",
    "%Y-%m-%dT%H:%M:%S",
)
# Excel stores dates as days since 1899-12-30; plausible serials for meter reading data.
EXCEL_EPOCH = "1899-12-30"
EXCEL_SERIAL_RANGE = (20_000, 80_000)  # 1954-10-03 .. 2119-01-11


def clean_text(col: str | pl.Expr) -> pl.Expr:
    """NFKC (full-width digits and letters -> half-width), trimmed; missing markers -> null."""
    expr = pl.col(col) if isinstance(col, str) else col
    expr = expr.cast(pl.String).str.normalize("NFKC").str.strip_chars()
    return pl.when(expr.is_in(MISSING_MARKERS)).then(None).otherwise(expr)


def to_float(col: str | pl.Expr) -> pl.Expr:
    """'1,234.5', '１２３', ' 12 ' -> float; anything else -> null."""
    text = clean_text(col).str.replace_all(r"[,\s]", "")
    return text.cast(pl.Float64, strict=False)


def to_int(col: str | pl.Expr) -> pl.Expr:
    """Integers, also when written as '12.0' (Excel); '12.5' -> null."""
    value = to_float(col)
    return pl.when(value == value.round(0)).then(value).otherwise(None).cast(pl.Int64, strict=False)


def _excel_serial_date(text: pl.Expr) -> pl.Expr:
    serial = text.cast(pl.Float64, strict=False)
    low, high = EXCEL_SERIAL_RANGE
    days = pl.when((serial >= low) & (serial <= high)).then(serial.floor().cast(pl.Int64)).otherwise(None)
    return pl.lit(EXCEL_EPOCH).str.to_date() + pl.duration(days=days)


def to_date(col: str | pl.Expr) -> pl.Expr:
    """'2024-01-05', '2024/1/5', '20240105', '2024年1月5日', Excel serials, or a datetime's date."""
    text = clean_text(col)
    head = text.str.slice(0, 10)
    candidates = [text.str.strptime(pl.Date, fmt, strict=False) for fmt in DATE_FORMATS]
    candidates += [text.str.strptime(pl.Datetime("us"), fmt, strict=False).dt.date() for fmt in DATETIME_FORMATS]
    candidates.append(head.str.strptime(pl.Date, "%Y-%m-%d", strict=False))
    candidates.append(_excel_serial_date(text))
    return pl.coalesce(candidates)


def to_datetime(col: str | pl.Expr) -> pl.Expr:
    """Date-times in the common export formats; a bare date means midnight; Excel serials with fraction."""
    text = clean_text(col)
    candidates = [text.str.strptime(pl.Datetime("us"), fmt, strict=False) for fmt in DATETIME_FORMATS]
    serial = text.cast(pl.Float64, strict=False)
    low, high = EXCEL_SERIAL_RANGE
    excel = pl.when((serial >= low) & (serial <= high)).then(
        pl.lit(EXCEL_EPOCH).str.to_datetime(time_unit="us")
        + pl.duration(microseconds=(serial * 86_400_000_000).round(0).cast(pl.Int64))
    )
    candidates.append(excel)
    candidates.append(to_date(text).cast(pl.Datetime("us")))
    return pl.coalesce(candidates)


def to_period(col: str | pl.Expr) -> pl.Expr:
    """Billing month 'YYYY-MM' from '2024-03', '202403', '2024/3', '2024年3月' or any date."""
    text = clean_text(col)
    pattern = r"^((?:19|20)\d{2})\s*[-/.年]?\s*(\d{1,2})\s*月?$"
    ym = text.str.extract(pattern, 1)
    mm = text.str.extract(pattern, 2).cast(pl.Int64, strict=False)
    from_ym = pl.when(mm.is_between(1, 12)).then(ym + pl.lit("-") + mm.cast(pl.String).str.zfill(2))
    from_date = to_date(text).dt.strftime("%Y-%m")
    return pl.coalesce(from_ym, from_date)


def to_code(col: str | pl.Expr, lookup: dict[str, str]) -> pl.Expr:
    """Status words and codes through a code table (see config/codes.toml); unknown -> null."""
    return clean_text(col).replace_strict(lookup, default=None, return_dtype=pl.String)
