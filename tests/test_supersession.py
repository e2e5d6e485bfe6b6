"""A month delivered as many files is held whole; a corrected re-export replaces exactly what it
covers (supersession by grain: the segment 抄表段 for readings); within a delivery the key is unique."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.ingest.deliver import ingest_path
from tests.sg186 import Meter, meters, segment_no, write_segment


def ingest(con: duckdb.DuckDBPyConnection, path: Path, period: str = "2019-10"):
    [res] = ingest_path(con, path, period=period)
    return res


def core_by_segment(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(con.execute("select segment_no, count(*) from core.readings group by 1 order by 1").fetchall())


def statuses(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("select file_name, status from ops.deliveries").fetchall())


def test_a_month_as_one_file_per_segment_is_held_whole(con, tmp_path) -> None:
    sizes = {"070": 26, "283": 20, "322": 27, "478": 5}
    for code, n in sizes.items():
        res = ingest(con, write_segment(tmp_path, code, meters(code, n)))
        assert (res.status, res.rows_loaded, res.supersedes) == ("loaded", n, [])
    assert core_by_segment(con) == {segment_no(code): n for code, n in sizes.items()}
    assert set(statuses(con).values()) == {"loaded"}
    grains = con.execute("select d.file_name, g.grain_value, g.rows_loaded, g.superseded_by from ops.delivery_grains g "
                         "join ops.deliveries d using (delivery_id) order by 1").fetchall()
    assert grains == [(f"{code}.xls", segment_no(code), n, None) for code, n in sizes.items()]
    assert con.execute("select distinct scope from ops.deliveries where file_name = '070.xls'").fetchall() == [
        (f"抄表段编号 {segment_no('070')}",)]


def test_a_corrected_reexport_replaces_its_segment_wholly_including_rows_it_drops(con, tmp_path) -> None:
    first = ingest(con, write_segment(tmp_path / "v1", "070", meters("070", 10)))
    ingest(con, write_segment(tmp_path / "v1", "283", meters("283", 8)))
    corrected = meters("070", 9)                              # the last meter dropped ...
    corrected[0] = Meter(corrected[0].customer, corrected[0].meter, 100.0, 175.0)  # ... and one register fixed
    second = ingest(con, write_segment(tmp_path / "v2", "070", corrected))
    assert (second.status, second.supersedes) == ("loaded", [first.delivery_id])
    assert second.replaced == [{"delivery_id": first.delivery_id, "file_name": "070.xls",
                                "values": [segment_no("070")], "status": "superseded",
                                "keys_before": 10, "keys_shared": 9}]
    assert second.warnings == []                              # 90 % of the keys shared: plausibly a correction
    assert core_by_segment(con) == {segment_no("070"): 9, segment_no("283"): 8}
    fixed = meters("070", 1)[0].meter
    assert con.execute("select this_read from core.readings where meter_no = ?", [fixed]).fetchall() == [(175.0,)]
    assert con.execute("select status, superseded_by from ops.deliveries where delivery_id = ?",
                       [first.delivery_id]).fetchall() == [("superseded", second.delivery_id)]
    assert con.execute("select count(*) from raw.readings").fetchall() == [(10 + 8 + 9,)]  # history stays in raw


def test_partial_overlap_replaces_only_the_segments_both_hold(con, tmp_path) -> None:
    two = tmp_path / "two.csv"
    lines = ["抄表段编号,抄表员,用户编号,电能表编号,上次示数,本次示数,抄表状态"]
    lines += [f"S070,张三,C{i},M{i},1,2,已抄" for i in range(3)]
    lines += [f"S283,李四,C{i},M{i},1,2,已抄" for i in range(3, 6)]
    two.write_text("\n".join(lines) + "\n", encoding="utf-8")
    a = ingest(con, two)
    one = tmp_path / "one.csv"
    one.write_text(lines[0] + "\n" + "\n".join(f"S283,李四,C{i},M{i},1,3,已抄" for i in range(3, 6)) + "\n",
                   encoding="utf-8")
    b = ingest(con, one)
    assert b.replaced[0]["values"] == ["S283"] and b.replaced[0]["status"] == "partly superseded"
    assert statuses(con) == {"two.csv": "partly superseded", "one.csv": "loaded"}
    assert con.execute("select grain_value, superseded_by from ops.delivery_grains where delivery_id = ? order by 1",
                       [a.delivery_id]).fetchall() == [("S070", None), ("S283", b.delivery_id)]
    assert con.execute("select segment_no, delivery_id, count(*) from core.readings group by 1, 2 order by 1"
                       ).fetchall() == [("S070", a.delivery_id, 3), ("S283", b.delivery_id, 3)]
    assert "replaces 抄表段编号 S283 of two.csv" in b.message and "now partly superseded" in b.message


def test_a_replacement_sharing_few_keys_loads_with_a_warning(con, tmp_path) -> None:
    ingest(con, write_segment(tmp_path / "v1", "070", meters("070", 10)))
    other = ingest(con, write_segment(tmp_path / "v2", "070", meters("070", 10, start=100)))
    assert other.status == "loaded"
    [warning] = other.warnings
    assert "shares only 0 of the 10 keys (电能表编号, 示数类型) of 070.xls" in warning


def test_quarantined_rows_of_a_replaced_segment_are_marked_not_lost(con, tmp_path) -> None:
    bad = meters("070", 5)
    bad[2] = Meter(bad[2].customer, bad[2].meter, -5.0, 10.0)          # a negative register: quarantined
    first = ingest(con, write_segment(tmp_path / "v1", "070", bad))
    assert first.rows_quarantined == 1
    second = ingest(con, write_segment(tmp_path / "v2", "070", meters("070", 5)))
    assert con.execute("select delivery_id, grain_value, superseded_by from quarantine.rows").fetchall() == [
        (first.delivery_id, segment_no("070"), second.delivery_id)]


def test_within_a_delivery_a_key_repeated_with_other_values_is_quarantined(con, tmp_path) -> None:
    path = tmp_path / "抄表明细_2019-10.csv"
    header = "抄表段编号,用户编号,电能表编号,示数类型,上次示数,本次示数,抄表状态"
    path.write_text("\n".join([header,
                               "S1,C1,M1,有功（总）,100,150,已抄",
                               "S1,C2,M2,有功（总）,10,20,已抄",
                               "S1,C2,M2,有功（总）,10,25,已抄",     # the same meter, another reading
                               "S1,C3,M3,有功（总）,1,2,已抄",
                               "S1,C3,M3,有功（总）,1,2.0,已抄",     # the same values, spelt otherwise
                               "S1,C1,M1,无功,5,6,已抄"]) + "\n", encoding="utf-8")  # another register: its own key
    res = ingest(con, path)
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined, res.rows_skipped) == (5, 3, 2, 1)
    said = "key (电能表编号, 示数类型) = (M2, 有功(总)) is repeated on lines 3, 4 with different values"
    assert con.execute("select source_row, check_name, message from quarantine.rows order by 1").fetchall() == [
        (3, "duplicate_key", said), (4, "duplicate_key", said)]
    assert con.execute("select source_row, reason from ops.skipped_rows").fetchall() == [
        (6, "repeat of line 5 (same values)")]
    assert con.execute("select meter_no, count(*) from core.readings group by 1 order by 1").fetchall() == [
        ("M1", 2), ("M3", 1)]


def test_a_meter_also_in_another_segments_file_is_said(con, tmp_path) -> None:
    ingest(con, write_segment(tmp_path, "070", meters("070", 3)))
    moved = [*meters("283", 2), meters("070", 1)[0]]                   # a meter listed under both segments
    res = ingest(con, write_segment(tmp_path, "283", moved))
    assert res.warnings == ["1 keys (电能表编号, 示数类型) of this file are also in 070.xls, in force for the same "
                            "month: the marts count each once (from the latest delivery)"]


@pytest.mark.parametrize("text", ["1999-12", "2100-01"])
def test_an_explicit_period_outside_the_accepted_months_is_rejected(con, tmp_path, text) -> None:
    res = ingest(con, write_segment(tmp_path, "070", meters("070", 2)), period=text)
    assert res.status == "rejected"
    assert f"the billing month {text} (given with --period) is outside the months this warehouse accepts" in res.message
    assert con.execute("select count(*) from core.readings").fetchall() == [(0,)]


def test_a_period_taken_from_dates_is_judged_the_same_way(con, tmp_path) -> None:
    path = tmp_path / "抄表明细.csv"
    path.write_text("抄表段编号,用户编号,电能表编号,上次示数,本次示数,抄表状态,抄表日期\n"
                    "S1,C1,M1,1,2,已抄,9999-12-31\nS1,C2,M2,1,2,已抄,9999-12-31\n", encoding="utf-8")
    res = ingest(con, path, period=None)
    assert res.status == "rejected"
    assert "the billing month 9999-12 (from the dates in its 抄表日期 column) is outside" in res.message
