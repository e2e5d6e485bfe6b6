"""Prepare step of marts.point_history (warehouse/sql/point_history.sql): the month's metering points of
marts.meter_readings encoded by checks.history.POINT_MONTHS_SQL, in mp_key order."""

from __future__ import annotations

import duckdb
import polars as pl

from checks.history import POINT_MONTHS_SQL

ROWS_SQL = ("select * exclude (mp_key) from ("
            + POINT_MONTHS_SQL.format(source="marts.meter_readings", where="period = $period")
            + ") order by mp_key")


def prepare(conn: duckdb.DuckDBPyConnection, values: dict[str, object]) -> dict[str, pl.DataFrame]:
    return {"point_history_rows": conn.sql(ROWS_SQL, params={"period": str(values["period"])}).pl()}
