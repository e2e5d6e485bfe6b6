"""Which billing months (电费年月) the warehouse accepts: from `[pipeline] first_month` to
`months_ahead` months after the current one (config/readq.toml). A period outside that range,
whether stated by a column, a date, the file name or `--period`, is refused with a message."""

from __future__ import annotations

from datetime import UTC, datetime

from checks.errors import FileRejected
from readq.config import load_toml


def shift_month(period: str, months: int) -> str:
    """'2024-11' shifted by `months` months ('2024-11', 2 -> '2025-01')."""
    year, month = int(period[:4]), int(period[5:7])
    index = year * 12 + month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def current_month(now: datetime | None = None) -> str:
    """This month, on the clock the month partitions use (UTC)."""
    return (now or datetime.now(UTC)).strftime("%Y-%m")


def accepted_months(now: datetime | None = None) -> tuple[str, str]:
    """(first, last) billing month accepted, inclusive."""
    cfg = load_toml("readq.toml")["pipeline"]
    return str(cfg["first_month"]), shift_month(current_month(now), int(cfg["months_ahead"]))


def check_period(period: str, where: str, now: datetime | None = None) -> str:
    """`period` if the warehouse accepts it, else FileRejected saying where it came from and what is accepted."""
    first, last = accepted_months(now)
    if not first <= period <= last:
        raise FileRejected(f"the billing month {period} ({where}) is outside the months this warehouse accepts "
                           f"({first} .. {last}; config/readq.toml [pipeline] first_month, months_ahead)")
    return period
