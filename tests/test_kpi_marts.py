"""The KPI marts (marts.meters_due, marts.kpi_levels_month and its four levels) on hand-built months:
small exports go through the real ingest (so quarantined rows sit in quarantine.rows and raw.readings
as they would) and the real mart SQL, month by month, on a temporary DuckDB; the numbers are checked
against a hand count."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from checks.kpis import LEVELS, SUFFIXES, kpis, null_reason
from pipelines.ingest.deliver import ingest_path
from readq.config import load_toml
from warehouse.connection import connect
from warehouse.marts import mart, marts, replace_month

KPI_MARTS = {"meter_readings", "meters_due", "error_findings", "workflow_reports", "kpi_levels_month",
             "kpi_reader_month", "kpi_segment_month", "kpi_team_month", "kpi_centre_month"}
READINGS = ["period", "team", "segment_no", "plan_day", "reader", "customer_no", "meter_no", "read_type",
            "last_read", "this_read", "kwh", "read_status", "read_mode", "read_date", "upload_time"]


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    conn = connect(tmp_path / "warehouse.duckdb")
    yield conn, tmp_path
    conn.close()


def deliver(wh: tuple[duckdb.DuckDBPyConnection, Path], name: str, header: list[str], rows: list[list[object]],
            period: str | None = None) -> None:
    conn, folder = wh
    text = "\n".join(",".join("" if v is None else str(v) for v in r) for r in [header, *rows]) + "\n"
    path = folder / name
    path.write_text(text, encoding="utf-8")
    for res in ingest_path(conn, path, period=period):
        assert res.status != "rejected", res.message


def reading(period: str, team: str, segment: str, reader: str, customer: str, meter: str, *, kwh: float = 10,
            status: str = "已抄", mode: str = "抄表机", read_date: str | None = None, plan_day: int | None = None,
            read_type: str | None = "有功(总)", upload: str | None = None, last: object = 100) -> list[object]:
    this = 100 + kwh if isinstance(last, int | float) else 110
    return [period, team, segment, plan_day, reader, customer, meter, read_type, last, this, kwh, status, mode,
            read_date or f"{period}-05", upload]


def build(conn: duckdb.DuckDBPyConnection, *periods: str) -> None:
    for period in periods:
        for m in marts():
            if m.name in KPI_MARTS:
                conn.execute("begin")
                replace_month(conn, m.name, period)
                conn.execute("commit")


def row(conn: duckdb.DuckDBPyConnection, table: str, period: str, **key: str) -> dict:
    where = " and ".join([f"{k} = ?" for k in key]) or "true"
    found = conn.sql(f"select * from marts.{table} where period = ? and {where}",
                     params=[period, *key.values()]).pl().to_dicts()
    assert len(found) == 1, (table, key, found)
    return found[0]


def test_a_quarantined_customer_is_due_and_shown_as_unknown(wh) -> None:
    conn, _ = wh
    deliver(wh, "readings_2024-03_east.csv", READINGS, [
        reading("2024-03", "城东", "S1", "张三", "C1", "M1"),
        reading("2024-03", "城东", "S1", "张三", "C2", "M2", last="abc"),        # quarantined: not a number
        reading("2024-03", "城东", "S1", "张三", "Ｃ３", "M3", status="估读?"),   # quarantined: unknown status
    ])
    build(conn, "2024-03")
    due = conn.sql("select customer_no, meter_no, team, reader, segment_no, read_status, in_quarantine "
                   "from marts.meters_due order by meter_key").fetchall()
    # the raw values are read back as the ingest reads them (Ｃ３ is C3), attributed like a loaded row
    assert due == [("C1", "M1", "城东", "张三", "S1", "READ", False),
                   ("C2", "M2", "城东", "张三", "S1", "UNKNOWN", True),
                   ("C3", "M3", "城东", "张三", "S1", "UNKNOWN", True)]
    team = row(conn, "kpi_team_month", "2024-03", team="城东")
    assert (team["customers_due"], team["customers_quarantined"], team["customers_read"],
            team["meters_due"], team["meters_quarantined"]) == (3, 2, 1, 3, 2)
    assert team["actual_read_rate"] == pytest.approx(1 / 3)     # unknown stays in 应抄, never in 实抄
    assert team["kwh_due"] == pytest.approx(10)                 # a quarantined row's kWh is not counted
    reader = row(conn, "kpi_reader_month", "2024-03", team="城东", reader="张三")
    assert reader["customers_quarantined"] == 2


def test_a_corrected_export_of_the_segment_clears_its_quarantined_rows(wh) -> None:
    conn, _ = wh
    deliver(wh, "readings_2024-03_a.csv", READINGS, [
        reading("2024-03", "城东", "S1", "张三", "C1", "M1"),
        reading("2024-03", "城东", "S1", "张三", "C2", "M2", last="abc"),
    ])
    deliver(wh, "readings_2024-03_b.csv", READINGS, [
        reading("2024-03", "城东", "S1", "张三", "C1", "M1"),
        reading("2024-03", "城东", "S1", "张三", "C2", "M2"),
    ])
    build(conn, "2024-03")
    team = row(conn, "kpi_team_month", "2024-03", team="城东")
    assert (team["customers_due"], team["customers_quarantined"], team["customers_read"]) == (2, 0, 2)


def test_a_customer_counts_once_in_hu_and_per_meter_in_zhi(wh) -> None:
    conn, _ = wh
    deliver(wh, "readings_2024-03.csv", READINGS, [
        reading("2024-03", "城东", "S1", "张三", "C1", "M1a", kwh=10),
        reading("2024-03", "城东", "S1", "张三", "C1", "M1a", kwh=4, read_type="有功(峰)"),   # not the total
        reading("2024-03", "城东", "S1", "张三", "C1", "M1b", kwh=0, status="未抄"),
        reading("2024-03", "城东", "S1", "张三", "C2", "M2", kwh=20),
    ])
    deliver(wh, "findings_2024-03.csv", ["finding_no", "period", "customer_no", "meter_no", "error_type",
                                         "kwh_impact"], [["F1", "2024-03", "C2", None, "错抄", "-5"]])
    build(conn, "2024-03")
    team = row(conn, "kpi_team_month", "2024-03", team="城东")
    assert (team["customers_due"], team["customers_read"], team["customers_missed"]) == (2, 1, 1)
    assert team["meters_due"] == 3
    assert team["kwh_due"] == pytest.approx(10 + 0 + 20)       # total-active register only, not 10 + 4
    assert (team["customers_with_error"], team["meters_with_error"], team["kwh_error"]) == (1, 1, 5)
    assert team["error_rate"] == pytest.approx(1 / 1)            # 差错户数 / 实抄户数
    assert team["error_rate_meter"] == pytest.approx(1 / 3)      # 差错只数 / 应抄只数
    assert team["error_rate_kwh"] == pytest.approx(5 / 30)
    assert team["errors_per_10k"] == pytest.approx(10000.0)


def test_month_over_month_and_year_over_year(wh) -> None:
    conn, _ = wh
    # 实抄率: 2023-03 1/2, 2024-02 3/4, 2024-03 4/4
    months = {"2023-03": ["已抄", "未抄", None, None], "2024-02": ["已抄", "已抄", "已抄", "未抄"],
              "2024-03": ["已抄", "已抄", "已抄", "已抄"]}
    for period, statuses in months.items():
        deliver(wh, f"readings_{period}.csv", READINGS,
                [reading(period, "城东", "S1", "张三", f"C{i}", f"M{i}", status=s)
                 for i, s in enumerate(statuses) if s is not None])
    build(conn, "2023-03", "2024-02", "2024-03")
    team = row(conn, "kpi_team_month", "2024-03", team="城东")
    assert team["actual_read_rate"] == pytest.approx(1.0)
    assert team["actual_read_rate_mom"] == pytest.approx(1.0 - 0.75)
    assert team["actual_read_rate_yoy"] == pytest.approx(1.0 - 0.5)
    assert team["missed_rate_mom"] == pytest.approx(0.0 - 0.25)
    centre = row(conn, "kpi_centre_month", "2024-03")
    assert centre["actual_read_rate_yoy"] == pytest.approx(0.5)
    # no month before 2023-03: nothing to compare with, null (not 0)
    first = row(conn, "kpi_team_month", "2023-03", team="城东")
    assert first["actual_read_rate_mom"] is None and first["actual_read_rate_yoy"] is None
    # the history header makes the month stale when an earlier month it compares with changes
    assert mart("kpi_levels_month").history_months == 12


def test_kpis_whose_input_never_arrived_are_null_with_the_reason(wh) -> None:
    conn, _ = wh
    deliver(wh, "readings_2024-03.csv", READINGS, [reading("2024-03", "城东", "S1", "张三", "C1", "M1")])
    build(conn, "2024-03")
    team = row(conn, "kpi_team_month", "2024-03", team="城东")
    for kpi in ("error_rate", "error_rate_meter", "error_rate_kwh", "errors_per_10k"):
        assert team[kpi] is None and team[f"{kpi}_null_reason"] == "NO_FINDINGS"
        assert team[f"{kpi}_met"] is None
    assert team["customers_with_error"] is None and team["meters_with_error"] is None
    for kpi in ("anomaly_report_rate", "defect_closure_rate"):
        assert team[kpi] is None and team[f"{kpi}_null_reason"] == "NO_FIELD_ANOMALIES"
    assert team["reports"] is None
    assert team["new_change_review_rate_null_reason"] == "NO_MASTER"
    assert team["zero_check_rate_hv_null_reason"] == "NO_CHECK_DATA"
    assert team["upload_timely_rate_null_reason"] == "NO_UPLOAD_TIMES"
    assert team["actual_read_rate"] == 1.0 and team["actual_read_rate_null_reason"] is None
    assert null_reason("NO_FINDINGS", "en") == "no review findings delivered for the month"


def test_findings_delivered_for_other_customers_give_zero_not_null(wh) -> None:
    conn, _ = wh
    deliver(wh, "readings_2024-03.csv", READINGS, [reading("2024-03", "城东", "S1", "张三", "C1", "M1"),
                                                   reading("2024-03", "城西", "S2", "李四", "C2", "M2")])
    deliver(wh, "findings_2024-03.csv", ["finding_no", "period", "customer_no", "error_type"],
            [["F1", "2024-03", "C2", "错抄"]])
    build(conn, "2024-03")
    east = row(conn, "kpi_team_month", "2024-03", team="城东")
    assert east["customers_with_error"] == 0 and east["error_rate"] == 0.0
    assert east["error_rate_null_reason"] is None and east["error_rate_met"] is True


def test_on_time_is_strictly_within_the_limit_of_the_plan_day(wh) -> None:
    conn, _ = wh
    limit = load_toml("targets.toml")["on_time_rate"]["max_days_off"]
    assert limit == 2
    deliver(wh, "readings_2024-03.csv", READINGS, [
        reading("2024-03", "城东", "S1", "张三", "C1", "M1", plan_day=10, read_date="2024-03-11",
                upload="2024-03-11 18:00:00"),
        reading("2024-03", "城东", "S1", "张三", "C2", "M2", plan_day=10, read_date="2024-03-12",   # exactly 2 days
                upload="2024-03-13 08:00:00"),
        reading("2024-03", "城东", "S1", "张三", "C3", "M3", plan_day=10, read_date="2024-03-08"),  # 2 days early
        reading("2024-03", "城东", "S1", "张三", "C4", "M4", plan_day=10, read_date="2024-03-09"),
        # a date on the 例日, but not read: in the denominator, never on time
        reading("2024-03", "城东", "S1", "张三", "C5", "M5", plan_day=10, read_date="2024-03-10", status="未抄"),
    ])
    build(conn, "2024-03")
    due = dict(conn.sql("select customer_no, on_time from marts.meters_due").fetchall())
    assert due == {"C1": True, "C2": False, "C3": False, "C4": True, "C5": True}
    team = row(conn, "kpi_team_month", "2024-03", team="城东")
    assert (team["customers_on_time"], team["customers_due"]) == (2, 5)
    assert team["on_time_rate"] == pytest.approx(2 / 5) and team["on_time_rate_met"] is False
    # uploads: the same day is timely, the next day is not; readings without an upload time are unknown
    assert (team["customers_upload_timely"], team["customers_upload_known"]) == (1, 2)
    assert team["upload_timely_rate"] == pytest.approx(0.5)


def test_closed_and_suspended_customers_are_not_due(wh) -> None:
    conn, _ = wh
    deliver(wh, "readings_2024-03.csv", READINGS, [
        reading("2024-03", "城东", "S1", "张三", c, f"M{c}", status="未抄" if c != "C1" else "已抄")
        for c in ("C1", "C2", "C3", "C4")])
    deliver(wh, "customers_2024-03.csv",
            ["period", "customer_no", "customer_class", "customer_status", "segment_no", "meter_no"],
            [["2024-03", c, "低压居民", status, "S1", f"M{c}"]
             for c, status in (("C1", "正常"), ("C2", "已销户"), ("C3", "暂停"), ("C4", "当前新装"))])
    build(conn, "2024-03")
    assert sorted(r[0] for r in conn.sql("select customer_no from marts.meters_due").fetchall()) == ["C1", "C4"]
    team = row(conn, "kpi_team_month", "2024-03", team="城东")
    assert (team["customers_due"], team["customers_read"], team["customers_missed"]) == (2, 1, 1)
    # the month's new customer is counted for 新装复核; whether it was verified no export says
    assert team["customers_new_changed"] == 1 and team["customers_verified"] is None
    assert team["new_change_review_rate"] is None
    assert team["new_change_review_rate_null_reason"] == "NO_VERIFICATION_DATA"


def test_anomaly_reporting_and_defect_closure_limits(wh) -> None:
    conn, _ = wh
    deliver(wh, "readings_2024-03.csv", READINGS, [reading("2024-03", "城东", "S1", "张三", "C1", "M1")])
    header = ["report_no", "period", "team", "customer_no", "customer_class", "anomaly_type", "reporter",
              "found_at", "reported_at", "closed_at"]
    deliver(wh, "anomalies_2024-03.csv", header, [
        # theft within 24 h: in time; violation after 25 h: late
        ["A1", "2024-03", "城东", "C1", "低压居民", "窃电", "张三", "2024-03-04 10:00:00", "2024-03-05 09:00:00", None],
        ["A2", "2024-03", "城东", "C1", "低压居民", "违约用电", "张三", "2024-03-04 10:00:00", "2024-03-05 11:00:00",
         None],
        # a fault the same day (in time, closed Mon after a Thu report: Fri, Mon = 2 working days, LV limit 3)
        ["A3", "2024-03", "城东", "C1", "低压居民", "计量装置故障", "张三", "2024-03-07 08:00:00",
         "2024-03-07 17:00:00", "2024-03-11 10:00:00"],
        # a defect reported the next day (late), HV: closed after 2 working days (limit 1): late
        ["A4", "2024-03", "城东", "C1", "高压", "封印缺失", "张三", "2024-03-11 08:00:00", "2024-03-12 08:00:00",
         "2024-03-14 08:00:00"],
        # still open at the export's cut-off (2024-03-14), reported Wed 13th, LV: 1 working day so far: pending
        ["A5", "2024-03", "城东", "C1", "低压居民", "表箱破损", "张三", "2024-03-13 08:00:00", "2024-03-13 09:00:00",
         None],
    ])
    build(conn, "2024-03")
    team = row(conn, "kpi_team_month", "2024-03", team="城东")
    assert (team["reports_in_time"], team["reports"]) == (3, 5)
    assert team["anomaly_report_rate"] == pytest.approx(3 / 5)
    assert (team["defects_closed_in_time"], team["defects_due"], team["defects_pending"]) == (1, 2, 1)
    assert team["defect_closure_rate"] == pytest.approx(0.5)
    reader = row(conn, "kpi_reader_month", "2024-03", team="城东", reader="张三")
    assert reader["reports"] == 5


def _two_teams(wh) -> None:
    deliver(wh, "readings_2024-03.csv", READINGS, [
        reading("2024-03", "城东", "S1", "张三", "C1", "M1"),
        reading("2024-03", "城东", "S1", "张三", "C2", "M2", status="估抄"),
        reading("2024-03", "城东", "S2", "王五", "C3", "M3", mode="远程"),
        reading("2024-03", "城东", "S2", "王五", "C3", "M3b", status="未抄"),
        reading("2024-03", "城西", "S3", "李四", "C4", "M4"),
        reading("2024-03", "城西", "S3", "李四", "C5", "M5", last="x"),
    ])
    deliver(wh, "findings_2024-03.csv", ["finding_no", "period", "customer_no", "meter_no", "error_type",
                                         "kwh_impact", "responsible_role"],
            [["F1", "2024-03", "C1", "M1", "错抄", "7", "抄表员"],
             ["F2", "2024-03", "C4", "M4", "数据准备差错", "3", "核算员"]])


def test_levels_add_up_and_the_checks_pass(wh) -> None:
    conn, _ = wh
    _two_teams(wh)
    build(conn, "2024-03")
    centre = row(conn, "kpi_centre_month", "2024-03")
    teams = conn.sql("select * from marts.kpi_team_month where period = '2024-03'").pl()
    readers = conn.sql("select * from marts.kpi_reader_month where period = '2024-03'").pl()
    segments = conn.sql("select * from marts.kpi_segment_month where period = '2024-03'").pl()
    for col in ("customers_due", "customers_read", "customers_quarantined", "meters_due", "kwh_due"):
        assert teams[col].sum() == centre[col] == readers[col].sum() == segments[col].sum()
    assert (centre["customers_due"], centre["customers_quarantined"], centre["meters_due"]) == (5, 1, 6)
    assert (centre["customers_with_error"], centre["kwh_error"]) == (2, 10)
    west = row(conn, "kpi_team_month", "2024-03", team="城西")
    assert west["customers_with_error"] == 1                    # the clerk's error counts for the team ...
    li = row(conn, "kpi_reader_month", "2024-03", team="城西", reader="李四")
    assert li["customers_with_error"] == 0 and li["error_rate"] == 0.0   # ... not against the reader
    for name in ("meters_due", "kpi_levels_month"):
        for check in mart(name).checks:
            assert check.violations(conn, "2024-03") == (0, []), (name, check.name)


def test_the_level_check_finds_a_team_that_does_not_add_up(wh) -> None:
    conn, _ = wh
    _two_teams(wh)
    build(conn, "2024-03")
    conn.execute("update marts.kpi_levels_month set customers_due = customers_due + 1 "
                 "where level = 'reader' and reader = '张三'")
    check = next(c for c in mart("kpi_levels_month").checks if c.name == "levels_add_up")
    broken, rows = check.violations(conn, "2024-03")
    assert broken == 1 and rows[0][:3] == ("reader", "城东", "customers_due")


def test_a_unit_counted_twice_fails_its_check(wh) -> None:
    conn, _ = wh
    _two_teams(wh)
    build(conn, "2024-03")
    check = next(c for c in mart("kpi_levels_month").checks if c.name == "key_not_null_and_unique")
    assert check.violations(conn, "2024-03")[0] == 0
    conn.execute("insert into marts.kpi_levels_month select * from marts.kpi_levels_month "
                 "where period = '2024-03' and level = 'team' and team = '城东'")
    broken, rows = check.violations(conn, "2024-03")
    assert broken == 1 and rows[0][:2] == ("team", "城东")
    team_key = next(c for c in mart("kpi_team_month").checks if c.name == "key_not_null_and_unique")
    assert team_key.violations(conn, "2024-03")[0] == 0
    conn.execute("update marts.kpi_team_month set team = null where period = '2024-03' and team = '城西'")
    assert team_key.violations(conn, "2024-03")[1] == [(None, 1)]         # a null key is as wrong as a double


def test_customers_due_are_every_customer_of_the_readings_quarantined_included(wh) -> None:
    conn, _ = wh
    deliver(wh, "readings_2024-03_east.csv", READINGS, [
        reading("2024-03", "城东", "S1", "张三", "C1", "M1"),
        reading("2024-03", "城东", "S1", "张三", "C2", "M2", last="abc"),        # quarantined
        reading("2024-03", "城东", "S1", "张三", "Ｃ３", "M3", status="估读?"),   # quarantined
    ])
    build(conn, "2024-03")
    check = next(c for c in mart("kpi_levels_month").checks if c.name == "customers_due_are_the_readings_customers")
    assert check.violations(conn, "2024-03") == (0, [])
    conn.execute("delete from marts.meters_due where period = '2024-03' and customer_no = 'C3'")
    assert check.violations(conn, "2024-03") == (1, [("C3", None, None)])  # dropped without a master status
    conn.execute("update marts.kpi_levels_month set customers_due = 2 where period = '2024-03' and level = 'centre'")
    assert check.violations(conn, "2024-03")[1][1] == ("centre customers_due", 2, 3)


def test_the_catalogue_names_columns_of_every_level(wh) -> None:
    conn, _ = wh
    for level in LEVELS:
        columns = {r[0] for r in conn.execute(f"describe marts.kpi_{level}_month").fetchall()}
        for k in kpis():
            assert {k.numerator, k.denominator, k.column()} | {k.column(s) for s in SUFFIXES} <= columns, (level, k.id)
            assert k.direction in ("higher", "lower")
            if k.unavailable:
                assert null_reason(k.unavailable) != k.unavailable
