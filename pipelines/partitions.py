"""The month partitions every partitioned asset shares (keys look like 2024-03-01)."""

from __future__ import annotations

import dagster as dg

from readq.config import load_toml

monthly = dg.MonthlyPartitionsDefinition(start_date=f"{load_toml('readq.toml')['pipeline']['first_month']}-01")


def period_of(partition_key: str) -> str:
    """'2024-03-01' -> '2024-03' (the billing month 电费年月)."""
    return partition_key[:7]


def partition_of(period: str) -> str:
    return f"{period}-01"
