"""marts.reader_forensics: the pure statistics of checks/forensics.py, then the mart end to end on an
in-memory warehouse with hand-made readings, residuals and DIGIT_SLIP flags."""

from __future__ import annotations

import math
from datetime import datetime

import duckdb
import numpy as np
import polars as pl
import pytest

from checks.forensics import (
    RESIDUALS_SCHEMA,
    TOTALS_SCHEMA,
    Limits,
    dispersion,
    forensics,
    heaping,
    last_digit_test,
    load_limits,
    peer_dispersions,
    reader_totals,
    window_start,
)
from warehouse.marts import mart, replace_month

U = "(未指定)"


@pytest.fixture(scope="module")
def limits() -> Limits:
    return load_limits()


# ---------------------------------------------------------------------------------------------
# Pure functions


def test_last_digit_p_value_matches_the_tables() -> None:
    # 9 d.f.: chi-square 16.919 is the 0.05 critical value; counts built to give it
    base = np.full(10, 100.0)
    chi2, p = last_digit_test(base)
    assert chi2 == 0.0 and p == pytest.approx(1.0)
    heaped = np.array([160, 90, 90, 90, 90, 130, 90, 90, 90, 80])
    chi2, p = last_digit_test(heaped)
    assert chi2 == pytest.approx(((heaped - 100) ** 2 / 100).sum())
    assert p < 0.001


def test_window_start() -> None:
    assert window_start("2024-03", 12) == "2023-04"
    assert window_start("2024-12", 12) == "2024-01"
    assert window_start("2024-01", 1) == "2024-01"


def test_uniform_digits_give_no_heaping_and_a_high_p(limits: Limits) -> None:
    counts = np.bincount(np.random.default_rng(7).integers(0, 10, 5000), minlength=10)
    share, index = heaping(counts, limits.heaped, limits.expected_share)
    chi2, p = last_digit_test(counts)
    assert index == pytest.approx(1.0, abs=0.1) and share == pytest.approx(0.2, abs=0.02)
    assert p > 0.01 and chi2 < 21.666
    assert last_digit_test([100] * 10) == (0.0, 1.0)


def test_dispersion_is_the_scaled_mad() -> None:
    r = np.array([-0.3, -0.1, 0.0, 0.05, 0.2, 1.5])
    assert dispersion(r, 1.4826) == pytest.approx(1.4826 * np.median(np.abs(r - np.median(r))))
    # about σ for normal residuals
    assert dispersion(np.random.default_rng(1).normal(0, 0.3, 20000), 1.4826) == pytest.approx(0.3, rel=0.03)


def totals_row(reader: str, team: str, counts: list[int], *, slips: int = 0, reads: int | None = None,
               reads_month: int = 10) -> dict[str, object]:
    return {"team": team, "reader": reader, "team_key": team if reader == U else None, "unattributed": reader == U,
            "reads": sum(counts) if reads is None else reads, "reads_month": reads_month, "months": 12,
            "digit_counts": counts, "digit_slip_flags": slips}


def frames(rows: list[dict[str, object]], mads: dict[tuple[str, str | None], tuple[int, float]]
           ) -> tuple[pl.DataFrame, pl.DataFrame]:
    totals = pl.DataFrame(rows, schema=TOTALS_SCHEMA)
    residuals = pl.DataFrame([{"reader": r, "team_key": k, "residual_reads": n, "residual_mad": m}
                              for (r, k), (n, m) in mads.items()], schema=RESIDUALS_SCHEMA)
    return totals, residuals


UNIFORM = [100] * 10


def test_a_set_heaped_on_0_and_5_is_flagged(limits: Limits) -> None:
    heaped = [300, 60, 60, 60, 60, 300, 60, 60, 60, 60]        # 600 of 1,080 end in 0 or 5
    totals, residuals = frames([totals_row("甲", "一班", UNIFORM), totals_row("乙", "一班", heaped),
                                totals_row("丙", "一班", [5] * 10)], {})
    out = {r["reader"]: r for r in forensics(totals, residuals, limits).iter_rows(named=True)}
    assert out["甲"]["heaping_index"] == pytest.approx(1.0) and out["甲"]["last_digit_p"] == 1.0
    assert not out["甲"]["flagged"] and out["甲"]["flag_reasons"] == []
    assert out["乙"]["heaping_share"] == pytest.approx(600 / 1080)
    assert out["乙"]["heaping_index"] == pytest.approx(600 / 1080 / 0.2)
    assert out["乙"]["flagged"] and out["乙"]["flag_reasons"] == ["HEAPING", "LAST_DIGIT"]
    # too few readings: no statistics (null, not 0), no flag
    assert out["丙"]["heaping_index"] is None and out["丙"]["last_digit_p"] is None and not out["丙"]["flagged"]
    # no residuals at all: nothing to rank
    assert all(r["signature"] is None and r["signature_rank"] is None and r["residual_reads"] == 0
               for r in out.values())


def test_digit_slips_are_flagged_beyond_the_share_and_count(limits: Limits) -> None:
    totals, residuals = frames([totals_row("甲", "一班", UNIFORM, slips=6),       # 6 / 1000 = 0.6 %
                                totals_row("乙", "一班", UNIFORM, slips=2),       # 0.2 %
                                totals_row("丙", "一班", [20] * 10, slips=4)],    # 2 %, but only 4
                               {})
    out = {r["reader"]: r for r in forensics(totals, residuals, limits).iter_rows(named=True)}
    assert out["甲"]["flag_reasons"] == ["DIGIT_SLIP"] and out["甲"]["digit_slip_share"] == pytest.approx(0.006)
    assert not out["乙"]["flagged"] and not out["丙"]["flagged"]


def test_a_reader_tight_against_peers_ranks_first_and_is_flagged(limits: Limits) -> None:
    team = ["甲", "乙", "丙", "丁", "戊"]
    mads = {("甲", None): (500, 0.20), ("乙", None): (500, 0.22), ("丙", None): (500, 0.18),
            ("丁", None): (500, 0.21), ("戊", None): (500, 0.06),
            ("己", None): (50, 0.01)}                                   # too few residuals to rank
    totals, residuals = frames([totals_row(r, "一班", UNIFORM) for r in [*team, "己"]], mads)
    out = {r["reader"]: r for r in forensics(totals, residuals, limits).iter_rows(named=True)}
    wu = out["戊"]
    assert wu["residual_dispersion"] == pytest.approx(1.4826 * 0.06)
    assert wu["peer_dispersion"] == pytest.approx(1.4826 * np.median([0.20, 0.22, 0.18, 0.21]))
    assert wu["signature"] == pytest.approx(np.median([0.20, 0.22, 0.18, 0.21]) / 0.06)
    assert wu["signature_rank"] == 1 and wu["signature_pct"] == pytest.approx(1 / 5)
    assert wu["flag_reasons"] == ["FABRICATION"]
    assert sorted(out[r]["signature_rank"] for r in team) == [1, 2, 3, 4, 5]
    assert not any(out[r]["flagged"] for r in team if r != "戊")
    assert out["己"]["signature"] is None and out["己"]["signature_rank"] is None and not out["己"]["flagged"]
    assert out["己"]["peer_dispersion"] is not None                      # peers shown, not ranked


def test_peers_come_from_the_same_team_else_the_centre(limits: Limits) -> None:
    # 一班 is tight (stable routes), 二班 loose; 三班 has one reader
    mads = {("甲", None): (500, 0.10), ("乙", None): (500, 0.11), ("丙", None): (500, 0.09),
            ("丁", None): (500, 0.40), ("戊", None): (500, 0.42), ("己", None): (500, 0.38),
            ("庚", None): (500, 0.12)}
    teams = {"甲": "一班", "乙": "一班", "丙": "一班", "丁": "二班", "戊": "二班", "己": "二班", "庚": "三班"}
    totals, residuals = frames([totals_row(r, t, UNIFORM) for r, t in teams.items()], mads)
    out = {r["reader"]: r for r in forensics(totals, residuals, limits).iter_rows(named=True)}
    # 丙 is the tightest of the centre, but not against their own team
    assert out["丙"]["peer_dispersion"] == pytest.approx(1.4826 * 0.105)
    assert out["丙"]["signature"] == pytest.approx(0.105 / 0.09) and not out["丙"]["flagged"]
    # 庚 has no team peers: the centre's six others
    assert out["庚"]["peer_dispersion"] == pytest.approx(1.4826 * np.median([0.10, 0.11, 0.09, 0.40, 0.42, 0.38]))
    # the pure helper: reader 0 with one team peer falls back to the centre
    got = peer_dispersions(["a", "a", "b", "b", "b"], np.array([1.0, 2.0, 3.0, 4.0, 5.0]),
                           np.array([True] * 5), 2)
    assert list(got) == [3.5, 3.5, 4.5, 4.0, 3.5]


def test_unattributed_rows_are_reported_but_never_ranked_or_flagged(limits: Limits) -> None:
    heaped = [300, 60, 60, 60, 60, 300, 60, 60, 60, 60]
    totals, residuals = frames([totals_row(U, "一班", heaped, slips=50), totals_row("甲", "一班", UNIFORM),
                                totals_row("乙", "一班", UNIFORM), totals_row("丙", "一班", UNIFORM)],
                               {(U, "一班"): (900, 0.01), ("甲", None): (500, 0.2), ("乙", None): (500, 0.2),
                                ("丙", None): (500, 0.2)})
    out = {r["reader"]: r for r in forensics(totals, residuals, limits).iter_rows(named=True)}
    assert out[U]["heaping_index"] > 2 and out[U]["residual_dispersion"] == pytest.approx(0.014826)
    assert out[U]["signature"] is None and out[U]["peer_dispersion"] is None and out[U]["signature_rank"] is None
    assert not out[U]["flagged"] and out[U]["flag_reasons"] == []
    # nor a peer: the others' peers are each other (0.2), not the unattributed 0.01
    assert out["甲"]["peer_dispersion"] == pytest.approx(1.4826 * 0.2)
    assert sorted(out[r]["signature_pct"] for r in "甲乙丙") == pytest.approx([1 / 3, 2 / 3, 1])   # ties by name


def test_reader_totals_team_of_the_latest_month() -> None:
    cells = pl.DataFrame({
        "reader": ["甲", "甲", "甲", "甲", U, U],
        "team":   ["二班", "一班", "一班", U, "一班", "二班"],
        "period": ["2024-01", "2024-02", "2024-03", "2024-03", "2024-03", "2024-02"],
        "digit":  [0, 1, None, 2, 3, 3],
        "reads":  [5, 6, 7, 1, 2, 3],
        "slips":  [1, 0, 0, 0, 0, 0],
    }, schema={"reader": pl.String, "team": pl.String, "period": pl.String, "digit": pl.Int32,
               "reads": pl.Int64, "slips": pl.Int64})
    out = {(r["reader"], r["team"]): r for r in reader_totals(cells, "2024-03", U).iter_rows(named=True)}
    assert set(out) == {("甲", "一班"), (U, "一班"), (U, "二班")}   # an attributed team beats 未指定
    jia = out[("甲", "一班")]
    assert (jia["reads"], jia["reads_month"], jia["months"], jia["digit_slip_flags"]) == (19, 8, 3, 1)
    assert jia["digit_counts"] == [5, 6, 1, 0, 0, 0, 0, 0, 0, 0]    # the 7 without a digit not counted
    assert out[(U, "二班")]["reads_month"] == 0 and out[(U, "一班")]["digit_counts"][3] == 2


def test_empty_inputs_give_an_empty_frame(limits: Limits) -> None:
    totals = reader_totals(pl.DataFrame(schema={"reader": pl.String, "team": pl.String, "period": pl.String,
                                                "digit": pl.Int32, "reads": pl.Int64, "slips": pl.Int64}),
                           "2024-03", U)
    out = forensics(totals, pl.DataFrame(schema=RESIDUALS_SCHEMA), limits)
    assert out.is_empty() and "flag_reasons" in out.columns


# ---------------------------------------------------------------------------------------------
# End to end: marts.meter_readings / reading_context / reading_flags -> marts.reader_forensics

PERIOD = "2024-03"
MONTHS = ["2023-03", "2024-01", "2024-02", "2024-03"]     # 2023-03 is outside the 12-month window
METERS = 80                                              # per reader and month
NOW = datetime(2024, 4, 5)


def reader_plan() -> dict[str, dict[str, object]]:
    """Who reads what: team per month, residual σ, how the last digits are chosen."""
    return {
        "A1": {"team": "一班", "sigma": 0.30},
        "A2": {"team": "一班", "sigma": 0.25},
        "A3": {"team": "一班", "sigma": 0.35, "team_2024-01": "二班"},      # moved from 二班
        "A4": {"team": "一班", "sigma": 0.04},                             # readings made up near expected
        "B1": {"team": "二班", "sigma": 0.30, "heaps": True},              # rounds to 0 and 5
        "B2": {"team": "二班", "sigma": 0.28},
        "C9": {"team": "二班", "sigma": 0.30, "only": "2024-01"},          # left in January
    }


def digit_of(reader: str, i: int, plan: dict[str, object]) -> int:
    if plan.get("heaps") and i < 56:
        return 0 if i % 2 == 0 else 5
    return i % 10


def build_inputs() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, dict[str, np.ndarray]]:
    rng = np.random.default_rng(2024)
    readings: list[dict[str, object]] = []
    context: list[dict[str, object]] = []
    residuals: dict[str, list[float]] = {}
    row = 0

    def add(period: str, team: str, reader: str, mp_key: str, this_read: float, last_read: float,
            status: str = "READ", mode: str | None = "HANDHELD", use: float | None = None,
            expected: float | None = None) -> None:
        nonlocal row
        row += 1
        readings.append({
            "period": period, "delivery_id": f"d{period}", "sheet": None, "source_row": row, "team": team,
            "reader": reader, "team_source": "export", "reader_source": "export", "segment_no": "S1",
            "customer_no": mp_key, "mp_key": mp_key, "mp_id": row, "meter_no": mp_key, "last_read": last_read,
            "this_read": this_read, "read_status": status, "read_mode": mode, "master_source": "reading",
            "copies": 1, "copies_differ": False, "repeats_dropped": 0, "config_version": "t", "computed_at": NOW})
        if use is not None:
            context.append({"period": period, "mp_key": mp_key, "mp_id": row, "meter_no": mp_key,
                            "meter_changed": False, "use_kwh": use, "expected_smooth": expected, "zero_cycles": 0,
                            "estimate_cycles": 0, "prev_suspect": False, "config_version": "t",
                            "computed_at": NOW})

    for reader, plan in reader_plan().items():
        for period in MONTHS:
            if plan.get("only", period) != period:
                continue
            team = str(plan.get(f"team_{period}", plan["team"]))
            for i in range(METERS):
                mp = f"{reader}-{i}"
                if reader == "A1" and i < 5:          # a register that did not move: no use, no digit
                    add(period, team, reader, mp, 5000.0, 5000.0, use=0.0, expected=100.0)
                    continue
                r = float(rng.normal(0, float(plan["sigma"])))  # type: ignore[arg-type]
                if period != MONTHS[0]:
                    residuals.setdefault(reader, []).append(r)
                this_read = 10 * (100 + i) + digit_of(reader, i, plan) + 0.37
                add(period, team, reader, mp, this_read, this_read - 100, use=100 * math.exp(r), expected=100.0)
        # not in scope: remote reads (with context), 未抄, and a heaped burst outside the window
        if plan.get("only") is None:
            add(PERIOD, str(plan["team"]), reader, f"{reader}-remote", 12340.0, 12000.0, mode="REMOTE",
                use=340.0, expected=100.0)
            add(PERIOD, str(plan["team"]), reader, f"{reader}-missed", 12000.0, 12000.0, status="MISSED")
    for i in range(30):
        add("2023-03", "一班", "A1", f"A1-old{i}", 1000.0 + 10 * i, 900.0, use=100.0, expected=100.0)
    # unread mode: counts as on-site; and the unattributed reader in both teams
    for i in range(10):
        add(PERIOD, "二班", "B2", f"B2-nomode{i}", 3000.0 + 10 * i + i, 2900.0, mode=None)
        add(PERIOD, "一班", U, f"u1-{i}", 4000.0 + i, 3900.0, use=100.0, expected=100.0)
        add("2024-02", "二班", U, f"u2-{i}", 4000.0 + i, 3900.0)

    frame = pl.DataFrame(readings, infer_schema_length=None)
    keyed = {(r["period"], r["mp_key"]): r for r in readings}

    def flag(period: str, mp_key: str) -> dict[str, object]:
        r = keyed[(period, mp_key)]
        return {"period": period, "team": r["team"], "reader": r["reader"], "segment_no": "S1",
                "customer_no": mp_key, "meter_no": mp_key, "mp_key": mp_key, "rule_id": "DIGIT_SLIP",
                "severity": "warn", "evidence": "{}", "delivery_id": r["delivery_id"], "sheet": None,
                "source_row": r["source_row"], "config_version": "t", "computed_at": NOW}

    flags = [flag(p, f"A2-{i}") for p, i in [("2024-01", 1), ("2024-01", 2), ("2024-02", 3), ("2024-02", 4),
                                               ("2024-03", 5), ("2024-03", 6)]]
    flags += [flag("2023-03", "A1-10"), flag(PERIOD, "A1-remote"), flag(PERIOD, "B1-3")]
    other = {**flag(PERIOD, "B1-4"), "rule_id": "HIGH"}
    return (frame, pl.DataFrame(context, infer_schema_length=None), pl.DataFrame([*flags, other]),
            {k: np.array(v) for k, v in residuals.items()})


def load(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.register("incoming", frame)
    cols = ", ".join(f'"{c}"' for c in frame.columns)
    con.execute(f"insert into marts.{table} ({cols}) select {cols} from incoming")
    con.unregister("incoming")


def test_the_mart_end_to_end(con: duckdb.DuckDBPyConnection, limits: Limits) -> None:
    readings, context, flags, residuals = build_inputs()
    load(con, "meter_readings", readings)
    load(con, "reading_context", context)
    load(con, "reading_flags", flags)
    assert mart("reader_forensics").inputs == ("marts.meter_readings", "marts.reading_context",
                                               "marts.reading_flags")

    con.execute("begin")
    written = replace_month(con, "reader_forensics", PERIOD)
    con.execute("commit")
    assert replace_month(con, "reader_forensics", PERIOD) == written   # a rebuild replaces the month
    out = con.sql("select * from marts.reader_forensics where period = ? order by team, reader",
                  params=[PERIOD]).pl()
    rows = {(r["team"], r["reader"]): r for r in out.iter_rows(named=True)}
    # C9 left in January; the unattributed reader read in 二班 only in February
    assert set(rows) == {("一班", "A1"), ("一班", "A2"), ("一班", "A3"), ("一班", "A4"), ("一班", U),
                         ("二班", "B1"), ("二班", "B2")}
    assert written == 7

    a1 = rows[("一班", "A1")]
    # 3 months x 80 on-site reads; remote, 未抄 and 2023-03 left out; 5 unmoved registers not in the digits
    assert (a1["reads"], a1["reads_month"], a1["months"]) == (240, 80, 3)
    assert a1["digit_counts"] == [24 - 3 * (d < 5) for d in range(10)] and sum(a1["digit_counts"]) == 225
    assert a1["heaping_share"] == pytest.approx((21 + 24) / 225)
    chi2, p = last_digit_test(a1["digit_counts"])
    assert a1["last_digit_chi2"] == pytest.approx(chi2) and a1["last_digit_p"] == pytest.approx(p)
    assert a1["digit_slip_flags"] == 0                           # its flags were remote / out of the window
    assert a1["residual_reads"] == 225                           # unmoved registers have no use

    a3 = rows[("一班", "A3")]                                    # moved teams: one row, all months
    assert (a3["reads"], a3["months"]) == (240, 3)

    b2 = rows[("二班", "B2")]                                    # no read mode: on-site
    assert (b2["reads"], b2["reads_month"]) == (250, 90)

    a2 = rows[("一班", "A2")]
    assert a2["digit_slip_flags"] == 6 and a2["digit_slip_share"] == pytest.approx(6 / 240)
    assert a2["flag_reasons"] == ["DIGIT_SLIP"]
    assert rows[("二班", "B1")]["digit_slip_flags"] == 1         # the HIGH flag is not a slip

    # dispersions: the SQL's MAD equals numpy's
    own = {r: limits.mad_scale * float(np.median(np.abs(v - np.median(v)))) for r, v in residuals.items()}
    for (_team, reader), row in rows.items():
        if reader != U:
            assert row["residual_dispersion"] == pytest.approx(own[reader]), reader
    team_one = [own[r] for r in ("A1", "A2", "A3")]
    a4 = rows[("一班", "A4")]
    assert a4["peer_dispersion"] == pytest.approx(float(np.median(team_one)))
    assert a4["signature"] == pytest.approx(float(np.median(team_one)) / own["A4"])
    assert a4["signature_rank"] == 1 and a4["signature_pct"] == pytest.approx(1 / 6)
    assert a4["flag_reasons"] == ["FABRICATION"] and a4["flagged"]
    # B1 has one team peer: compared with the centre's five others
    b1 = rows[("二班", "B1")]
    assert b1["peer_dispersion"] == pytest.approx(float(np.median([own[r] for r in ("A1", "A2", "A3", "A4", "B2")])))
    assert b1["flag_reasons"] == ["HEAPING", "LAST_DIGIT"]
    assert b1["heaping_share"] == pytest.approx(3 * (56 + 4) / 240)   # 60, 65, 70, 75 too
    assert sorted(r["signature_rank"] for r in rows.values() if r["signature_rank"] is not None) == [1, 2, 3, 4, 5, 6]
    assert not any(rows[k]["flagged"] for k in [("一班", "A1"), ("一班", "A3"), ("二班", "B2")])

    unattributed = rows[("一班", U)]
    assert (unattributed["reads"], unattributed["flagged"], unattributed["flag_reasons"]) == (10, False, [])
    assert unattributed["signature"] is None and unattributed["heaping_index"] is None   # 10 < min_reads
    assert unattributed["residual_reads"] == 10 and unattributed["residual_dispersion"] == 0.0

    versions = con.sql("select distinct config_version from marts.reader_forensics").fetchall()
    assert len(versions) == 1 and versions[0][0] != "t"
    built = con.sql("select count(*) from ops.mart_builds where mart = 'reader_forensics'").fetchall()
    assert built == [(1,)]


def test_an_empty_month_writes_nothing(con: duckdb.DuckDBPyConnection) -> None:
    assert replace_month(con, "reader_forensics", PERIOD) == 0
