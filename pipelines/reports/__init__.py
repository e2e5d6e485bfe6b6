"""What the warehouse writes for people to read: the workbooks of the exports (workbook.py), the seed's
差错统计表 (error_table.py), the assessment and recheck sheets (sheets.py) and the director's monthly report
(monthly.py: HTML and XLSX under $READQ_HOME/reports/YYYY-MM/, the Dagster asset reports/monthly).
Plain logic: the CLI (readq/), the dashboards and the asset (pipelines/defs/reports/) all call it."""
