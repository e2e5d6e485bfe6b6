"""The demo generator's configuration (`config/demo.toml`), code words and export headers.

Everything numeric about the synthetic centre comes from `demo.toml`; the Chinese words
written into the exports come from `codes.toml` (the first word of each code's list) and the
headers from `config/mappings/<kind>.toml` (the first alias of each column).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from checks.mappings import load_mapping
from readq.config import load_toml

CLASSES: tuple[str, ...] = ("LV_RES", "LV_NONRES", "HV")        # index = class id in arrays
READ_STATUS: tuple[str, ...] = ("READ", "MISSED", "ESTIMATED")   # index = status id
READ_MODES: tuple[str, ...] = ("MANUAL", "HANDHELD", "REMOTE")   # index = mode id
EXPORT_FORMATS = frozenset({"csv_gbk", "csv_utf8_bom", "xlsx"})

# Reading problems injected per reading, in the order of the categorical draw.
READING_PROBLEMS: tuple[str, ...] = (
    "MISSED", "ESTIMATED", "MISREAD", "CROSSED", "FABRICATED", "ENTRY", "MULTIPLIER", "DATA_PREP",
    "PROXY", "NOT_ON_SITE", "INFO_MISMATCH", "UNREPORTED",
)
FAULTS: tuple[str, ...] = ("THEFT", "STUCK", "REVERSING")        # sustained; index+1 = fault id
SEGMENT_PROBLEMS: tuple[str, ...] = ("OFF_PLAN_DAY", "LATE_UPLOAD")
BENIGN_EVENTS: tuple[str, ...] = ("ROLLOVER", "METER_CHANGE", "VACANT")
# Export mess ([mess], readq.demo.mess): rows the pipeline quarantines, harmless variants it
# normalises and loads, and lines it skips (title lines, empty rows, the totals row, and an exact
# repeat of a row, which is dropped and counted).
EXPORT_QUARANTINED: tuple[str, ...] = ("EXPORT_BLANK_REGISTER", "EXPORT_BAD_NUMBER", "EXPORT_UNKNOWN_STATUS")
EXPORT_HARMLESS: tuple[str, ...] = ("EXPORT_FULLWIDTH_DIGITS", "EXPORT_THOUSANDS_SEPARATOR", "EXPORT_DATE_FORMAT")
EXPORT_SKIPPED: tuple[str, ...] = ("EXPORT_TITLE_ROW", "EXPORT_BLANK_ROW", "EXPORT_TOTALS_ROW", "EXPORT_DUPLICATE_ROW")
EXPORT_PROBLEMS: tuple[str, ...] = EXPORT_QUARANTINED + EXPORT_HARMLESS + EXPORT_SKIPPED
ALL_PROBLEMS: tuple[str, ...] = READING_PROBLEMS + FAULTS + SEGMENT_PROBLEMS + BENIGN_EVENTS + EXPORT_PROBLEMS


def parse_digits(values: list[str] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """抄表位数 words like '6.2' -> (integer digits, decimals)."""
    parts = [str(v).split(".") for v in values]
    return (np.array([int(p[0]) for p in parts], dtype=np.int64),
            np.array([int(p[1]) if len(p) > 1 else 0 for p in parts], dtype=np.int64))


def weighted_choice(rng: np.random.Generator, values: list[Any], weights: list[float], n: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return np.asarray(values)[rng.choice(len(values), size=n, p=p / p.sum())]


def rng_for(seed: int, *keys: int) -> np.random.Generator:
    """An independent, reproducible random stream for (seed, purpose, ...)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), *map(int, keys)]))


@dataclass(frozen=True)
class Codes:
    """Canonical code -> the Chinese word the marketing system exports."""

    words: dict[str, dict[str, str]]

    def word(self, table: str, code: str) -> str:
        try:
            return self.words[table][code]
        except KeyError as exc:
            raise KeyError(f"codes.toml has no code {code!r} in table [{table}]") from exc

    def words_for(self, table: str, codes: tuple[str, ...] | list[str]) -> list[str]:
        return [self.word(table, c) for c in codes]


def load_codes() -> Codes:
    raw = load_toml("codes.toml")
    return Codes({table: {code: (list(words) or [code])[0] for code, words in codes.items()}
                  for table, codes in raw.items()})


def headers(kind: str) -> dict[str, str]:
    """canonical column -> marketing-system header, in the mapping file's column order."""
    return {name: spec.header_zh for name, spec in load_mapping(kind).columns.items()}


def load_demo_config() -> dict[str, Any]:
    cfg = load_toml("demo.toml")
    _validate(cfg)
    return cfg


def _validate(cfg: dict[str, Any]) -> None:
    problems: list[str] = []
    teams = cfg.get("teams", [])
    if not teams:
        problems.append("[[teams]] is empty")
    for team in teams:
        if team.get("export") not in EXPORT_FORMATS:
            problems.append(f"team {team.get('name')!r}: export must be one of {sorted(EXPORT_FORMATS)}")
    if len({t.get("name") for t in teams}) != len(teams):
        problems.append("team names must be unique")
    shares = cfg["customers"]["class_shares"]
    if set(shares) != set(CLASSES) or not math.isclose(sum(shares.values()), 1.0, abs_tol=1e-9):
        problems.append(f"customers.class_shares must cover {CLASSES} and sum to 1")
    for cls in CLASSES:
        c = cfg["classes"][cls]
        for a, b in (("multipliers", "multiplier_weights"), ("digits", "digits_weights")):
            if len(c[a]) != len(c[b]):
                problems.append(f"classes.{cls}: {a} and {b} differ in length")
    for name in READING_PROBLEMS:
        if name not in cfg["problems"]:
            problems.append(f"[problems.{name}] is missing")
    for name in FAULTS:
        if name not in cfg["faults"]:
            problems.append(f"[faults.{name}] is missing")
    seg = cfg["segments"]
    if seg["mean_customers"] * seg["size_clip"][1] > seg["max_customers"]:
        problems.append("segments: mean_customers x size_clip[1] must not exceed max_customers")
    for fmt_key in ("findings_format", "anomalies_format", "assignments_format", "customers_format",
                    "xlsx_earlier_export"):
        if cfg["export"][fmt_key] not in EXPORT_FORMATS:
            problems.append(f"export.{fmt_key} must be one of {sorted(EXPORT_FORMATS)}")
    problems += _fabricator_problems(cfg.get("fabricators", {}))
    problems += _mess_problems(cfg.get("mess", {}))
    if problems:
        raise ValueError("config/demo.toml: " + "; ".join(problems))


def _fabricator_problems(fab: dict[str, Any]) -> list[str]:
    if not fab:
        return ["[fabricators] is missing"]
    out = []
    for key in ("share", "read_share"):
        if not 0 <= float(fab.get(key, -1)) <= 1:
            out.append(f"fabricators.{key} must be a number in [0, 1]")
    for key in ("min_count", "min_readers"):
        value = fab.get(key, -1)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            out.append(f"fabricators.{key} must be a whole number >= 0")
    return out


MESS_RATES: tuple[str, ...] = ("blank_register_rate", "bad_number_rate", "unknown_status_rate", "duplicate_rate",
                               "fullwidth_rate", "thousands_rate", "date_format_rate")
MESS_SHARES: tuple[str, ...] = ("title_share", "export_time_share", "totals_share", "blank_share",
                                "double_point_share")
REGISTER_COLUMNS: tuple[str, ...] = ("last_read", "this_read")


def _mess_problems(mess: dict[str, Any]) -> list[str]:
    if not mess:
        return ["[mess] is missing"]
    out = []
    for key in MESS_RATES + MESS_SHARES:
        if not 0 <= float(mess.get(key, -1)) <= 1:
            out.append(f"mess.{key} must be a number in [0, 1]")
    if sum(float(mess.get(k, 0)) for k in MESS_RATES) > 1:
        out.append("mess: the row-level rates must add up to at most 1 (at most one defect per row)")
    lo, hi = mess.get("blank_rows", [1, 0])
    if not 1 <= int(lo) <= int(hi):
        out.append("mess.blank_rows must be [low, high] with 1 <= low <= high")
    if int(mess.get("title_blank_lines", -1)) < 0:
        out.append("mess.title_blank_lines must be >= 0")
    if not set(mess.get("bad_number_columns", [])) or not set(mess["bad_number_columns"]) <= set(REGISTER_COLUMNS):
        out.append(f"mess.bad_number_columns must be a non-empty subset of {list(REGISTER_COLUMNS)}")
    if not set(mess.get("thousands_columns", [])) or not set(mess["thousands_columns"]) <= {*REGISTER_COLUMNS, "kwh"}:
        out.append("mess.thousands_columns must be a non-empty subset of last_read, this_read, kwh")
    if any(not k.isdigit() or len(k) != 1 or not v or any(ch.isdigit() or ch in ".,-" for ch in v)
           for k, v in mess.get("lookalikes", {}).items()):
        out.append("mess.lookalikes maps single digits to letters (no digits, '.', ',' or '-')")
    for key in ("blank_register_markers", "unknown_status_words", "date_formats"):
        if not mess.get(key):
            out.append(f"mess.{key} must not be empty")
    return out


# -- billing months -------------------------------------------------------------------------

def month_index(period: str) -> int:
    """'2026-10' -> months since year 0 (for arithmetic)."""
    year, month = period.split("-")
    if len(year) != 4 or not (1 <= int(month) <= 12):
        raise ValueError(f"not a YYYY-MM month: {period!r}")
    return int(year) * 12 + int(month) - 1


def month_name(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def periods_ending(end_month: str, months: int) -> list[str]:
    if months < 1:
        raise ValueError("months must be at least 1")
    end = month_index(end_month)
    return [month_name(i) for i in range(end - months + 1, end + 1)]


def month_start(period: str) -> np.datetime64:
    return np.datetime64(f"{period}-01", "D")


def days_in_month(period: str) -> int:
    return int((np.datetime64(month_name(month_index(period) + 1) + "-01", "D") - month_start(period))
               .astype(int))
