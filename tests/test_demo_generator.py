"""The demo-centre generator (readq.demo): deterministic, realistic exports with known truth.

A small centre (3,000 customers x 6 months) is generated once per module; every expectation is
derived from config/demo.toml, config/codes.toml and config/mappings/*.toml, not hard-coded.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from checks.mappings import load_mapping
from readq.config import load_toml
from readq.demo import DemoSummary, generate_demo

CUSTOMERS, MONTHS, END, SEED = 6000, 6, "2026-10", 7
CFG = load_toml("demo.toml")
CODES = load_toml("codes.toml")


def word(table: str, code: str) -> str:
    return CODES[table][code][0]


def read_export(path: Path) -> pl.DataFrame:
    """Decode a landing file the way its format demands (GBK, UTF-8 with BOM, XLSX)."""
    if path.suffix == ".xlsx":
        return pl.read_excel(path, infer_schema_length=0)
    data = path.read_bytes()
    text = data[3:].decode("utf-8") if data.startswith(b"\xef\xbb\xbf") else data.decode("gbk")
    return pl.read_csv(io.StringIO(text), infer_schema=False)


def canonical(kind: str, frame: pl.DataFrame) -> pl.DataFrame:
    by_header = {spec.header_zh: name for name, spec in load_mapping(kind).columns.items()}
    return frame.rename({h: by_header[h] for h in frame.columns})


@dataclass
class Demo:
    landing: Path
    truth_dir: Path
    summary: DemoSummary
    readings: pl.DataFrame
    truth: pl.DataFrame
    readers: pl.DataFrame

    def kind(self, kind: str) -> pl.DataFrame:
        prefix = CFG["export"][f"{_NAME_KEYS[kind]}_name"].split("{")[0]
        paths = sorted(p for p in self.landing.iterdir() if p.name.startswith(prefix))
        return pl.concat([canonical(kind, read_export(p)) for p in paths], how="diagonal")


_NAME_KEYS = {"readings": "readings", "review_findings": "findings", "field_anomalies": "anomalies",
              "assignments": "assignments", "customers": "customers"}


def _build(root: Path, seed: int) -> Demo:
    summary = generate_demo(root / "landing", root / "truth", seed=seed, customers=CUSTOMERS, months=MONTHS,
                            end_month=END)
    parts = []
    for path in sorted((root / "landing").glob("抄表明细_*")):
        frame = canonical("readings", read_export(path))
        if "period" not in frame.columns:           # XLSX files omit 电费年月: it is in the name
            frame = frame.with_columns(period=pl.lit(path.stem.split("_")[1]))
        parts.append(frame.with_columns(file=pl.lit(path.name)))
    readings = pl.concat(parts, how="diagonal").with_columns(
        pl.col("last_read", "this_read", "kwh", "multiplier").cast(pl.Float64),
        pl.col("plan_day").cast(pl.Float64).cast(pl.Int64),
    )
    return Demo(root / "landing", root / "truth", summary, readings,
                pl.read_parquet(root / "truth" / "injected_problems.parquet"),
                pl.read_parquet(root / "truth" / "readers.parquet"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return _build(tmp_path_factory.mktemp("demo_a"), SEED)


def _hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


# -- determinism -------------------------------------------------------------------------------

def test_same_seed_gives_byte_identical_files(demo: Demo, tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    generate_demo(tmp_path / "landing", tmp_path / "truth", seed=SEED, customers=CUSTOMERS, months=MONTHS,
                  end_month=END, progress=lambda task, done, total: calls.append((task, done, total)))
    first = _hashes(demo.landing.parent)
    second = _hashes(tmp_path)
    assert first.keys() == second.keys()
    assert first == second
    # progress: every task ends complete, and the month task advances once per month
    last = {task: (done, total) for task, done, total in calls}
    assert all(done == total for done, total in last.values())
    assert MONTHS in {total for _, total in last.values()}
    month_task = next(task for task, (_, total) in last.items() if total == MONTHS)
    assert [done for task, done, _ in calls if task == month_task] == list(range(MONTHS + 1))


def test_other_seed_gives_other_readings(demo: Demo, tmp_path: Path) -> None:
    generate_demo(tmp_path / "landing", tmp_path / "truth", seed=SEED + 1, customers=CUSTOMERS, months=MONTHS,
                  end_month=END)
    ours = {k: v for k, v in _hashes(demo.landing).items() if k.startswith("抄表明细")}
    theirs = {k: v for k, v in _hashes(tmp_path / "landing").items() if k.startswith("抄表明细")}
    assert ours.keys() == theirs.keys()
    assert all(ours[k] != theirs[k] for k in ours)


# -- files and headers ---------------------------------------------------------------------------

def test_landing_holds_exactly_the_expected_files(demo: Demo) -> None:
    teams = [t["name"] for t in CFG["teams"]]
    names = {p.name for p in demo.landing.iterdir()}
    periods = demo.summary.periods
    assert len(periods) == MONTHS and periods[-1] == END
    readings = {p for p in names if p.startswith("抄表明细_")}
    assert {p.rsplit(".", 1)[0] for p in readings} == {
        CFG["export"]["readings_name"].format(period=m, team=t) for m in periods for t in teams}
    assert len(names) == len(readings) + 3 * MONTHS + 1          # + findings, anomalies, assignments, master
    assert demo.summary.files_per_kind == {"assignments": MONTHS, "customers": 1, "field_anomalies": MONTHS,
                                           "readings": MONTHS * len(teams), "review_findings": MONTHS}
    assert sorted(p.name for p in demo.summary.files) == sorted(names)


def test_every_file_decodes_with_its_format_and_mapping_headers(demo: Demo) -> None:
    ex = CFG["export"]
    last_xlsx = demo.summary.periods[-int(ex["xlsx_last_months"]):] if ex["xlsx_last_months"] else demo.summary.periods
    fmt_of_team = {t["name"]: t["export"] for t in CFG["teams"]}
    kind_of = {ex[f"{key}_name"].split("{")[0]: kind for kind, key in _NAME_KEYS.items()}
    for path in demo.landing.iterdir():
        kind = next(k for prefix, k in kind_of.items() if path.name.startswith(prefix))
        if kind == "readings":
            _, period, team = path.stem.split("_")
            fmt = fmt_of_team[team]
            if fmt == "xlsx" and period not in last_xlsx:
                fmt = ex["xlsx_earlier_export"]
        else:
            fmt = ex[f"{_NAME_KEYS[kind]}_format"]
        data = path.read_bytes()
        if fmt == "xlsx":
            assert path.suffix == ".xlsx"
        elif fmt == "csv_utf8_bom":
            assert path.suffix == ".csv" and data.startswith(b"\xef\xbb\xbf")
        else:
            assert path.suffix == ".csv" and not data.startswith(b"\xef\xbb\xbf")
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")                          # really GBK, not UTF-8
        frame = read_export(path)
        omit = ex["xlsx_omit"] if (kind == "readings" and fmt == "xlsx") else []
        expected = [s.header_zh for n, s in load_mapping(kind).columns.items() if n not in omit]
        assert frame.columns == expected, path.name
        assert len(frame) > 0 or kind in ("review_findings", "field_anomalies")


# -- the centre ----------------------------------------------------------------------------------

def test_centre_structure_teams_pairs_and_segments(demo: Demo) -> None:
    assignments = demo.kind("assignments")
    assert sorted(assignments["team"].unique()) == sorted(t["name"] for t in CFG["teams"])
    assert len(CFG["teams"]) == 6
    # readers work in fixed pairs: the partner of a reader is always the same person, and mutual
    pairs = demo.readers.select("reader", "partner")
    partner_of = dict(pairs.iter_rows())
    assert all(partner_of[partner_of[r]] == r and partner_of[r] != r for r in partner_of)
    seen = assignments.select("reader", "partner").unique()
    assert all(partner_of[r] == p for r, p in seen.iter_rows())
    assert demo.readers.group_by("team").len()["len"].min() >= 2
    # segments: 10-digit numbers, at most the configured size, each with one plan day
    max_size = CFG["segments"]["max_customers"]
    assert assignments["segment_no"].str.len_chars().unique().to_list() == [10]
    assert assignments["customer_count"].cast(pl.Int64).max() <= max_size
    per_segment = demo.readings.group_by("period", "segment_no").agg(pl.col("customer_no").n_unique())
    assert per_segment["customer_no"].max() <= max_size
    assert demo.readings.group_by("segment_no").agg(pl.col("plan_day").n_unique())["plan_day"].max() == 1
    expected_segments = CUSTOMERS / CFG["segments"]["mean_customers"]
    assert 0.5 * expected_segments <= demo.summary.segments <= 2 * expected_segments


def test_customer_master_class_mix_and_status(demo: Demo) -> None:
    master = demo.kind("customers")
    assert master["period"].unique().to_list() == [END]
    customers = master.unique("customer_no")
    assert len(customers) == CUSTOMERS
    shares = customers.group_by("customer_class").len().with_columns(share=pl.col("len") / CUSTOMERS)
    got = dict(zip(shares["customer_class"], shares["share"], strict=True))
    for code, share in CFG["customers"]["class_shares"].items():
        assert got[word("customer_class", code)] == pytest.approx(share, abs=0.01)
    # closed / suspended customers are in the master but not in the last month's readings
    inactive = customers.filter(pl.col("customer_status").is_in([word("customer_status", "CLOSED"),
                                                                 word("customer_status", "SUSPENDED")]))
    assert len(inactive) > 0
    last = demo.readings.filter(pl.col("period") == END)
    assert inactive.join(last, on="customer_no").is_empty()
    assert master["meter_no"].is_unique().all()


def test_remote_share_grows_and_large_users_have_ct_multipliers(demo: Demo) -> None:
    remote = word("read_mode", "REMOTE")
    share = demo.readings.group_by("period").agg((pl.col("read_mode") == remote).mean()).sort("period")
    assert share["read_mode"][-1] > share["read_mode"][0]
    hv = demo.readings.filter(pl.col("customer_class") == word("customer_class", "HV"))
    assert (hv["multiplier"] > 1).all()
    assert set(hv["multiplier"].cast(pl.Int64).unique()) <= set(CFG["classes"]["HV"]["multipliers"])
    res = demo.readings.filter(pl.col("customer_class") == word("customer_class", "LV_RES"))
    assert (res["multiplier"] == 1).all()
    assert demo.readings["meter_no"].str.len_chars().value_counts().sort("count")["meter_no"][-1] == \
        CFG["meters"]["asset_digits"]


# -- readings follow the billing rules ----------------------------------------------------------

def test_missed_rows_repeat_last_reading_with_zero_kwh(demo: Demo) -> None:
    raw = CFG["problems"]["MISSED"]["raw_code"]
    missed = demo.readings.filter(pl.col("read_status").is_in([word("read_status", "MISSED"), raw]))
    assert len(missed) > 0
    assert (missed["this_read"] == missed["last_read"]).all()
    assert (missed["kwh"] == 0).all()
    assert missed["read_date"].is_null().all()
    coded = missed.filter(pl.col("read_status") == raw)
    assert len(coded) > 0
    assert (coded["anomaly_type"] == word("field_anomaly_type", CFG["problems"]["MISSED"]["raw_code_anomaly"])).all()


def test_kwh_is_wrapped_difference_times_multiplier_unless_injected(demo: Demo) -> None:
    r = demo.readings.with_columns(
        cap=pl.lit(10.0).pow(pl.col("digits").str.split(".").list.get(0).cast(pl.Int64)))
    r = r.with_columns(expected=((pl.col("this_read") - pl.col("last_read")) % pl.col("cap")) * pl.col("multiplier"))
    off = r.filter((pl.col("expected") - pl.col("kwh")).abs() > 0.015).select("period", "meter_no")
    kwh_problems = demo.truth.filter(pl.col("problem").is_in(["ENTRY", "MULTIPLIER", "DATA_PREP"]))
    assert len(off) > 0
    assert off.join(kwh_problems, on=["period", "meter_no"], how="anti").is_empty()
    # 上次示数 is the previous month's reported 本次示数 (errors propagate like in billing)
    chain = r.sort("meter_no", "period").with_columns(prev=pl.col("this_read").shift(1).over("meter_no"))
    chain = chain.filter(pl.col("prev").is_not_null())
    assert len(chain) > 0
    assert ((chain["prev"] - chain["last_read"]).abs() < 1e-6).all()


def test_off_plan_day_reads_are_exactly_the_injected_ones(demo: Demo) -> None:
    max_off = load_toml("targets.toml")["on_time_rate"]["max_days_off"]
    r = demo.readings.filter(pl.col("read_date").is_not_null()).with_columns(
        off=(pl.col("read_date").str.slice(8, 2).cast(pl.Int64) - pl.col("plan_day")).abs() >= max_off)
    injected = demo.truth.filter(pl.col("problem") == "OFF_PLAN_DAY").select("period", "meter_no")
    flagged = r.filter(pl.col("off")).select("period", "meter_no")
    assert sorted(flagged.rows()) == sorted(injected.rows())


# -- injected problems and their detection -----------------------------------------------------

def _expected_count(demo: Demo, problem: str) -> float:
    """Σ over readings of rate x reader propensity (x remote factor for remote reads)."""
    rate = CFG["problems"][problem]["rate"]
    factor = CFG["remote"]["error_factor"]
    r = demo.readings.join(demo.readers.select("reader", "propensity"), on="reader", how="left")
    assert r["propensity"].is_not_null().all()
    weight = pl.col("propensity") * pl.when(pl.col("read_mode") == word("read_mode", "REMOTE")).then(factor) \
        .otherwise(1.0)
    return float(r.select((weight * rate).sum()).item())


@pytest.mark.parametrize("problem", ["MISSED", "ESTIMATED", "MISREAD"])
def test_injected_rates_match_config(demo: Demo, problem: str) -> None:
    expected = _expected_count(demo, problem)
    observed = demo.truth.filter(pl.col("problem") == problem).height
    assert expected > 20
    assert abs(observed - expected) <= 4 * math.sqrt(expected), (observed, expected)


def test_bad_readers_make_more_errors(demo: Demo) -> None:
    reading_problems = ["MISSED", "ESTIMATED", "MISREAD", "CROSSED", "FABRICATED", "ENTRY"]
    per_reader = demo.readings.filter(pl.col("read_mode") != word("read_mode", "REMOTE")).group_by("reader").len()
    errors = demo.truth.filter(pl.col("problem").is_in(reading_problems), pl.col("read_mode") != "REMOTE") \
        .group_by("reader").agg(errors=pl.len())
    r = per_reader.join(errors, on="reader", how="left").fill_null(0).join(demo.readers, on="reader")
    median = r["propensity"].median()
    hi = r.filter(pl.col("propensity") > median)
    lo = r.filter(pl.col("propensity") <= median)
    assert len(hi) and len(lo)
    ratio = (hi["errors"].sum() / hi["len"].sum()) / (lo["errors"].sum() / lo["len"].sum())
    expected = ((hi["propensity"] * hi["len"]).sum() / hi["len"].sum()) / (
        (lo["propensity"] * lo["len"]).sum() / lo["len"].sum())
    assert ratio > 1 + 0.5 * (expected - 1), (ratio, expected)


def test_detection_fraction_matches_config(demo: Demo) -> None:
    problems = [p for p, c in CFG["problems"].items() if "detect" in c]
    events = demo.truth.filter(pl.col("problem").is_in(problems)).group_by("event_id", "problem").agg(
        found=pl.col("finding_no").is_not_null().any())
    events = events.with_columns(p=pl.col("problem").replace_strict(
        {p: CFG["problems"][p]["detect"] for p in problems}, return_dtype=pl.Float64))
    expected = events["p"].sum()
    sd = math.sqrt((events["p"] * (1 - events["p"])).sum())
    assert abs(events["found"].sum() - expected) <= 4 * sd
    missed = events.filter(pl.col("problem") == "MISSED")
    assert missed["found"].mean() == pytest.approx(CFG["problems"]["MISSED"]["detect"], abs=0.1)
    assert events["found"].mean() < 1                  # some problems stay hidden


def test_truth_rows_point_to_real_readings(demo: Demo) -> None:
    keys = demo.readings.select("period", "customer_no", "meter_no", "team", "reader", "segment_no").unique()
    assert demo.truth.join(keys, on=["period", "customer_no", "meter_no", "team", "reader", "segment_no"],
                           how="anti").is_empty()
    assert set(demo.truth["problem"].unique()) >= {"MISSED", "ESTIMATED", "MISREAD", "VACANT"}
    # the truth's reported values are what the export shows
    joined = demo.truth.filter(pl.col("problem") == "MISREAD").join(
        demo.readings, on=["period", "meter_no"])
    assert len(joined) > 0
    assert ((joined["reported_this_read"] - joined["this_read"]).abs() < 1e-6).all()
    assert (joined["true_this_read"] != joined["reported_this_read"]).all()


def test_review_findings_reference_injected_problems_of_their_period(demo: Demo) -> None:
    findings = demo.kind("review_findings")
    assert len(findings) > 0
    assert findings["finding_no"].is_unique().all()
    word_of = {p: word("error_type", c["finding_type"]) for p, c in CFG["problems"].items()}
    truth = demo.truth.filter(pl.col("finding_no").is_not_null()).with_columns(
        error_type=pl.col("problem").replace_strict(word_of))
    matched = findings.join(truth, on=["finding_no", "period", "customer_no", "meter_no", "error_type"])
    assert len(matched) == len(findings)
    # found within the configured window after the read; clerks only for DATA_PREP
    lo, hi = CFG["findings"]["found_days"]
    gap = (matched["found_date"].str.to_date() - matched["period"].str.to_date("%Y-%m")).dt.total_days()
    assert gap.min() >= lo and gap.max() <= 31 + hi
    clerk = matched.filter(pl.col("responsible_role") == word("responsible_role", "CLERK"))
    assert set(clerk["problem"].unique()) <= {"DATA_PREP"}


def test_field_anomaly_reports_name_faults_and_keep_time_order(demo: Demo) -> None:
    reports = demo.kind("field_anomalies")
    assert len(reports) > 0 and reports["report_no"].is_unique().all()
    ts = reports.with_columns(pl.col("found_at", "reported_at", "handed_over_at", "closed_at").str.to_datetime())
    assert (ts["reported_at"] >= ts["found_at"]).all()
    both = ts.filter(pl.col("closed_at").is_not_null())
    assert (both["closed_at"] >= both["handed_over_at"]).all()
    assert set(reports["anomaly_type"]) <= {word("field_anomaly_type", c) for c in CODES["field_anomaly_type"]}
    named = demo.truth.filter(pl.col("report_no").is_not_null())
    assert named.join(reports, on="report_no", how="anti").is_empty()
    assert (named["detected"]).all()
