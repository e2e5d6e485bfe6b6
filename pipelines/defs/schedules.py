"""Build each month's partition on schedule (the landing-folder sensor reacts sooner)."""

import dagster as dg

from pipelines.defs.ingest.assets import ingest_month
from pipelines.defs.marts.assets import MART_ASSETS
from pipelines.defs.reports.assets import monthly_report

month_job = dg.define_asset_job("month_job", selection=[ingest_month, *MART_ASSETS, monthly_report],
                                description="Ingest the month's exports, rebuild its marts and write its report.")

monthly_schedule = dg.build_schedule_from_partitioned_job(month_job, day_of_month=5, hour_of_day=6)
