"""Prepare step of marts.rotation_plan: next month's moves, and what the plan could not achieve."""

from __future__ import annotations

import duckdb
import polars as pl

from checks.rotation import MESSAGE_SCHEMA, MOVE_SCHEMA
from warehouse.steps.rotation_inputs import month_plan


def prepare(conn: duckdb.DuckDBPyConnection, values: dict[str, object]) -> dict[str, pl.DataFrame]:
    plan = month_plan(conn, str(values["period"]))
    moves = plan.moves if plan is not None else pl.DataFrame(schema=MOVE_SCHEMA)
    messages = (pl.concat([plan.unresolved.with_columns(pl.lit("unresolved").alias("kind")),
                           plan.notes.with_columns(pl.lit("note").alias("kind"))])
                if plan is not None else pl.DataFrame(schema={**MESSAGE_SCHEMA, "kind": pl.String}))
    return {"rotation_moves": moves, "rotation_messages": messages}
