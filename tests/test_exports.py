"""What leaves the product as a file cannot run as a spreadsheet formula (checks/exports.py)."""

from __future__ import annotations

import polars as pl
import pytest

from checks.exports import XLSXWRITER_OPTIONS, csv_bytes, neutralise_formulas, neutralise_text


@pytest.mark.parametrize("cell", ["=1+1", "+1+1", "-1+1", "@SUM(A1:A9)", "\t=1", "\r=1", '=HYPERLINK("http://x")',
                                  "-", "+86 138 0000 0001", "--5", "-1,23", " =1+1", "\n@x"])
def test_cells_a_spreadsheet_would_evaluate_get_a_leading_quote(cell: str) -> None:
    assert neutralise_text(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-150", "+3.5", "-0.25", "-1e-3", "-1,234.5", "-5%", "+.5", "150", "张三", "",
                                  "a=b", " -150", "\t-1"])
def test_numbers_and_plain_text_are_left_alone(cell: str) -> None:
    assert neutralise_text(cell) == cell


def test_a_frame_is_neutralised_in_its_text_cells_and_headers_only() -> None:
    df = pl.DataFrame({"name": ["=cmd|' /C calc'!A0", "-150", None, "王***"], "n": [-1, 2, 3, 4],
                       "=header": ["a", "b", "c", "d"]}).with_columns(kind=pl.Series(["@x", "y", "z", "-"]).cast(
                           pl.Categorical))
    out = neutralise_formulas(df)
    assert out.columns == ["name", "n", "'=header", "kind"]
    assert out["name"].to_list() == ["'=cmd|' /C calc'!A0", "-150", None, "王***"]
    assert out["kind"].to_list() == ["'@x", "y", "z", "'-"]
    assert out["n"].dtype == pl.Int64 and out["n"].to_list() == [-1, 2, 3, 4]


def test_csv_bytes_are_utf8_with_bom_and_neutralised() -> None:
    data = csv_bytes(pl.DataFrame({"用户": ["=1+1", "李***"], "kwh": [-3.5, 1.0]}))
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines() == ["用户,kwh", "'=1+1,-3.5", "李***,1.0"]


def test_a_future_xlsx_export_keeps_strings_as_strings(tmp_path) -> None:
    """The documented workbook options: xlsxwriter writes '=1+1' as text, not as a formula."""
    import zipfile

    import xlsxwriter

    path = tmp_path / "out.xlsx"
    with xlsxwriter.Workbook(str(path), XLSXWRITER_OPTIONS) as wb:
        wb.add_worksheet().write("A1", "=1+1")
    sheet = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no formula cell
