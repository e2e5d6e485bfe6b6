"""The landing sensor requests one run per new file version, for the right month, and only once."""

import json
import os

import dagster as dg

from pipelines.defs.ingest.sensors import landing_sensor
from pipelines.defs.resources import ReadqHome
from readq.config import Home

HEADER = "电费年月,抄表班组,抄表段编号,抄表员,用户编号,电能表编号,上次示数,本次示数,抄表状态\n"


def evaluate(h: Home, cursor: str | None = None) -> dg.SensorResult:
    with dg.instance_for_test() as instance:
        ctx = dg.build_sensor_context(instance=instance, cursor=cursor,
                                      resources={"readq_home": ReadqHome(root=str(h.root))})
        return landing_sensor(ctx)


def test_sensor_requests_each_file_once_and_keeps_the_whole_seen_map(data_home: Home) -> None:
    (data_home.landing / "抄表明细_2024-03_城东.csv").write_text(HEADER + "2024-03,城东,S1,张三,C1,M1,1,2,已抄\n")
    (data_home.landing / "readings_202404.csv").write_text(HEADER + "2024-04,城东,S1,张三,C1,M1,2,3,已抄\n")
    (data_home.landing / "no_month.csv").write_text("用户编号,电能表编号,抄表员,本次示数\nC1,M1,张三,3\n")
    first = evaluate(data_home)
    assert sorted(r.partition_key for r in first.run_requests) == ["2024-03-01", "2024-04-01"]
    assert all(":" in r.run_key for r in first.run_requests)

    again = evaluate(data_home, first.cursor)
    assert again.run_requests == []

    # a new version of one file (new mtime) is requested again; the others are remembered
    path = data_home.landing / "抄表明细_2024-03_城东.csv"
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 60))
    third = evaluate(data_home, again.cursor)
    assert [r.partition_key for r in third.run_requests] == ["2024-03-01"]
    assert len(json.loads(third.cursor)) == 3


def test_a_file_goes_to_the_month_its_rows_state(data_home: Home) -> None:
    """As the ingest decides: the 电费年月 column first (a file named for March holding April's
    readings is April's), the file name only when no column tells, never a guess."""
    from pipelines.ingest.landing import files_for_period, period_of_file

    mislabelled = data_home.landing / "抄表明细_2024-03_城东.csv"
    mislabelled.write_text(HEADER + "".join(f"2024-04,城东,S1,张三,C{i},M{i},1,2,已抄\n" for i in range(5)))
    by_date = data_home.landing / "抄表明细_城西.csv"
    by_date.write_text("抄表日期,抄表班组,抄表段编号,抄表员,用户编号,电能表编号,上次示数,本次示数,抄表状态\n"
                       "2024/5/6,城西,S2,李四,C9,M9,1,2,已抄\n", encoding="gbk")
    named_only = data_home.landing / "抄表明细_2024-06_城南.csv"
    named_only.write_text("用户编号,电能表编号,抄表员,本次示数,上次示数,抄表段编号,抄表状态\nC1,M1,张三,3,1,S1,已抄\n")
    unknown = data_home.landing / "抄表明细_城北.csv"
    unknown.write_text("用户编号,电能表编号,抄表员,本次示数,上次示数,抄表段编号,抄表状态\nC1,M1,张三,3,1,S1,已抄\n")
    assert [period_of_file(p) for p in (mislabelled, by_date, named_only, unknown)] == [
        "2024-04", "2024-05", "2024-06", None]
    assert files_for_period(data_home.landing, "2024-04") == [mislabelled]


def test_a_workbook_goes_to_the_month_its_first_rows_state(data_home: Home) -> None:
    import xlsxwriter

    from pipelines.ingest.landing import period_of_file

    path = data_home.landing / "抄表明细_城西.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("抄表明细")
    sheet.write_row(0, 0, ["城西抄表队 2024年7月抄表明细"])  # a title row above the header
    sheet.write_row(1, 0, HEADER.strip().split(","))
    for i in range(300):  # more rows than the peek reads
        sheet.write_row(2 + i, 0, ["2024-07", "城西", "S2", "李四", f"C{i}", f"M{i}", "1", "2", "已抄"])
    book.close()
    assert period_of_file(path) == "2024-07"
