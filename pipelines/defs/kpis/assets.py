"""marts.kpi_team_month: 实抄率 and 差错率 (with their counts) per team, one month per partition."""


import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.partitions import monthly, period_of
from warehouse.marts import replace_month
from warehouse.schema import ensure_schema


@dg.asset(
    key=["marts", "kpi_team_month"],
    group_name="marts",
    kinds={"duckdb"},
    partitions_def=monthly,
    deps=[["core", "readings"], ["core", "review_findings"]],
    pool="duckdb",
)
def kpi_team_month(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    """实抄率, 漏抄率, 估抄率, 差错率 (户/只/电量) per team for the month, counts next to rates
    (SQL: warehouse/sql/kpi_team_month.sql)."""
    period = period_of(context.partition_key)
    with duckdb.get_connection() as conn:
        ensure_schema(conn)
        conn.execute("begin")
        try:
            rows = replace_month(conn, "kpi_team_month", period)
            conn.execute("commit")
        except Exception:
            conn.execute("rollback")
            raise
        preview = conn.sql(
            "select team, customers_due, customers_read, round(actual_read_rate * 100, 3) as actual_read_pct, "
            "customers_with_error, round(errors_per_10k, 2) as errors_per_10k from marts.kpi_team_month "
            "where period = ? order by team", params=[period]).pl()
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows,
        "period": period,
        "preview": dg.MetadataValue.md(_markdown(preview)),
    })


def _markdown(frame) -> str:
    header = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns)
    body = "\n".join("| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in frame.iter_rows())
    return header + "\n" + body
