"""Value normalisation for messy exports (product brief §3, "Values"), as DuckDB SQL macros.

The ingest types every column inside DuckDB, where the file was parsed (no round trip through
Python), so the rules are SQL: `install_macros(conn)` defines them on a connection, and
`checks.casting` applies them per column. Parsers that accept several spellings try them in
order; a value that is present but cannot be read becomes NULL here, and `checks.casting`
compares with the text to quarantine exactly those rows.

  rq_clean(text)      full-width -> half-width, trimmed, missing markers -> NULL
  rq_float(text)      '1,234.5', '12' -> DOUBLE; non-finite ('inf', 'NaN', '1e400') -> NULL
  rq_int(text)        '12', '12.0' -> BIGINT; '12.5', 'inf', 'NaN' -> NULL
  rq_datetime(text)   the date-time formats below, a bare date (midnight), Excel serials
  rq_date(text)       the date formats below, Excel serials, or a date-time's date
  rq_period(text)     'YYYY-MM' from '2024-03', '202403', '2024/3', '2024年3月' or any date

Each has a `rq_<name>_of(text)` twin taking the text as delivered: it tries the common clean
spelling first (one cheap cast) and runs the cleaning and the other spellings only on the values
that need them, so a clean million-row column costs one pass.
"""

from __future__ import annotations

import hashlib
import re

import duckdb

# Written for "no value" in exports: blank, dashes, the literal null. Not "NaN"/"nan": no export
# writes it for an empty cell; it is what a broken formula or a program's float arithmetic left in a
# number column, so it is a value that cannot be read (a cast failure, quarantined with the text
# as delivered), never a silent blank, and never a NaN in the marts.
MISSING_MARKERS = ("", "-", "--", "---", "—", "——", "/", "null", "NULL", "None", "#N/A")
# Full-width forms (U+FF01..U+FF5E) and the ideographic space: what NFKC maps to ASCII.
FULL_WIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
HALF_WIDTH = "".join(chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)) + " "
WHITESPACE = " \t\r\n\x0b\x0c\u00a0\u2002\u2003\u2009\u200b\ufeff"

DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y%m%d%H%M%S",
    "%Y-%m-%dT%H:%M:%S",
)
# Excel stores dates as days since 1899-12-30 (read to the millisecond, Excel's own precision);
# plausible serials for meter reading data.
EXCEL_EPOCH = "1899-12-30"
EXCEL_SERIAL_RANGE = (20_000, 80_000)  # 1954-10-03 .. 2119-01-11
PERIOD_EXACT = r"^(19|20)\d{2}-(0[1-9]|1[0-2])$"
PERIOD_TEXT = r"^((?:19|20)\d{2})\s*[-/.年]?\s*(\d{1,2})\s*月?$"


_SPACE = r"\s\x{a0}\x{2000}-\x{200b}\x{3000}\x{feff}"
# A value that rq_clean would change: padded, full-width characters, or a missing marker.
_MARKERS = "(?:" + "|".join(re.escape(m) for m in MISSING_MARKERS if m) + ")"
NEEDS_CLEANING = rf"^[{_SPACE}]|[{_SPACE}]$|[\x{{ff01}}-\x{{ff5e}}]|^{_MARKERS}$"
# The same test on a row's text values joined by U+001F (one regex per row instead of one per value).
FIELD_SEPARATOR = "\x1f"
ROW_NEEDS_CLEANING = (rf"(?:^|\x{{1f}})[{_SPACE}]|[{_SPACE}](?:\x{{1f}}|$)|[\x{{ff01}}-\x{{ff5e}}]|"
                      rf"(?:^|\x{{1f}}){_MARKERS}(?:\x{{1f}}|$)")


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _list(items: tuple[str, ...]) -> str:
    return "[" + ", ".join(sql_literal(i) for i in items) + "]"


def macros() -> str:
    """The rq_* macros. A macro argument used twice is bound (and planned) twice, and these nest,
    so the slow paths take their argument once through `list_transform([arg], lambda v: …)[1]`
    (a let-binding): a query with thirty typed columns binds in milliseconds."""
    low, high = EXCEL_SERIAL_RANGE
    markers = ", ".join(sql_literal(m) for m in MISSING_MARKERS)
    return f"""
create or replace temp macro rq_half_width(x) as
    case when regexp_matches(x, '[\u3000\uff01-\uff5e]')
         then translate(x, {sql_literal(FULL_WIDTH)}, {sql_literal(HALF_WIDTH)}) else x end;
create or replace temp macro rq_clean(x) as
    list_filter([trim(rq_half_width(x), {sql_literal(WHITESPACE)})], lambda c: c not in ({markers}))[1];
create or replace temp macro rq_finite(v) as case when isfinite(v) then v end;
create or replace temp macro rq_float(t) as list_transform([t], lambda f: rq_finite(coalesce(
    try_cast(f as double), try_cast(regexp_replace(f, '[,\\s]', '', 'g') as double))))[1];
create or replace temp macro rq_int(t) as
    list_transform([rq_float(t)], lambda i: case when i = round(i) then try_cast(i as bigint) end)[1];
create or replace temp macro rq_serial(s) as list_transform([s], lambda n: case when n between {low} and {high}
    then timestamp '{EXCEL_EPOCH}' + to_milliseconds(cast(round(n * 86400000) as bigint)) end)[1];
create or replace temp macro rq_datetime(t) as list_transform([t], lambda dt: coalesce(
    try_strptime(dt, {_list(DATETIME_FORMATS)}), try_strptime(dt, {_list(DATE_FORMATS)}),
    rq_serial(try_cast(dt as double))))[1];
create or replace temp macro rq_date(t) as list_transform([t], lambda d: coalesce(
    cast(try_strptime(d, {_list(DATE_FORMATS)}) as date), cast(rq_datetime(d) as date)))[1];
create or replace temp macro rq_month_of(y, m) as
    case when y <> '' and try_cast(m as integer) between 1 and 12
         then y || '-' || lpad(cast(cast(m as integer) as varchar), 2, '0') end;
create or replace temp macro rq_period(t) as list_transform([t], lambda p:
    case when regexp_full_match(p, {sql_literal(PERIOD_EXACT)}) then p
         else coalesce(rq_month_of(regexp_extract(p, {sql_literal(PERIOD_TEXT)}, 1),
                                   regexp_extract(p, {sql_literal(PERIOD_TEXT)}, 2)),
                       strftime(rq_date(p), '%Y-%m')) end)[1];
create or replace temp macro rq_text_of(x) as
    case when regexp_matches(x, {sql_literal(NEEDS_CLEANING)}) then rq_clean(x) else x end;
create or replace temp macro rq_first(fast, slow) as case when fast is not null then fast else slow end;
create or replace temp macro rq_float_of(x) as rq_first(rq_finite(try_cast(x as double)), rq_float(rq_clean(x)));
create or replace temp macro rq_int_of(x) as
    case when regexp_full_match(x, '-?[0-9]{{1,18}}') then cast(x as bigint) else rq_int(rq_clean(x)) end;
create or replace temp macro rq_date_of(x) as
    rq_first(cast(try_strptime(x, '{DATE_FORMATS[0]}') as date), rq_date(rq_clean(x)));
create or replace temp macro rq_datetime_of(x) as
    rq_first(try_strptime(x, '{DATETIME_FORMATS[0]}'), rq_datetime(rq_clean(x)));
create or replace temp macro rq_period_of(x) as
    case when regexp_full_match(x, {sql_literal(PERIOD_EXACT)}) then x else rq_period(rq_clean(x)) end;
"""


def code_macro(table: str, lookup: dict[str, str]) -> str:
    """`rq_code_<table>(text)`: a code table (config/codes.toml) as two aligned lists (the text is
    bound once, where a CASE would repeat it per word); unknown -> NULL."""
    words, codes = _list(tuple(lookup)), _list(tuple(lookup.values()))
    return (f"create or replace temp macro rq_code_{table}(t) as {codes}[list_position({words}, t)];\n"
            f"create or replace temp macro rq_code_{table}_of(x) as rq_code_{table}(rq_text_of(x));")


def install_macros(conn: duckdb.DuckDBPyConnection, code_tables: dict[str, dict[str, str]]) -> None:
    """Define the rq_* macros (temporary: they live as long as the connection). A connection that
    already has this exact set (same code tables) keeps it."""
    text = macros() + "\n".join(code_macro(table, lookup) for table, lookup in code_tables.items())
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    try:
        if conn.execute("select rq_macros_digest()").fetchall()[0][0] == digest:
            return
    except duckdb.CatalogException:
        pass
    conn.execute(text + f"\ncreate or replace temp macro rq_macros_digest() as '{digest}';")
