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
