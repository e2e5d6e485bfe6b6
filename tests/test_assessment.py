"""The assessment (考核) on hand-built months: exports go through the real ingest and the real mart SQL
(marts.workflow_*, marts.assessment_*) on a temporary DuckDB, and every score is checked against a hand
count of config/assessment.toml's items — the per-户 and per-time deductions, the large-customer price,
the segment rounds, the late reports, the bonus, veto, floor, the customer weighting of the team score,
the KPI items, the ledger summing to each score, the rank change, and two scoring versions compared."""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from readq.config import REPO_ROOT
from tests.test_kpi_marts import deliver
from warehouse.assessment import CURRENT, Scoring, compare, resolve, scores_under
from warehouse.connection import connect
from warehouse.marts import mart, marts, replace_month

ASSESSMENT_MARTS = {"meter_readings", "meters_due", "error_findings", "workflow_reports", "workflow_segments",
                    "kpi_levels_month", "assessment_ledger", "assessment_reader_month", "assessment_team_month"}
READINGS = ["period", "team", "segment_no", "plan_day", "reader", "customer_no", "meter_no", "customer_class",
            "multiplier", "last_read", "this_read", "kwh", "read_status", "read_mode", "read_date", "upload_time"]
FINDINGS = ["finding_no", "period", "team", "segment_no", "customer_no", "meter_no", "error_type", "kwh_impact",
            "found_by", "found_date"]
ANOMALIES = ["report_no", "period", "team", "customer_no", "customer_class", "anomaly_type", "reporter",
             "found_at", "reported_at", "closed_at"]


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of config/ this test may edit (READQ_CONFIG points at it)."""
    folder = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config", folder)
    monkeypatch.setenv("READQ_CONFIG", str(folder))
    return folder


def edit(cfg: Path, old: str, new: str, file: str = "assessment.toml") -> None:
    path = cfg / file
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def wh(tmp_path: Path, cfg: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    conn = connect(tmp_path / "warehouse.duckdb")
    yield conn, tmp_path
    conn.close()


def upstream(names: set[str]) -> set[str]:
    """`names` and every mart they read, directly or through another mart."""
    inputs = {m.name: {i.removeprefix("marts.") for i in m.inputs if i.startswith("marts.")} for m in marts()}
    wanted, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo.extend(inputs[name])
    return wanted


def build(conn: duckdb.DuckDBPyConnection, *periods: str, extra: tuple[str, ...] = ()) -> None:
    """Rebuild ASSESSMENT_MARTS, `extra` and what they read, in the marts' dependency order."""
    wanted = upstream(ASSESSMENT_MARTS | set(extra))
    for period in periods:
        for m in marts():
            if m.name in wanted:
                conn.execute("begin")
                replace_month(conn, m.name, period)
                conn.execute("commit")


def read(period: str, team: str, segment: str, reader: str, customer: str, *, cls: str = "低压居民", mult: int = 1,
         status: str = "已抄", day: int = 5, read_day: int = 5, upload: str | None = None) -> list[object]:
    return [period, team, segment, day, reader, customer, f"M{customer}", cls, mult, 100, 110, 10 * mult, status,
            "抄表机", f"{period}-{read_day:02d}", upload or f"{period}-{read_day:02d} 18:00:00"]


def finding(no: str, period: str, customer: str, error: str) -> list[object]:
    return [no, period, None, None, customer, f"M{customer}", error, 10, "复核", f"{period}-20"]


def scores(conn: duckdb.DuckDBPyConnection, period: str) -> tuple[dict[str, float], dict[str, float]]:
    readers = dict(conn.execute("select reader, score from marts.assessment_reader_month where period = ?",
                                [period]).fetchall())
    teams = dict(conn.execute("select team, score from marts.assessment_team_month where period = ?",
                              [period]).fetchall())
    return readers, teams


def ledger(conn: duckdb.DuckDBPyConnection, period: str, reader: str) -> dict[str, float]:
    return dict(conn.execute("select item, sum(points) from marts.assessment_ledger where period = ? and reader = ? "
                             "group by item", [period, reader]).fetchall())


def checks_pass(conn: duckdb.DuckDBPyConnection, period: str) -> None:
    for name in ("assessment_ledger", "assessment_reader_month", "assessment_team_month", "workflow_reports",
                 "workflow_segments"):
        for check in mart(name).checks:
            broken, rows = check.violations(conn, period)
            assert broken == 0, (name, check.name, rows)


def centre(wh, cfg: Path, period: str = "2024-03") -> None:
    """Team A: 甲 (4 customers, C1 high voltage), 乙 (3), 丙 (1, its round off the 例日 and uploaded late);
    team B: 丁, who changed 21 reading dates. KPI items are switched off here (their own test below)."""
    edit(cfg, "step = 1.0                    #", "step = 1000000.0              #")   # 差错率 item off
    rows = [read(period, "A队", "S1", "甲", "C1", cls="高压", mult=30), read(period, "A队", "S1", "甲", "C2"),
            read(period, "A队", "S1", "甲", "C3"), read(period, "A队", "S1", "甲", "C4"),
            read(period, "A队", "S2", "乙", "C5"), read(period, "A队", "S2", "乙", "C6"),
            read(period, "A队", "S2", "乙", "C7"),
            # 丙's round: read on the 10th against a 例日 of the 5th; uploaded the next day at 15:00 = 15 h late
            read(period, "A队", "S3", "丙", "C8", read_day=10, upload=f"{period}-11 15:00:00"),
            read(period, "B队", "S4", "丁", "C9")]
    deliver(wh, f"readings_{period}.csv", READINGS, rows, period=period)
    findings = [finding("F1", period, "C1", "错抄"),            # large customer: 5
                finding("F2", period, "C2", "错抄"),            # small: 2 ...
                finding("F3", period, "C2", "倍率不符"),        # ... the same item on the same 户: once
                finding("F4", period, "C3", "录入/计算差错"),   # 0.5
                finding("F5", period, "C4", "私自变更抄表日期"),  # 5 per time
                finding("F6", period, "C5", "代抄"), finding("F7", period, "C6", "不到位"),
                finding("F8", period, "C7", "代抄"),            # 乙: 3 customers of 代抄 / 不到位: veto
                *[finding(f"G{i}", period, "C9", "私自变更抄表日期") for i in range(21)]]   # 丁: 105 → floor
    deliver(wh, f"review_findings_{period}.csv", FINDINGS, findings, period=period)
    deliver(wh, f"field_anomalies_{period}.csv", ANOMALIES, [
        # theft found by 甲, reported within 24 h and closed: +5
        ["Y1", period, "A队", "C2", "低压居民", "窃电", "甲", f"{period}-06 10:00:00", f"{period}-06 12:00:00",
         f"{period}-08 12:00:00"],
        # a fault reported the next day: 2 (same-day types)
        ["Y2", period, "A队", "C3", "低压居民", "计量装置故障", "甲", f"{period}-06 10:00:00",
         f"{period}-07 09:00:00", f"{period}-07 12:00:00"],
    ], period=period)
    build(wh[0], period)


def test_every_item_weighting_veto_floor_and_the_ledger_summing_to_the_score(wh, cfg) -> None:
    conn, _ = wh
    centre(wh, cfg)
    readers, teams = scores(conn, "2024-03")
    assert ledger(conn, "2024-03", "甲") == {"READING_ERROR": -7.0, "ENTRY": -0.5, "DATA_CHANGE": -5.0,
                                             "REPORT_LATE": -2.0, "BONUS": 5.0}
    assert readers["甲"] == pytest.approx(100 - 5 - 2 - 0.5 - 5 - 2 + 5)          # 90.5
    # 乙: 3 × 2 for the findings, then the veto takes the rest: 0
    assert ledger(conn, "2024-03", "乙") == {"READING_ERROR": -6.0, "VETO": -94.0}
    assert readers["乙"] == 0.0
    # 丙: one round off the 例日 (2) and an upload 15 h late = 2 started half days (2 × 2)
    assert ledger(conn, "2024-03", "丙") == {"OFF_PLAN": -2.0, "UPLOAD_LATE": -4.0}
    assert readers["丙"] == 94.0
    # 丁: 21 × 5 = 105 below the base; the floor gives back 5
    assert ledger(conn, "2024-03", "丁") == {"DATA_CHANGE": -105.0, "FLOOR": 5.0}
    assert readers["丁"] == 0.0
    # the team: customer-weighted mean (4, 3, 1 of 8 customers due)
    assert teams["A队"] == pytest.approx(90.5 * 4 / 8 + 0 * 3 / 8 + 94 * 1 / 8)
    assert teams["B队"] == 0.0
    checks_pass(conn, "2024-03")
    # every deduction names its evidence and the file and line it came from
    rows = conn.execute("select item, evidence_kind, evidence_id, file_name, source_row from marts.assessment_ledger "
                        "where reader = '甲' order by item, evidence_id").fetchall()
    assert ("READING_ERROR", "finding", "F1", "review_findings_2024-03.csv", 2) in rows
    assert ("REPORT_LATE", "report", "Y2", "field_anomalies_2024-03.csv", 3) in rows
    off = conn.execute("select evidence_id, file_name, source_row from marts.assessment_ledger "
                       "where item = 'OFF_PLAN'").fetchall()
    assert off == [("S3", "readings_2024-03.csv", 9)]
    version = tomllib.loads((cfg / "assessment.toml").read_text(encoding="utf-8"))["version"]
    assert conn.execute("select distinct scoring_version from marts.assessment_team_month").fetchall() == [(version,)]


def test_a_ledger_that_does_not_explain_the_score_fails_its_check(wh, cfg) -> None:
    conn, _ = wh
    centre(wh, cfg)
    conn.execute("update marts.assessment_reader_month set score = score + 0.5 where reader = '甲'")
    check = next(c for c in mart("assessment_reader_month").checks if c.name == "ledger_sums_to_score")
    broken, rows = check.violations(conn, "2024-03")
    assert broken == 1 and rows[0][1] == "甲"


def test_kpi_shortfalls_per_complete_step_at_the_configured_level(wh, cfg) -> None:
    conn, _ = wh
    # 实抄率 per reader, 1 point per 10 pp; 差错率 per team, 1 point per 100 errors per 万户 above target
    edit(cfg, 'level = "team"\nstep = 0.001', 'level = "reader"\nstep = 0.1')
    edit(cfg, "step = 1.0                    #", "step = 100.0                  #")
    period = "2024-03"
    rows = [read(period, "A队", "S1", "甲", f"C{i}") for i in range(9)]
    rows.append(read(period, "A队", "S1", "甲", "C9", status="未抄"))         # 9 of 10 read: 90 %
    rows += [read(period, "A队", "S2", "乙", f"D{i}") for i in range(4)]      # 乙: all read
    deliver(wh, f"readings_{period}.csv", READINGS, rows, period=period)
    deliver(wh, f"review_findings_{period}.csv", FINDINGS, [finding("F1", period, "D0", "估抄")], period=period)
    build(conn, period)
    assert ledger(conn, period, "甲")["ACTUAL_READ_SHORTFALL"] == -1.0         # 10 pp = one step
    assert "ACTUAL_READ_SHORTFALL" not in ledger(conn, period, "乙")
    # the team: 1 error among 13 read = 769.2 per 万户 against 10: 7 complete steps of 100
    team_items = conn.execute("select item, points from marts.assessment_ledger where level = 'team'").fetchall()
    assert team_items == [("ERROR_RATE_EXCESS", -7.0)]
    readers, teams = scores(conn, period)
    assert readers == {"甲": 99.0, "乙": 98.0}
    assert teams["A队"] == pytest.approx(99.0 * 10 / 14 + 98.0 * 4 / 14 - 7.0)
    checks_pass(conn, period)


def test_rank_and_its_change_on_the_previous_month(wh, cfg) -> None:
    conn, _ = wh
    for period, bad in (("2024-03", "A队"), ("2024-04", "B队")):
        rows = [read(period, "A队", "S1", "甲", "C1"), read(period, "B队", "S2", "乙", "C2")]
        deliver(wh, f"readings_{period}.csv", READINGS, rows, period=period)
        customer = "C1" if bad == "A队" else "C2"
        deliver(wh, f"review_findings_{period}.csv", FINDINGS, [finding(f"F{period}", period, customer, "估抄")],
                period=period)
    build(conn, "2024-03", "2024-04")
    ranks = conn.execute("select period, team, rank, prev_rank, rank_change from marts.assessment_team_month "
                         "order by period, team").fetchall()
    assert ranks == [("2024-03", "A队", 2, None, None), ("2024-03", "B队", 1, None, None),
                     ("2024-04", "A队", 1, 2, 1), ("2024-04", "B队", 2, 1, -1)]
    moved = conn.execute("select reader, rank_in_centre, rank_change from marts.assessment_reader_month "
                         "where period = '2024-04' order by reader").fetchall()
    assert moved == [("乙", 2, -1), ("甲", 1, 1)]


def test_two_scoring_versions_side_by_side(wh, cfg, tmp_path) -> None:
    conn, _ = wh
    centre(wh, cfg)
    # the scores of the version in force, recomputed from the ledger SQL, are the marts'
    readers, teams = scores(conn, "2024-03")
    current = resolve(conn, CURRENT)
    again_readers, again_teams = scores_under(conn, "2024-03", current)
    assert dict(again_readers.select("reader", "score").iter_rows()) == pytest.approx(readers)
    assert dict(again_teams.iter_rows()) == pytest.approx(teams)
    # a version where a small customer's reading error costs 3 and the veto needs 4 customers
    text = current.text.replace("points_small = 2.0\npoints_large = 5.0", "points_small = 3.0\npoints_large = 5.0")
    text = text.replace("min_customers = 3", "min_customers = 4")
    alt = tmp_path / "alt.toml"
    alt.write_text(text, encoding="utf-8")
    by_reader, by_team = compare(conn, "2024-03", current, resolve(conn, str(alt)))
    change = {r["reader"]: (r["score_old"], r["score_new"]) for r in by_reader.iter_rows(named=True)}
    assert change["甲"] == (pytest.approx(90.5), pytest.approx(89.5))          # C2 costs one more point
    assert change["乙"] == (0.0, 100 - 9.0)                                      # no veto; 3 × 3
    assert change["丙"] == (94.0, 94.0)
    team_a = by_team.filter(by_team["team"] == "A队").row(0, named=True)
    assert team_a["score_new"] == pytest.approx(89.5 * 4 / 8 + 91 * 3 / 8 + 94 / 8)
    assert team_a["rank_new"] == 1
    with pytest.raises(ValueError, match="neither"):
        resolve(conn, "no-such-version")
    assert Scoring("x", text).version == current.version


def test_report_deadlines_exactly_at_their_limits_and_across_a_weekend(wh, cfg) -> None:
    conn, _ = wh
    period = "2024-03"
    deliver(wh, f"readings_{period}.csv", READINGS, [read(period, "A队", "S1", "甲", "C1")], period=period)
    deliver(wh, f"field_anomalies_{period}.csv", ANOMALIES, [
        ["R1", period, "A队", "C1", "低压居民", "窃电", "甲", "2024-03-04 10:00:00", "2024-03-05 10:00:00", None],
        ["R2", period, "A队", "C1", "低压居民", "窃电", "甲", "2024-03-04 10:00:00", "2024-03-05 10:01:00", None],
        ["R3", period, "A队", "C1", "低压居民", "信息不符", "甲", "2024-03-04 08:00:00", "2024-03-04 23:59:00", None],
        ["R4", period, "A队", "C1", "低压居民", "信息不符", "甲", "2024-03-04 23:00:00", "2024-03-05 00:01:00", None],
        # LV defects reported Friday 8th: Mon, Tue, Wed = 3 working days (in time), Thu = 4 (late)
        ["R5", period, "A队", "C1", "低压居民", "表箱破损", "甲", "2024-03-08 09:00:00", "2024-03-08 10:00:00",
         "2024-03-13 17:00:00"],
        ["R6", period, "A队", "C1", "低压居民", "表箱破损", "甲", "2024-03-08 09:00:00", "2024-03-08 10:00:00",
         "2024-03-14 08:00:00"],
        # HV: reported Friday, closed Monday = 1 working day (limit 1)
        ["R7", period, "A队", "C1", "高压", "封印缺失", "甲", "2024-03-08 09:00:00", "2024-03-08 10:00:00",
         "2024-03-11 09:00:00"],
        # open at the cut-off (the latest time stamp: 2024-03-14 08:00), HV, reported Tue 12th: 2 days: overdue
        ["R8", period, "A队", "C1", "高压", "封印缺失", "甲", "2024-03-12 09:00:00", "2024-03-12 10:00:00", None],
    ], period=period)
    build(conn, period)
    rows = {r[0]: r[1:] for r in conn.execute(
        "select report_no, reported_in_time, closure_state, closure_working_days, open_working_days, overdue "
        "from marts.workflow_reports").fetchall()}
    assert rows["R1"][0] is True and rows["R2"][0] is False
    assert rows["R3"][0] is True and rows["R4"][0] is False
    assert rows["R5"][1:3] == ("CLOSED_IN_TIME", 3)
    assert rows["R6"][1:3] == ("CLOSED_LATE", 4)
    assert rows["R7"][1:3] == ("CLOSED_IN_TIME", 1)
    assert rows["R8"][1] == "OPEN_OVERDUE" and rows["R8"][3] == 2 and rows["R8"][4] is True
    late = conn.execute("select report_no, report_late_hours from marts.workflow_reports where not reported_in_time "
                        "order by 1").fetchall()
    assert late == [("R2", pytest.approx(1 / 60)), ("R4", pytest.approx(1 / 60))]


def test_upload_deadline_at_midnight_and_a_single_revisit_is_not_an_off_plan_round(wh, cfg) -> None:
    conn, _ = wh
    period = "2024-03"
    deliver(wh, f"readings_{period}.csv", READINGS, [
        read(period, "A队", "S1", "甲", "C1", upload=f"{period}-05 23:59:00"),      # the read day: in time
        read(period, "A队", "S2", "乙", "C2", upload=f"{period}-06 00:01:00"),      # a minute late: 1 half day
        read(period, "A队", "S3", "丙", "C3"), read(period, "A队", "S3", "丙", "C4"),
        read(period, "A队", "S3", "丙", "C5", read_day=9),                          # 1 of 3 off the 例日
    ], period=period)
    build(conn, period)
    seg = {r[0]: r[1:] for r in conn.execute(
        "select segment_no, uploads_late, upload_late_hours, reads_off_plan, off_plan from marts.workflow_segments"
    ).fetchall()}
    assert seg["S1"][:2] == (0, None)
    assert seg["S2"][0] == 1 and seg["S2"][1] == pytest.approx(1 / 60)
    assert seg["S3"][2:] == (1, False)
    assert ledger(conn, period, "乙") == {"UPLOAD_LATE": -2.0}
    assert ledger(conn, period, "丙") == {}
