"""The billing month (电费年月) of a delivery: from its columns, else its file name, else the
explicit --period. Never guessed: when none tells, the file is rejected saying so."""

from __future__ import annotations

import re

import polars as pl

from checks.values import clean_text, to_period
from pipelines.ingest.errors import FileRejected

FILENAME_PERIOD = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_.年]?(0[1-9]|1[0-2])(?:月)?(?!\d)")
PERIOD_TEXT = re.compile(r"^(?:19|20)\d{2}-(0[1-9]|1[0-2])$")


def period_from_file_name(name: str) -> str | None:
    found = {f"{m.group(1)}-{m.group(2)}" for m in FILENAME_PERIOD.finditer(name)}
    return found.pop() if len(found) == 1 else None


def normalize_period(text: str) -> str:
    value = to_period(clean_text(pl.Series([text])))[0]
    if value is None:
        raise FileRejected(f"--period {text!r} is not a month; write it as YYYY-MM")
    return value


def period_from_columns(frame: pl.DataFrame, period_columns: tuple[str, ...]) -> str | None:
    """The month most rows carry in the first period-bearing column present (canonical names)."""
    for column in period_columns:
        if column not in frame.columns:
            continue
        months = pl.DataFrame({"p": to_period(clean_text(frame[column]))}).drop_nulls()
        if months.height:
            return months.group_by("p").len().sort(["len", "p"], descending=[True, False])["p"][0]
    return None


def decide_period(
    frame: pl.DataFrame, period_columns: tuple[str, ...], file_name: str, explicit: str | None
) -> tuple[str, str]:
    """(period, where it came from)."""
    if (p := period_from_columns(frame, period_columns)) is not None:
        return p, "column"
    if (p := period_from_file_name(file_name)) is not None:
        return p, "file_name"
    if explicit is not None:
        return normalize_period(explicit), "explicit"
    raise FileRejected(
        "cannot tell the billing month: no 电费年月 or date column, no YYYY-MM in the file name, "
        "and no --period given (e.g. readq ingest FILE --period 2024-03)"
    )
