"""The 差错统计表 (issue 9 item 1): marts.error_findings attributes each confirmed review finding, and
marts.error_stats_month / _reader_month / _segment_month count them in the seed's shape, against the
month's meters due. Hand-built exports go through the real ingest and the real mart SQL; every
expected number is worked out below from the rows written here.

The centre of the fixture (billing month 2024-03):

    A队  segment S1, reader 张三: customers C01..C10, one meter each (M01..M10) and C01 a second (M01b);
                                  C10 未抄; every other meter 100 kWh (C10 0)      -> 10 户, 9 实抄, 11 只, 1,000 kWh
         segment S2, reader 李四: C11..C15 (M11..M15, 200 kWh each, C15 估抄), and C16 (M16) whose row
                                  has 本次示数 "abc": quarantined, status unknown   -> 6 户, 4 实抄, 6 只, 1,000 kWh
    B队  segment S3, reader 王五: C21..C24 (M21..M24, 50 kWh each)                 -> 4 户, 4 实抄, 4 只, 200 kWh

Findings (复核差错记录 2024-03):

    F1  A队 C02 M02  错抄        30 kWh  (no 责任岗位)   -> READER (type), 张三
    F2  A队 C03 M03  数据准备差错  −40    (no 责任岗位)   -> CLERK (type; |kWh| = 40)
    F3  A队 C11 M11  倍率不符      25    责任岗位 核算员   -> CLERK (the finding's post overrides the type)
    F4  A队 C01 —    漏抄         10    (no meter)      -> READER, 张三; both meters of C01 count as 只
    F5  B队 C21 M21  采集差错      5     (no 责任岗位)   -> SYSTEM
    F6  A队 S1 C99   错抄         7     customer not due -> out of scope; team and segment from the finding
    F7  B队 C12 M12  错抄         —     (no kWh)        -> A队 李四: the reading wins over the finding's team
    F8  A队 C02 M02  估抄         3                     -> READER, 张三: C02 has errors of two types
    F9  A队 C16 M16  错抄         12                    -> A队 李四 through the quarantined row (meters due)
    F10 —   C98      错抄         1     no team, no segment, not due -> '(未指定)'

2024-04 has readings but no findings delivered: its counts and rates are null, never 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import fastexcel
import pytest

from pipelines.ingest.deliver import ingest_path
from readq.config import Home, load_toml
from warehouse.connection import connect
from warehouse.marts import mart, replace_month

MARTS = ("meter_readings", "meters_due", "error_findings", "error_stats_month", "error_stats_reader_month",
         "error_stats_segment_month")
READINGS_HEADER = "电费年月,抄表队,抄表段编号,抄表员,用户编号,电能表编号,上次示数,本次示数,抄见电量,抄表状态"
FINDINGS_HEADER = "工单编号,电费年月,责任班组,抄表段编号,用户编号,电能表编号,差错类型,差错电量,发现方式,责任岗位"


def readings_rows(period: str) -> list[str]:
    rows = []
    for i in range(1, 11):                                          # A队 S1 张三
        status, kwh = ("未抄", 0) if i == 10 else ("已抄", 100)
        meters = ["M01", "M01b"] if i == 1 else [f"M{i:02d}"]
        for m in meters:
            rows.append(f"{period},A队,S1,张三,C{i:02d},{m},1000,{1000 + kwh},{kwh},{status}")
    for i in range(11, 16):                                         # A队 S2 李四
        status = "估抄" if i == 15 else "已抄"
        rows.append(f"{period},A队,S2,李四,C{i},M{i},500,700,200,{status}")
    rows.append(f"{period},A队,S2,李四,C16,M16,500,abc,,已抄")        # quarantined: 本次示数 not a number
    for i in range(21, 25):                                         # B队 S3 王五
        rows.append(f"{period},B队,S3,王五,C{i},M{i},10,60,50,已抄")
    return rows


FINDINGS = [
    "F1,2024-03,A队,S1,C02,M02,错抄,30,复核,",
    "F2,2024-03,A队,S1,C03,M03,数据准备差错,-40,复核,",
    "F3,2024-03,A队,S2,C11,M11,倍率不符,25,抽查,核算员",
    "F4,2024-03,A队,S1,C01,,漏抄,10,投诉,",
    "F5,2024-03,B队,S3,C21,M21,采集差错,5,复核,",
    "F6,2024-03,A队,S1,C99,M99,错抄,7,复核,",
    "F7,2024-03,B队,S3,C12,M12,错抄,,复核,抄表员",
    "F8,2024-03,A队,S1,C02,M02,估抄,3,复核,",
    "F9,2024-03,A队,S2,C16,M16,错抄,12,复核,",
    "F10,2024-03,,,C98,,错抄,1,复核,",
]


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def build(conn: duckdb.DuckDBPyConnection, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for period in ("2024-03", "2024-04"):
        ingest_path(conn, write(folder / f"抄表明细_{period}.csv", READINGS_HEADER, readings_rows(period)))
    ingest_path(conn, write(folder / "复核差错记录_2024-03.csv", FINDINGS_HEADER, FINDINGS))
    for period in ("2024-03", "2024-04"):
        conn.execute("begin")
        for name in MARTS:
            replace_month(conn, name, period)
        conn.execute("commit")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("errors")
    db = root / "warehouse.duckdb"
    conn = connect(db)
    try:
        build(conn, root / "exports")
    finally:
        conn.close()
    return db


@pytest.fixture
def db(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    conn = duckdb.connect(str(warehouse), read_only=True)
    yield conn
    conn.close()


def rows(conn: duckdb.DuckDBPyConnection, sql: str, *params: object) -> list[dict]:
    return conn.sql(sql, params=list(params)).pl().to_dicts()


def one(conn: duckdb.DuckDBPyConnection, table: str, where: str, *params: object) -> dict:
    [row] = rows(conn, f"select * from marts.{table} where period = '2024-03' and {where}", *params)
    return row


def test_the_fixture_loaded_as_described(db) -> None:
    assert db.execute("select count(*) from core.review_findings").fetchall() == [(10,)]
    assert db.execute("select count(*) from quarantine.rows where kind = 'readings' and period = '2024-03'"
                      ).fetchall() == [(1,)]
    assert db.execute("select read_status, in_quarantine from marts.meters_due "
                      "where period = '2024-03' and meter_no = 'M16'").fetchall() == [("UNKNOWN", True)]


def test_each_finding_is_attributed_to_its_reading_and_its_responsible_party(db) -> None:
    found = {r["finding_no"]: r for r in rows(db, "select * from marts.error_findings where period = '2024-03'")}
    assert sorted(found) == sorted(f"F{i}" for i in range(1, 11))
    expect = {  # finding: team, reader, segment, attributed_by, responsible, responsible_source, in_scope
        "F1": ("A队", "张三", "S1", "reading_meter", "READER", "error_type", True),
        "F2": ("A队", "张三", "S1", "reading_meter", "CLERK", "error_type", True),
        "F3": ("A队", "李四", "S2", "reading_meter", "CLERK", "finding", True),
        "F4": ("A队", "张三", "S1", "reading_customer", "READER", "error_type", True),
        "F5": ("B队", "王五", "S3", "reading_meter", "SYSTEM", "error_type", True),
        "F6": ("A队", "(未指定)", "S1", "finding", "READER", "error_type", False),
        "F7": ("A队", "李四", "S2", "reading_meter", "READER", "finding", True),
        "F8": ("A队", "张三", "S1", "reading_meter", "READER", "error_type", True),
        "F9": ("A队", "李四", "S2", "due_quarantined", "READER", "error_type", True),
        "F10": ("(未指定)", "(未指定)", "(未指定)", "none", "READER", "error_type", False),
    }
    got = {k: (r["team"], r["reader"], r["segment_no"], r["attributed_by"], r["responsible"],
               r["responsible_source"], r["in_scope"]) for k, r in found.items()}
    assert got == expect
    assert found["F2"]["kwh_impact"] == 40.0                       # |−40|
    assert found["F7"]["kwh_impact"] is None                       # not delivered: no number made up
    assert (found["F4"]["meter_no"], found["F4"]["meter_due"]) == (None, False)
    assert found["F1"]["config_version"] and found["F9"]["source_row"] == 10  # line 10 of the file (header = 1)


def test_the_team_table_equals_the_hand_count(db) -> None:
    a = one(db, "error_stats_month", "team = 'A队'")
    # denominators: 10 + 6 户 (C16 in quarantine counts, status unknown), 实抄 9 + 4, 11 + 6 只, 1,000 + 1,000 kWh
    assert (a["customers_due"], a["customers_read"], a["customers_unknown"], a["meters_due"], a["kwh_due"]) == (
        16, 13, 1, 17, 2000.0)
    # 错抄 C02 (F1 30), C12 (F7 no kWh), C16 (F9 12); 漏抄 C01 10; 估抄 C02 3; 倍率不符 C11 25; 数据准备 C03 40
    assert (a["misread_customers"], a["misread_kwh"]) == (3, 42.0)
    assert (a["missed_customers"], a["missed_kwh"]) == (1, 10.0)
    assert (a["estimated_customers"], a["estimated_kwh"]) == (1, 3.0)
    assert (a["multiplier_customers"], a["multiplier_kwh"]) == (1, 25.0)
    assert (a["data_prep_customers"], a["data_prep_kwh"]) == (1, 40.0)
    assert (a["auto_collect_customers"], a["proxy_customers"], a["proxy_kwh"]) == (0, 0, 0.0)
    # 合计户数 adds the types up (C02 twice: 错抄 and 估抄); 差错户数 is distinct: C01 C02 C03 C11 C12 C16
    assert (a["total_customers"], a["customers_with_error"], a["kwh_error"], a["findings"]) == (7, 6, 120.0, 7)
    # 只: M02, M03, M11, M12, M16, and both meters of C01 (F4 names none)
    assert a["meters_with_error"] == 7
    assert (a["reader_customers"], a["clerk_customers"], a["system_customers"]) == (4, 2, 0)
    assert (a["reader_kwh"], a["clerk_kwh"], a["system_kwh"]) == (55.0, 65.0, 0.0)
    assert (a["findings_out_of_scope"], a["findings_without_kwh"], a["findings_quarantined"]) == (1, 1, 0)
    assert a["findings_delivered"] is True and a["null_reason"] is None


def test_the_three_rates_equal_their_formulas(db) -> None:
    a = one(db, "error_stats_month", "team = 'A队'")
    assert a["error_rate"] == pytest.approx(6 / 13)                # 差错户数 / 实抄户数
    assert a["errors_per_10k"] == pytest.approx(10_000 * 6 / 13)
    assert a["error_rate_meter"] == pytest.approx(7 / 17)          # 差错只数 / 应抄电能表只数
    assert a["error_rate_kwh"] == pytest.approx(120 / 2000)        # 差错电量 / 应抄电量
    b = one(db, "error_stats_month", "team = 'B队'")
    assert (b["customers_read"], b["meters_due"], b["kwh_due"]) == (4, 4, 200.0)
    assert (b["auto_collect_customers"], b["auto_collect_kwh"], b["system_customers"]) == (1, 5.0, 1)
    assert (b["error_rate"], b["error_rate_meter"], b["error_rate_kwh"]) == pytest.approx((1 / 4, 1 / 4, 5 / 200))


def test_a_finding_outside_the_month_is_counted_apart_never_in_a_rate(db) -> None:
    unattributed = one(db, "error_stats_month", "team = '(未指定)'")
    assert (unattributed["customers_due"], unattributed["findings"], unattributed["findings_out_of_scope"]) == (0, 0, 1)
    assert unattributed["error_rate"] is None and unattributed["null_reason"] == "NO_VOLUME"
    s1 = one(db, "error_stats_segment_month", "segment_no = 'S1'")
    assert (s1["findings_out_of_scope"], s1["misread_customers"], s1["misread_kwh"]) == (1, 1, 30.0)  # C99's 7 kWh: no


def test_the_reader_table_keeps_the_clerks_and_the_systems_errors_apart(db) -> None:
    got = {(r["team"], r["reader"]): r for r in rows(
        db, "select * from marts.error_stats_reader_month where period = '2024-03'")}
    assert sorted(got) == [("(未指定)", "(未指定)"), ("A队", "(未指定)"), ("A队", "(核算员)"), ("A队", "张三"),
                           ("A队", "李四"), ("B队", "(采集系统)"), ("B队", "王五")]
    zhang, li, clerk = got[("A队", "张三")], got[("A队", "李四")], got[("A队", "(核算员)")]
    # 张三: F1 (C02 错抄 30), F4 (C01 漏抄 10), F8 (C02 估抄 3); F2 on his customer C03 is the clerk's
    def pick(row: dict, *columns: str) -> tuple:
        return tuple(row[c] for c in columns)

    assert pick(zhang, "customers_due", "customers_read", "meters_due", "kwh_due") == (10, 9, 11, 1000.0)
    assert pick(zhang, "customers_with_error", "total_customers", "meters_with_error", "kwh_error") == (2, 3, 3, 43.0)
    assert zhang["error_rate"] == pytest.approx(2 / 9) and zhang["data_prep_customers"] == 0
    # 李四: F7 (C12) and F9 (C16) 错抄; F3 on C11 is the clerk's
    assert (li["customers_due"], li["customers_read"], li["customers_unknown"]) == (6, 4, 1)
    assert (li["misread_customers"], li["misread_kwh"], li["error_rate"]) == (2, 12.0, pytest.approx(2 / 4))
    assert (clerk["party"], clerk["data_prep_customers"], clerk["multiplier_customers"], clerk["kwh_error"]) == (
        "CLERK", 1, 1, 65.0)
    assert (clerk["customers_due"], clerk["error_rate"], clerk["null_reason"]) == (None, None, "NOT_A_READER")
    system = got[("B队", "(采集系统)")]
    assert (system["party"], system["auto_collect_customers"], system["null_reason"]) == ("SYSTEM", 1, "NOT_A_READER")
    assert (got[("B队", "王五")]["customers_with_error"], got[("B队", "王五")]["error_rate"]) == (0, 0.0)


def test_no_findings_delivered_means_no_data_not_zero(db) -> None:
    april = rows(db, "select * from marts.error_stats_month where period = '2024-04' order by team")
    assert [r["team"] for r in april] == ["A队", "B队"]
    for r in april:
        assert r["findings_delivered"] is False and r["null_reason"] == "NO_FINDINGS"
        assert r["customers_due"] > 0                              # the volume is known ...
        for column in ("misread_customers", "misread_kwh", "total_customers", "customers_with_error",
                       "meters_with_error", "kwh_error", "error_rate", "error_rate_meter", "error_rate_kwh",
                       "errors_per_10k", "reader_customers", "clerk_customers"):
            assert r[column] is None, column                        # ... the errors are not
    readers = rows(db, "select null_reason, error_rate from marts.error_stats_reader_month where period = '2024-04'")
    assert readers and all(r == {"null_reason": "NO_FINDINGS", "error_rate": None} for r in readers)


def test_the_tables_have_the_seeds_shape_in_the_config_order(db) -> None:
    cfg = load_toml("errors.toml")
    codes = load_toml("codes.toml")["error_type"]
    assert [t["code"] for t in cfg["types"]] == list(codes)       # every error type of §5, in order
    for table in ("error_stats_month", "error_stats_reader_month", "error_stats_segment_month"):
        columns = [r[0] for r in db.execute(
            "select column_name from duckdb_columns() where schema_name = 'marts' and table_name = ? "
            "order by column_index", [table]).fetchall()]
        typed = [c for c in columns if c.removesuffix("_customers").upper() in codes
                 or c.removesuffix("_kwh").upper() in codes]
        assert typed == [f"{t['code'].lower()}_{unit}" for t in cfg["types"] for unit in ("customers", "kwh")], table
        assert columns.index("findings_delivered") < columns.index(typed[0]) < columns.index("total_customers")


def test_every_check_passes_and_a_broken_row_is_caught(warehouse: Path, tmp_path: Path) -> None:
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        for name in MARTS[2:]:
            checks = mart(name).checks
            assert checks, name
            for check in checks:
                for period in ("2024-03", "2024-04"):
                    assert check.violations(conn, period) == (0, []), (name, check.name, period)
    finally:
        conn.close()
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(warehouse.read_bytes())
    conn = duckdb.connect(str(broken))
    try:
        conn.execute("update marts.error_stats_reader_month set misread_kwh = misread_kwh + 1 "
                     "where period = '2024-03' and reader = '李四'")
        conn.execute("delete from marts.error_findings where period = '2024-03' and finding_no = 'F6'")
        by_name = {f"{m}.{c.name}": c for m in MARTS[2:] for c in mart(m).checks}
        n, found = by_name["error_stats_reader_month.types_sum_to_totals"].violations(conn, "2024-03")
        assert n == 1 and found[0][:3] == ("A队", "李四", "READER")
        n, found = by_name["error_stats_reader_month.rows_sum_to_team"].violations(conn, "2024-03")
        assert ("A队", "misread_kwh") in {r[:2] for r in found}
        assert by_name["error_findings.every_finding_once"].violations(conn, "2024-03")[1] == [("F6", None, True)]
    finally:
        conn.close()


def _sheet(path: Path) -> list[tuple]:
    return list(fastexcel.read_excel(str(path)).load_sheet(0, header_row=None).to_polars().iter_rows())


def test_the_export_writes_the_seeds_headers_with_reader_names_masked(warehouse: Path, data_home: Home,
                                                                      tmp_path: Path) -> None:
    from readq.cli import main

    data_home.warehouse.write_bytes(warehouse.read_bytes())
    out = tmp_path / "差错统计表.xlsx"
    assert main(["errors", "--period", "2024-03", "--by", "reader", "--out", str(out)]) == 0
    sheet = _sheet(out)
    assert sheet[0][0] == "抄表差错统计表（2024-03，按抄表员）"
    groups, headers = sheet[1], sheet[2]
    assert groups[:8] == ("抄表队", "抄表员", "错抄", None, "漏抄", None, "估抄", None)
    assert headers[2:6] == ("户数", "电量(kWh)", "户数", "电量(kWh)")
    i = groups.index("差错率（按户）")
    assert headers[i:i + 5] == ("应抄户数", "实抄户数", "差错户数", "差错率", "每万户差错户数")
    body = {(r[0], r[1]): r for r in sheet[3:10]}
    assert set(body) == {("(未指定)", "(未指定)"), ("A队", "(未指定)"), ("A队", "(核算员)"), ("A队", "张***"),
                         ("A队", "李***"), ("B队", "(采集系统)"), ("B队", "王***")}
    zhang = body[("A队", "张***")]
    assert [float(zhang[k]) for k in (i, i + 1, i + 2)] == [10, 9, 2]    # 应抄户数, 实抄户数, 差错户数
    assert float(zhang[i + 3]) == pytest.approx(2 / 9)
    assert body[("A队", "(核算员)")][-1] == load_toml("errors.toml")["reasons"]["NOT_A_READER"]["zh"]
    assert sheet[10][0] == "合计" and float(sheet[10][groups.index("合计")]) == 7 + 1   # A队 7 + B队 1 户
    assert not any("张三" in str(cell) for row in sheet for cell in row)

    plain = tmp_path / "plain.xlsx"
    assert main(["errors", "--period", "2024-03", "--by", "reader", "--out", str(plain), "--unmasked"]) == 0
    assert ("A队", "张三") in {(r[0], r[1]) for r in _sheet(plain)[3:10]}


def test_the_export_of_a_month_without_findings_leaves_the_cells_empty(warehouse: Path, data_home: Home,
                                                                      tmp_path: Path) -> None:
    from readq.cli import main

    data_home.warehouse.write_bytes(warehouse.read_bytes())
    assert main(["errors", "--period", "2024-04"]) == 0
    sheet = _sheet(data_home.reports / "差错统计表_2024-04_team.xlsx")
    groups = sheet[1]
    a = sheet[3]
    assert a[0] == "A队" and a[groups.index("合计")] is None and a[groups.index("差错率（按户）") + 1] is not None
    assert a[-1] == load_toml("errors.toml")["reasons"]["NO_FINDINGS"]["zh"]
    assert main(["errors", "--period", "2023-01"]) == 64         # a month not built: said, not an empty file
    assert main(["errors", "--period", "2024-13"]) == 64


def test_counts_of_findings_are_counts_and_energies_are_kwh_in_the_export() -> None:
    from pipelines.reports.error_table import layout

    for by in ("team", "reader", "segment"):
        formats = {c.name: c.format for c in layout(by, "zh")}
        assert {formats[k] for k in ("findings", "findings_out_of_scope", "findings_without_kwh")} == {"count"}
        assert formats["kwh_due"] == "kwh" and formats["error_rate_kwh"] == "percent"


def test_a_row_with_meters_due_but_nothing_read_says_why_its_rates_are_null(tmp_path: Path) -> None:
    """C队 read none of its two customers (both 未抄, 0 kWh): its per-customer and per-kWh rates have no
    denominator and say so (NO_READS), while D队, read but with no kWh due, says NO_KWH."""
    conn = connect(tmp_path / "warehouse.duckdb")
    try:
        ingest_path(conn, write(tmp_path / "抄表明细_2024-03.csv", READINGS_HEADER, [
            "2024-03,C队,S7,赵六,C71,M71,100,100,0,未抄",
            "2024-03,C队,S7,赵六,C72,M72,100,100,0,未抄",
            "2024-03,D队,S8,钱七,C81,M81,100,100,0,已抄",
        ]))
        ingest_path(conn, write(tmp_path / "复核差错记录_2024-03.csv", FINDINGS_HEADER,
                                ["F71,2024-03,C队,S7,C71,M71,漏抄,,复核,"]))
        conn.execute("begin")
        for name in MARTS:
            replace_month(conn, name, "2024-03")
        conn.execute("commit")
        got = {r["team"]: r for r in rows(conn, "select team, meters_due, customers_read, customers_with_error, "
                                                "error_rate, error_rate_meter, error_rate_kwh, null_reason "
                                                "from marts.error_stats_month where period = '2024-03'")}
    finally:
        conn.close()
    c, d = got["C队"], got["D队"]
    assert (c["meters_due"], c["customers_read"], c["customers_with_error"]) == (2, 0, 1)
    assert c["error_rate"] is None and c["error_rate_kwh"] is None and c["error_rate_meter"] == 0.5
    assert c["null_reason"] == "NO_READS"
    assert d["error_rate"] == 0 and d["error_rate_kwh"] is None and d["null_reason"] == "NO_KWH"
    assert {"NO_READS", "NO_KWH"} <= set(load_toml("errors.toml")["reasons"])
