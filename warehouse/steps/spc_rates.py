"""The rates the control charts watch (config/spc.toml [metrics]), per month, team and reader, as
numerator and denominator: the shared input of the prepare steps of marts.spc_p_chart, spc_funnel,
spc_funnel_limits and spc_cusum.

error_rate reads the KPI marts (marts.kpi_team_month, marts.kpi_reader_month: a month without review
findings has a null numerator and is left out, not charted as 0); flag_rate counts the month's readings
(not 未抄) of marts.meter_readings and those with a flag at the configured severities in
marts.reading_flags. The unattributed team/reader is left out: nobody can be in or out of control
for readings nobody is attributed to.
"""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from checks.periods import shift_month
from readq.config import load_toml

RATES_SCHEMA: dict[str, Any] = {
    "period": pl.String, "level": pl.String, "team": pl.String, "reader": pl.String, "metric": pl.String,
    "numerator": pl.Float64, "denominator": pl.Float64,
}


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def rates(conn: duckdb.DuckDBPyConnection, first: str, last: str, levels: tuple[str, ...] = ("team", "reader"),
          cfg: dict[str, Any] | None = None) -> pl.DataFrame:
    """Numerators and denominators of every metric for the months first..last at `levels`."""
    cfg = cfg or load_toml("spc.toml")
    params = {"first": first, "last": last, "unattributed": cfg["unattributed"]}
    frames: list[pl.DataFrame] = []
    err = cfg["metrics"]["error_rate"]
    num, den = _ident(err["numerator"]), _ident(err["denominator"])
    for level in levels:
        table = "marts.kpi_team_month" if level == "team" else "marts.kpi_reader_month"
        reader = "null::varchar" if level == "team" else "reader"
        unattributed = "team = $unattributed" if level == "team" else "reader = $unattributed"
        frames.append(conn.sql(f"""
            select period, '{level}' as level, team, {reader} as reader, 'error_rate' as metric,
                   {num}::double as numerator, {den}::double as denominator
            from {table}
            where period between $first and $last and {num} is not null and not ({unattributed})
        """, params=params).pl())
    severities = list(cfg["metrics"]["flag_rate"]["severities"])
    by_reader = conn.sql("""
        with reads as (
            select period, team, reader, delivery_id, sheet, source_row
            from marts.meter_readings
            where period between $first and $last and read_status <> 'MISSED'
        ),
        flagged as (
            select distinct period, delivery_id, sheet, source_row
            from marts.reading_flags
            where period between $first and $last and list_contains($severities, severity)
        )
        select r.period, r.team, r.reader,
               count(f.source_row)::double as numerator,
               count(*)::double            as denominator
        from reads r
        left join flagged f
          on f.period = r.period and f.delivery_id = r.delivery_id and f.source_row = r.source_row
         and f.sheet is not distinct from r.sheet
        group by all
    """, params={"first": first, "last": last, "severities": severities}).pl()
    un = cfg["unattributed"]
    if "reader" in levels:
        frames.append(by_reader.filter((pl.col("reader") != un) & (pl.col("team") != un)).select(
            "period", pl.lit("reader").alias("level"), "team", "reader", pl.lit("flag_rate").alias("metric"),
            "numerator", "denominator"))
    if "team" in levels:
        frames.append(by_reader.filter(pl.col("team") != un).group_by("period", "team").agg(
            pl.col("numerator").sum(), pl.col("denominator").sum()).select(
            "period", pl.lit("team").alias("level"), "team", pl.lit(None, pl.String).alias("reader"),
            pl.lit("flag_rate").alias("metric"), "numerator", "denominator"))
    out = pl.concat([f.cast(RATES_SCHEMA) for f in frames]) if frames else pl.DataFrame(schema=RATES_SCHEMA)
    return out.sort("period", "level", "metric", "team", "reader", nulls_last=False)


def month_rates(conn: duckdb.DuckDBPyConnection, period: str, levels: tuple[str, ...]) -> pl.DataFrame:
    return rates(conn, period, period, levels)


def window_rates(conn: duckdb.DuckDBPyConnection, period: str, levels: tuple[str, ...]) -> pl.DataFrame:
    cfg = load_toml("spc.toml")
    return rates(conn, shift_month(period, -int(cfg["cusum"]["months_before"])), period, levels, cfg)
