"""The value normalisers (checks/values.py): every spelling the brief lists reads as the same value,
and anything else reads as NULL (so stage 1 quarantines it instead of guessing)."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from checks.mappings import code_tables
from checks.values import install_macros


@pytest.fixture(scope="module")
def sql() -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    install_macros(conn, code_tables())
    return conn


def read(conn: duckdb.DuckDBPyConnection, macro: str, texts: list[str | None]) -> list:
    """The macro applied to each text, as it runs in the ingest (over a column)."""
    conn.execute("create or replace temp table t as select unnest(?::varchar[]) as x", [texts])
    return [r[0] for r in conn.execute(f"select {macro}(x) from t").fetchall()]


def test_text_is_trimmed_half_width_and_markers_are_missing(sql) -> None:
    texts = [" 张三 ", "\u3000城东\u3000", "ＡＢ１２３", "--", "—", "null", "#N/A", "\u00a0M01\t", "a b", None]
    expected = ["张三", "城东", "AB123", None, None, None, None, "M01", "a b", None]
    assert read(sql, "rq_text_of", texts) == expected
    assert read(sql, "rq_clean", texts) == expected


def test_numbers_in_every_spelling(sql) -> None:
    texts = ["150", "1,234.5", "１２３", " 12 ", "12.", "-3", "--", "abc", "1.2.3", None]
    assert read(sql, "rq_float_of", texts) == [150.0, 1234.5, 123.0, 12.0, 12.0, -3.0, None, None, None, None]
    assert read(sql, "rq_int_of", ["12", "12.0", "12.5", "１２", "1,000", "x"]) == [12, 12, None, 12, 1000, None]


def test_dates_in_five_formats_and_excel_serials(sql) -> None:
    texts = ["2024-03-05", "2024/3/5", "20240305", "2024年3月5日", "45356", "2024.3.5", "2024-03-05 17:30:00",
             "２０２４-０３-０５", "2024-13-01", "5/3/2024", "12"]
    assert read(sql, "rq_date_of", texts) == [date(2024, 3, 5)] * 8 + [None, None, None]


def test_date_times_with_or_without_seconds_and_serial_fractions(sql) -> None:
    texts = ["2024-03-05 17:30:00", "2024/03/05 17:30", "20240305173000", "2024-03-05T17:30:00", "2024-03-05",
             "45356.729166667", "later"]
    at = datetime(2024, 3, 5, 17, 30)
    assert read(sql, "rq_datetime_of", texts) == [at, at, at, at, datetime(2024, 3, 5), at, None]


def test_billing_months_in_every_spelling(sql) -> None:
    texts = ["2024-03", "202403", "2024/3", "2024年3月", "2024.03", "2024-03-05", "2024-13", "March", "2024-3"]
    assert read(sql, "rq_period_of", texts) == ["2024-03"] * 6 + [None, None, "2024-03"]


def test_status_words_and_codes_go_through_the_code_table(sql) -> None:
    texts = ["已抄", " 已抄 ", "89", "估抄", "０１", "READ", "奇怪", None]
    assert read(sql, "rq_code_read_status_of", texts) == [
        "READ", "READ", "MISSED", "ESTIMATED", "READ", "READ", None, None]


def test_non_finite_numbers_read_as_null_so_stage_1_quarantines_them(sql) -> None:
    """inf, NaN and overflows are not readings: NULL typed values of present text, i.e. cast failures
    (`checks.casting` compares with rq_clean, which keeps them), never a NaN or inf in core."""
    texts = ["inf", "Infinity", "-inf", "+INF", "1e400", "-1e400", "NaN", "nan", "-nan", " inf ", "ｉｎｆ", "1e308"]
    assert read(sql, "rq_float_of", texts) == [None] * 11 + [1e308]
    assert read(sql, "rq_int_of", texts) == [None] * 12
    assert read(sql, "rq_float", texts) == [None] * 11 + [1e308]
    assert read(sql, "rq_clean", ["NaN", "nan", "inf"]) == ["NaN", "nan", "inf"]  # present, not missing


def test_a_blank_number_stays_missing(sql) -> None:
    assert read(sql, "rq_float_of", ["", " ", "\u3000", "--", "null", None]) == [None] * 6
    assert read(sql, "rq_clean", ["", " ", "\u3000", "--", "null", None]) == [None] * 6


def test_non_finite_numbers_are_cast_failures(sql) -> None:
    from checks.casting import cast_failures_sql, typed_columns
    from checks.mappings import load_mapping

    mapping = load_mapping("readings")
    text_of = {"this_read": "c0", "kwh": "c1"}
    sql.execute("create or replace temp table w as select * from (values (0, '150', ''), (1, 'NaN', '1e400'), "
                "(2, 'inf', null), (3, '--', 'nan')) v(_pos, c0, c1)")
    typed = ", ".join(typed_columns(mapping, text_of)[c] for c in text_of)
    failures = sql.execute(cast_failures_sql(mapping, text_of, f"(select *, {typed} from w)") + " order by 1, 2"
                           ).fetchall()
    assert failures == [(1, "kwh", "cast:float", "1e400"), (1, "this_read", "cast:float", "NaN"),
                        (2, "this_read", "cast:float", "inf"), (3, "kwh", "cast:float", "nan")]
