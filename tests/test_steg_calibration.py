"""benchmarks/steg_calibration.py: the pure parts (STEG -> readings mapping, digits, same-month dedupe,
AUC, lift, overrides) on hand-made STEG-shaped rows; no real data needed. The whole script runs on the
real data only when its folder is there (skipped otherwise)."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from benchmarks import steg_calibration as sc
from readq.config import load_toml

COLUMNS = ["client_id", "invoice_date", "tarif_type", "counter_number", "counter_statue", "counter_code",
           "reading_remarque", "counter_coefficient", "consommation_level_1", "consommation_level_2",
           "consommation_level_3", "consommation_level_4", "old_index", "new_index", "months_number", "counter_type"]


def invoice(client: str, day: str, old: int, new: int, *, counter: str = "1001", tarif: str = "11",
            status: str = "0", coefficient: str = "1", levels: tuple[int, ...] | None = None, months: str = "4",
            kind: str = "ELEC") -> dict[str, str]:
    """One invoice row as the STEG CSV holds it (text)."""
    lv = list(levels) if levels is not None else [new - old, 0, 0, 0]
    lv += [0] * (4 - len(lv))
    return dict(zip(COLUMNS, [f"train_Client_{client}", day, tarif, counter, status, "203", "6", coefficient,
                              *[str(x) for x in lv], str(old), str(new), months, kind], strict=True))


def frame(rows: list[dict[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS, pl.String))


def clients(*rows: tuple[str, str, str, str]) -> pl.DataFrame:
    """(client, district, catg, target) rows of client_train.csv."""
    return pl.DataFrame([{"disrict": d, "client_id": f"train_Client_{c}", "client_catg": g, "region": "101",
                          "creation_date": "01/01/2000", "target": t} for c, d, g, t in rows],
                        schema=dict.fromkeys(["disrict", "client_id", "client_catg", "region", "creation_date",
                                              "target"], pl.String))


@pytest.fixture
def settings() -> dict[str, Any]:
    return sc.settings()


def test_mapping_period_keys_and_constants(settings: dict[str, Any]) -> None:
    inv = frame([
        invoice("1", "2015-01-20", 14302, 14384),
        invoice("1", "2015-05-18", 14384, 14900, status="5"),
        invoice("1", "2015-05-18", 100, 180, kind="GAZ"),
        invoice("2", "2016-02-03", 500, 800, counter="77", coefficient="2", levels=(400, 200)),
    ])
    m = sc.map_invoices(inv, clients(("1", "60", "11", "0.0"), ("2", "63", "51", "1.0")), settings)
    r = m.readings.sort("period")
    assert m.stats["invoices"] == 4 and m.stats["invoices_type"] == 3      # GAZ left out
    assert r["period"].to_list() == ["2015-01", "2015-05", "2016-02"]
    assert r["read_date"].to_list() == [date(2015, 1, 20), date(2015, 5, 18), date(2016, 2, 3)]
    assert r["mp_key"].to_list() == ["train_Client_1/1001", "train_Client_1/1001", "train_Client_2/77"]
    assert r["meter_no"].to_list() == ["1001", "1001", "77"]
    assert r["customer_class"].to_list() == ["LV_RES", "LV_RES", "LV_NONRES"]
    assert r["segment_no"].to_list() == ["60", "60", "63"]
    assert r["kwh"].to_list() == [82.0, 516.0, 600.0]                       # sum of the levels
    assert r["multiplier"].to_list() == [1.0, 1.0, 2.0] and r["reading_multiplier"].to_list() == [1.0, 1.0, 2.0]
    assert r["last_read"].to_list() == [14302.0, 14384.0, 500.0]
    assert r["this_read"].to_list() == [14384.0, 14900.0, 800.0]
    assert set(r["read_status"]) == {"READ"} and set(r["read_mode"]) == {"MANUAL"}
    assert r["anomaly_type"].to_list() == ["无异常", "counter_statue=5", "无异常"]
    assert set(r["reader"]) == {"(未指定)"} and r["plan_day"].null_count() == 3
    assert r["contract_capacity"].null_count() == 3
    assert r["steg_cycle"].to_list() == [4, 4, 4]
    assert r["source_row"].to_list() == [2, 3, 5]                           # CSV lines (header = line 1)
    # every column the rules read, with its type
    assert {c: r.schema[c] for c in sc.READINGS_SCHEMA} == sc.READINGS_SCHEMA


def test_digits_from_the_largest_index_at_least_five(settings: dict[str, Any]) -> None:
    inv = frame([
        invoice("1", "2015-01-20", 120, 950, counter="a"),          # largest 950 -> at least 5
        invoice("1", "2015-01-20", 81882, 86604, counter="b"),      # 5 digits
        invoice("1", "2015-05-20", 86604, 927998, counter="b"),     # then 927,998 -> 6 for the whole meter
    ])
    r = sc.map_invoices(inv, clients(("1", "60", "11", "0")), settings).readings
    got = dict(zip(r["mp_key"], r["digits_int"], strict=True))
    assert got == {"train_Client_1/a": 5, "train_Client_1/b": 6}
    e = pl.DataFrame({"x": [0.0, 9.0, 10.0, 99_999.0, 100_000.0, None]})
    assert e.select(d=sc.integer_digits(pl.col("x"), 5))["d"].to_list() == [5, 5, 5, 5, 6, 5]
    assert e.select(d=sc.integer_digits(pl.col("x"), 1))["d"].to_list() == [1, 1, 2, 5, 6, 1]


def test_digits_from_a_wrap_the_billing_system_billed(settings: dict[str, Any]) -> None:
    # a 4-digit register: STEG billed 9468 -> 180 as 712 kWh = 180 + 10,000 − 9,468
    inv = frame([invoice("1", "2013-01-10", 9000, 9468), invoice("1", "2013-02-14", 9468, 180, levels=(712,))])
    r = sc.map_invoices(inv, clients(("1", "60", "11", "0")), settings)
    assert set(r.readings["digits_int"]) == {4} and r.stats["digits_from_wraps"] == 1
    w = pl.DataFrame({"l": [9468.0, 97525.0, 500.0, 500.0], "t": [180.0, 2471.0, 400.0, 700.0],
                      "k": [712.0, 4946.0, 300.0, 200.0], "m": [1.0, 1.0, 1.0, 1.0]})
    got = w.select(d=sc.wrap_digits(pl.col("l"), pl.col("t"), pl.col("k"), pl.col("m")))["d"].to_list()
    assert got == [4, 5, None, None]          # 300 kWh on a decrease is no wrap; an advance never is


def test_same_month_invoices_keep_the_last_and_count_the_rest(settings: dict[str, Any]) -> None:
    inv = frame([
        invoice("1", "2014-10-13", 29904, 31534),   # later in the month: kept
        invoice("1", "2014-10-06", 28636, 29904),   # earlier (file order does not matter): dropped
        invoice("1", "2015-02-17", 31534, 32620),
        invoice("1", "2015-02-17", 31534, 32620),   # exact repeat: dropped, counted as a repeat
        invoice("2", "2015-02-01", 10, 20, tarif="12"),
        invoice("2", "2015-02-01", 50, 90, tarif="13"),  # two registers on one date: two metering points
    ])
    m = sc.map_invoices(inv, clients(("1", "60", "11", "0"), ("2", "60", "11", "1")), settings)
    r = m.readings.sort("mp_key", "period")
    assert m.stats["same_month_dropped"] == 2 and m.stats["same_month_groups"] == 2
    assert m.stats["same_month_exact_repeats"] == 1 and m.stats["same_month_chained"] == 1
    one = r.filter(pl.col("mp_key") == "train_Client_1/1001")
    assert one["this_read"].to_list() == [31534.0, 32620.0]
    assert one["steg_invoices"].to_list() == [2, 2]
    assert one["copies"].to_list() == [2, 1] and one["copies_differ"].to_list() == [True, False]
    assert one["repeats_dropped"].to_list() == [0, 1]
    assert r.filter(pl.col("customer_no") == "train_Client_2")["mp_key"].to_list() == [
        "train_Client_2/1001#12", "train_Client_2/1001#13"]
    assert m.stats["split_meters"] == 1


def test_continuity_and_gate() -> None:
    r = pl.DataFrame({"period": ["2015-01", "2015-05", "2015-09", "2015-05"],
                      "mp_key": ["a", "a", "a", "b"],
                      "last_read": [0.0, 100.0, 150.0, 7.0], "this_read": [100.0, 150.0, 400.0, 9.0]})
    r = r.with_columns(pl.when(pl.col("period") == "2015-09").then(160.0).otherwise(pl.col("last_read"))
                       .alias("last_read"))
    cont = sc.continuity(r).sort("mp_key", "period")
    assert cont["continuous"].to_list() == [True, True, False, True]
    flags = pl.DataFrame({"period": ["2015-09", "2015-09", "2015-05"], "mp_key": ["a", "a", "a"],
                          "rule_id": ["VERY_HIGH", "ARITHMETIC", "HIGH"]})
    assert sc.gate_breaks(flags, cont)["rule_id"].to_list() == ["ARITHMETIC", "HIGH"]


def test_once_per_run_keeps_the_first_flag_of_a_run() -> None:
    flags = pl.DataFrame({
        "period": ["2015-01", "2015-05", "2015-01", "2015-05", "2015-09", "2015-09", "2015-09"],
        "mp_key": ["a", "a", "b", "b", "b", "c", "a"],
        "rule_id": ["ZERO_ACTIVE", "ZERO_ACTIVE", "SUSTAINED_DROP", "SUSTAINED_DROP", "SUSTAINED_DROP",
                    "SUSTAINED_DROP", "HIGH"],
        "evidence": ['{"zero_cycles":3,"required_cycles":3}', '{"zero_cycles":4,"required_cycles":3}',
                     '{"start_month":"2014-09"}', '{"start_month":"2014-09"}', '{"start_month":"2015-05"}',
                     '{"start_month":"2014-09"}', '{"use_kwh":5}']})
    kept = sc.once_per_run(flags)
    assert kept.select("period", "mp_key", "rule_id").rows() == [
        ("2015-01", "a", "ZERO_ACTIVE"), ("2015-01", "b", "SUSTAINED_DROP"), ("2015-09", "b", "SUSTAINED_DROP"),
        ("2015-09", "c", "SUSTAINED_DROP"), ("2015-09", "a", "HIGH")]
    assert kept.columns == flags.columns


def test_auc_on_known_examples() -> None:
    assert sc.auc([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0]) == 1.0
    assert sc.auc([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0]) == 0.0
    # pairs (pos, neg): (0.8>0.5) (0.8>0.2) (0.4<0.5) (0.4>0.2) -> 3 of 4
    assert sc.auc([0.8, 0.4, 0.5, 0.2], [1, 1, 0, 0]) == 0.75
    assert sc.auc([1, 1, 1, 1], [1, 0, 1, 0]) == 0.5           # ties count half
    assert math.isnan(sc.auc([1, 2], [0, 0]))
    se = sc.auc_se(0.75, 2, 2)
    assert 0 < se < 0.5


def test_stratified_auc_ignores_what_the_stratum_explains() -> None:
    # the score is the stratum itself: fraud sits in the high stratum, so the plain AUC is high ...
    scores = [1, 1, 1, 1, 0, 0, 0, 0]
    labels = [1, 0, 1, 0, 0, 0, 1, 0]
    strata = [1, 1, 1, 1, 0, 0, 0, 0]
    assert sc.auc(scores, labels) > 0.6
    assert sc.stratified_auc(scores, labels, strata) == 0.5     # ... but within a stratum it tells nothing
    assert sc.stratified_auc([2, 1, 5, 4], [1, 0, 1, 0], [0, 0, 1, 1]) == 1.0
    assert list(sc.quantile_bins([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5)) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_mantel_haenszel_pools_within_strata() -> None:
    # one stratum: a = 2, b = 1, c = 1, d = 2 -> OR = (2·2/6) / (1·1/6) = 4
    flagged = [True, True, True, False, False, False]
    labels = [1, 1, 0, 1, 0, 0]
    assert sc.mantel_haenszel(flagged, labels, [0] * 6) == pytest.approx(4.0)
    # flagged only in the stratum with more fraud, no association inside either stratum: OR undefined/1
    flagged2 = [True, True, True, True, False, False, False, False]
    labels2 = [1, 1, 0, 0, 1, 0, 0, 0]
    strata2 = [1, 1, 1, 1, 0, 0, 0, 0]
    assert math.isnan(sc.mantel_haenszel(flagged2, labels2, strata2))
    flagged3 = [True, False, True, False, True, False, True, False]
    labels3 = [1, 1, 0, 0, 1, 0, 0, 0]
    strata3 = [1, 1, 1, 1, 0, 0, 0, 0]
    # stratum 1: a=1 b=1 c=1 d=1 (n=4): 1/4 over 1/4; stratum 0: a=1 b=1 c=0 d=2: 2/4 over 0
    assert sc.mantel_haenszel(flagged3, labels3, strata3) == pytest.approx((0.25 + 0.5) / 0.25)


def test_lift_in_the_top_decile() -> None:
    labels = [1] + [0] * 19 + [1] + [0] * 19       # 40 customers, 2 fraud: base rate 5 %
    scores = list(np.linspace(1, 0, 40))           # the first fraud ranks first, the second 21st
    # top 10 % = 4 customers, 1 fraud: 25 % / 5 % = 5
    assert sc.top_lift(scores, labels, 0.1) == pytest.approx(5.0)
    # all tied: the top 4 are drawn at random from everyone, lift 1
    assert sc.top_lift([0.0] * 40, labels, 0.1) == pytest.approx(1.0)
    # two above the cut (one fraud), then 2 of the 38 tied zeros (one fraud among them)
    tied = [3.0, 2.0] + [0.0] * 38
    lab = [1, 0] + [1] + [0] * 37
    expected = (1 + 2 * (1 / 38)) / 4 / (2 / 40)
    assert sc.top_lift(tied, lab, 0.1) == pytest.approx(expected)


def test_overrides_copy_the_config_and_refuse_unknown_keys() -> None:
    cfg = load_toml("rules.toml")
    before = cfg["rules"]["ROBUST_Z"]["threshold"]
    v = sc.with_overrides(cfg, {"rules.ROBUST_Z.threshold": 5.0,
                                "rules.HIGH.bands": [{"min_kwh": 0, "high": 0.7, "low": 0.4}]})
    assert v["rules"]["ROBUST_Z"]["threshold"] == 5.0 and len(v["rules"]["HIGH"]["bands"]) == 1
    assert cfg["rules"]["ROBUST_Z"]["threshold"] == before and len(cfg["rules"]["HIGH"]["bands"]) == 3
    with pytest.raises(KeyError):
        sc.with_overrides(cfg, {"rules.ROBUST_Z.thresold": 5.0})


def test_every_variant_of_the_settings_applies(settings: dict[str, Any]) -> None:
    cfg = load_toml("rules.toml")
    for v in settings["variants"]:
        sc.with_overrides(cfg, v["set"])


def test_rules_run_on_mapped_rows(settings: dict[str, Any]) -> None:
    """A small meter history through run_all: the mapped frame carries every column the rules read."""
    rows, reg = [], 10_000
    for i, day in enumerate(["2013-01-15", "2013-05-15", "2013-09-15", "2014-01-15", "2014-05-15", "2014-09-15"]):
        use = 400 + 10 * i if i < 5 else 4_000           # a spike at the end
        rows.append(invoice("1", day, reg, reg + use))
        reg += use
    m = sc.map_invoices(frame(rows), clients(("1", "60", "11", "1.0")), settings)
    run = sc.run_all(m.readings, load_toml("rules.toml"), today=date(2027, 1, 1))
    assert run.months == 6 and run.context.height == 6
    last = run.flags.filter(pl.col("period") == "2014-09")
    assert "VERY_HIGH" in last["rule_id"].to_list()
    labels = pl.DataFrame({"customer_no": ["train_Client_1"], "target": [1]})
    cust = sc.customer_scores(m.readings, run.flags, labels, run.context, settings)
    assert cust["reads"].to_list() == [6] and cust["flag_rate"][0] > 0


DATA = sc.data_dir(None, sc.settings())


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "invoice_train_subset.csv").exists(), reason="STEG data not present")
def test_whole_script_on_a_few_months(tmp_path: Path) -> None:
    out = tmp_path / "CALIBRATION.md"
    assert sc.main(["--variants", "ROBUST_Z 5", "--first-period", "2015-01", "--last-period", "2015-03",
                    "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "## Sensitivity" in text and "ROBUST_Z 5" in text and "train_Client_" not in text
