"""零电量核实 on hand-built months (the real ingest and marts): remote customers with zero use for three
consecutive cycles are listed with the on-site sample their class requires (HV 100 %, LV non-residential
80 %, residential 20 %; the longest runs first), a visit on record is found, and the list agrees with
the KPI counts of marts.kpi_levels_month."""

from __future__ import annotations

from pathlib import Path

from tests.test_assessment import FINDINGS, READINGS, build, checks_pass, finding
from tests.test_assessment import cfg as cfg  # the fixture, for this module's tests
from tests.test_assessment import wh as wh  # the fixture: a temporary warehouse
from tests.test_kpi_marts import deliver
from warehouse.marts import mart

ANOMALIES = ["report_no", "period", "team", "customer_no", "anomaly_type", "reporter", "found_at", "reported_at"]
CLASSES = {"Z1": "高压", "Z2": "低压非居民", "Z3": "低压非居民", **{f"R{i}": "低压居民" for i in range(1, 6)}}


def row(period: str, customer: str, cls: str, *, kwh: int = 0, mode: str = "远程", last: int = 100) -> list[object]:
    return [period, "A队", "S1", 5, "甲", customer, f"M{customer}", cls, 1, last, last + kwh, kwh, "已抄", mode,
            f"{period}-05", f"{period}-05 18:00:00"]


def test_zero_runs_their_sample_and_the_visits(wh, cfg: Path) -> None:
    conn, _ = wh
    for month, period in enumerate(("2024-01", "2024-02", "2024-03")):
        rows = [row(period, c, cls) for c, cls in CLASSES.items() if not (c == "R5" and month == 0)]
        rows.append(row(period, "R5", "低压居民", kwh=30 if month == 0 else 0, last=70 if month == 0 else 100))
        rows.append(row(period, "N1", "低压居民", kwh=50, mode="抄表机", last=100 + 50 * month))
        deliver(wh, f"readings_{period}.csv", READINGS, rows, period=period)
    deliver(wh, "field_anomalies_2024-03.csv", ANOMALIES,
            [["Y1", "2024-03", "A队", "Z1", "计量装置故障", "甲", "2024-03-06 10:00:00", "2024-03-06 12:00:00"]],
            period="2024-03")
    deliver(wh, "review_findings_2024-03.csv", FINDINGS, [finding("F1", "2024-03", "R2", "估抄")], period="2024-03")
    for period in ("2024-01", "2024-02", "2024-03"):
        build(conn, period, extra=("reading_context", "zero_checks"))
    listed = {r[0]: r[1:] for r in conn.execute(
        "select customer_no, zero_cycles, class_required, check_rank, selected, visited, visit_kind, visit_id "
        "from marts.zero_checks where period = '2024-03'").fetchall()}
    assert set(listed) == {"Z1", "Z2", "Z3", "R1", "R2", "R3", "R4"}     # R5 used power in January: 2 cycles
    assert listed["Z1"] == (3, 1, 1, True, True, "report", "Y1")          # HV: all of them
    assert [listed[c][1] for c in ("Z2", "Z3")] == [2, 2]                 # ceil(0.8 × 2) = 2
    residential = {c: v for c, v in listed.items() if c.startswith("R")}
    assert [v[1] for v in residential.values()] == [1] * 4                # ceil(0.2 × 4) = 1
    assert [c for c, v in residential.items() if v[3]] == ["R1"]          # equal runs: by customer number
    assert listed["R2"][4:] == (True, "finding", "F1")                    # a visit, though not selected
    checks_pass(conn, "2024-03")
    for check in mart("zero_checks").checks:
        assert check.violations(conn, "2024-03")[0] == 0, check.name
