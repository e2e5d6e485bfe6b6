"""Vectorised value normalisation for messy exports (product brief §3, "Values").

Each function takes and returns a polars Series. Parsers that accept several spellings try the
common one on the whole column first and the others only on the values still unread, so a
clean million-row column costs one pass. A value that is present but cannot be read becomes
null here; `checks.casting` compares with the text to quarantine exactly those rows.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

# Written for "no value" in exports: blank, dashes, the literal null.
MISSING_MARKERS = ("", "-", "--", "---", "—", "——", "/", "null", "NULL", "None", "nan", "NaN", "#N/A")
# Full-width forms and the ideographic space: the only characters NFKC changes that matter here.
FULL_WIDTH = r"[\u3000\uff01-\uff5e]"

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
PERIOD_PATTERN = r"^((?:19|20)\d{2})\s*[-/.年]?\s*(\d{1,2})\s*月?$"


def _first_that_reads(text: pl.Series, parsers: list[Callable[[pl.Series], pl.Series]]) -> pl.Series:
    """Apply parsers in turn, each only to the values the earlier ones could not read."""
    out = parsers[0](text)
    for parse in parsers[1:]:
        todo = (out.is_null() & text.is_not_null()).arg_true()
        if todo.len() == 0:
            break
        out = out.scatter(todo, parse(text.gather(todo)))
    return out


def clean_text(s: pl.Series) -> pl.Series:
    """NFKC (full-width digits and letters -> half-width), trimmed; missing markers -> null."""
    s = s.cast(pl.String)
    wide = s.str.contains(FULL_WIDTH).fill_null(False).arg_true()
    if wide.len():
        s = s.scatter(wide, s.gather(wide).str.normalize("NFKC"))
    s = s.str.strip_chars()
    return s.set(s.is_in(MISSING_MARKERS).fill_null(False), None)


def to_float(s: pl.Series) -> pl.Series:
    """'1,234.5', '１２３', ' 12 ' -> float; anything else -> null. Expects clean text."""
    return _first_that_reads(s, [
        lambda t: t.cast(pl.Float64, strict=False),
        lambda t: t.str.replace_all(r"[,\s]", "").cast(pl.Float64, strict=False),
    ])


def to_int(s: pl.Series) -> pl.Series:
    """Integers, also when written as '12.0' (Excel); '12.5' -> null. Expects clean text."""
    value = to_float(s)
    return value.set(value != value.round(0), None).cast(pl.Int64, strict=False)


def _excel_serial(text: pl.Series) -> pl.Series:
    serial = text.cast(pl.Float64, strict=False)
    low, high = EXCEL_SERIAL_RANGE
    serial = serial.set((serial < low) | (serial > high), None)
    micros = (serial * 86_400_000_000).round(0).cast(pl.Int64)
    return pl.select(pl.lit(EXCEL_EPOCH).str.to_datetime(time_unit="us") + pl.duration(microseconds=micros)
                     ).to_series()


def to_datetime(s: pl.Series) -> pl.Series:
    """Date-times in the common export formats; a bare date means midnight; Excel serials with fraction."""
    parsers: list[Callable[[pl.Series], pl.Series]] = [
        (lambda t, f=fmt: t.str.strptime(pl.Datetime("us"), f, strict=False)) for fmt in DATETIME_FORMATS]
    parsers += [(lambda t, f=fmt: t.str.strptime(pl.Date, f, strict=False).cast(pl.Datetime("us")))
                for fmt in DATE_FORMATS]
    parsers.append(_excel_serial)
    return _first_that_reads(s, parsers).alias(s.name)


def to_date(s: pl.Series) -> pl.Series:
    """'2024-01-05', '2024/1/5', '20240105', '2024年1月5日', Excel serials, or a datetime's date."""
    parsers: list[Callable[[pl.Series], pl.Series]] = [
        (lambda t, f=fmt: t.str.strptime(pl.Date, f, strict=False)) for fmt in DATE_FORMATS]
    parsers.append(lambda t: to_datetime(t).dt.date())
    return _first_that_reads(s, parsers).alias(s.name)


def to_period(s: pl.Series) -> pl.Series:
    """Billing month 'YYYY-MM' from '2024-03', '202403', '2024/3', '2024年3月' or any date."""
    def from_month_text(t: pl.Series) -> pl.Series:
        parts = t.str.extract_groups(PERIOD_PATTERN).struct.unnest()
        year, month = parts[:, 0], parts[:, 1].cast(pl.Int64, strict=False)
        ok = month.is_between(1, 12).fill_null(False)
        return (year + "-" + month.cast(pl.String).str.zfill(2)).set(~ok, None)

    exact = r"^(19|20)\d{2}-(0[1-9]|1[0-2])$"
    return _first_that_reads(s, [
        lambda t: t.set(~t.str.contains(exact).fill_null(False), None),
        from_month_text,
        lambda t: to_date(t).dt.strftime("%Y-%m"),
    ]).alias(s.name)


def to_code(s: pl.Series, lookup: dict[str, str]) -> pl.Series:
    """Status words and codes through a code table (see config/codes.toml); unknown -> null."""
    return s.replace_strict(lookup, default=None, return_dtype=pl.String)
