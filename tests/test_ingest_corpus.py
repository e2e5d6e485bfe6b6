"""The bad-input corpus (tests/corpus/files, written by tests/corpus/make_corpus.py): for every
file, exactly what is loaded, quarantined or rejected, and what the user is told."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import NamedTuple

import duckdb
import pytest

from pipelines.ingest.deliver import ingest_path
from pipelines.ingest.registry import DeliveryResult

CORPUS = Path(__file__).parent / "corpus" / "files"


class Expect(NamedTuple):
    status: str
    kind: str | None
    loaded: int
    quarantined: int
    skipped: int = 0
    message: str = ""


EXPECTED: dict[str, Expect] = {
    "01_gbk_抄表明细_2024-03_城东.csv": Expect("loaded", "readings", 3, 0),
    "02_utf8_bom_抄表明细_2024-03_城西.csv": Expect("loaded", "readings", 3, 0),
    "03_mojibake_抄表明细_2024-03.csv": Expect("rejected", None, 0, 0, message="garbled (mojibake)"),
    "04_title_row_抄表明细_2024-03_城东.csv": Expect("loaded", "readings", 3, 0, 2,
                                                 "2 skipped (title/blank/totals)"),
    "05_two_row_header_抄表明细_2024-03.xlsx": Expect("loaded", "readings", 3, 0),
    "06_missing_column_抄表明细_2024-03.csv": Expect(
        "rejected", None, 0, 0, message="looks like 抄表明细 (readings) but is missing required columns: "
                                        "this_read (本次示数 / 本月示数 / this_read)"),
    "07_extra_columns_抄表明细_2024-03.csv": Expect("loaded", "readings", 3, 0,
                                                message="extra columns kept in raw: 备注, 经度"),
    "08_duplicate_rows_抄表明细_2024-03.csv": Expect("loaded", "readings", 3, 0, 1,
                                                 "1 exact repeat(s) of other rows dropped"),
    "10a_original_抄表明细_2024-03_城南.csv": Expect("loaded", "readings", 3, 0),
    "11_truncated_last_line_抄表明细_2024-03.csv": Expect("loaded", "readings", 3, 1),
    "12_empty_抄表明细_2024-03.csv": Expect("rejected", None, 0, 0, message="the file is empty"),
    "13_header_only_抄表明细_2024-03.csv": Expect("rejected", "readings", 0, 0,
                                              message="the file has a header but no data rows"),
    "14_wrong_types_抄表明细_2024-03.csv": Expect("loaded", "readings", 0, 3),
    "15_negative_and_blank_抄表明细_2024-03.csv": Expect("loaded", "readings", 1, 2),
    "16_dates_five_formats_抄表明细_2024-03.csv": Expect("loaded", "readings", 5, 0),
    "17_fullwidth_digits_抄表明细_2024-03.csv": Expect("loaded", "readings", 3, 0),
    "18_totals_row_抄表明细_2024-03.csv": Expect("loaded", "readings", 3, 0, 2),
    "19_legacy_抄表明细_2024-03.xls": Expect("loaded", "readings", 3, 0),
    "21_wrong_kind_欠费明细_2024-03.csv": Expect("rejected", None, 0, 0,
                                             message="not an export of a kind we know"),
    "22_no_period_抄表明细.csv": Expect("rejected", "readings", 0, 0, message="cannot tell the billing month"),
    "23_database_codes_2024-03.csv": Expect("loaded", "readings", 2, 0),
    "24_复核差错记录_2024-03.xlsx": Expect("loaded", "review_findings", 2, 1),
    "25_抄表派工_2024-03.csv": Expect("loaded", "assignments", 1, 1),
    "26_异常报告单_2024-03.csv": Expect("loaded", "field_anomalies", 2, 0),
    "27_用户档案_2024-03.csv": Expect("loaded", "customers", 2, 0),
    "28_rows_wider_than_header_抄表明细_2024-03.csv": Expect("loaded", "readings", 3, 1),
    "29_row_of_other_month_抄表明细_2024-03.csv": Expect("loaded", "readings", 2, 1),
    "30_not_a_workbook_抄表明细_2024-03.xlsx": Expect("rejected", None, 0, 0,
                                                  message="cannot open the workbook (not a readable XLSX/XLS"),
    "31_invalid_bytes_抄表明细_2024-03.csv": Expect("rejected", None, 0, 0,
                                                message="cannot decode the file as UTF-8 or GBK/GB18030"),
    "32_cast_and_check_failures_抄表明细_2024-03.csv": Expect("loaded", "readings", 998, 2),
    # issue 7
    "33_glob_chars_抄表明细_2024-03[1].csv": Expect("loaded", "readings", 3, 0),  # not the 2 rows of ...-031.csv
    "33_glob_chars_抄表明细_2024-031.csv": Expect("loaded", "readings", 2, 0),
    "34_blank_and_totals_rows_抄表明细_2024-03.csv": Expect("loaded", "readings", 3, 0, 3,
                                                       "3 skipped (title/blank/totals)"),
    "35_non_finite_numbers_抄表明细_2024-03.csv": Expect("loaded", "readings", 2, 5),
    "36_gbk_after_ascii_head_抄表明细_2024-03.csv": Expect("loaded", "readings", 1323, 0),
    "37_utf16_unicode_text_抄表明细_2024-03.csv": Expect(
        "rejected", None, 0, 0, message="the file is not CSV text: it is UTF-16 text (what Excel saves as \"Unicode "
                                        "Text\", tab-separated), which is not read: open it in Excel and save it as "
                                        "\"CSV UTF-8 (Comma delimited)\""),
    "38_workbook_renamed_抄表明细_2024-03.csv": Expect(
        "rejected", None, 0, 0, message="it is a ZIP archive, most likely an Excel workbook (XLSX) renamed to .csv: "
                                        "rename it to .xlsx"),
    "39_legacy_workbook_renamed_抄表明细_2024-03.csv": Expect(
        "rejected", None, 0, 0, message="it is an Excel 97-2003 workbook (XLS) renamed to .csv: rename it to .xls"),
    "40_nul_bytes_抄表明细_2024-03.csv": Expect(
        "rejected", None, 0, 0, message="the file is not CSV text: it holds NUL bytes (the first at byte offset 8)"),
    "41_not_utf8_nor_gbk_抄表明细_2024-03.csv": Expect(
        "rejected", None, 0, 0, message="cannot decode the file as UTF-8 or GBK/GB18030: it is not UTF-8 (invalid "
                                        "bytes 80 on line 5, byte offset 488) and not GBK/GB18030 either (invalid "
                                        "bytes b7 on line 1, byte offset 40); it reads as UTF-8 up to line 5"),
    "42_10000_columns_抄表明细_2024-03.csv": Expect(
        "rejected", None, 0, 0, message="the header (line 1) has 10,000 columns, more than the 1,000 a delivery may "
                                        "have ([ingest] max_columns in config/readq.toml)"),
    "43_1001_columns_sheet_抄表明细_2024-03.xlsx": Expect(
        "rejected", None, 0, 0, message="sheet '抄表明细' has 1,001 columns, more than the 1,000"),
    "44_cr_only_line_ends_抄表明细_2024-03.csv": Expect("loaded", "readings", 3, 0, 2),
    "45_long_line_抄表明细_2024-03.csv": Expect("loaded", "readings", 3, 1),
    "46_merged_cells_抄表明细_2024-03.xlsx": Expect("loaded", "readings", 3, 0),
    "47_hidden_sheet_抄表明细_2024-03.xlsx": Expect("loaded", "readings", 3, 0,
                                                message="sheet '抄表明细' was hidden in the workbook"),
    "48_merged_cells_legacy_抄表明细_2024-03.xls": Expect("loaded", "readings", 3, 0),
    "49_rich_markup_抄表明细_2024-03.csv": Expect("loaded", "readings", 3, 0,
                                              message="extra columns kept in raw: 备注[/], [bold]说明"),
    "50_formula_cells_抄表明细_2024-03.csv": Expect("loaded", "readings", 1, 2),
    "51_repeated_keys_抄表明细_2024-03.csv": Expect("loaded", "readings", 2, 2, 2,
                                                "2 exact repeat(s) of other rows dropped"),
    "52_sg186_segment_070.xls": Expect("rejected", "readings", 0, 0, message="cannot tell the billing month"),
    "53_quote_inside_quoted_value_抄表明细_2024-03.csv": Expect("loaded", "readings", 2, 1),
}


def ingest(con: duckdb.DuckDBPyConnection, name: str, **kw) -> list[DeliveryResult]:
    return ingest_path(con, CORPUS / name, **kw)  # an absolute path replaces CORPUS


def quarantine(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple]:
    return con.execute(
        "select q.source_row, q.column_name, q.check_name, q.raw_value from quarantine.rows q "
        "join ops.deliveries d using (delivery_id) where d.file_name = ? order by 1, 2", [name]).fetchall()


def test_corpus_has_at_least_25_files_and_every_file_has_an_expectation() -> None:
    files = {p.name for p in CORPUS.iterdir()}
    assert len(files) >= 25
    covered = set(EXPECTED) | {"09_same_bytes_as_01_抄表明细_2024-03.csv", "10b_corrected_抄表明细_2024-03_城南.csv",
                               "20_multi_sheet_抄表明细_2024-03.xlsx"}
    assert files == covered


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(con: duckdb.DuckDBPyConnection, name: str) -> None:
    expect = EXPECTED[name]
    [res] = ingest(con, name)
    assert (res.status, res.kind, res.rows_loaded, res.rows_quarantined, res.rows_skipped) == (
        expect.status, expect.kind, expect.loaded, expect.quarantined, expect.skipped), res.message
    assert expect.message in res.message
    assert res.rows_read == res.rows_loaded + res.rows_quarantined
    registry = con.execute("select status, message, rows_loaded from ops.deliveries where file_name = ?",
                           [name]).fetchall()
    assert registry == [(expect.status, res.message, expect.loaded)]  # every file is recorded, rejected too
    if res.kind and res.status == "loaded":
        core = con.execute(f"select count(*) from core.{res.kind}").fetchall()[0][0]
        assert core == expect.loaded


def test_quarantine_reasons_name_row_column_check_and_raw_value(con: duckdb.DuckDBPyConnection) -> None:
    for name in ("08_duplicate_rows_抄表明细_2024-03.csv", "11_truncated_last_line_抄表明细_2024-03.csv",
                 "14_wrong_types_抄表明细_2024-03.csv", "15_negative_and_blank_抄表明细_2024-03.csv",
                 "28_rows_wider_than_header_抄表明细_2024-03.csv", "29_row_of_other_month_抄表明细_2024-03.csv",
                 "24_复核差错记录_2024-03.xlsx", "25_抄表派工_2024-03.csv"):
        ingest(con, name)
    assert quarantine(con, "08_duplicate_rows_抄表明细_2024-03.csv") == []  # an exact repeat: dropped, not quarantined
    assert quarantine(con, "11_truncated_last_line_抄表明细_2024-03.csv") == [
        (5, None, "unparseable_line", '2024-03,城东,0101,5,张三,3100000004,"王四')]
    assert quarantine(con, "14_wrong_types_抄表明细_2024-03.csv") == [
        (2, "this_read", "cast:float", "abc"), (3, "plan_day", "cast:int", "x"),
        (4, "read_status", "code_table:read_status", "奇怪")]
    assert quarantine(con, "15_negative_and_blank_抄表明细_2024-03.csv") == [
        (2, "this_read", "greater_than_or_equal_to(0)", "-150.0"), (3, "this_read", "not_nullable", None)]
    assert quarantine(con, "28_rows_wider_than_header_抄表明细_2024-03.csv")[0][:3] == (5, None, "too_many_fields")
    messages = dict(con.execute("select check_name, message from quarantine.rows").fetchall())
    assert messages["unparseable_line"] == "unparseable line (a quoted value is not closed)"
    assert messages["too_many_fields"] == "17 fields where the header has 15"
    assert messages["cast:float"] == "this_read failed cast:float (value abc)"
    assert quarantine(con, "29_row_of_other_month_抄表明细_2024-03.csv") == [
        (4, "period", "period_matches_delivery(2024-03)", "2024-04")]
    assert quarantine(con, "24_复核差错记录_2024-03.xlsx") == [(4, "error_type", "code_table:error_type", "看错了")]
    assert quarantine(con, "25_抄表派工_2024-03.csv") == [(3, "plan_day", "in_range(1, 31)", "40")]


def test_values_are_normalised(con: duckdb.DuckDBPyConnection) -> None:
    ingest(con, "16_dates_five_formats_抄表明细_2024-03.csv")
    assert con.execute("select distinct read_date from core.readings").fetchall() == [(date(2024, 3, 5),)]
    ingest(con, "17_fullwidth_digits_抄表明细_2024-03.csv")
    rows = con.execute("select last_read, this_read from core.readings where meter_no in ('M0001', 'M0002') "
                       "order by meter_no").fetchall()
    assert rows == [(100.0, 150.0), (2000.0, 2100.0)]
    ingest(con, "23_database_codes_2024-03.csv")
    assert con.execute("select read_status, read_mode from core.readings where team = '城北' order by customer_no"
                       ).fetchall() == [("READ", "REMOTE"), ("MISSED", "HANDHELD")]
    ingest(con, "26_异常报告单_2024-03.csv")
    assert con.execute("select anomaly_type, period from core.field_anomalies order by report_no").fetchall() == [
        ("THEFT", "2024-03"), ("METER_MISSING", "2024-03")]


def test_unmapped_columns_are_kept_in_raw(con: duckdb.DuckDBPyConnection) -> None:
    ingest(con, "07_extra_columns_抄表明细_2024-03.csv")
    extras = con.execute("select source_row, extras->>'备注', extras->>'经度' from raw.readings order by 1").fetchall()
    assert extras == [(2, "门口", "112.9"), (3, None, None), (4, "锁门", None)]


def test_same_file_twice_is_a_no_op(con: duckdb.DuckDBPyConnection) -> None:
    ingest(con, "01_gbk_抄表明细_2024-03_城东.csv")
    [again] = ingest(con, "09_same_bytes_as_01_抄表明细_2024-03.csv")
    assert again.status == "duplicate" and "nothing changed" in again.message
    assert con.execute("select count(*) from ops.deliveries").fetchall() == [(1,)]
    assert con.execute("select count(*) from raw.readings").fetchall() == [(3,)]


def test_the_same_file_for_another_month_says_where_it_already_is(con: duckdb.DuckDBPyConnection) -> None:
    """A file loaded for 2024-03 given again with --period 2024-04: the same bytes cannot be two months'
    export, and the user is told which month holds them instead of seeming to load it."""
    ingest(con, "01_gbk_抄表明细_2024-03_城东.csv")
    [again] = ingest(con, "01_gbk_抄表明细_2024-03_城东.csv", period="2024-04")
    assert again.status == "duplicate" and again.period == "2024-03"
    assert "for 2024-03, so it is not also loaded as 2024-04" in again.message
    assert con.execute("select distinct period from core.readings").fetchall() == [("2024-03",)]


def test_corrected_redelivery_supersedes_and_keeps_history(con: duckdb.DuckDBPyConnection) -> None:
    [first] = ingest(con, "10a_original_抄表明细_2024-03_城南.csv")
    [second] = ingest(con, "10b_corrected_抄表明细_2024-03_城南.csv")
    assert second.status == "loaded" and second.supersedes == [first.delivery_id]
    assert f"replaces 抄表段编号 0101 of 10a_original_抄表明细_2024-03_城南.csv ({first.delivery_id}, now superseded)" \
        in second.message
    assert con.execute("select status, superseded_by from ops.deliveries where delivery_id = ?",
                       [first.delivery_id]).fetchall() == [("superseded", second.delivery_id)]
    assert con.execute("select read_status from core.readings where meter_no = 'M0003'").fetchall() == [("READ",)]
    assert con.execute("select count(*) from raw.readings").fetchall() == [(6,)]


def test_every_sheet_of_a_workbook_is_a_delivery_and_skipped_sheets_are_said(con: duckdb.DuckDBPyConnection) -> None:
    results = ingest(con, "20_multi_sheet_抄表明细_2024-03.xlsx")
    assert [(r.sheet, r.status, r.rows_loaded) for r in results] == [("城东", "loaded", 3), ("城西", "loaded", 3)]
    assert all("sheet '说明' skipped" in r.message for r in results)
    [only] = ingest(con, "20_multi_sheet_抄表明细_2024-03.xlsx", sheet="城西")
    assert only.status == "duplicate"


def test_explicit_period_rescues_a_file_without_one(con: duckdb.DuckDBPyConnection) -> None:
    [res] = ingest(con, "22_no_period_抄表明细.csv", period="2024-03")
    assert (res.status, res.period, res.rows_loaded) == ("loaded", "2024-03", 3)
    assert con.execute("select period_source from ops.deliveries where status = 'loaded'").fetchall() == [
        ("explicit",)]


def test_skipped_rows_are_recorded_with_their_reason(con: duckdb.DuckDBPyConnection) -> None:
    ingest(con, "04_title_row_抄表明细_2024-03_城东.csv")
    ingest(con, "18_totals_row_抄表明细_2024-03.csv")
    rows = con.execute("select d.file_name, s.source_row, s.reason from ops.skipped_rows s "
                       "join ops.deliveries d using (delivery_id) order by 1, 2").fetchall()
    assert rows == [
        ("04_title_row_抄表明细_2024-03_城东.csv", 1, "title row"),
        ("04_title_row_抄表明细_2024-03_城东.csv", 2, "title row"),
        ("18_totals_row_抄表明细_2024-03.csv", 5, "blank row"),
        ("18_totals_row_抄表明细_2024-03.csv", 6, "totals row"),
    ]


def test_a_new_source_is_supported_by_adding_aliases_to_the_mapping(con, tmp_path, monkeypatch) -> None:
    """A statistician adds the headers of a new export to config/mappings/readings.toml; no code."""
    source = tmp_path / "新系统导出_2024-03.csv"
    source.write_text("户口号,抄表人,段号,表计条码,上期读数,本期读数,状态\n"
                      "3100000001,张三,0101,M0001,100,150,已抄\n", encoding="utf-8")
    [before] = ingest(con, str(source))
    assert before.status == "rejected"

    config = tmp_path / "config"
    shutil.copytree(Path(__file__).parents[1] / "config", config)
    mapping = config / "mappings" / "readings.toml"
    text = mapping.read_text(encoding="utf-8")
    for column, alias in [("customer_no", "户口号"), ("reader", "抄表人"), ("segment_no", "段号"),
                          ("meter_no", "表计条码"), ("last_read", "上期读数"), ("this_read", "本期读数"),
                          ("read_status", "状态")]:
        head, rest = text.split(f"[columns.{column}]\n", 1)
        rest = rest.replace("aliases = [", f'aliases = ["{alias}", ', 1)
        text = head + f"[columns.{column}]\n" + rest
    mapping.write_text(text, encoding="utf-8")
    monkeypatch.setenv("READQ_CONFIG", str(config))
    [after] = ingest(con, str(source))
    assert (after.status, after.kind, after.rows_loaded) == ("loaded", "readings", 1)
    assert con.execute("select customer_no, this_read from core.readings").fetchall() == [("3100000001", 150.0)]


def test_rejected_files_are_listed_under_the_month_their_name_states(con: duckdb.DuckDBPyConnection) -> None:
    for name in ("12_empty_抄表明细_2024-03.csv", "13_header_only_抄表明细_2024-03.csv", "22_no_period_抄表明细.csv"):
        ingest(con, name)
    assert con.execute("select file_name, status, period from ops.deliveries order by 1").fetchall() == [
        ("12_empty_抄表明细_2024-03.csv", "rejected", "2024-03"),
        ("13_header_only_抄表明细_2024-03.csv", "rejected", "2024-03"),
        ("22_no_period_抄表明细.csv", "rejected", None),
    ]


# ---------------------------------------------------------------- issue 7 ---------------------------

def test_a_name_with_glob_characters_loads_only_its_own_rows(con: duckdb.DuckDBPyConnection) -> None:
    """DuckDB's read_csv takes its path as a pattern: `…2024-03[1].csv` would read `…2024-031.csv`."""
    ingest(con, "33_glob_chars_抄表明细_2024-03[1].csv")
    ingest(con, "33_glob_chars_抄表明细_2024-031.csv")
    rows = con.execute("select d.file_name, count(*), min(r.meter_no), max(r.meter_no) from raw.readings r "
                       "join ops.deliveries d using (delivery_id) group by 1 order by 1").fetchall()
    assert rows == [("33_glob_chars_抄表明细_2024-031.csv", 2, "M0001", "M0002"),
                    ("33_glob_chars_抄表明细_2024-03[1].csv", 3, "M0001", "M0003")]


def test_blank_and_totals_rows_are_judged_by_the_whole_row(con: duckdb.DuckDBPyConnection) -> None:
    """A blank first cell does not make a row blank, a name like 合计五金店 or Total 加油站 does not
    make it a totals row; a totals row (also a subtotal naming its team) has no meter or customer."""
    name = "34_blank_and_totals_rows_抄表明细_2024-03.csv"
    ingest(con, name)
    assert con.execute("select customer_no, customer_name from core.readings order by 1").fetchall() == [
        ("3100000001", None), ("3100000002", "合计五金店"), ("3100000003", "Total 加油站")]
    assert con.execute("select source_row, reason from ops.skipped_rows order by 1").fetchall() == [
        (5, "totals row"), (6, "blank row"), (7, "totals row")]


def test_non_finite_numbers_are_cast_failures_and_never_reach_core(con: duckdb.DuckDBPyConnection) -> None:
    name = "35_non_finite_numbers_抄表明细_2024-03.csv"
    ingest(con, name)
    assert quarantine(con, name) == [
        (2, "this_read", "cast:float", "inf"), (3, "this_read", "cast:float", "NaN"),
        (4, "last_read", "cast:float", "-inf"), (5, "kwh", "cast:float", "1e400"),
        (6, "kwh", "cast:float", "nan"), (6, "multiplier", "cast:float", "Infinity")]
    assert con.execute("select meter_no, kwh from core.readings order by 1").fetchall() == [
        ("M3505", None), ("M3506", 50.0)]  # a blank kWh stays missing
    assert con.execute("select count(*) from core.readings where not (isfinite(last_read) and isfinite(this_read) "
                       "and coalesce(isfinite(kwh), true) and coalesce(isfinite(multiplier), true))"
                       ).fetchall() == [(0,)]


def test_a_gbk_file_with_an_ascii_head_is_read_as_gbk(con: duckdb.DuckDBPyConnection) -> None:
    name = "36_gbk_after_ascii_head_抄表明细_2024-03.csv"
    ingest(con, name)
    assert con.execute("select encoding from ops.deliveries").fetchall() == [("gb18030",)]
    assert con.execute("select source_row, team, reader, read_status, read_mode from core.readings "
                       "where team <> 'East' order by 1").fetchall() == [
        (1322, "城东", "张三", "READ", "HANDHELD"), (1323, "城东", "张三", "READ", "HANDHELD"),
        (1324, "城东", "张三", "READ", "HANDHELD")]


def test_cr_only_line_ends_keep_their_line_numbers(con: duckdb.DuckDBPyConnection) -> None:
    ingest(con, "44_cr_only_line_ends_抄表明细_2024-03.csv")
    assert con.execute("select meter_no, source_row, reader from core.readings order by 1").fetchall() == [
        ("M0001", 3, "张三"), ("M0002", 4, "张三"), ("M0003", 6, "张三")]
    assert con.execute("select source_row, reason from ops.skipped_rows order by 1").fetchall() == [
        (1, "title row"), (5, "blank row")]
    assert con.execute("select count(*) from raw.readings where upload_time like '%\r%' or read_date like '%\r%'"
                       ).fetchall() == [(0,)]


def test_a_long_rejected_line_is_kept_whole(con: duckdb.DuckDBPyConnection) -> None:
    """DuckDB keeps 10,000 characters of a rejected line; quarantine.rows keeps all of it."""
    name = "45_long_line_抄表明细_2024-03.csv"
    ingest(con, name)
    line = (CORPUS / name).read_text(encoding="utf-8").splitlines()[4]
    assert len(line) > 20_000
    assert quarantine(con, name) == [(5, None, "too_many_fields", line)]


@pytest.mark.parametrize("name", ["46_merged_cells_抄表明细_2024-03.xlsx",
                                  "48_merged_cells_legacy_抄表明细_2024-03.xls"])
def test_merged_cells_take_the_value_of_their_first_cell(con: duckdb.DuckDBPyConnection, name: str) -> None:
    ingest(con, name)
    assert con.execute("select meter_no, period, team, segment_no, plan_day, reader, last_read, this_read "
                       "from core.readings order by 1").fetchall() == [
        ("M0001", "2024-03", "城东", "0101", 5, "张三", 100.0, 150.0),
        ("M0002", "2024-03", "城东", "0101", 5, "张三", 2000.0, 2100.0),
        ("M0003", "2024-03", "城东", "0101", 5, "张三", 70.0, 70.0)]


def test_merged_header_cells_are_left_to_the_two_row_header(con: duckdb.DuckDBPyConnection, tmp_path) -> None:
    """Only merged ranges of data rows are filled: a header cell merged down over the sub-header row
    (Excel's usual two-row header) must not turn that row into data."""
    import xlsxwriter

    from tests.corpus.make_corpus import HEADER, ROWS

    path = tmp_path / "抄表明细_2024-03_城东.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("抄表明细")
    for j, name in enumerate(HEADER):
        if j in (8, 9):
            ws.write(1, j, name)
        else:
            ws.merge_range(0, j, 1, j, name)
    ws.merge_range(0, 8, 0, 9, "示数")
    for i, r in enumerate(ROWS):
        ws.write_row(2 + i, 0, r)
    book.close()
    [res] = ingest(con, str(path))
    assert (res.status, res.rows_loaded, res.rows_skipped) == ("loaded", 3, 0), res.message
    assert con.execute("select last_read, this_read from core.readings order by meter_no").fetchall() == [
        (100.0, 150.0), (2000.0, 2100.0), (70.0, 70.0)]


def test_a_line_far_wider_than_any_table_rejects_the_file(con: duckdb.DuckDBPyConnection, tmp_path) -> None:
    path = tmp_path / "抄表明细_2024-03_城东.csv"
    path.write_text((CORPUS / "01_gbk_抄表明细_2024-03_城东.csv").read_bytes().decode("gbk") + "1," * 1499 + "1\n",
                    encoding="utf-8")
    [res] = ingest(con, str(path))
    assert res.status == "rejected"
    assert res.message.startswith("line 5 has 1,500 columns, more than the 1,000 a delivery may have ([ingest] "
                                  "max_columns in config/readq.toml)")


def test_a_meter_repeated_in_one_delivery_loads_once_or_not_at_all(con: duckdb.DuckDBPyConnection) -> None:
    name = "51_repeated_keys_抄表明细_2024-03.csv"
    ingest(con, name)
    said = "key (电能表编号) = (M0002) is repeated on lines 3, 5 with different values"
    assert quarantine(con, name) == [(3, None, "duplicate_key", None), (5, None, "duplicate_key", None)]
    assert con.execute("select distinct message from quarantine.rows").fetchall() == [(said,)]
    assert con.execute("select source_row, reason from ops.skipped_rows order by 1").fetchall() == [
        (4, "exact repeat of line 3"), (7, "repeat of line 6 (same values)")]
    assert con.execute("select meter_no, source_row from core.readings order by 1").fetchall() == [
        ("M0001", 2), ("M0003", 6)]


def test_a_per_segment_sg186_export_loads_with_the_month_given(con: duckdb.DuckDBPyConnection) -> None:
    [res] = ingest(con, "52_sg186_segment_070.xls", period="2019-10")
    assert (res.status, res.period, res.rows_loaded) == ("loaded", "2019-10", 3)
    rows = con.execute("select segment_no, team, reader, read_status from core.readings order by source_row").fetchall()
    assert rows == [("6041100070", None, "袁莉娟", status) for status in ("READ", "MISSED", "MISSED")]  # 89: not read


def test_a_line_the_reader_keeps_no_text_of_is_quarantined_with_its_text(con: duckdb.DuckDBPyConnection) -> None:
    name = "53_quote_inside_quoted_value_抄表明细_2024-03.csv"
    ingest(con, name)
    assert quarantine(con, name) == [(3, None, "unparseable_line", '2024-03,城东,0101,5,张三,3100000002,'
                                      '"=HYPERLINK("http://x","点击")",M0002,2000,2100,100,1,已抄,抄表机,2024-03-05')]
