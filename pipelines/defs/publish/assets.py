"""published/warehouse: the read-only snapshot the dashboards read (swapped in atomically)."""


import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.defs.resources import ReadqHome
from warehouse.marts import marts
from warehouse.publish import publish
from warehouse.schema import ensure_schema


@dg.asset(
    key=["published", "warehouse"],
    group_name="published",
    kinds={"duckdb"},
    deps=[["marts", m.name] for m in marts()],
    pool="duckdb",
    automation_condition=dg.AutomationCondition.eager(),
)
def published_warehouse(duckdb: DuckDBResource, readq_home: ReadqHome) -> dg.MaterializeResult:
    """Publish the dashboards' snapshot: the Parquet parts of the months that changed, then a new snapshot
    file (views over the parts, the delivery registry, quarantine reasons) swapped in atomically."""
    target = readq_home.paths.published
    with duckdb.get_connection() as conn:
        ensure_schema(conn)
        result = publish(conn, target)
    return dg.MaterializeResult(metadata={
        "path": str(result.path),
        "size_bytes": result.size_bytes,
        "parts_written": result.parts_written,
        "parts_kept": len(result.parts) - result.parts_written,
        "parts_removed": result.removed,
        "months_written": dg.MetadataValue.json(sorted({p.period for p in result.parts if p.written})),
        "tables": dg.MetadataValue.json(result.tables),
    })
