"""The billing month (电费年月) of a delivery: from its columns (see `deliver._decide_period`),
else its file name, else the explicit --period. Never guessed: when none tells, the file is
rejected saying so."""

from __future__ import annotations

import re

import duckdb

from checks.casting import typed_name
from checks.errors import FileRejected
from checks.mappings import KindMapping
from checks.periods import check_period
from checks.values import install_macros
from pipelines.ingest.worktable import WorkTable

ANY_YEAR_MONTH = re.compile(r"^(\d{4})[-/.年]?(0?[1-9]|1[0-2])月?$")
FILENAME_PERIOD = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_.年]?(0[1-9]|1[0-2])(?:月)?(?!\d)")


def period_from_file_name(name: str) -> str | None:
    found = {f"{m.group(1)}-{m.group(2)}" for m in FILENAME_PERIOD.finditer(name)}
    return found.pop() if len(found) == 1 else None


def normalize_period(text: str) -> str:
    """'2024-03', '202403', '2024年3月' … -> '2024-03', by the same rule as a period column; a month
    the warehouse does not accept (checks.periods) is refused too."""
    with duckdb.connect() as conn:
        install_macros(conn, {})
        value = conn.execute("select rq_period(rq_clean(?))", [text]).fetchall()[0][0]
    if value is None and (m := ANY_YEAR_MONTH.match(text.strip())):  # a month, of an implausible year
        value = f"{m.group(1)}-{int(m.group(2)):02d}"
    if value is None:
        raise FileRejected(f"--period {text!r} is not a month; write it as YYYY-MM")
    return check_period(value, "given with --period")


def period_and_column(conn: duckdb.DuckDBPyConnection, work: WorkTable, mapping: KindMapping,
                      present: set[str]) -> tuple[str, str] | None:
    """(month, column) for the month most of a delivery's rows carry in the first period-bearing column
    the file has: its 电费年月, else the month of its reading date."""
    for column in mapping.period_columns:
        if column not in present:
            continue
        value = typed_name(column)
        month = value if mapping.columns[column].type == "period" else f"strftime({value}, '%Y-%m')"
        found = conn.execute(f"select m from (select {month} as m from {work.rows([column])}) where m is not null "
                             "group by m order by count(*) desc, m limit 1").fetchall()
        if found:
            return found[0][0], column
    return None


def period_from_columns(conn: duckdb.DuckDBPyConnection, work: WorkTable, mapping: KindMapping,
                        present: set[str]) -> str | None:
    """The month a delivery's columns state (see `period_and_column`), or None."""
    found = period_and_column(conn, work, mapping, present)
    return found[0] if found else None


def decide_period(file_name: str, explicit: str | None) -> tuple[str, str]:
    """(period, where it came from) for a file whose columns do not say."""
    if (p := period_from_file_name(file_name)) is not None:
        return check_period(p, "from the file name"), "file_name"
    if explicit is not None:
        return normalize_period(explicit), "explicit"
    raise FileRejected(
        "cannot tell the billing month: no 电费年月 or date column, no YYYY-MM in the file name, "
        "and no --period given (e.g. readq ingest FILE --period 2024-03)"
    )
