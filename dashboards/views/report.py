"""Monthly report page (the director, the 工作例会): the month's report as the pipeline writes it, its
narrative on the page, both files (HTML with inline charts, XLSX with the 差错统计表, KPIs, scores, ledger
and recheck list) to download, and the HTML previewed below.

The report is written from the published snapshot in the page's language, reader names masked
(pipelines/reports/monthly.py; config/report.toml). URL: `?month=`.
"""

from __future__ import annotations

import streamlit as st

from dashboards import data
from dashboards import report as rp
from dashboards.components import month_picker, snapshot_months
from dashboards.i18n import get_lang, t

NEEDED = ("marts.kpi_centre_month", "ops.deliveries")
PREVIEW_HEIGHT = 1400


def main() -> None:
    st.title(t("page_report"))
    found = snapshot_months(NEEDED, "report_missing", rp.months, "report_no_months")
    if found is None:
        return
    snap, _, months = found
    month = month_picker(months)
    lang = get_lang()
    try:
        with st.spinner(t("report_writing", month=month)):
            written = rp.report(snap, month, lang)
    except data.SnapshotError as exc:
        st.warning(t("snapshot_unreadable", error=exc.detail or exc.reason), icon=":material/warning:")
        return
    st.caption(t("report_caption", month=month))
    for paragraph in written.paragraphs:
        st.text(paragraph)            # data values (team names) as plain text, never Markdown
    if written.empty:
        return
    left, right = st.columns(2)
    with left:
        st.download_button(t("report_download_html"), data=written.html.encode("utf-8"),
                           file_name=written.html_name, mime="text/html", icon=":material/download:")
    with right:
        # written when clicked (Streamlit calls `data`): the workbook is most of the report's time
        st.download_button(t("report_download_xlsx"), data=lambda: rp.workbook(snap, month, lang),
                           file_name=written.xlsx_name, on_click="ignore",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           icon=":material/download:")
    st.subheader(t("report_preview"))
    # The report's own page: every data value in it is escaped by its autoescaping template, and its only
    # script is the inline plotly.js with the charts' JSON (pipelines/reports/templates/monthly.html.j2).
    st.iframe(written.html, height=PREVIEW_HEIGHT)


main()
