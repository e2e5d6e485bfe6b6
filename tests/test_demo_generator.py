"""The demo-centre generator (readq.demo): deterministic, realistic exports with known truth.

A small centre (6,000 customers x 6 months) is generated once per module; every expectation is
derived from config/demo.toml, config/codes.toml and config/mappings/*.toml, not hard-coded.
The 抄表明细 files are messy on purpose ([mess]: title lines, empty and totals rows, badly written
values): the helpers below read them the way a careful person would, independently of the pipeline.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import hashlib
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

import readq.demo
from checks.mappings import KINDS, load_mapping
from readq.config import load_toml
from readq.demo import DemoSummary, generate_demo
from readq.demo.centre import build_centre, fabricator_count
from readq.demo.settings import periods_ending

CUSTOMERS, MONTHS, END, SEED = 6000, 6, "2026-10", 7
CFG = load_toml("demo.toml")
CODES = load_toml("codes.toml")


def word(table: str, code: str) -> str:
    return CODES[table][code][0]


MESS = CFG["mess"]
ALL_HEADERS = {spec.header_zh for kind in KINDS for spec in load_mapping(kind).columns.values()}
STATUS_WORDS = {str(w) for code, words in CODES["read_status"].items() for w in (code, *words)}
EXPORT_QUARANTINED = ["EXPORT_BLANK_REGISTER", "EXPORT_BAD_NUMBER", "EXPORT_UNKNOWN_STATUS"]
EXPORT_HARMLESS = ["EXPORT_FULLWIDTH_DIGITS", "EXPORT_THOUSANDS_SEPARATOR", "EXPORT_DATE_FORMAT"]
EXPORT_SKIPPED = ["EXPORT_TITLE_ROW", "EXPORT_BLANK_ROW", "EXPORT_TOTALS_ROW", "EXPORT_DUPLICATE_ROW"]
EXPORT_PROBLEMS = EXPORT_QUARANTINED + EXPORT_HARMLESS + EXPORT_SKIPPED
ROW_RATES = {"EXPORT_BLANK_REGISTER": "blank_register_rate", "EXPORT_BAD_NUMBER": "bad_number_rate",
             "EXPORT_UNKNOWN_STATUS": "unknown_status_rate", "EXPORT_DUPLICATE_ROW": "duplicate_rate",
             "EXPORT_FULLWIDTH_DIGITS": "fullwidth_rate", "EXPORT_THOUSANDS_SEPARATOR": "thousands_rate",
             "EXPORT_DATE_FORMAT": "date_format_rate"}


def raw_rows(path: Path) -> list[list[str]]:
    """Every line (CSV) or sheet row (XLSX) of a file as text cells ('' = empty), line 1 first."""
    if path.suffix == ".xlsx":
        frame = pl.read_excel(path, has_header=False, infer_schema_length=0, drop_empty_rows=False,
                              drop_empty_cols=False)
        return [["" if v is None else v for v in row] for row in frame.iter_rows()]
    data = path.read_bytes()
    text = data[3:].decode("utf-8") if data.startswith(b"\xef\xbb\xbf") else data.decode("gbk")
    lines = text.split(CFG["export"]["line_terminator"])
    assert lines[-1] == "", path.name                          # the last line ends like every other
    return [next(csv.reader([line])) if line else [] for line in lines[:-1]]


@dataclass
class Table:
    header_line: int                                           # 1-based line of the header
    header: list[str]
    rows: list[tuple[int, list[str]]]                          # (line, cells) of every row below it
    lines: list[list[str]]                                     # every line of the file


def read_table(path: Path) -> Table:
    lines = raw_rows(path)
    at = next(i for i, row in enumerate(lines) if sum(c in ALL_HEADERS for c in row) >= 3)
    header = lines[at]
    rows = [(at + 2 + i, row + [""] * (len(header) - len(row))) for i, row in enumerate(lines[at + 1:])]
    assert all(len(row) == len(header) for _, row in rows), path.name
    return Table(at + 1, header, rows, lines)


def is_blank(cells: list[str]) -> bool:
    return all(c == "" for c in cells)


def is_totals(cells: list[str]) -> bool:
    return bool(cells) and cells[0] == MESS["totals_word"]


def data_rows(path: Path) -> pl.DataFrame:
    """The data rows of a landing file (without title, empty and totals rows), text cells, plus `_line`."""
    t = read_table(path)
    kept = [(line, row) for line, row in t.rows if not is_blank(row) and not is_totals(row)]
    frame = pl.DataFrame([[c if c != "" else None for c in row] for _, row in kept], schema=t.header, orient="row")
    return frame.with_columns(pl.Series("_line", [line for line, _ in kept], dtype=pl.Int64))


def read_export(path: Path) -> pl.DataFrame:
    """Decode a landing file the way its format demands (GBK, UTF-8 with BOM, XLSX): its data rows."""
    return data_rows(path).drop("_line")


def number(text: str | None) -> float | None:
    """A value as a careful reader takes it: full-width digits and thousands separators are fine."""
    if text is None or text.strip() in MESS["blank_register_markers"]:
        return None
    try:
        return float(unicodedata.normalize("NFKC", text).replace(",", ""))
    except ValueError:
        return None


def iso_date(text: str | None) -> str | None:
    if text is None:
        return None
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


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


def clean_readings(landing: Path) -> pl.DataFrame:
    """Every reading once, values normalised (a duplicated row counts once; a value written so
    badly that no one can read it is null), with its `file` and `_line`."""
    parts = []
    for path in sorted(landing.glob("抄表明细_*")):
        rows = data_rows(path)
        frame = canonical("readings", rows.drop("_line")).with_columns(rows["_line"])
        if "period" not in frame.columns:           # XLSX files omit 电费年月: it is in the name
            frame = frame.with_columns(period=pl.lit(path.stem.split("_")[1]))
        values = [c for c in frame.columns if c != "_line"]
        frame = frame.filter(pl.struct(values).is_first_distinct())
        parts.append(frame.with_columns(file=pl.lit(path.name)))
    return pl.concat(parts, how="diagonal").with_columns(
        pl.col("last_read", "this_read", "kwh").map_elements(number, return_dtype=pl.Float64),
        pl.col("multiplier").cast(pl.Float64),
        pl.col("plan_day").cast(pl.Float64).cast(pl.Int64),
        pl.col("read_date").map_elements(iso_date, return_dtype=pl.String),
    )


def _build(root: Path, seed: int) -> Demo:
    summary = generate_demo(root / "landing", root / "truth", seed=seed, customers=CUSTOMERS, months=MONTHS,
                            end_month=END)
    readings = clean_readings(root / "landing")
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
    # a fabricator's made-up reads follow [fabricators], not the propensity (tested below)
    r = r.filter(~pl.col("fabricator"))
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


# -- fabricators ([fabricators]) ---------------------------------------------------------------

FAB = CFG["fabricators"]


def _on_site_reads(demo: Demo) -> pl.DataFrame:
    """On-site (non-remote) reads per reader, with the reader's truth."""
    on_site = demo.readings.filter(pl.col("read_mode") != word("read_mode", "REMOTE")).group_by("reader").len()
    return demo.readers.join(on_site, on="reader", how="left").with_columns(pl.col("len").fill_null(0))


def test_fabricator_count_follows_config() -> None:
    share, least, from_readers = FAB["share"], FAB["min_count"], FAB["min_readers"]
    assert 0 < share < 1 and least >= 1 and from_readers >= 1
    for readers in (12, 60, 200):
        expected = math.floor(share * readers + 0.5)
        if readers >= from_readers:
            expected = max(expected, least)
        assert fabricator_count(FAB, readers) == expected
    tiny = FAB | {"share": 0.001}
    assert fabricator_count(tiny, from_readers) == least                 # the minimum from min_readers on
    assert fabricator_count(tiny, from_readers - 1) == 0
    assert fabricator_count(FAB | {"share": 1.0}, 12) == 12
    # the default centre: 100,000 customers -> 60 readers (README), 3 of them fabricators at 5 %
    assert fabricator_count(FAB, 60) == max(math.floor(share * 60 + 0.5), least)


def test_fabricators_are_in_the_readers_truth_and_the_summary(demo: Demo) -> None:
    assert demo.readers.schema["fabricator"] == pl.Boolean
    n = int(demo.readers["fabricator"].sum())
    assert n == fabricator_count(FAB, demo.readers.height) >= 1
    assert demo.summary.fabricators == n
    summary = json.loads((demo.truth_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["centre"]["fabricators"] == n
    # a fabricator reads on site (someone whose partner does the rounds has nothing to make up)
    assert (_on_site_reads(demo).filter("fabricator")["len"] > 0).all()


def test_fabricators_make_up_the_configured_share_of_their_on_site_reads(demo: Demo) -> None:
    fab_rows = demo.truth.filter(pl.col("problem") == "FABRICATED")
    per_reader = _on_site_reads(demo).join(
        fab_rows.filter(pl.col("read_mode") != "REMOTE").group_by("reader").agg(made_up=pl.len()),
        on="reader", how="left").with_columns(pl.col("made_up").fill_null(0))
    fabricators = per_reader.filter("fabricator")
    reads, made_up, share = int(fabricators["len"].sum()), int(fabricators["made_up"].sum()), FAB["read_share"]
    assert reads >= 100
    sd = math.sqrt(reads * share * (1 - share))
    assert abs(made_up - reads * share) <= 4 * sd + 1, (made_up, reads, share)
    # every other reading keeps the ordinary rate: rate x propensity (x remote factor), fabricators'
    # remote reads included (remote reads are never made up by the fabricator)
    rate, factor = CFG["problems"]["FABRICATED"]["rate"], CFG["remote"]["error_factor"]
    remote = word("read_mode", "REMOTE")
    r = demo.readings.join(demo.readers.select("reader", "propensity", "fabricator"), on="reader")
    ordinary = r.filter(~pl.col("fabricator") | (pl.col("read_mode") == remote))
    expected = float(ordinary.select(
        (pl.col("propensity") * pl.when(pl.col("read_mode") == remote).then(factor).otherwise(1.0) * rate).sum()
    ).item())
    fabricators_names = fabricators["reader"].to_list()
    observed = fab_rows.filter(~pl.col("reader").is_in(fabricators_names) | (pl.col("read_mode") == "REMOTE")).height
    assert expected > 5
    assert abs(observed - expected) <= 4 * math.sqrt(expected) + 1, (observed, expected)
    # the made-up reads look like every FABRICATED row: status 已抄, a reading that is not the true one
    theirs = fab_rows.filter(pl.col("reader").is_in(fabricators_names), pl.col("read_mode") != "REMOTE")
    assert set(theirs["detail"]) == set(fab_rows["detail"])
    shown = theirs.join(demo.readings, on=["period", "meter_no"])
    assert shown.height == theirs.height
    assert (shown["read_status"] == word("read_status", "READ")).all()
    assert ((shown["reported_this_read"] - shown["this_read"]).abs() < 1e-6).all()


def test_same_seed_gives_the_same_fabricators(demo: Demo) -> None:
    cfg = readq.demo.load_demo_config()
    periods = periods_ending(END, MONTHS)
    first = build_centre(cfg, SEED, CUSTOMERS, periods)
    again = build_centre(cfg, SEED, CUSTOMERS, periods)
    assert (first.reader_fabricator == again.reader_fabricator).all()
    chosen = [name for name, f in zip(first.reader_names, first.reader_fabricator, strict=True) if f]
    assert chosen == demo.readers.filter("fabricator")["reader"].to_list()
    # the choice has its own random stream: no fabricators, the same centre otherwise
    off = build_centre(cfg | {"fabricators": FAB | {"share": 0.0, "min_count": 0}}, SEED, CUSTOMERS, periods)
    assert not off.reader_fabricator.any()
    assert off.reader_names == first.reader_names
    assert (off.reader_propensity == first.reader_propensity).all() and (off.plan_reader == first.plan_reader).all()


def test_fabricators_switched_off_shift_nothing_else(
        demo: Demo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = copy.deepcopy(readq.demo.load_demo_config())
    cfg["fabricators"].update(share=0.0, min_count=0)
    monkeypatch.setattr(readq.demo, "load_demo_config", lambda: cfg)
    generate_demo(tmp_path / "landing", tmp_path / "truth", seed=SEED, customers=CUSTOMERS, months=MONTHS,
                  end_month=END)
    readers = pl.read_parquet(tmp_path / "truth" / "readers.parquet")
    assert not readers["fabricator"].any()
    assert readers.drop("fabricator").equals(demo.readers.drop("fabricator"))
    truth = pl.read_parquet(tmp_path / "truth" / "injected_problems.parquet")
    key = ["period", "meter_no", "problem"]
    # every problem but the made-up reads sits on the same readings
    others = pl.col("problem") != "FABRICATED"
    key_mess = [*key, "file", "source_row"]
    assert truth.filter(others).select(key_mess).sort(key_mess, nulls_last=True).equals(
        demo.truth.filter(others).select(key_mess).sort(key_mess, nulls_last=True))
    # the fabricated reads of before are still there; the new ones are all fabricators' on-site reads
    before = truth.filter(~others).select(key)
    now = demo.truth.filter(~others)
    assert before.join(now, on=key, how="anti").is_empty()
    extra = now.join(before, on=key, how="anti")
    assert extra.height > 0
    assert set(extra["reader"]) <= set(demo.readers.filter("fabricator")["reader"])
    assert (extra["read_mode"] != "REMOTE").all()
    # the reading files of teams without a fabricator are byte-identical
    teams = set(demo.readers.filter("fabricator")["team"])
    ours, off = _hashes(demo.landing), _hashes(tmp_path / "landing")
    untouched = [k for k in ours if k.startswith("抄表明细") and k.split("_")[2].split(".")[0] not in teams]
    assert untouched and all(ours[k] == off[k] for k in untouched)


def test_truth_rows_point_to_real_readings(demo: Demo) -> None:
    keys = demo.readings.select("period", "customer_no", "meter_no", "team", "reader", "segment_no").unique()
    per_reading = demo.truth.filter(pl.col("customer_no").is_not_null())
    assert per_reading.join(keys, on=["period", "customer_no", "meter_no", "team", "reader", "segment_no"],
                            how="anti").is_empty()
    # only the title, empty and totals rows of the export mess name no customer (a repeat names its reading's)
    file_level = set(demo.truth.filter(pl.col("customer_no").is_null())["problem"])
    assert file_level and file_level <= set(EXPORT_SKIPPED)
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


# -- export mess ([mess]) -----------------------------------------------------------------------

def observed_mess(path: Path) -> set[tuple[int, str]]:
    """(line, EXPORT_*) of everything in a reading file that is not a clean data row, found by looking."""
    t = read_table(path)
    col = {canonical_name: t.header.index(spec.header_zh)
           for canonical_name, spec in load_mapping("readings").columns.items() if spec.header_zh in t.header}
    out = {(line, "EXPORT_TITLE_ROW") for line in range(1, t.header_line)}
    previous: list[str] | None = None
    for line, cells in t.rows:
        if is_blank(cells):
            out.add((line, "EXPORT_BLANK_ROW"))
            previous = None
            continue
        if is_totals(cells):
            out.add((line, "EXPORT_TOTALS_ROW"))
            continue
        if cells == previous:
            out.add((line, "EXPORT_DUPLICATE_ROW"))
        previous = cells
        value = {name: cells[i] for name, i in col.items()}
        if value["this_read"].strip() in MESS["blank_register_markers"]:
            out.add((line, "EXPORT_BLANK_REGISTER"))
        for name in ("last_read", "this_read", "kwh"):
            text = value[name]
            if text.strip() not in MESS["blank_register_markers"] and number(text) is None:
                out.add((line, "EXPORT_BAD_NUMBER"))
            if "," in text:
                out.add((line, "EXPORT_THOUSANDS_SEPARATOR"))
            if re.search("[０-９]", text):
                out.add((line, "EXPORT_FULLWIDTH_DIGITS"))
        if value["read_status"] not in STATUS_WORDS:
            out.add((line, "EXPORT_UNKNOWN_STATUS"))
        if value["read_date"] and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value["read_date"]):
            out.add((line, "EXPORT_DATE_FORMAT"))
    return out


def check_mess_matches_truth(landing: Path, truth: pl.DataFrame) -> None:
    """What the reading files show is exactly the export mess the truth records, row by row."""
    mess = truth.filter(pl.col("file").is_not_null())
    assert set(mess["problem"]) <= set(EXPORT_PROBLEMS)
    assert truth.filter(pl.col("problem").is_in(EXPORT_PROBLEMS))["file"].is_not_null().all()
    paths = sorted(landing.glob("抄表明细_*"))
    assert set(mess["file"]) <= {p.name for p in paths}
    fields = {n: s.header_zh for n, s in load_mapping("readings").columns.items()}
    year, month = map(int, truth["period"].max().split("-"))            # exports are cut after the last month
    export_date = (dt.date(year + month // 12, month % 12 + 1, 1)
                   + dt.timedelta(days=CFG["anomalies"]["export_lag_days"])).isoformat()
    for path in paths:
        recorded = mess.filter(pl.col("file") == path.name)
        assert observed_mess(path) == set(recorded.select("source_row", "problem").iter_rows()), path.name
        t = read_table(path)
        at = {line: dict(zip(t.header, cells, strict=True)) for line, cells in t.rows}
        data = [cells for _, cells in t.rows if not is_blank(cells) and not is_totals(cells)]
        for row in recorded.iter_rows(named=True):
            line, problem = row["source_row"], row["problem"]
            if problem == "EXPORT_TITLE_ROW":
                words = {"station": CFG["centre"]["station"], "org_code": CFG["centre"]["org_code"],
                         "team": row["team"], "period": row["period"], "date": export_date}
                expected = [MESS["title"].format(**words)] if line == 1 else (
                    [MESS["export_time"].format(**words)] if t.lines[line - 1] else [])
                assert t.lines[line - 1] == expected, (path.name, line)
                continue
            cells = at[line]
            if problem == "EXPORT_TOTALS_ROW":
                kwh_at = t.header.index(fields["kwh"])
                total = sum(number(c[kwh_at]) or 0.0 for c in data)
                assert number(cells[fields["kwh"]]) == pytest.approx(total, abs=0.01)
                assert row["reported_kwh"] == pytest.approx(total, abs=0.01)
                continue
            if problem == "EXPORT_BLANK_ROW":
                continue
            # a row-level defect sits on the reading of the customer the truth names
            assert cells[fields["customer_no"]] == row["customer_no"], (path.name, line)
            assert cells[fields["meter_no"]] == row["meter_no"], (path.name, line)
            if problem in ("EXPORT_BLANK_REGISTER", "EXPORT_BAD_NUMBER", "EXPORT_UNKNOWN_STATUS"):
                assert row["reported_this_read"] is None and row["reported_kwh"] is None   # not loaded
                assert row["true_this_read"] is not None and row["true_kwh"] is not None
            else:
                assert row["reported_this_read"] == row["true_this_read"] is not None
            if problem == "EXPORT_BLANK_REGISTER":
                assert cells[fields["read_status"]] == word("read_status", "READ")
            elif problem == "EXPORT_DUPLICATE_ROW":
                assert row["detail"] == f"exact copy of line {line - 1}"
                assert list(at[line - 1].values()) == list(cells.values())
            elif problem in EXPORT_HARMLESS:      # read with care, the row holds the billing values
                assert number(cells[fields["this_read"]]) == pytest.approx(row["true_this_read"], abs=1e-9)
                assert number(cells[fields["kwh"]]) == pytest.approx(row["true_kwh"], abs=1e-9)
                if problem == "EXPORT_DATE_FORMAT":
                    assert row["detail"].endswith(f"({iso_date(cells[fields['read_date']])})")


def test_export_mess_in_the_files_is_exactly_the_recorded_mess(demo: Demo) -> None:
    assert demo.truth.filter(pl.col("problem").is_in(EXPORT_PROBLEMS)).height > 0
    check_mess_matches_truth(demo.landing, demo.truth)


def test_export_mess_rates_match_config(demo: Demo) -> None:
    mess = demo.truth.filter(pl.col("file").is_not_null())
    # words the pipeline must not know, markers it must take for "missing"
    assert not set(MESS["unknown_status_words"]) & STATUS_WORDS
    files = sorted(demo.landing.glob("抄表明细_*"))
    csv_files = [p for p in files if p.suffix == ".csv"]
    titled = set(mess.filter(pl.col("problem") == "EXPORT_TITLE_ROW")["file"])
    totals = set(mess.filter(pl.col("problem") == "EXPORT_TOTALS_ROW")["file"])
    blank = set(mess.filter(pl.col("problem") == "EXPORT_BLANK_ROW")["file"])
    assert titled <= {p.name for p in csv_files}                          # XLSX files get no title
    timed = {p.name for p in csv_files if len(read_table(p).lines[1]) == 1
             and read_table(p).lines[1][0].startswith(MESS["export_time"].split("{")[0])}
    assert timed <= titled
    lines_per_title = mess.filter(pl.col("problem") == "EXPORT_TITLE_ROW").group_by("file").len()
    assert set(lines_per_title["len"]) <= {1 + MESS["title_blank_lines"], 2 + MESS["title_blank_lines"]}
    with_data = [p for p in files if data_rows(p).height > 0]           # only those get rows below the data
    can_blank = [p for p in with_data if p.suffix == ".csv" or p.name in totals]
    lo, hi = MESS["blank_rows"]
    per_blank = mess.filter(pl.col("problem") == "EXPORT_BLANK_ROW").group_by("file").len()["len"]
    assert per_blank.is_empty() or (per_blank.min() >= lo and per_blank.max() <= hi)
    for got, n, share in ((len(titled), len(csv_files), MESS["title_share"]),
                          (len(timed), len(titled), MESS["export_time_share"]),
                          (len(totals), len(with_data), MESS["totals_share"]),
                          (len(blank), len(can_blank), MESS["blank_share"])):
        assert abs(got - n * share) <= 4 * math.sqrt(n * share * (1 - share)) + 1, (got, n, share)
    # row level: rate x rows that can carry the defect
    r = demo.readings
    big = pl.any_horizontal([pl.col(c).abs() >= 1000 for c in MESS["thousands_columns"]])
    eligible = {
        "EXPORT_BLANK_REGISTER": r.filter(pl.col("read_status") == word("read_status", "READ")).height,
        "EXPORT_THOUSANDS_SEPARATOR": r.filter(big).height,
        "EXPORT_DATE_FORMAT": r.filter(pl.col("read_date").is_not_null()).height,
    }
    observed = dict(mess.group_by("problem").len().iter_rows())
    for problem, key in ROW_RATES.items():
        expected = MESS[key] * eligible.get(problem, r.height)
        assert expected > 10, (problem, expected)
        assert abs(observed.get(problem, 0) - expected) <= 4 * math.sqrt(expected) + 1, (problem, observed, expected)


def test_export_mess_keeps_every_reading_and_is_counted_in_the_summary(demo: Demo) -> None:
    # a messy row is still its customer's reading: every reading is in the files exactly once
    # (a duplicated row once more), none dropped, none invented
    assert demo.readings.select("period", "meter_no").is_unique().all()
    duplicates = demo.truth.filter(pl.col("problem") == "EXPORT_DUPLICATE_ROW").height
    written = sum(data_rows(p).height for p in demo.landing.glob("抄表明细_*"))
    assert written == demo.readings.height + duplicates == demo.summary.rows_per_kind["readings"]
    # summary.json counts them
    summary = json.loads((demo.truth_dir / "summary.json").read_text(encoding="utf-8"))
    counts = dict(demo.truth.group_by("problem").len().iter_rows())
    for problem in EXPORT_PROBLEMS:
        assert summary["problems"][problem] == counts.get(problem, 0) == demo.summary.problems[problem]
    mess = summary["export_mess"]
    assert mess["quarantined_rows"] == {p: counts.get(p, 0) for p in EXPORT_QUARANTINED}
    assert mess["harmless_rows"] == {p: counts.get(p, 0) for p in EXPORT_HARMLESS}
    assert mess["skipped_rows"] == {p: counts.get(p, 0) for p in EXPORT_SKIPPED}
    files_with = demo.truth.filter(pl.col("file").is_not_null()).group_by("problem").agg(pl.col("file").n_unique())
    files_with = dict(files_with.iter_rows())
    assert mess["files"] == {"title": files_with.get("EXPORT_TITLE_ROW", 0),
                             "empty_rows": files_with.get("EXPORT_BLANK_ROW", 0),
                             "totals": files_with.get("EXPORT_TOTALS_ROW", 0)}


def _generate_with_mess(monkeypatch: pytest.MonkeyPatch, root: Path, mess: dict, **kwargs) -> None:
    cfg = copy.deepcopy(readq.demo.load_demo_config())
    cfg["mess"].update(mess)
    monkeypatch.setattr(readq.demo, "load_demo_config", lambda: cfg)
    generate_demo(root / "landing", root / "truth", **kwargs)


def test_every_file_kind_of_mess_in_both_formats(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every file messed at file level (XLSX too: empty rows and 合计), rows at high rates."""
    shares = {"title_share": 1.0, "export_time_share": 1.0, "totals_share": 1.0, "blank_share": 1.0}
    rates = {key: 0.05 for key in ROW_RATES.values()}
    _generate_with_mess(monkeypatch, tmp_path, shares | rates, seed=SEED, customers=1200, months=2, end_month=END)
    truth = pl.read_parquet(tmp_path / "truth" / "injected_problems.parquet")
    check_mess_matches_truth(tmp_path / "landing", truth)
    files = sorted((tmp_path / "landing").glob("抄表明细_*"))
    assert {p.suffix for p in files} == {".csv", ".xlsx"}
    per_file = truth.filter(pl.col("file").is_not_null()).group_by("file").agg(pl.col("problem").unique())
    kinds = {f: set(ps) for f, ps in per_file.iter_rows()}
    assert sum(data_rows(p).height > 0 for p in files) >= len(files) // 2
    for path in files:
        if data_rows(path).height == 0:              # a team without segments in so small a centre
            assert "EXPORT_TOTALS_ROW" not in kinds.get(path.name, set())
            continue
        assert {"EXPORT_TOTALS_ROW", "EXPORT_BLANK_ROW"} <= kinds[path.name]
        assert ("EXPORT_TITLE_ROW" in kinds[path.name]) == (path.suffix == ".csv")
        lines = read_table(path).lines
        if path.suffix == ".csv":
            assert lines[1][0].startswith(MESS["export_time"].split("{")[0])
        assert is_totals(lines[-1])
    for suffix in (".csv", ".xlsx"):                  # every row-level kind in either format
        seen = set().union(*(kinds[p.name] for p in files if p.suffix == suffix))
        assert seen >= set(EXPORT_QUARANTINED + EXPORT_HARMLESS), suffix


def test_mess_switched_off_gives_clean_files_and_shifts_nothing_else(
        demo: Demo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    off = dict.fromkeys([*ROW_RATES.values(), "title_share", "totals_share", "blank_share"], 0.0)
    _generate_with_mess(monkeypatch, tmp_path, off, seed=SEED, customers=CUSTOMERS, months=MONTHS, end_month=END)
    truth = pl.read_parquet(tmp_path / "truth" / "injected_problems.parquet")
    assert truth.filter(pl.col("problem").is_in(EXPORT_PROBLEMS)).is_empty()
    # the other files and the rest of the truth are exactly those of the messy build
    ours, clean = _hashes(demo.landing), _hashes(tmp_path / "landing")
    assert ours.keys() == clean.keys()
    others = [k for k in ours if not k.startswith("抄表明细")]
    assert others and all(ours[k] == clean[k] for k in others)
    assert demo.truth.filter(~pl.col("problem").is_in(EXPORT_PROBLEMS)).equals(truth)
    # clean files: the header on line 1, nothing to skip or quarantine
    for path in sorted((tmp_path / "landing").glob("抄表明细_*")):
        assert observed_mess(path) == set(), path.name
        assert read_table(path).header_line == 1
    # the mess does not change what the data means: read with care, every reading is the same,
    # except the values written so badly that they are lost (those are the billing values in truth)
    key = ["period", "meter_no"]
    clean_view = clean_readings(tmp_path / "landing").drop("_line").sort(key)
    messy_view = demo.readings.drop("_line").sort(key)
    broken = demo.truth.filter(pl.col("problem").is_in(
        ["EXPORT_BLANK_REGISTER", "EXPORT_BAD_NUMBER", "EXPORT_UNKNOWN_STATUS"])).select(*key, "true_this_read")
    assert broken.height > 0 and clean_view.height == messy_view.height
    assert clean_view.join(broken, on=key, how="anti").equals(messy_view.join(broken, on=key, how="anti"))
    lost = broken.join(clean_view, on=key)
    assert ((lost["this_read"] - lost["true_this_read"]).abs() < 1e-9).all()
