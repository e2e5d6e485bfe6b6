"""One month-partitioned asset per mart SQL file (warehouse/sql/<table>.sql, see warehouse/marts.py):
its key is the table it produces, its deps the tables its header lists as inputs, and its description
the header's. Each run rebuilds one month of the table in one transaction."""


import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from pipelines.partitions import monthly, period_of
from warehouse.marts import Mart, marts, replace_month
from warehouse.schema import ensure_schema

PREVIEW_ROWS = 20


def _markdown(frame: pl.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns)
    body = "\n".join("| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in frame.iter_rows())
    return header + "\n" + body


def mart_asset(m: Mart) -> dg.AssetsDefinition:
    @dg.asset(
        name=m.name,
        key_prefix=["marts"],
        group_name="marts",
        kinds={"duckdb"},
        partitions_def=monthly,
        deps=[dg.AssetKey(table.split(".")) for table in m.inputs],
        pool="duckdb",
        description=f"{m.description} (SQL: warehouse/sql/{m.name}.sql)",
    )
    def build(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
        period = period_of(context.partition_key)
        with duckdb.get_connection() as conn:
            ensure_schema(conn)
            conn.execute("begin")
            try:
                rows = replace_month(conn, m.name, period)
                conn.execute("commit")
            except BaseException:
                conn.execute("rollback")
                raise
            preview = conn.sql(f"select * from marts.{m.name} where period = ? limit {PREVIEW_ROWS}",
                               params=[period]).pl()
        preview = preview.drop([c for c in ("period", "config_version", "computed_at") if c in preview.columns])
        return dg.MaterializeResult(metadata={
            "dagster/row_count": rows,
            "period": period,
            "preview": dg.MetadataValue.md(_markdown(preview)),
        })

    return build


MART_ASSETS = [mart_asset(m) for m in marts()]
