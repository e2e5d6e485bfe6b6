"""The month partitions every partitioned asset shares (keys look like 2024-03-01)."""

from __future__ import annotations

import dagster as dg

from readq.config import load_toml

# Every accepted billing month (checks.periods): first_month .. the current month + months_ahead.
# end_offset counts past the last *complete* month, so the current month is offset 1.
_pipeline = load_toml("readq.toml")["pipeline"]
monthly = dg.MonthlyPartitionsDefinition(start_date=f"{_pipeline['first_month']}-01",
                                         end_offset=int(_pipeline["months_ahead"]) + 1)


def period_of(partition_key: str) -> str:
    """'2024-03-01' -> '2024-03' (the billing month 电费年月)."""
    return partition_key[:7]


def partition_of(period: str) -> str:
    return f"{period}-01"
