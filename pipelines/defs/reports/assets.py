"""reports/monthly: the director's monthly report of each month (HTML and XLSX under
$READQ_HOME/reports/YYYY-MM/), written from that month's marts once they are built."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.defs.resources import ReadqHome
from pipelines.partitions import monthly, period_of
from pipelines.reports.monthly import READS, write_report
from readq.config import load_toml
from warehouse.schema import ensure_schema


@dg.asset(
    key=["reports", "monthly"],
    group_name="reports",
    kinds={"html", "excel"},
    partitions_def=monthly,
    deps=[["marts", name] for name in READS],
    pool="duckdb",
    description="The director's monthly report (月度报告): narrative, charts, 差错统计表, KPIs, scores, ledger, "
                "recheck list and data coverage (pipelines/reports/monthly.py; config/report.toml).",
)
def monthly_report(context: dg.AssetExecutionContext, duckdb: DuckDBResource,
                   readq_home: ReadqHome) -> dg.MaterializeResult:
    period = period_of(context.partition_key)
    lang = str(load_toml("report.toml")["lang"])
    with duckdb.get_connection() as conn:
        ensure_schema(conn)
        written = write_report(conn, period, readq_home.paths.reports, lang)
    return dg.MaterializeResult(metadata={
        "period": period,
        "lang": lang,
        "html": dg.MetadataValue.path(str(written.html)),
        "xlsx": dg.MetadataValue.path(str(written.xlsx)),
        "html_bytes": written.html.stat().st_size,
        "xlsx_bytes": written.xlsx.stat().st_size,
        "narrative": dg.MetadataValue.md("\n".join(f"- {p}" for p in written.paragraphs)),
    })
