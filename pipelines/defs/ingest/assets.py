"""raw.<kind> and core.<kind> for one billing month, from the files in the landing folder.

One step per month: every new file of that month is read, mapped, cast, validated and
loaded (raw keeps every delivered row; core the rows that passed; quarantine the others
with their reasons), each delivery in one transaction, then moved to the archive. A file
already delivered is a no-op; a corrected re-export replaces what it covers (the segments of a
readings file) and nothing else. The ops tables the load writes (the delivery registry, what each
delivery covers, skipped rows) and quarantine.rows are assets of this step too, so the marts that
read them depend on them.
"""


import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from checks.mappings import KINDS, load_mapping
from pipelines.defs.resources import ReadqHome
from pipelines.ingest.batch import ingest_and_archive
from pipelines.ingest.landing import files_for_period
from pipelines.ingest.registry import DeliveryResult
from pipelines.partitions import monthly, period_of
from warehouse.schema import ensure_schema

BALANCE_CHECK = "rows_balance"


OPS_TABLES = {
    ("ops", "deliveries"): "The delivery registry: every file (sheet) offered, its outcome, counts and message.",
    ("ops", "delivery_grains"): "What each delivery covers (its segments / teams) and what replaced it.",
    ("ops", "skipped_rows"): "Rows of deliveries that hold no data: title, blank and totals rows, exact repeats.",
    ("quarantine", "rows"): "Every row that did not reach core, with file, row, column, check and value.",
}


def _specs() -> list[dg.AssetSpec]:
    specs = [dg.AssetSpec(list(key), group_name=key[0], kinds={"duckdb"}, description=text)
             for key, text in OPS_TABLES.items()]
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
                          description="Nothing lost: rows read = rows loaded + rows quarantined, per delivery; core "
                                      "holds exactly its rows still in force.")
        for kind in KINDS
    ]


def _delivery_table(results: list[DeliveryResult]) -> str:
    lines = ["| file | sheet | status | read | loaded | quarantined | seconds (read/check/write) | message |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        seconds = "/".join(f"{r.seconds[s]:.2f}" for s in ("read", "check", "write") if s in r.seconds)
        lines.append(f"| {r.file} | {r.sheet or ''} | {r.status} | {r.rows_read} | {r.rows_loaded} | "
                     f"{r.rows_quarantined} | {seconds} | {r.message.replace('|', '/')} |")
    return "\n".join(lines)


BALANCE_SQL = """
select d.kind, d.delivery_id, d.file_name, d.sheet, d.status, d.rows_read, d.rows_loaded, d.rows_quarantined,
       coalesce(g.in_force, 0) as in_force, coalesce(c.n, 0) as core_rows, coalesce(q.n, 0) as quarantined_rows,
       d.rows_read = d.rows_loaded + d.rows_quarantined and coalesce(g.loaded, 0) = d.rows_loaded
         and coalesce(c.n, 0) = coalesce(g.in_force, 0) and coalesce(q.n, 0) = d.rows_quarantined as balanced
from ops.deliveries d
left join ({core_counts}) c using (delivery_id)
left join (select delivery_id, count(distinct source_row) as n from quarantine.rows group by 1) q using (delivery_id)
left join (select delivery_id, sum(rows_loaded) as loaded,
                  sum(rows_loaded) filter (where superseded_by is null) as in_force
           from ops.delivery_grains group by 1) g using (delivery_id)
where d.period = $period and d.status <> 'rejected'
order by d.seq
"""


def _balance(conn: duckdb.DuckDBPyConnection, period: str) -> pl.DataFrame:
    """Per delivery of the month: read = loaded + quarantined; quarantine holds its quarantined rows
    (history kept); core holds its loaded rows of the grain values still in force (none once it is
    wholly superseded)."""
    core_counts = " union all ".join(
        f"select delivery_id, count(*) as n from core.{kind} where period = $period group by 1" for kind in KINDS)
    return conn.sql(BALANCE_SQL.format(core_counts=core_counts), params={"period": period}).pl()


def _balance_table(deliveries: pl.DataFrame) -> str:
    lines = ["| file | sheet | status | read | loaded | in force (core rows) | quarantined (rows) | balanced |",
             "|---|---|---|---|---|---|---|---|"]
    for r in deliveries.iter_rows(named=True):
        lines.append(f"| {r['file_name']} | {r['sheet'] or ''} | {r['status']} | {r['rows_read']} | "
                     f"{r['rows_loaded']} | {r['in_force']} ({r['core_rows']}) | "
                     f"{r['rows_quarantined']} ({r['quarantined_rows']}) | {'✓' if r['balanced'] else '✗'} |")
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
    with duckdb.get_connection() as conn:
        ensure_schema(conn)
        results = ingest_and_archive(conn, files, landing=paths.landing, archive=paths.archive)
        counts = {
            kind: conn.execute(f"select count(*) from core.{kind} where period = ?", [period]).fetchall()[0][0]
            for kind in KINDS
        }
        deliveries = _balance(conn, period)
        schemas = {kind: conn.sql(f"describe core.{kind}").pl() for kind in KINDS}
        ops_counts = {key: conn.execute(f"select count(*) from {key[0]}.{key[1]} where delivery_id in "
                                        "(select delivery_id from ops.deliveries where period = ?)",
                                        [period]).fetchall()[0][0] for key in OPS_TABLES}

    for key, rows in ops_counts.items():
        yield dg.MaterializeResult(asset_key=list(key), metadata={"dagster/row_count": rows, "period": period})

    for kind in KINDS:
        mine = [r for r in results if r.kind == kind]
        kind_deliveries = deliveries.filter(pl.col("kind") == kind)
        unbalanced = kind_deliveries.filter(~pl.col("balanced"))
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
                      "rows_quarantined": int(kind_deliveries["rows_quarantined"].sum() or 0),
                      "per_delivery": dg.MetadataValue.md(_balance_table(kind_deliveries))},
        )
    for r in results:
        for warning in r.warnings:
            context.log.warning(f"{r.file}{' / ' + r.sheet if r.sheet else ''}: {warning}")
    rejected = [r for r in results if r.status == "rejected"]
    for r in rejected:
        context.log.warning(f"rejected {r.file}{' / ' + r.sheet if r.sheet else ''}: {r.message}")
