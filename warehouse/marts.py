"""Build a month of each mart from its SQL file, replacing that month in one transaction."""

from __future__ import annotations

import duckdb

from readq.config import config_version, load_toml
from warehouse.sql import load_sql


def kpi_params(period: str) -> dict[str, object]:
    targets = load_toml("targets.toml")
    return {
        "period": period,
        "actual_read_target": float(targets["actual_read_rate"]["target"]),
        "error_target_manual": float(targets["error_rate"]["target_manual"]),
        "error_target_remote": float(targets["error_rate"]["target_remote"]),
        "config_version": config_version(),
    }


MART_PARAMS = {"kpi_team_month": kpi_params}


def replace_month(conn: duckdb.DuckDBPyConnection, table: str, period: str) -> int:
    """Delete and rebuild `marts.<table>` for one month inside the caller's transaction; rows written."""
    conn.execute(f"delete from marts.{table} where period = ?", [period])
    conn.execute(load_sql(table), MART_PARAMS[table](period))
    return conn.execute(f"select count(*) from marts.{table} where period = ?", [period]).fetchall()[0][0]
