"""The plausibility rules (product brief §6, config/rules.toml, checks/rules/) on hand-built histories.

Each case is a small synthetic history of one or a few metering points (tests/rule_cases.py builds
the marts.meter_readings rows), run through checks.history.reading_context and checks.rules.run_rules
exactly as the warehouse runs them, without DuckDB. Every rule has a case where it must fire and one
where it must not; the evidence JSON is checked for what a reviewer needs (expected value, ratio,
history, wrapped use, intended reading, start month …). Thresholds are read from the config where a
case sits near one, so that retuning the defaults does not silently change what a case tests.
"""

from __future__ import annotations

import copy
import functools
import json
from datetime import date
from typing import Any

import polars as pl
import pytest

from checks.rules import RULES, check_config, run_rules
from tests.rule_cases import TODAY, Outcome, Row, cfg, chain, evaluate, noisy, reading, shift, together, window

END = "2026-06"
HIST = noisy(300.0, 11)        # eleven ordinary months of a 300 kWh/month residential point before END
AMOUNT_RULES = ("HIGH", "LOW", "VERY_HIGH", "VERY_LOW")
DECREASE_RULES = ("REG_DECREASE", "ROLLOVER", "FALSE_ROLLOVER")


def point(current: float | None, *, hist: list[float | None] | None = None, **kw: Any) -> list[Row]:
    """The ordinary history, then `current` kWh in END."""
    return chain([*(HIST if hist is None else hist), current], end=END, **kw)


def at_reading(this_read: float, *, last_read: float = 12_345.0, months: int = 11, **kw: Any) -> list[Row]:
    """The ordinary history arriving at 上次 = `last_read` in END, with 本次 = `this_read` (keyed)."""
    hist = noisy(300.0, months)
    rows = chain([*hist, 300.0], end=END, start_read=last_read - sum(hist), at={-1: {"this_read": this_read}}, **kw)
    assert rows[-1]["last_read"] == pytest.approx(last_read)
    return rows


def probe(hist: list[float | None] | None = None) -> dict[str, Any]:
    """The context of an ordinary END reading after `hist` (default HIST): its expected use and band."""
    return dict(_probe(tuple(HIST if hist is None else hist)))


@functools.cache
def _probe(hist: tuple[float | None, ...]) -> tuple[tuple[str, Any], ...]:
    return tuple(evaluate(point(300.0, hist=list(hist)), END).ctx().items())


def changed(config: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of the config with one setting changed ("rules.HIGH.floor_kwh")."""
    out = copy.deepcopy(config)
    *parents, leaf = path.split(".")
    node = out
    for key in parents:
        node = node[key]
    node[leaf] = value
    return out


def no_flag(o: Outcome, *rule_ids: str, mp_key: str = "MP1") -> None:
    found = o.rules(mp_key) & set(rule_ids)
    hits = o.of(mp_key=mp_key).filter(pl.col("rule_id").is_in(list(found)))
    assert not found, f"fired on {mp_key} in {o.period}: {hits.select('rule_id', 'severity', 'evidence').rows()}"


# -- baseline -----------------------------------------------------------------------------------------

def test_an_ordinary_history_raises_no_flag_in_any_month() -> None:
    rows: list[Row] = []
    for i, kind in enumerate(["LV_RES", "LV_NONRES", "HV"]):
        mult = 1.0 if kind == "LV_RES" else 30.0
        rows += chain(noisy(300.0 * mult, 24, phase=i), end=END, mp_key=kind, customer_class=kind, multiplier=mult,
                      read_day=12, plan_day=12, contract_capacity=50.0 * mult)
    rows += chain(noisy(300.0, 24, phase=5), end=END, mp_key="NO_DATES")
    for k in (0, 1, 3, 5):
        o = evaluate(rows, shift(END, -k))
        assert o.context.height == 4
        assert o.flags.height == 0, o.flags


def test_flags_carry_the_readings_lineage_and_the_evidence_as_json() -> None:
    o = evaluate(point(300.0, at={-1: {"kwh": 350.0}}), END)
    flag = o.one("ARITHMETIC")
    assert (flag["period"], flag["mp_key"], flag["meter_no"], flag["customer_no"]) == (END, "MP1", "M-MP1", "C-MP1")
    assert (flag["team"], flag["reader"], flag["segment_no"]) == ("T1", "R1", "S1")
    assert (flag["delivery_id"], flag["sheet"], flag["source_row"]) == (f"D-{END}", "Sheet1", 12)
    assert set(o.flags.columns) >= {"rule_id", "severity", "observed", "expected", "ratio", "history_months",
                                    "evidence"}


# -- REG_DECREASE / ROLLOVER / FALSE_ROLLOVER ------------------------------------------------------------

def test_a_register_wrapping_at_its_top_with_plausible_use_is_a_rollover() -> None:
    # 6 integer digits: the register turns over at 1,000,000; the last reading before the wrap is ~999,880
    rows = chain([*HIST, 311.4, 305.0], end=shift(END, 1), start_read=1_000_000 - sum(HIST) - 120.6)
    wrap = rows[-2]
    assert wrap["this_read"] < wrap["last_read"] >= 0.9 * 1_000_000
    o = evaluate(rows, END)
    flag = o.one("ROLLOVER")
    assert flag["severity"] == cfg()["rules"]["ROLLOVER"]["severity"] == "warn"
    ev = flag["evidence"]
    assert ev["wrapped_use_kwh"] == pytest.approx(311.4, abs=0.01)
    assert ev["register_top"] == 1_000_000
    assert (ev["last_read"], ev["this_read"]) == (wrap["last_read"], wrap["this_read"])
    assert ev["billed_kwh"] == pytest.approx(311.4, abs=0.01)
    assert ev["expected_kwh"] == pytest.approx(300, rel=0.1)
    assert flag["observed"] == pytest.approx(311.4, abs=0.01)
    assert flag["ratio"] == pytest.approx(flag["observed"] / flag["expected"])
    assert o.ctx()["use_kwh"] == pytest.approx(311.4, abs=0.01)
    no_flag(o, "REG_DECREASE", "FALSE_ROLLOVER", "ARITHMETIC", *AMOUNT_RULES, "DIGIT_SLIP")
    # the month after: an ordinary reading, judged on a history that counts the wrapped month
    after = evaluate(rows, shift(END, 1))
    assert after.flags.height == 0, after.flags
    assert after.ctx()["history_months"] == o.ctx()["history_months"] + 1


def test_a_small_register_with_a_multiplier_wraps_at_its_own_top() -> None:
    # 4 digits × 50: the wrap is (本次 − 上次 + 10^4) × 50
    uses = noisy(6_000.0, 12)
    rows = chain(uses, end=END, digits=4, multiplier=50.0, customer_class="LV_NONRES",
                 start_read=10_000 - sum(uses[:11]) / 50 - 20)
    o = evaluate(rows, END)
    ev = o.one("ROLLOVER")["evidence"]
    last, this = rows[-1]["last_read"], rows[-1]["this_read"]
    assert ev["register_top"] == 10_000
    assert ev["wrapped_use_kwh"] == pytest.approx((this - last + 10_000) * 50, abs=0.01)
    no_flag(o, "REG_DECREASE", "FALSE_ROLLOVER", "ARITHMETIC", "MULTIPLIER_SHIFT")


@functools.cache
def decreases() -> Outcome:
    hist = noisy(300.0, 11)
    negative = at_reading(12_245.0)
    negative[-1]["kwh"] = -100.0
    return evaluate(together({
        "MID": at_reading(502_299.4, last_read=503_299.4),   # 1,000 kWh back; the system billed 999,000 kWh
        "NEAR_TOP": chain([*hist, 300.0], end=END, start_read=953_299.4 - sum(hist), at={-1: {"this_read": 100.0}}),
        "NEGATIVE": negative,                                  # 100 kWh back, billed as −100 kWh
        "INCREASE": point(310.0),
    }), END)


def test_a_decrease_from_mid_register_billed_as_a_wrap_is_a_false_rollover() -> None:
    o = decreases()
    dec = o.one("REG_DECREASE", "MID")
    assert dec["severity"] == "fail"
    assert dec["evidence"]["decrease"] == pytest.approx(1_000)
    assert dec["evidence"]["wrapped_kwh"] == pytest.approx(999_000)
    assert dec["evidence"]["register_top"] == 1_000_000
    assert dec["evidence"]["expected_kwh"] == pytest.approx(300, rel=0.1)
    false = o.one("FALSE_ROLLOVER", "MID")
    assert false["severity"] == "fail"
    assert false["evidence"]["billed_kwh"] == pytest.approx(999_000)
    assert false["ratio"] > 1_000
    assert o.ctx("MID")["use_kwh"] is None and not o.ctx("MID")["prev_suspect"]
    no_flag(o, "ROLLOVER", "ARITHMETIC", mp_key="MID")


def test_a_missed_read_billed_as_a_wrap_is_a_false_rollover_whatever_its_status() -> None:
    # the real SG186 export (product brief §2): 未抄 (code 89) rows with 本次 < 上次, billed ~10^6 kWh
    rows = [reading(END, 5_353.0, 2_964.0, kwh=997_611.0, status="MISSED", digits=6, digits_dec=0)]
    o = evaluate(rows, END)
    false = o.one("FALSE_ROLLOVER", "MP1")
    assert false["severity"] == "fail" and false["evidence"]["read_status"] == "MISSED"
    assert false["evidence"]["billed_kwh"] == pytest.approx(997_611.0)
    no_flag(o, "REG_DECREASE", "ROLLOVER", "ARITHMETIC", mp_key="MP1")


def test_a_wrap_near_the_top_far_above_expected_is_no_rollover() -> None:
    o = decreases()                          # wrapped: 46,800 kWh against ~300 expected
    assert o.ctx("NEAR_TOP")["wrapped_kwh"] == pytest.approx(46_800.6)
    assert o.one("REG_DECREASE", "NEAR_TOP")["severity"] == "fail"
    assert o.one("FALSE_ROLLOVER", "NEAR_TOP")["evidence"]["billed_kwh"] == pytest.approx(46_800.6)
    no_flag(o, "ROLLOVER", mp_key="NEAR_TOP")


def test_a_decrease_billed_as_negative_use_is_a_decrease_but_no_false_rollover() -> None:
    o = decreases()
    assert o.one("REG_DECREASE", "NEGATIVE")["evidence"]["decrease"] == pytest.approx(100)
    no_flag(o, "FALSE_ROLLOVER", "ROLLOVER", "ARITHMETIC", mp_key="NEGATIVE")


def test_an_ordinary_increase_is_no_decrease_rule() -> None:
    no_flag(decreases(), *DECREASE_RULES, mp_key="INCREASE")


def test_without_history_a_wrap_is_judged_against_the_capacity_cap() -> None:
    # two readings: no expected use; 10 kW × 24 h × ~30 days × 1.2 ≈ 8,800 kWh is the most it could draw
    def wrap(this_read: float) -> Outcome:
        rows = [reading("2026-05", 998_000.0, 999_700.0, contract_capacity=10.0, customer_class="LV_NONRES"),
                reading(END, 999_700.0, this_read, contract_capacity=10.0, customer_class="LV_NONRES")]
        return evaluate(rows, END)

    ok = wrap(300.0)
    assert ok.ctx()["expected_kwh"] is None
    assert ok.one("ROLLOVER")["evidence"]["wrapped_use_kwh"] == pytest.approx(600)
    no_flag(ok, "REG_DECREASE", "FALSE_ROLLOVER")
    too_much = wrap(40_000.0)                # wrapped 40,300 kWh: above the cap
    assert too_much.one("REG_DECREASE")["severity"] == "fail"
    no_flag(too_much, "ROLLOVER")


# -- meter replacement --------------------------------------------------------------------------------

@functools.cache
def meter_changes() -> Outcome:
    new = {"meter_no": "M-NEW", "this_read": 150.0}
    return evaluate(together({
        "FROM_ZERO": point(150.0, start_read=45_000.0, at={-1: {**new, "last_read": 0.0}}),
        "FROM_OLD": point(150.0, start_read=45_000.0, at={-1: {**new, "kwh": 150.0}}),
        "BILLED_WRAP": point(150.0, start_read=45_000.0, at={-1: new}),
    }), END)


def test_a_new_meter_restarting_near_zero_is_no_decrease() -> None:
    # the export's 上次 is the new meter's initial reading
    o = meter_changes()
    ctx = o.ctx("FROM_ZERO")
    assert ctx["meter_changed"] is True and ctx["meter_no"].endswith("M-NEW")
    assert ctx["use_kwh"] == pytest.approx(150)
    # a partial period on a new register: not judged against the old meter's use
    no_flag(o, *DECREASE_RULES, *AMOUNT_RULES, "ROBUST_Z", "DIGIT_SLIP", "SUSTAINED_DROP", mp_key="FROM_ZERO")


def test_a_new_meter_with_the_old_meters_last_reading_as_previous_is_no_decrease() -> None:
    # 上次 = the old meter's last reading (~48,300), 本次 = the new meter's 150; billed as 150 kWh
    o = meter_changes()
    ctx = o.ctx("FROM_OLD")
    assert ctx["meter_changed"] is True
    assert ctx["use_kwh"] is None             # the new meter's use since it was fitted is unknown
    no_flag(o, *DECREASE_RULES, *AMOUNT_RULES, "DIGIT_SLIP", mp_key="FROM_OLD")


def test_a_meter_change_billed_as_a_wrap_is_a_false_rollover_not_a_decrease() -> None:
    o = meter_changes()                       # the system billed ~951,850 kWh: that bill is wrong
    false = o.one("FALSE_ROLLOVER", "BILLED_WRAP")
    assert false["evidence"]["meter_changed"] is True
    assert false["evidence"]["billed_kwh"] > 900_000
    no_flag(o, "REG_DECREASE", "ROLLOVER", mp_key="BILLED_WRAP")


def test_the_month_after_a_meter_change_is_judged_on_the_points_history() -> None:
    rows = chain([*HIST, 150.0, 305.0], end=shift(END, 1), start_read=45_000.0,
                 at={-2: {"meter_no": "M-NEW", "this_read": 150.0, "kwh": 150.0},
                     -1: {"meter_no": "M-NEW", "this_read": 455.0}})
    o = evaluate(rows, shift(END, 1))
    ctx = o.ctx()
    assert ctx["meter_changed"] is False
    assert ctx["use_kwh"] == pytest.approx(305)
    assert ctx["expected_kwh"] == pytest.approx(300, rel=0.1)
    assert ctx["history_months"] == 11       # the change month is no evidence of normal use
    assert o.flags.height == 0, o.flags


# -- ZERO_ACTIVE and vacancy ------------------------------------------------------------------------

def test_a_residential_vacancy_warns_at_the_third_zero_and_never_fails() -> None:
    need = cfg()["rules"]["ZERO_ACTIVE"]["cycles"]["LV_RES"]
    assert need == 3
    # ZEROk: the k-th zero month of a vacancy is END; BACK: END is the return after four zero months
    cases = {f"ZERO{k}": chain([*HIST, *[0.0] * k], end=END) for k in (1, 2, 3, 4)}
    cases["BACK"] = chain([*HIST, 0.0, 0.0, 0.0, 0.0, 310.0], end=END)
    o = evaluate(together(cases), END)
    for k in (1, 2):
        assert o.ctx(f"ZERO{k}")["zero_cycles"] == k
        assert o.of(mp_key=f"ZERO{k}").height == 0, o.flags
    for k in (3, 4):
        flag = o.one("ZERO_ACTIVE", f"ZERO{k}")
        assert flag["severity"] == "warn"
        assert flag["evidence"]["zero_cycles"] == k
        assert flag["evidence"]["required_cycles"] == need
        assert flag["evidence"]["customer_class"] == "LV_RES"
        assert flag["evidence"]["expected_kwh"] == pytest.approx(300, rel=0.1)
        assert set(o.of(mp_key=f"ZERO{k}")["severity"]) == {"warn"}, o.flags
    assert o.ctx("BACK")["expected_kwh"] == pytest.approx(300, rel=0.1)   # an ordinary month again
    assert o.of(mp_key="BACK").height == 0, o.flags


def test_a_long_vacancy_is_not_expected_use_when_it_ends() -> None:
    rows = chain([*noisy(300.0, 14), *[0.0] * 8, 300.0], end=END)
    o = evaluate(rows, END)
    assert o.ctx()["expected_kwh"] == pytest.approx(300, rel=0.1)
    no_flag(o, "VERY_HIGH", "HIGH", "ROBUST_Z", "CAPACITY", "REPEATED_USE")
    assert "fail" not in set(o.flags["severity"])


def test_a_non_residential_manual_zero_fires_at_once() -> None:
    o = evaluate(point(0.0, customer_class="LV_NONRES"), END)
    flag = o.one("ZERO_ACTIVE")
    assert flag["evidence"]["zero_cycles"] == 1 and flag["evidence"]["required_cycles"] == 1
    assert flag["evidence"]["read_mode"] == "MANUAL"
    assert flag["severity"] == "warn"


def test_the_same_zero_read_remotely_needs_three_cycles() -> None:
    o = evaluate(together({f"ZERO{k}": chain([*HIST, *[0.0] * k], end=END, customer_class="LV_NONRES",
                                             read_mode="REMOTE") for k in (1, 2, 3)}), END)
    for k in (1, 2):
        no_flag(o, "ZERO_ACTIVE", mp_key=f"ZERO{k}")
    flag = o.one("ZERO_ACTIVE", "ZERO3")
    assert flag["evidence"]["required_cycles"] == cfg()["rules"]["ZERO_ACTIVE"]["remote_cycles"] == 3
    assert flag["evidence"]["read_mode"] == "REMOTE"


def test_a_missed_month_neither_counts_nor_breaks_a_zero_run_and_is_never_a_zero() -> None:
    o = evaluate(together({
        "MISSED": chain([*HIST, 0.0, 0.0, None], end=END),    # 未抄: 本次 = 上次, 0 kWh; missed, not a zero read
        "AFTER": chain([*HIST, 0.0, 0.0, None, 0.0], end=END),
    }), END)
    no_flag(o, "ZERO_ACTIVE", mp_key="MISSED")
    assert o.ctx("AFTER")["zero_cycles"] == 3
    assert o.one("ZERO_ACTIVE", "AFTER")["evidence"]["zero_cycles"] == 3


def test_a_positive_use_is_no_zero() -> None:
    no_flag(evaluate(point(5.0, customer_class="LV_NONRES"), END), "ZERO_ACTIVE")


# -- seasonal peak --------------------------------------------------------------------------------------

def summer_class(points: int) -> list[Row]:
    """`points` residential points read Sep 2025 – Jul 2026, each using 2.5× its level in June and July."""
    rows: list[Row] = []
    for k in range(points):
        uses = noisy(200.0 + 10 * k, 11, phase=k)
        rows += chain([u * 2.5 if i >= 9 else u for i, u in enumerate(uses)], end="2026-07", mp_key=f"P{k:02d}",
                      start_read=5_000.0 + 100 * k)
    return rows


def test_a_seasonal_peak_the_class_shows_is_not_high() -> None:
    n = cfg()["history"]["season_min_points"]
    o = evaluate(summer_class(n), "2026-07")
    ctx = o.ctx("P00")
    assert ctx["season_index"] == pytest.approx(2.5, rel=0.1)
    assert ctx["expected_kwh"] == pytest.approx(ctx["use_kwh"], rel=0.15)
    assert not o.of("HIGH").height and not o.of("VERY_HIGH").height and not o.of("ROBUST_Z").height, o.flags


def test_with_fewer_points_than_season_min_points_the_peak_is_not_learned() -> None:
    n = cfg()["history"]["season_min_points"]
    o = evaluate(summer_class(n - 1), "2026-07")
    assert o.ctx("P00")["season_index"] == 1.0
    flag = o.one("HIGH", "P00")
    assert flag["evidence"]["season_index"] == 1.0
    assert flag["ratio"] == pytest.approx(2.5, rel=0.1)


def test_lowering_season_min_points_lets_a_small_class_learn_its_peak() -> None:
    config = changed(cfg(), "history.season_min_points", 10)
    o = evaluate(summer_class(12), "2026-07", config)
    assert o.ctx("P00")["season_index"] == pytest.approx(2.5, rel=0.1)
    assert not o.of("HIGH").height, o.flags
    assert evaluate(summer_class(12), "2026-07").of("HIGH").height > 0


# -- read cycles ------------------------------------------------------------------------------------

def test_a_point_read_every_four_months_is_judged_per_day() -> None:
    rows = chain(noisy(1_200.0, 7), end=END, every=4, read_day=10, plan_day=10)
    o = evaluate(rows, END)
    ctx = o.ctx()
    assert ctx["cycle_months"] == 4
    assert 118 <= ctx["period_days"] <= 124
    assert ctx["expected_kwh"] == pytest.approx(1_200, rel=0.1)
    assert o.flags.height == 0, o.flags          # no HIGH/LOW for a 4-month use, no READ_DATE for 120 days
    # ... and it is still judged: a doubled use per day is HIGH
    high = evaluate(chain([*noisy(1_200.0, 6), 2_700.0], end=END, every=4, read_day=10, plan_day=10), END)
    flag = high.one("HIGH")
    assert flag["evidence"]["period_days"] == ctx["period_days"]
    assert flag["ratio"] == pytest.approx(2.7 / 1.2, rel=0.1)


def test_a_four_monthly_point_whose_other_months_are_missed_rows_is_the_same() -> None:
    uses: list[float | None] = []
    for u in noisy(1_200.0, 7):
        uses += [None, None, None, u]
    o = evaluate(chain(uses[3:], end=END), END)
    assert o.ctx()["cycle_months"] == 4
    assert o.ctx()["expected_kwh"] == pytest.approx(1_200, rel=0.1)
    assert o.flags.height == 0, o.flags


def test_a_monthly_point_after_a_four_month_gap_is_not_judged_per_day() -> None:
    for use in (1_240.0, 3_000.0):
        rows = chain([*noisy(300.0, 14), None, None, None, use], end=END, read_day=10, plan_day=10)
        o = evaluate(rows, END)
        ctx = o.ctx()
        assert ctx["cycle_months"] == 4 and ctx["history_months"] == 14
        assert ctx["expected_kwh"] is None and ctx["robust_z"] is None
        no_flag(o, *AMOUNT_RULES, "ROBUST_Z", "DIGIT_SLIP", "READ_DATE", "REG_DECREASE")


# -- HIGH / LOW / VERY_HIGH / VERY_LOW -----------------------------------------------------------------

@functools.cache
def amounts() -> tuple[dict[str, float], dict[str, Any], Outcome]:
    """Uses placed between the configured bands and factors around the ordinary point's expected use."""
    p = probe()
    e, rules = p["expected_kwh"], cfg()["rules"]
    uses = {
        "HIGH": (p["band_high"] + rules["VERY_HIGH"]["factor"] * e) / 2,
        "VERY_HIGH": rules["VERY_HIGH"]["factor"] * e * 1.1,
        "LOW": (p["band_low"] + rules["VERY_LOW"]["factor"] * e) / 2,
        "VERY_LOW": rules["VERY_LOW"]["factor"] * e * 0.8,
        "UPPER": p["band_high"] * 0.97,
        "LOWER": p["band_low"] * 1.03,
        "EXPECTED": e,
    }
    return uses, p, evaluate(together({key: point(use) for key, use in uses.items()}), END)


def test_high_between_the_band_and_very_high() -> None:
    uses, p, o = amounts()
    flag = o.one("HIGH", "HIGH")
    assert flag["severity"] == "warn"
    assert flag["expected"] == pytest.approx(p["expected_kwh"])
    assert flag["ratio"] == pytest.approx(uses["HIGH"] / p["expected_kwh"])
    assert flag["history_months"] == 11
    ev = flag["evidence"]
    assert ev["use_kwh"] == pytest.approx(uses["HIGH"], abs=0.01)
    assert ev["band_high"] == pytest.approx(p["band_high"], abs=0.01)
    assert ev["expected_kwh"] == pytest.approx(p["expected_kwh"], abs=0.01)
    assert ev["expected_trailing_per_day"] > 0 and ev["season_index"] == 1.0 and ev["period_days"] == 31
    no_flag(o, "VERY_HIGH", "LOW", "VERY_LOW", mp_key="HIGH")


def test_very_high_at_the_factor_replaces_high() -> None:
    uses, p, o = amounts()
    flag = o.one("VERY_HIGH", "VERY_HIGH")
    assert flag["severity"] == "fail"
    assert flag["ratio"] == pytest.approx(uses["VERY_HIGH"] / p["expected_kwh"])
    assert flag["evidence"]["factor"] == cfg()["rules"]["VERY_HIGH"]["factor"]
    assert flag["evidence"]["expected_kwh"] == pytest.approx(p["expected_kwh"], abs=0.01)
    no_flag(o, "HIGH", mp_key="VERY_HIGH")


def test_low_between_very_low_and_the_band() -> None:
    uses, p, o = amounts()
    flag = o.one("LOW", "LOW")
    assert flag["severity"] == "warn"
    assert flag["evidence"]["band_low"] == pytest.approx(p["band_low"], abs=0.01)
    assert flag["ratio"] == pytest.approx(uses["LOW"] / p["expected_kwh"])
    no_flag(o, "VERY_LOW", "HIGH", "VERY_HIGH", mp_key="LOW")


def test_very_low_at_the_factor_replaces_low() -> None:
    uses, p, o = amounts()
    flag = o.one("VERY_LOW", "VERY_LOW")
    assert flag["severity"] == "fail"
    assert flag["ratio"] == pytest.approx(uses["VERY_LOW"] / p["expected_kwh"])
    no_flag(o, "LOW", mp_key="VERY_LOW")


def test_use_inside_the_band_is_neither_high_nor_low() -> None:
    _, _, o = amounts()
    for key in ("UPPER", "LOWER", "EXPECTED"):
        no_flag(o, *AMOUNT_RULES, mp_key=key)


def test_the_absolute_floor_keeps_a_small_user_from_high() -> None:
    small = noisy(20.0, 11)
    p = probe(hist=small)
    floor = cfg()["rules"]["HIGH"]["floor_kwh"]
    assert p["band_high"] == pytest.approx(p["expected_kwh"] + floor)   # the floor, not the share, binds
    o = evaluate(together({"UNDER": point(p["expected_kwh"] + 0.8 * floor, hist=small),
                           "OVER": point(p["expected_kwh"] + 1.2 * floor, hist=small)}), END)
    no_flag(o, *AMOUNT_RULES, mp_key="UNDER")
    assert o.rules("OVER") & {"HIGH", "VERY_HIGH"}


def test_without_enough_history_there_is_no_expected_use() -> None:
    few = cfg()["history"]["min_history_months"] - 1
    o = evaluate(point(3_000.0, hist=noisy(300.0, few)), END)
    assert o.ctx()["expected_kwh"] is None
    no_flag(o, *AMOUNT_RULES, "ROBUST_Z", "DIGIT_SLIP")


# -- ROBUST_Z ----------------------------------------------------------------------------------------

def test_robust_z_on_a_long_tight_history() -> None:
    hist = noisy(300.0, 17)
    p = probe(hist=hist)
    use = (p["expected_kwh"] + p["band_high"]) / 2   # inside the HIGH band, far outside a ±5 % history
    o = evaluate(point(use, hist=hist), END)
    flag = o.one("ROBUST_Z")
    rz = cfg()["rules"]["ROBUST_Z"]
    assert flag["severity"] == "warn"
    assert flag["evidence"]["z"] > rz["threshold"]
    assert flag["evidence"]["months"] == flag["history_months"] == 17
    assert flag["evidence"]["median_per_day"] == pytest.approx(300 / 30.5, rel=0.05)
    assert flag["expected"] == pytest.approx(300, rel=0.1)
    assert flag["ratio"] == pytest.approx(use / flag["expected"])
    no_flag(o, "HIGH")


def test_robust_z_needs_min_months_and_the_floor() -> None:
    short = noisy(300.0, cfg()["rules"]["ROBUST_Z"]["min_months"] - 2)
    o = evaluate(together({
        "SHORT": point(450.0, hist=short),
        "TINY": point(30.0, hist=noisy(20.0, 17)),     # z is large, but 10 kWh off is below the floor
        "CLOSE": point(320.0, hist=noisy(300.0, 17)),
    }), END)
    assert o.ctx("TINY")["robust_z"] > cfg()["rules"]["ROBUST_Z"]["threshold"]
    for key in ("SHORT", "TINY", "CLOSE"):
        no_flag(o, "ROBUST_Z", mp_key=key)


def test_raising_the_robust_z_threshold_removes_the_flag() -> None:
    rows = point(450.0, hist=noisy(300.0, 17))
    assert evaluate(rows, END).of("ROBUST_Z").height == 1
    assert evaluate(rows, END, changed(cfg(), "rules.ROBUST_Z.threshold", 1_000.0)).of("ROBUST_Z").height == 0


# -- CAPACITY ----------------------------------------------------------------------------------------

def test_capacity_is_contract_capacity_times_hours_times_the_factor() -> None:
    factor = cfg()["rules"]["CAPACITY"]["factor"]
    limit = 10.0 * 24 * 31 * factor                  # read on the 1st: May 1 – June 1 is 31 days

    def at(use: float, **kw: Any) -> list[Row]:
        return point(use, hist=noisy(7_000.0, 11), customer_class="LV_NONRES", read_day=1, **kw)

    o = evaluate(together({"OVER": at(limit * 1.05, contract_capacity=10.0),
                           "UNDER": at(limit * 0.95, contract_capacity=10.0),
                           "UNKNOWN": at(limit * 1.05)}), END)
    flag = o.one("CAPACITY", "OVER")
    assert flag["severity"] == "fail"
    ev = flag["evidence"]
    assert ev["limit_kwh"] == pytest.approx(limit, abs=0.01)
    assert ev["hours"] == 744 and ev["contract_capacity"] == 10.0 and ev["factor"] == factor
    assert flag["ratio"] == pytest.approx(1.05, abs=0.001)
    no_flag(o, "CAPACITY", mp_key="UNDER")
    no_flag(o, "CAPACITY", mp_key="UNKNOWN")          # no contract capacity known: nothing to compare


# -- REPEATED_USE -----------------------------------------------------------------------------------

def test_the_same_use_three_periods_running_is_a_possible_estimate() -> None:
    o = evaluate(point(305.0, hist=[*noisy(300.0, 9), 305.0, 305.0]), END)
    flag = o.one("REPEATED_USE")
    assert flag["severity"] == "warn"
    ev = flag["evidence"]
    assert (ev["use_kwh"], ev["previous_kwh"], ev["before_kwh"]) == (305.0, 305.0, 305.0)
    assert ev["basis"] == "per period"


def test_the_same_use_per_day_over_periods_of_different_length_is_repeated_use() -> None:
    dates = {-4: date(2026, 3, 1), -3: date(2026, 4, 1), -2: date(2026, 5, 1), -1: date(2026, 5, 30)}
    rows = point(290.0, hist=[*noisy(300.0, 8), 310.0, 300.0], at={k: {"read_date": d} for k, d in dates.items()})
    ev = evaluate(rows, END).one("REPEATED_USE")["evidence"]
    assert ev["basis"] == "per day"
    assert (ev["days"], ev["previous_days"], ev["before_days"]) == (29, 30, 31)


def test_use_that_varies_is_no_repeated_use() -> None:
    o = evaluate(point(305.0, hist=[*noisy(300.0, 9), 305.0, 320.0]), END)
    no_flag(o, "REPEATED_USE")


# -- CONSEC_ESTIMATES -------------------------------------------------------------------------------

def test_consecutive_estimates_warn_at_two_and_fail_at_three() -> None:
    runs = {"ONE": ((-1,), None), "TWO": ((-2, -1), "warn"), "THREE": ((-3, -2, -1), "fail")}
    o = evaluate(together({key: point(300.0, status={k: "ESTIMATED" for k in est}) for key, (est, _) in runs.items()}),
                 END)
    for key, (estimated, severity) in runs.items():
        assert o.ctx(key)["estimate_cycles"] == len(estimated)
        if severity is None:
            no_flag(o, "CONSEC_ESTIMATES", mp_key=key)
        else:
            flag = o.one("CONSEC_ESTIMATES", key)
            assert flag["severity"] == severity
            assert flag["evidence"]["consecutive_estimates"] == len(estimated)


def test_a_missed_month_between_estimates_does_not_break_the_run() -> None:
    rows = chain([*HIST, None, 300.0], end=shift(END, 1), status={-3: "ESTIMATED", -1: "ESTIMATED"})
    flag = evaluate(rows, shift(END, 1)).one("CONSEC_ESTIMATES")
    assert flag["severity"] == "warn" and flag["evidence"]["consecutive_estimates"] == 2


def test_a_read_between_estimates_breaks_the_run() -> None:
    o = evaluate(point(300.0, status={-3: "ESTIMATED", -1: "ESTIMATED"}), END)
    no_flag(o, "CONSEC_ESTIMATES")


# -- SUSTAINED_DROP ---------------------------------------------------------------------------------

def drop_to(share: float, from_index: int = 16, months: int = 20) -> list[Row]:
    """A point whose use falls to `share` of its level from the `from_index`-th of its months."""
    uses = noisy(300.0, months)
    return chain([u * share if i >= from_index else u for i, u in enumerate(uses)], end="2026-08")


def test_a_drop_to_40_percent_names_its_start_month() -> None:
    rows = drop_to(0.4)
    start = rows[16]["period"]
    assert start == "2026-05"
    for month in ("2026-06", "2026-08"):
        flag = evaluate(rows, month).one("SUSTAINED_DROP")
        ev = flag["evidence"]
        assert flag["severity"] == "warn"
        assert abs(_months_between(ev["start_month"], start)) <= 1
        assert ev["drop_ratio"] == pytest.approx(0.4, abs=0.1)
        assert ev["months_since_start"] == _months_between(month, ev["start_month"]) + 1
        assert flag["ratio"] == pytest.approx(ev["drop_ratio"], abs=0.001)


def _months_between(a: str, b: str) -> int:
    return (int(a[:4]) - int(b[:4])) * 12 + int(a[5:7]) - int(b[5:7])


@functools.cache
def no_drops() -> Outcome:
    return evaluate(together({"STEADY": drop_to(1.0), "SHALLOW": drop_to(0.8),
                              "ONE_MONTH": drop_to(0.4, from_index=19)}), "2026-08")


def test_no_sustained_drop_on_steady_use_or_a_shallow_drop() -> None:
    for key in ("STEADY", "SHALLOW"):
        no_flag(no_drops(), "SUSTAINED_DROP", mp_key=key)


def test_a_single_low_month_is_no_sustained_drop() -> None:
    # 19 months at ~300 kWh, then one at 40 %: LOW (and ROBUST_Z) are this month's; nothing has been sustained
    o = no_drops()
    assert o.rules("ONE_MONTH") & {"LOW", "VERY_LOW"}
    no_flag(o, "SUSTAINED_DROP", mp_key="ONE_MONTH")


# -- DIGIT_SLIP -------------------------------------------------------------------------------------

@functools.cache
def keyed() -> Outcome:
    """上次 12,345 and the true 本次 12,645 (300 kWh), keyed in several ways."""
    return evaluate(together({
        "TRANSPOSITION": at_reading(12_465.0),     # tens and hundreds swapped
        "SLIP": at_reading(13_645.0),              # the thousands digit one up
        "SHIFT": at_reading(126_450.0),            # an extra digit: ×10 (the intended is the reading ÷ 10)
        "DECIMALS": at_reading(1_264.53),          # 12,645.3 keyed one place short: ÷10 (intended: ×10)
        "SMALL": at_reading(12_654.0),             # units and tens swapped: 309 kWh, inside the band
        "GENUINE": at_reading(10_700.0, last_read=10_000.0),   # 700 kWh: no keying variant gives ~300
    }), END)


@pytest.mark.parametrize(("key", "typed", "kind", "position"), [
    ("TRANSPOSITION", 12_465.0, "transposition", 1),
    ("SLIP", 13_645.0, "slip", 3),
    ("SHIFT", 126_450.0, "shift", -1),
])
def test_a_keying_error_names_its_kind_and_the_intended_reading(key: str, typed: float, kind: str,
                                                                position: int) -> None:
    flag = keyed().one("DIGIT_SLIP", key)
    assert flag["severity"] == "warn"
    ev = flag["evidence"]
    assert (ev["kind"], ev["position"]) == (kind, position)
    assert ev["intended_reading"] == 12_645.0 and flag["expected"] == 12_645.0
    assert ev["reading"] == typed and flag["observed"] == typed
    assert ev["intended_use_kwh"] == pytest.approx(300)
    assert ev["expected_kwh"] == pytest.approx(300, rel=0.1)
    assert ev["z"] >= cfg()["rules"]["DIGIT_SLIP"]["implausible_z"] > cfg()["rules"]["DIGIT_SLIP"]["plausible_z"]
    assert ev["intended_z"] <= cfg()["rules"]["DIGIT_SLIP"]["plausible_z"]


def test_a_reading_keyed_one_place_short_is_a_shift_of_the_whole_reading() -> None:
    o = keyed()
    ev = o.one("DIGIT_SLIP", "DECIMALS")["evidence"]
    assert ev["kind"] == "shift" and ev["position"] == 1
    assert ev["intended_reading"] == pytest.approx(12_645.3)      # 1,264.53 × 10, decimals shifted too
    assert ev["intended_use_kwh"] == pytest.approx(300.3)
    assert o.one("REG_DECREASE", "DECIMALS")["severity"] == "fail"


def test_a_genuinely_high_use_with_no_plausible_variant_is_no_digit_slip() -> None:
    o = keyed()
    assert o.ctx("GENUINE")["use_kwh"] == pytest.approx(700)
    assert o.rules("GENUINE") & {"HIGH", "VERY_HIGH"}
    no_flag(o, "DIGIT_SLIP", mp_key="GENUINE")


def test_a_small_keying_error_inside_the_band_is_not_judged() -> None:
    no_flag(keyed(), "DIGIT_SLIP", mp_key="SMALL")


# -- READ_DATE ---------------------------------------------------------------------------------------

def dated(read_date: date, *, plan_day: int | None = 10, read_day: int = 10) -> list[Row]:
    return point(300.0, read_day=read_day, plan_day=plan_day, at={-1: {"read_date": read_date}})


def test_a_read_off_the_plan_day() -> None:
    off = cfg()["rules"]["READ_DATE"]["max_plan_offset_days"]
    o = evaluate(together({"LATE": dated(date(2026, 6, 10 + off + 1)), "NEAR": dated(date(2026, 6, 10 + off - 1)),
                           "EARLY": dated(date(2026, 6, 10 - off + 1))}), END)
    ev = o.one("READ_DATE", "LATE")["evidence"]
    assert ev["reasons"] == ["off plan day"]
    assert ev["plan_date"] == "2026-06-10" and ev["read_date"] == f"2026-06-{10 + off + 1}"
    assert ev["offset_days"] == off + 1
    no_flag(o, "READ_DATE", mp_key="NEAR")
    no_flag(o, "READ_DATE", mp_key="EARLY")


def test_a_read_date_in_the_future() -> None:
    rows = dated(date(2026, 6, 20), plan_day=20, read_day=20)
    ev = evaluate(rows, END, today=date(2026, 6, 12)).one("READ_DATE")["evidence"]
    assert ev["reasons"] == ["in the future"]
    no_flag(evaluate(rows, END, today=date(2026, 6, 20)), "READ_DATE")


def test_a_read_date_before_the_previous_read() -> None:
    o = evaluate(dated(date(2026, 5, 18), plan_day=None, read_day=20), END)
    ev = o.one("READ_DATE")["evidence"]
    assert "before the previous read" in ev["reasons"]
    assert ev["previous_read_date"] == "2026-05-20" and ev["read_date"] == "2026-05-18"


def test_a_read_period_too_long_for_its_cycle() -> None:
    o = evaluate(together({"LONG": dated(date(2026, 6, 29), plan_day=None, read_day=20),
                           "FINE": dated(date(2026, 6, 22), plan_day=None, read_day=20)}), END)
    ev = o.one("READ_DATE", "LONG")["evidence"]
    assert ev["reasons"] == ["read period length"]
    assert ev["period_days"] == 40 and ev["cycle_months"] == 1
    no_flag(o, "READ_DATE", mp_key="FINE")


def test_without_a_plan_day_the_evidence_names_no_plan_date() -> None:
    # no 例日 known: nothing to be off; the evidence must not invent one (e.g. the month's last day)
    ev = evaluate(dated(date(2026, 5, 18), plan_day=None, read_day=20), END).one("READ_DATE")["evidence"]
    assert ev["plan_date"] is None and ev["offset_days"] is None, ev


def test_no_read_date_no_read_date_flag() -> None:
    no_flag(evaluate(point(300.0, plan_day=10), END), "READ_DATE")


# -- DUPLICATE ---------------------------------------------------------------------------------------

def test_two_differing_copies_in_force_warn_and_an_exact_repeat_dropped_is_info() -> None:
    rows = point(300.0, at={-1: {"copies": 2, "copies_differ": True}})
    twin = {**rows[-1], "this_read": rows[-1]["this_read"] + 50, "kwh": rows[-1]["kwh"] + 50, "source_row": 99}
    o = evaluate([*rows, twin], END)
    flags = o.of("DUPLICATE")
    assert flags.height == 2 and set(flags["severity"]) == {"warn"}
    assert set(flags["source_row"]) == {12, 99}
    for ev in map(json.loads, flags["evidence"]):
        assert ev["copies_in_force"] == 2 and ev["values_differ"] is True
    dropped = evaluate(point(300.0, at={-1: {"repeats_dropped": 1}}), END).one("DUPLICATE")
    assert dropped["severity"] == cfg()["rules"]["DUPLICATE"]["repeat_severity"] == "info"
    assert dropped["evidence"]["exact_repeats_dropped"] == 1 and dropped["evidence"]["copies_in_force"] == 1
    no_flag(evaluate(point(300.0), END), "DUPLICATE")


# -- ARITHMETIC ----------------------------------------------------------------------------------------

def test_billed_use_that_is_not_the_register_advance_is_an_arithmetic_error() -> None:
    o = evaluate(point(300.0, at={-1: {"kwh": 350.0}}), END)
    flag = o.one("ARITHMETIC")
    assert flag["severity"] == "fail"
    ev = flag["evidence"]
    assert ev["billed_kwh"] == 350.0
    assert ev["computed_kwh"] == pytest.approx(300)
    assert ev["difference_kwh"] == pytest.approx(50)
    assert ev["multiplier"] == 1.0
    assert flag["ratio"] == pytest.approx(350 / 300)
    no_flag(o, "MULTIPLIER_SHIFT", *DECREASE_RULES)


def test_billed_use_within_the_tolerance_is_no_arithmetic_error() -> None:
    tol = cfg()["rules"]["ARITHMETIC"]["tolerance_kwh"]
    o = evaluate(together({"WITHIN": point(300.0, at={-1: {"kwh": 300.0 + 0.6 * tol}}),
                           "BEYOND": point(300.0, at={-1: {"kwh": 300.0 + 2 * tol + 1}})}), END)
    no_flag(o, "ARITHMETIC", mp_key="WITHIN")
    assert o.of("ARITHMETIC", "BEYOND").height == 1


# -- MULTIPLIER_SHIFT -----------------------------------------------------------------------------------

def test_billed_use_thirty_times_the_advance_on_a_multiplier_1_meter() -> None:
    o = evaluate(point(300.0, at={-1: {"kwh": 9_000.0}}), END)
    flag = o.one("MULTIPLIER_SHIFT")
    assert flag["severity"] == "warn"
    ev = flag["evidence"]
    assert ev["implied_multiplier"] == 30.0
    assert ev["reading_multiplier"] == 1.0 and ev["master_multiplier"] == 1.0
    assert ev["billed_kwh"] == 9_000.0 and ev["register_advance"] == pytest.approx(300)
    assert flag["ratio"] == pytest.approx(9_000 / flag["expected"])
    no_flag(o, "ARITHMETIC")                   # the shift is MULTIPLIER_SHIFT's, not an arithmetic error


def test_billed_use_at_multiplier_1_on_a_ct_meter() -> None:
    rows = point(9_000.0, hist=noisy(9_000.0, 11), multiplier=30.0, customer_class="LV_NONRES")
    rows[-1]["kwh"] = round(rows[-1]["this_read"] - rows[-1]["last_read"], 4)
    ev = evaluate(rows, END).one("MULTIPLIER_SHIFT")["evidence"]
    assert ev["implied_multiplier"] == 1.0 and ev["master_multiplier"] == 30.0


def test_a_reading_multiplier_that_differs_from_the_masters() -> None:
    def at(**kw: Any) -> list[Row]:
        return point(9_000.0, hist=noisy(9_000.0, 11), multiplier=30.0, customer_class="LV_NONRES",
                     at={-1: {"reading_multiplier": 40.0, **kw}})

    # billed with 40 (consistently), the master says 30; without a master there is nothing to differ from
    o = evaluate(together({"MASTER": at(), "NO_MASTER": at(master_source="reading")}), END)
    ev = o.one("MULTIPLIER_SHIFT", "MASTER")["evidence"]
    assert ev["reading_multiplier"] == 40.0 and ev["master_multiplier"] == 30.0
    no_flag(o, "ARITHMETIC", mp_key="MASTER")
    no_flag(o, "MULTIPLIER_SHIFT", mp_key="NO_MASTER")


def test_consistent_multipliers_are_no_shift() -> None:
    rows = point(9_000.0, hist=noisy(9_000.0, 11), multiplier=30.0, customer_class="LV_NONRES")
    no_flag(evaluate(rows, END), "MULTIPLIER_SHIFT", "ARITHMETIC")


# -- compensation of a wrong previous reading --------------------------------------------------------

def test_a_misread_times_ten_is_compensated_by_the_next_reading() -> None:
    # N = END: 12,645 keyed as 126,450; N+1: the true 12,945 (a decrease of 113,505 from the misread)
    hist = noisy(300.0, 11)
    rows = chain([*hist, 300.0, 300.0], end=shift(END, 1), start_read=12_345.0 - sum(hist),
                 at={-2: {"this_read": 126_450.0}})
    month_n = evaluate(rows, END)
    assert month_n.one("VERY_HIGH")["severity"] == "fail"
    assert month_n.one("DIGIT_SLIP")["evidence"]["kind"] == "shift"
    after = evaluate(rows, shift(END, 1))
    assert after.ctx()["prev_suspect"] is True and after.ctx()["prev_period"] == END
    flag = after.one("REG_DECREASE")
    assert flag["severity"] == cfg()["compensation"]["severity"] == "info"
    assert flag["evidence"]["compensates_previous"] == END
    assert flag["evidence"]["decrease"] == pytest.approx(113_505)
    assert "fail" not in set(after.of("REG_DECREASE")["severity"])


def test_a_misread_divided_by_ten_is_compensated_by_the_next_reading() -> None:
    hist = noisy(300.0, 11)
    rows = chain([*hist, 300.0, 300.0], end=shift(END, 1), start_read=12_345.0 - sum(hist),
                 at={-2: {"this_read": 1_264.5}})
    assert evaluate(rows, END).one("REG_DECREASE")["severity"] == "fail"
    flag = evaluate(rows, shift(END, 1)).one("VERY_HIGH")      # 1,264.5 → 12,945: 11,680 kWh
    assert flag["severity"] == "info"
    assert flag["evidence"]["compensates_previous"] == END


def test_a_decrease_after_an_ordinary_previous_reading_stays_a_fail() -> None:
    # the previous period's use was in line: the error is this month's (12,645 → 12,545), not last month's
    rows = chain([*HIST, 300.0, 300.0], end=shift(END, 1), start_read=12_345.0 - sum(HIST),
                 at={-1: {"this_read": 12_545.0}})
    o = evaluate(rows, shift(END, 1))
    assert o.ctx()["prev_suspect"] is False
    flag = o.one("REG_DECREASE")
    assert flag["severity"] == "fail" and "compensates_previous" not in flag["evidence"]


def test_taking_a_rule_out_of_compensation_keeps_its_severity() -> None:
    hist = noisy(300.0, 11)
    rows = chain([*hist, 300.0, 300.0], end=shift(END, 1), start_read=12_345.0 - sum(hist),
                 at={-2: {"this_read": 126_450.0}})
    config = copy.deepcopy(cfg())
    config["compensation"]["rules"] = [r for r in config["compensation"]["rules"] if r != "REG_DECREASE"]
    flag = evaluate(rows, shift(END, 1), config).one("REG_DECREASE")
    assert flag["severity"] == "fail" and "compensates_previous" not in flag["evidence"]


# -- configuration: every rule fires somewhere, disabling removes it, retuning moves it -----------------

def scenarios() -> dict[str, list[Row]]:
    """One metering point per rule, each ending in END with a reading that rule must flag."""
    hist = noisy(300.0, 11)
    wrap_start = 1_000_000 - sum(hist) - 120.6
    twin = point(300.0, mp_key="DUPLICATE", at={-1: {"copies": 2, "copies_differ": True}})
    twin.append({**twin[-1], "this_read": twin[-1]["this_read"] + 50, "kwh": twin[-1]["kwh"] + 50,
                 "source_row": 99})
    return {
        "REG_DECREASE": at_reading(12_245.0, mp_key="REG_DECREASE"),
        "ROLLOVER": chain([*hist, 311.4], end=END, start_read=wrap_start, mp_key="ROLLOVER"),
        "FALSE_ROLLOVER": at_reading(502_299.4, last_read=503_299.4, mp_key="FALSE_ROLLOVER"),
        "ARITHMETIC": point(300.0, mp_key="ARITHMETIC", at={-1: {"kwh": 350.0}}),
        "MULTIPLIER_SHIFT": point(300.0, mp_key="MULTIPLIER_SHIFT", at={-1: {"kwh": 9_000.0}}),
        "ZERO_ACTIVE": point(0.0, mp_key="ZERO_ACTIVE", customer_class="LV_NONRES"),
        **{rule: point(amounts()[0][rule], mp_key=rule) for rule in AMOUNT_RULES},
        "ROBUST_Z": point(450.0, hist=noisy(300.0, 17), mp_key="ROBUST_Z"),
        "CAPACITY": point(9_500.0, hist=noisy(7_000.0, 11), mp_key="CAPACITY", customer_class="LV_NONRES",
                          contract_capacity=10.0, read_day=1),
        "REPEATED_USE": point(305.0, hist=[*noisy(300.0, 9), 305.0, 305.0], mp_key="REPEATED_USE"),
        "CONSEC_ESTIMATES": point(300.0, mp_key="CONSEC_ESTIMATES", status={-2: "ESTIMATED", -1: "ESTIMATED"}),
        "SUSTAINED_DROP": chain([u * 0.4 if i >= 12 else u for i, u in enumerate(noisy(300.0, 16))], end=END,
                                mp_key="SUSTAINED_DROP"),
        "DIGIT_SLIP": at_reading(12_465.0, mp_key="DIGIT_SLIP"),
        "READ_DATE": point(300.0, mp_key="READ_DATE", read_day=10, plan_day=10,
                           at={-1: {"read_date": date(2026, 6, 14)}}),
        "DUPLICATE": twin,
    }


@pytest.fixture(scope="module")
def all_cases() -> tuple[list[Row], Outcome]:
    rows = [r for case in scenarios().values() for r in case]
    return rows, evaluate(rows, END)


def rerun(o: Outcome, rows: list[Row], config: dict[str, Any]) -> Outcome:
    """The flags of `o`'s month under another config, from the same context (as the flags step does:
    switching a rule off changes no history context)."""
    readings = window(rows).filter(pl.col("period") == o.period)
    return Outcome(o.period, o.context, run_rules(readings, o.context, config, today=TODAY))


def test_the_scenarios_cover_every_rule() -> None:
    assert set(scenarios()) == set(RULES)


@pytest.mark.parametrize("rule_id", list(RULES))
def test_each_rule_fires_on_its_case_and_disabling_it_removes_its_flags(
        rule_id: str, all_cases: tuple[list[Row], Outcome]) -> None:
    rows, default = all_cases
    assert default.of(rule_id, rule_id).height >= 1, f"{rule_id} silent on its case:\n{default.of(mp_key=rule_id)}"
    off = rerun(default, rows, changed(cfg(), f"rules.{rule_id}.enabled", False))
    assert off.of(rule_id).height == 0
    # the other rules' flags are unchanged (VERY_HIGH/VERY_LOW hand their readings to HIGH/LOW when off)
    handed = {"VERY_HIGH": "HIGH", "VERY_LOW": "LOW"}.get(rule_id)
    keep = [r for r in RULES if r not in (rule_id, handed)]

    def rest(o: Outcome) -> pl.DataFrame:
        return o.flags.filter(pl.col("rule_id").is_in(keep)).select("mp_key", "rule_id", "severity", "evidence").sort(
            "mp_key", "rule_id", "evidence")

    assert rest(off).equals(rest(default))


def test_with_very_high_disabled_high_takes_its_reading() -> None:
    rows = point(amounts()[0]["VERY_HIGH"])
    assert evaluate(rows, END).rules() & {"HIGH", "VERY_HIGH"} == {"VERY_HIGH"}
    off = evaluate(rows, END, changed(cfg(), "rules.VERY_HIGH.enabled", False))
    assert off.one("HIGH")["severity"] == "warn"


def test_retuning_thresholds_moves_the_flags() -> None:
    base = cfg()
    rows = together({
        "ZEROS": point(0.0, hist=[*HIST[:-1], 0.0]),
        "ESTIMATES": point(300.0, status={-2: "ESTIMATED", -1: "ESTIMATED"}),
        "LATE": dated(date(2026, 6, 13)),
        "SMALL": point(80.0, hist=noisy(20.0, 11)),     # +60 kWh on ~20: above a floor of 50, below one of 100
        "OFF_BY_2": point(300.0, at={-1: {"kwh": 302.0}}),
        "HIGH": point(amounts()[0]["HIGH"]),
    })
    o = evaluate(rows, END)
    no_flag(o, "ZERO_ACTIVE", mp_key="ZEROS")
    assert o.one("CONSEC_ESTIMATES", "ESTIMATES")["severity"] == "warn"
    assert o.of("READ_DATE", "LATE").height == 1
    assert o.rules("SMALL") & {"HIGH", "VERY_HIGH"}
    assert o.of("ARITHMETIC", "OFF_BY_2").height == 1
    assert o.one("HIGH", "HIGH")["severity"] == "warn"

    two = changed(base, "rules.ZERO_ACTIVE.cycles", {**base["rules"]["ZERO_ACTIVE"]["cycles"], "LV_RES": 2})
    assert evaluate(rows, END, two).one("ZERO_ACTIVE", "ZEROS")["evidence"]["required_cycles"] == 2
    assert evaluate(rows, END, changed(base, "rules.CONSEC_ESTIMATES.fail_at", 2)).one(
        "CONSEC_ESTIMATES", "ESTIMATES")["severity"] == "fail"
    no_flag(evaluate(rows, END, changed(base, "rules.READ_DATE.max_plan_offset_days", 4)), "READ_DATE", mp_key="LATE")
    no_flag(evaluate(rows, END, changed(base, "rules.HIGH.floor_kwh", 100.0)), "HIGH", "VERY_HIGH", mp_key="SMALL")
    no_flag(evaluate(rows, END, changed(base, "rules.ARITHMETIC.tolerance_kwh", 5.0)), "ARITHMETIC", mp_key="OFF_BY_2")
    assert evaluate(rows, END, changed(base, "rules.HIGH.severity", "fail")).one("HIGH", "HIGH")["severity"] == "fail"


def test_the_config_must_name_every_rule_and_no_other() -> None:
    check_config(cfg())
    missing = copy.deepcopy(cfg())
    del missing["rules"]["DUPLICATE"]
    with pytest.raises(ValueError, match=r"\[rules.DUPLICATE\] is missing"):
        check_config(missing)
    extra = changed(cfg(), "rules.NO_SUCH_RULE", {"enabled": True, "severity": "warn"})
    with pytest.raises(ValueError, match="NO_SUCH_RULE"):
        check_config(extra)
    bad = changed(cfg(), "rules.HIGH.severity", "critical")
    with pytest.raises(ValueError, match="HIGH"):
        check_config(bad)
