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


def _dep(table: str, history: int) -> dg.AssetDep:
    """An input table; a mart with history reads that many months of it before its own."""
    key = dg.AssetKey(table.split("."))
    if history <= 0:
        return dg.AssetDep(key)
    return dg.AssetDep(key, partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-history, end_offset=0))


def mart_asset(m: Mart) -> dg.AssetsDefinition:
    @dg.asset(
        name=m.name,
        key_prefix=["marts"],
        group_name="marts",
        kinds={"duckdb"},
        partitions_def=monthly,
        deps=[_dep(table, m.history_months) for table in m.inputs],
        pool="duckdb",
        description=f"{m.description} (SQL: warehouse/sql/{m.name}.sql)",
        check_specs=[dg.AssetCheckSpec(c.name, asset=["marts", m.name], description=c.description)
                     for c in m.checks],
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
            extra: dict[str, object] = {}
            if m.count_by:
                cols = ", ".join(m.count_by)
                counts = conn.sql(f"select {cols}, count(*) as rows from marts.{m.name} where period = ? "
                                  f"group by all order by rows desc", params=[period]).pl()
                extra["rows_by_" + "_".join(m.count_by)] = dg.MetadataValue.md(_markdown(counts))
            checks = []
            for c in m.checks:
                broken, first = c.violations(conn, period)
                checks.append(dg.AssetCheckResult(
                    check_name=c.name, passed=broken == 0,
                    metadata={"rows_breaking": broken, "first": dg.MetadataValue.md(
                        "\n".join(f"- {r}" for r in first) or "none")}))
        preview = preview.drop([c for c in ("period", "config_version", "computed_at") if c in preview.columns])
        return dg.MaterializeResult(check_results=checks, metadata={
            "dagster/row_count": rows,
            "period": period,
            "preview": dg.MetadataValue.md(_markdown(preview)),
            **extra,
        })

    return build


MART_ASSETS = [mart_asset(m) for m in marts()]
