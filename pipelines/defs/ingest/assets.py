"""raw.<kind> and core.<kind> for one billing month, from the files in the landing folder.

One step per month: every new file of that month is read, mapped, cast, validated and
loaded (raw keeps every delivered row; core the rows that passed; quarantine the others
with their reasons), each delivery in one transaction, then moved to the archive. A file
already delivered is a no-op; a corrected re-delivery supersedes the earlier one.
"""


import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from checks.mappings import KINDS, load_mapping
from pipelines.defs.resources import ReadqHome
from pipelines.ingest.deliver import ingest_path
from pipelines.ingest.landing import archive_file, files_for_period
from pipelines.ingest.registry import DeliveryResult
from pipelines.ingest.staging import drop_stale_staging
from pipelines.partitions import monthly, period_of
from warehouse.schema import ensure_schema

BALANCE_CHECK = "rows_balance"


def _specs() -> list[dg.AssetSpec]:
    specs = []
    for kind in KINDS:
        mapping = load_mapping(kind)
        raw = dg.AssetSpec(["raw", kind], group_name="raw", kinds={"duckdb"},
                           description=f"{mapping.label_zh} as delivered: every row and column, as text.")
        core = dg.AssetSpec(["core", kind], group_name="core", kinds={"duckdb", "polars"}, deps=[raw.key],
                            description=f"{mapping.label_zh} ({mapping.label_en}), typed and validated; "
                                        "rows that failed are in quarantine.rows.")
        specs += [raw, core]
    return specs


def _check_specs() -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(BALANCE_CHECK, asset=["core", kind], blocking=True,
                          description="Nothing lost: rows read = rows loaded + rows quarantined, per delivery.")
        for kind in KINDS
    ]


def _delivery_table(results: list[DeliveryResult]) -> str:
    lines = ["| file | sheet | status | read | loaded | quarantined | message |", "|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r.file} | {r.sheet or ''} | {r.status} | {r.rows_read} | {r.rows_loaded} | "
                     f"{r.rows_quarantined} | {r.message.replace('|', '/')} |")
    return "\n".join(lines)


@dg.multi_asset(
    name="ingest_month",
    specs=_specs(),
    check_specs=_check_specs(),
    partitions_def=monthly,
    pool="duckdb",
    can_subset=False,
)
def ingest_month(context: dg.AssetExecutionContext, duckdb: DuckDBResource, readq_home: ReadqHome):
    period = period_of(context.partition_key)
    paths = readq_home.paths
    files = files_for_period(paths.landing, period)
    context.log.info(f"{len(files)} landing file(s) for {period}")
    results: list[DeliveryResult] = []
    with duckdb.get_connection() as conn:
        ensure_schema(conn)
        drop_stale_staging(conn)
        for path in files:
            file_results = ingest_path(conn, path)
            results += file_results
            if all(r.status != "rejected" for r in file_results):  # rejected files stay for the user to see
                archived = archive_file(path, paths.archive, period)
                conn.execute("update ops.deliveries set archived_path = ? where source_path = ?",
                             [str(archived), str(path)])
        counts = {
            kind: conn.execute(f"select count(*) from core.{kind} where period = ?", [period]).fetchall()[0][0]
            for kind in KINDS
        }
        deliveries = conn.sql(
            "select kind, delivery_id, rows_read, rows_loaded, rows_quarantined from ops.deliveries "
            "where period = ? and status = 'loaded'", params=[period]).pl()
        schemas = {kind: conn.sql(f"describe core.{kind}").pl() for kind in KINDS}

    for kind in KINDS:
        mine = [r for r in results if r.kind == kind]
        kind_deliveries = deliveries.filter(pl.col("kind") == kind)
        unbalanced = kind_deliveries.filter(
            pl.col("rows_read") != pl.col("rows_loaded") + pl.col("rows_quarantined"))
        yield dg.MaterializeResult(
            asset_key=["raw", kind],
            metadata={"files_this_run": len(mine), "deliveries": dg.MetadataValue.md(_delivery_table(mine))},
        )
        yield dg.MaterializeResult(
            asset_key=["core", kind],
            metadata={
                "dagster/row_count": counts[kind],
                "period": period,
                "deliveries_in_force": kind_deliveries.height,
                "rows_quarantined": int(kind_deliveries["rows_quarantined"].sum() or 0),
                "dagster/column_schema": dg.TableSchema(columns=[
                    dg.TableColumn(r["column_name"], r["column_type"]) for r in schemas[kind].to_dicts()]),
            },
        )
        yield dg.AssetCheckResult(
            asset_key=["core", kind],
            check_name=BALANCE_CHECK,
            passed=unbalanced.height == 0,
            metadata={"deliveries": kind_deliveries.height, "unbalanced": unbalanced.height,
                      "rows_read": int(kind_deliveries["rows_read"].sum() or 0),
                      "rows_loaded": int(kind_deliveries["rows_loaded"].sum() or 0),
                      "rows_quarantined": int(kind_deliveries["rows_quarantined"].sum() or 0)},
        )
    rejected = [r for r in results if r.status == "rejected"]
    for r in rejected:
        context.log.warning(f"rejected {r.file}{' / ' + r.sheet if r.sheet else ''}: {r.message}")
