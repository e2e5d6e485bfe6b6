"""The assignments (抄表派工) in force per month, the months delivered, and the tenure and plan they give
(checks/rotation.py): shared by the prepare steps of marts.rotation_segments, rotation_plan and
rotation_loads."""

from __future__ import annotations

import duckdb
import polars as pl

from checks.periods import shift_month
from checks.rotation import STATUS_SCHEMA, RotationPlan, plan_rotation, rotation_config, rotation_status, tenure

ASSIGNMENTS_SQL = """
select a.period, a.team, a.segment_no, a.segment_name, a.plan_day, a.reader, a.partner, a.held_since,
       a.segment_read_mode, a.customer_count
from core.assignments a
join ops.deliveries d using (delivery_id)
where a.period between ? and ?
qualify row_number() over (partition by a.period, a.segment_no order by d.seq desc, a.source_row) = 1
"""
DELIVERED_SQL = """
select distinct period from ops.deliveries
where kind = 'assignments' and status <> 'rejected' and period between ? and ?
"""


def month_inputs(conn: duckdb.DuckDBPyConnection, period: str) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """(every assignment in force in the month and the [history_months] before it, the month's, the months
    an assignment list arrived)."""
    first = shift_month(period, -int(rotation_config()["history_months"]))
    every = conn.sql(ASSIGNMENTS_SQL, params=[first, period]).pl()
    delivered = [r[0] for r in conn.execute(DELIVERED_SQL, [first, period]).fetchall()]
    return every, every.filter(pl.col("period") == period), delivered


def month_status(conn: duckdb.DuckDBPyConnection, period: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the tenure of every holder up to the month, the month's segments with their status: none, in
    STATUS_SCHEMA, when no assignment list arrived for the month)."""
    every, month, delivered = month_inputs(conn, period)
    held = tenure(every, delivered)
    return held, rotation_status(held, month, rotation_config()) if month.height else pl.DataFrame(schema=STATUS_SCHEMA)


def month_plan(conn: duckdb.DuckDBPyConnection, period: str) -> RotationPlan | None:
    """Next month's rotation from the month's assignments; None when none arrived for the month."""
    every, month, delivered = month_inputs(conn, period)
    if month.height == 0:
        return None
    return plan_rotation(month, tenure(every, delivered), rotation_config())
