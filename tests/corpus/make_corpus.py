"""Write the bad-input corpus: real-world-shaped broken exports, one behaviour each.

    uv run python tests/corpus/make_corpus.py     # rewrites tests/corpus/files/

Deterministic (fixed workbook timestamps), so the committed files only change when this does.
tests/test_ingest_corpus.py asserts exactly what each file loads, quarantines or rejects.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import xlsxwriter
import xlwt

OUT = Path(__file__).parent / "files"
CREATED = dt.datetime(2024, 4, 1, 8, 0, 0)

HEADER = ["电费年月", "抄表班组", "抄表段编号", "抄表例日", "抄表员", "用户编号", "用户名称", "电能表编号",
          "上次示数", "本次示数", "抄见电量", "综合倍率", "抄表状态", "抄表方式", "抄表日期"]
ROWS = [
    ["2024-03", "城东", "0101", "5", "张三", "3100000001", "王一", "M0001", "100", "150", "50", "1", "已抄", "抄表机",
     "2024-03-05"],
    ["2024-03", "城东", "0101", "5", "张三", "3100000002", "王二", "M0002", "2000", "2100", "100", "1", "已抄",
     "抄表机", "2024-03-05"],
    ["2024-03", "城东", "0101", "5", "张三", "3100000003", "王三", "M0003", "70", "70", "0", "1", "未抄", "抄表机",
     "2024-03-05"],
]


def csv_text(header: list[str], rows: list[list[str]], *, pre: list[str] = (), post: list[str] = ()) -> str:
    def line(cells: list[str]) -> str:
        return ",".join(f'"{c}"' if ("," in c or '"' in c) else c for c in cells)

    return "\n".join([*pre, line(header), *[line(r) for r in rows], *post]) + "\n"


def write(name: str, text: str, encoding: str = "gbk") -> None:
    (OUT / name).write_bytes(text.encode(encoding))


def workbook(name: str) -> xlsxwriter.Workbook:
    wb = xlsxwriter.Workbook(str(OUT / name))
    wb.set_properties({"created": CREATED})
    return wb


def sheet(wb: xlsxwriter.Workbook, title: str, header: list[str], rows: list[list[str]], start: int = 0) -> None:
    ws = wb.add_worksheet(title)
    ws.write_row(start, 0, header)
    for i, row in enumerate(rows):
        ws.write_row(start + 1 + i, 0, row)


def legacy_workbook(name: str, header: list[str], rows: list[list[str]], *, sheet_name: str = "抄表明细",
                    written: Callable[[int], bool] = lambda column: True,
                    then: Callable[[xlwt.Worksheet], None] | None = None) -> None:
    """An Excel 97-2003 workbook (.xls) of one sheet: the header, then the cells of the `written` columns."""
    xls = xlwt.Workbook(encoding="utf-8")
    ws = xls.add_sheet(sheet_name)
    for j, h in enumerate(header):
        ws.write(0, j, h)
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if written(j):
                ws.write(1 + i, j, v)
    if then is not None:
        then(ws)
    xls.save(str(OUT / name))


def with_column(header: list[str], rows: list[list[str]], name: str, values: list[str]):
    return [*header, name], [[*r, v] for r, v in zip(rows, values, strict=True)]


def without(header: list[str], rows: list[list[str]], name: str):
    i = header.index(name)
    return header[:i] + header[i + 1:], [r[:i] + r[i + 1:] for r in rows]


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    base = csv_text(HEADER, ROWS)
    write("01_gbk_抄表明细_2024-03_城东.csv", base)
    write("02_utf8_bom_抄表明细_2024-03_城西.csv",
          "\ufeff" + csv_text(HEADER, [[*r[:1], "城西", *r[2:]] for r in ROWS]), "utf-8")
    write("03_mojibake_抄表明细_2024-03.csv", base.encode("gbk").decode("latin-1"), "utf-8")
    write("04_title_row_抄表明细_2024-03_城东.csv", csv_text(HEADER, ROWS, pre=["XX供电公司抄表明细", "导出时间：2024-04-01"]))

    wb = workbook("05_two_row_header_抄表明细_2024-03.xlsx")
    ws = wb.add_worksheet("抄表明细")
    group = [h for h in HEADER if h not in ("上次示数", "本次示数")]
    top = [*HEADER[:8], "示数", None, *HEADER[10:]]
    sub = [None] * 8 + ["上次示数", "本次示数"] + [None] * (len(HEADER) - 10)
    ws.write_row(0, 0, top)
    ws.write_row(1, 0, sub)
    for i, row in enumerate(ROWS):
        ws.write_row(2 + i, 0, row)
    del group
    wb.close()

    write("06_missing_column_抄表明细_2024-03.csv", csv_text(*without(HEADER, ROWS, "本次示数")))
    write("07_extra_columns_抄表明细_2024-03.csv",
          csv_text(*with_column(*with_column(HEADER, ROWS, "备注", ["门口", "", "锁门"]), "经度", ["112.9", "", ""])))
    write("08_duplicate_rows_抄表明细_2024-03.csv", csv_text(HEADER, [ROWS[0], ROWS[1], ROWS[1], ROWS[2]]))
    write("09_same_bytes_as_01_抄表明细_2024-03.csv", base)
    write("10a_original_抄表明细_2024-03_城南.csv", csv_text(HEADER, [[*r[:1], "城南", *r[2:]] for r in ROWS]))
    fixed = [[*r[:1], "城南", *r[2:]] for r in ROWS]
    fixed[2] = [*fixed[2][:9], "75", "5", "1", "已抄", *fixed[2][13:]]
    write("10b_corrected_抄表明细_2024-03_城南.csv", csv_text(HEADER, fixed))
    truncated = base + '2024-03,城东,0101,5,张三,3100000004,"王四'
    write("11_truncated_last_line_抄表明细_2024-03.csv", truncated)
    write("12_empty_抄表明细_2024-03.csv", "")
    write("13_header_only_抄表明细_2024-03.csv", csv_text(HEADER, []))
    wrong = [r[:] for r in ROWS]
    wrong[0][9], wrong[1][3], wrong[2][12] = "abc", "x", "奇怪"
    write("14_wrong_types_抄表明细_2024-03.csv", csv_text(HEADER, wrong))
    neg = [r[:] for r in ROWS]
    neg[0][9], neg[1][9], neg[2][10] = "-150", "", "--"
    write("15_negative_and_blank_抄表明细_2024-03.csv", csv_text(HEADER, neg))
    dates = ["2024-03-05", "2024/3/5", "20240305", "2024年3月5日", "45356"]
    rows5 = [[*ROWS[i % 3][:5], f"31000001{i:02d}", "王", f"M01{i:02d}", *ROWS[i % 3][8:14], d]
             for i, d in enumerate(dates)]
    write("16_dates_five_formats_抄表明细_2024-03.csv", csv_text(HEADER, rows5))
    full = [r[:] for r in ROWS]
    full[0][8], full[0][9], full[1][8], full[1][9] = "１００", "１５０", "2,000", "2,100"
    write("17_fullwidth_digits_抄表明细_2024-03.csv", csv_text(HEADER, full))
    write("18_totals_row_抄表明细_2024-03.csv", csv_text(HEADER, ROWS, post=["", "合计,,,,,,,,2170,2320,150,,,,"]))

    legacy_workbook("19_legacy_抄表明细_2024-03.xls", HEADER, ROWS)

    wb = workbook("20_multi_sheet_抄表明细_2024-03.xlsx")
    sheet(wb, "城东", HEADER, ROWS)
    sheet(wb, "城西", HEADER, [[*r[:1], "城西", *r[2:5], r[5].replace("31", "32"), *r[6:]] for r in ROWS])
    notes = wb.add_worksheet("说明")
    notes.write(0, 0, "本表由营销系统导出")
    wb.close()

    write("21_wrong_kind_欠费明细_2024-03.csv", csv_text(
        ["序号", "抄表段编号", "电能表号", "用户编号", "用户名称", "用电地址", "年月", "应收电费", "实收电费", "欠费金额"],
        [["1", "0101", "M0001", "3100000001", "王一", "X路1号", "2024-03", "52.3", "0", "52.3"]]))
    write("22_no_period_抄表明细.csv", csv_text(*without(HEADER, ROWS, "电费年月")).replace(",抄表日期", ",备注")
          .replace("2024-03-05", "无"))
    write("23_database_codes_2024-03.csv", csv_text(
        ["amt_ym", "team", "mr_sect_no", "writor_name", "cons_no", "asset_no", "last_mr_num", "this_read",
         "t_factor", "mr_status_code", "actual_mode"],
        [["202403", "城北", "0301", "赵六", "3300000001", "M3001", "10", "20", "1", "01", "3"],
         ["202403", "城北", "0301", "赵六", "3300000002", "M3002", "30", "30", "1", "89", "2"]]), "utf-8")

    wb = workbook("24_复核差错记录_2024-03.xlsx")
    sheet(wb, "复核差错", ["工单编号", "电费年月", "用户编号", "电能表编号", "差错类型", "差错电量", "发现方式", "责任岗位",
                        "责任人", "发现日期"],
          [["F2403001", "2024-03", "3100000002", "M0002", "错抄", "-90", "复核", "抄表员", "张三", "2024-03-12"],
           ["F2403002", "2024-03", "3100000003", "M0003", "漏抄", "55", "抽查", "抄表员", "张三", "2024-03-15"],
           ["F2403003", "2024-03", "3100000001", "M0001", "看错了", "1", "复核", "抄表员", "张三", "2024-03-15"]])
    wb.close()
    write("25_抄表派工_2024-03.csv", csv_text(
        ["电费年月", "抄表班组", "抄表段编号", "抄表段名称", "抄表例日", "抄表员", "同组抄表员", "接管年月", "抄表方式", "户数"],
        [["2024-03", "城东", "0101", "东一段", "5", "张三", "李四", "2022-01", "手工", "812"],
         ["2024-03", "城东", "0102", "东二段", "40", "李四", "张三", "2023-07", "远程", "640"]]))
    write("26_异常报告单_2024-03.csv", csv_text(
        ["报告单编号", "用户编号", "电能表编号", "异常类别", "报告人", "发现时间", "上报时间", "处理完成时间"],
        [["A001", "3100000001", "M0001", "窃电", "张三", "2024-03-05 10:00:00", "2024-03-05 15:00:00", ""],
         ["A002", "3100000003", "M0003", "现场无表", "张三", "2024/3/6 09:30", "2024/3/9 09:30", "2024/3/20 12:00"]]))
    write("27_用户档案_2024-03.csv", csv_text(
        ["档案年月", "用户编号", "用户名称", "联系方式", "用户地址", "用户分类", "用户状态", "抄表段编号", "电能表编号",
         "综合倍率", "抄表位数", "合同容量"],
        [["2024-03", "3100000001", "王一", "13800000001", "X路1号", "低压居民", "正常", "0101", "M0001", "1", "6.2", "8"],
         ["2024-03", "3100000009", "某厂", "13800000009", "Y路9号", "高压", "暂停", "0109", "M0009", "100", "7.2", "630"]]))
    write("28_rows_wider_than_header_抄表明细_2024-03.csv", base + "2024-03,城东,0101,5,张三,3100000004,王四,M0004,1,2,1,1,"
          "已抄,抄表机,2024-03-05,多余,字段\n")
    other = [r[:] for r in ROWS]
    other[2][0] = "2024-04"
    write("29_row_of_other_month_抄表明细_2024-03.csv", csv_text(HEADER, other))
    write("30_not_a_workbook_抄表明细_2024-03.xlsx", "this is not a workbook\n", "utf-8")
    (OUT / "31_invalid_bytes_抄表明细_2024-03.csv").write_bytes(
        csv_text(HEADER, ROWS).encode("gbk") + b"\xff\xfe\xff broken\n")
    # a cast failure and a missing required value in one block of 1,000 rows: polars 2.1 panicked
    # formatting the quarantine messages of such a block (regression)
    many = [[*ROWS[0][:5], f"33{i:08d}", "王", f"M9{i:05d}", str(i), str(i + 5), "5", "1", "已抄", "抄表机", "2024-03-05"]
            for i in range(1000)]
    many[333][12] = "待抄"
    many[990][9] = ""
    write("32_cast_and_check_failures_抄表明细_2024-03.csv", csv_text(HEADER, many))
    issue_7_files(base)
    issue_7_output_and_key_files()
    print(f"wrote {len(list(OUT.iterdir()))} files into {OUT}")


def issue_7_files(base: str) -> None:
    """Issue 7: names with glob characters, blank and totals rows judged by the whole row, non-finite
    numbers, encodings told apart over the whole file, absurd widths, CR-only line ends, long lines,
    merged and hidden workbook sheets."""
    # DuckDB's read_csv would take "[1]" as a pattern and read the 31 file's two rows instead
    write("33_glob_chars_抄表明细_2024-03[1].csv", base)
    write("33_glob_chars_抄表明细_2024-031.csv", csv_text(HEADER, ROWS[:2]))

    name_first = ["用户名称", *[h for h in HEADER if h != "用户名称"]]
    by_name = [[r[6], *r[:6], *r[7:]] for r in ROWS]
    rows = [[" ", *by_name[0][1:]],                                   # a blank name in the first column: loads
            ["合计五金店", *by_name[1][1:]],                            # customers whose names start like a label
            ["Total 加油站", *by_name[2][1:]],
            ["小计", "2024-03", "城东", "0101", "", "", "", "", "2170", "2320", "150", "", "", "", ""],  # a subtotal
            ["\u3000", " ", "\u00a0", *[""] * (len(HEADER) - 3)],     # blank: ideographic space, space, NBSP
            ["合计", *[""] * 7, "2170", "2320", "150", "", "", "", ""]]
    write("34_blank_and_totals_rows_抄表明细_2024-03.csv", csv_text(name_first, rows), "utf-8")

    finite = [[*ROWS[i % 3][:5], f"35000000{i:02d}", "王", f"M35{i:02d}", *ROWS[i % 3][8:]] for i in range(7)]
    finite[0][9] = "inf"
    finite[1][9] = "NaN"
    finite[2][8] = "-inf"
    finite[3][10] = "1e400"
    finite[4][10], finite[4][11] = "nan", "Infinity"
    finite[5][10] = ""                                                  # a blank kWh: missing, loads
    write("35_non_finite_numbers_抄表明细_2024-03.csv", csv_text(HEADER, finite))

    codes = ["amt_ym", "team", "mr_sect_no", "writor_name", "cons_no", "asset_no", "last_mr_num", "this_read",
             "t_factor", "mr_status_code", "actual_mode"]
    ascii_rows = [["202403", "East", "0301", "Zhao", f"36{i:08d}", f"M36{i:05d}", "10", "20", "1", "01", "3"]
                  for i in range(1320)]                                 # over 70 KiB of ASCII first ...
    gbk_rows = [["202403", "城东", "0301", "张三", f"3699999{i:03d}", f"M369{i:04d}", "10", "20", "1", "已抄", "抄表机"]
                for i in range(3)]                                      # ... then GBK text
    write("36_gbk_after_ascii_head_抄表明细_2024-03.csv", csv_text(codes, ascii_rows + gbk_rows))

    write("37_utf16_unicode_text_抄表明细_2024-03.csv",
          "\ufeff" + csv_text(HEADER, ROWS).replace(",", "\t"), "utf-16-le")
    shutil.copyfile(OUT / "05_two_row_header_抄表明细_2024-03.xlsx", OUT / "38_workbook_renamed_抄表明细_2024-03.csv")
    shutil.copyfile(OUT / "19_legacy_抄表明细_2024-03.xls", OUT / "39_legacy_workbook_renamed_抄表明细_2024-03.csv")
    (OUT / "40_nul_bytes_抄表明细_2024-03.csv").write_bytes(base.encode("gbk").replace(b",", b"\x00,", 4))
    (OUT / "41_not_utf8_nor_gbk_抄表明细_2024-03.csv").write_bytes(
        csv_text(HEADER, ROWS).encode("utf-8") + b"2024-03,\x80\xff,0101\n")

    write("42_10000_columns_抄表明细_2024-03.csv",
          csv_text(HEADER + ["x"] * (10_000 - len(HEADER)), ROWS), "utf-8")
    wb = workbook("43_1001_columns_sheet_抄表明细_2024-03.xlsx")
    sheet(wb, "抄表明细", HEADER + [f"x{i}" for i in range(1001 - len(HEADER))], ROWS)
    wb.close()

    write("44_cr_only_line_ends_抄表明细_2024-03.csv",
          csv_text(HEADER, [ROWS[0], ROWS[1]], pre=["XX供电公司抄表明细"], post=["", ",".join(ROWS[2])])
          .replace("\n", "\r"))

    wide = [*ROWS, ["2024-03", "城东", "0101", "5", "张三", "3100000004", "王四", "M0004", "1", "2", "1", "1", "已抄",
                    "抄表机", "2024-03-05", "备注很长" * 5000]]            # 20,000+ characters, one field too many
    write("45_long_line_抄表明细_2024-03.csv", csv_text(HEADER, wide), "utf-8")

    wb = workbook("46_merged_cells_抄表明细_2024-03.xlsx")
    ws = wb.add_worksheet("抄表明细")
    ws.write_row(0, 0, HEADER)
    for i, row in enumerate(ROWS):
        ws.write_row(1 + i, 0, row)
    for col in (0, 1, 2, 3, 4):                                       # 电费年月 … 抄表员, one cell per team
        ws.merge_range(1, col, len(ROWS), col, ROWS[0][col])
    ws.merge_range(3, 8, 3, 9, ROWS[2][8])                             # 上次示数 = 本次示数 (70), one cell
    wb.close()

    wb = workbook("47_hidden_sheet_抄表明细_2024-03.xlsx")
    cover = wb.add_worksheet("说明")
    cover.write(0, 0, "本表由营销系统导出")
    sheet(wb, "抄表明细", HEADER, ROWS)
    wb.worksheets()[-1].hide()
    wb.close()

    def merge_teams(ws: xlwt.Worksheet) -> None:
        for col in (0, 1, 2, 3, 4):
            ws.write_merge(1, len(ROWS), col, col, ROWS[0][col])

    legacy_workbook("48_merged_cells_legacy_抄表明细_2024-03.xls", HEADER, ROWS, written=lambda j: j > 4,
                    then=merge_teams)


def issue_7_output_and_key_files() -> None:
    """Issue 7: user text that looks like rich markup or a spreadsheet formula, a meter repeated in one
    delivery (same values / other values), and a per-segment SG186 export (no team, no date column)."""
    marked = [[*r[:6], "[bold]" + r[6], *r[7:]] for r in ROWS]
    header, rows = with_column(*with_column(HEADER, marked, "备注[/]", ["[red]门口[/]", "", "x [/] y"]),
                               "[bold]说明", ["", "[i]", ""])
    write("49_rich_markup_抄表明细_2024-03.csv", csv_text(header, rows))
    formula = [r[:] for r in ROWS]
    formula[0][6] = "=SUM(A1:A9)"                                      # a name that a spreadsheet would run
    formula[1][12] = "@SUM(1+1)*cmd|' /C calc'!A0"                     # a status: quarantined with its value
    formula[2][12] = "+1+2"
    write("50_formula_cells_抄表明细_2024-03.csv", csv_text(HEADER, formula))
    repeated = [ROWS[0], ROWS[1], ROWS[1], [*ROWS[1][:9], "2101", *ROWS[1][10:]], ROWS[2],
                [*ROWS[2][:8], "70.0", *ROWS[2][9:]]]                  # M0002 twice with another reading
    write("51_repeated_keys_抄表明细_2024-03.csv", csv_text(HEADER, repeated))
    sg186 = ["用户编号", "用户名称", "联系方式", "抄表段编号", "抄表段名称", "抄表例日", "抄表员", "计量点编号",
             "抄表序号", "电能表编号", "示数类型", "上次示数", "本次示数", "抄见电量", "综合倍率", "抄表位数",
             "异常类型", "抄表状态", "供电单位", "供电所", "用户地址"]
    legacy_workbook("52_sg186_segment_070.xls", sg186, [
        [f"207387021{i}", f"用户{i}", "18200000000", "6041100070", "五金公司2#", "1", "袁莉娟", f"2003322754{i}",
         str(i + 1), f"43300010000000562272{i}", "有功（总）", "506", "2829", "2323", "1", "6.2", "无异常",
         ["已抄", "未抄", "89"][i], "4341041", "国网宁远县电力公司", f"舜源社区{i}号"] for i in range(3)],
        sheet_name="Sheet0")
    # quotes inside a quoted value, not doubled: DuckDB rejects the line and keeps none of its text
    broken = csv_text(HEADER, ROWS).rstrip("\n").split("\n")
    broken[2] = broken[2].replace("王二", '"=HYPERLINK("http://x","点击")"')
    write("53_quote_inside_quoted_value_抄表明细_2024-03.csv", "\n".join(broken) + "\n")


if __name__ == "__main__":
    main()
