"""UI text in Chinese (default) and English.

Every visible label goes through `t(key, **fmt)`. The language comes from the session (set by the
sidebar switch in `components.language_switch`), else from `?lang=` in the URL, else Chinese.
Data values (team names, months, config versions) are shown as they are.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

DEFAULT_LANG = "zh"
LANG_STATE_KEY = "ui_lang"  # session_state key of the language widget
LANG_NAMES: dict[str, str] = {"zh": "中文", "en": "English"}

CATALOG: dict[str, dict[str, str]] = {
    "zh": {
        "app_title": "抄表质量看板",
        "nav_section_main": "指标",
        "page_kpis": "实抄率与差错率",
        "lang_label": "语言",
        "month_label": "月份（电费年月）",
        "team_label": "抄表队",
        "team_placeholder": "全部抄表队",
        "no_snapshot": (
            "尚未发布数据快照（{path}）。请先运行 `uv run readq demo` 生成演示数据，"
            "或运行 `readq build` 处理已到达的导出文件，然后刷新本页。"
        ),
        "snapshot_unreadable": "无法读取已发布的数据快照：{error}",
        "no_kpi_table": "数据快照中还没有指标表 marts.kpi_team_month。请运行 `readq build` 后刷新。",
        "no_kpi_rows": "指标表中还没有任何月份的数据。",
        "kpi_title": "抄表质量指标",
        "kpi_header": "{month} 月度指标",
        "config_caption": "配置版本：{versions} · 计算时间：{computed}",
        "scope_all": "范围：全中心（{n} 个抄表队）",
        "scope_selected": "范围：所选 {n} 个抄表队（{teams}）",
        "metric_actual_read": "实抄率",
        "metric_error_rate": "差错率（户）",
        "metric_errors_per_10k": "差错户数 / 万户",
        "metric_missed": "漏抄率",
        "metric_estimated": "估抄率",
        "vs_last_month": "较上月",
        "no_prev_month": "无上月数据",
        "pp": "个百分点",
        "target_ge": "目标 ≥ {v}",
        "target_le": "目标 ≤ {v}",
        "meets": "达标",
        "misses": "未达标",
        "no_data": "无数据",
        "partial_errors": "差错率只含有复核数据的 {k}/{n} 个抄表队；其余抄表队本月未交付复核结果。",
        "no_error_data": "本月未交付复核结果（差错数据），差错率显示为“无数据”，不是 0。",
        "teams_table": "各抄表队明细",
        "col_team": "抄表队",
        "col_due": "应抄户数",
        "col_read": "实抄户数",
        "col_missed": "未抄户数",
        "col_estimated": "估抄户数",
        "col_errors": "差错户数",
        "col_actual_read_rate": "实抄率",
        "col_error_rate": "差错率",
        "col_error_target": "差错率目标",
        "col_meets": "差错率达标",
        "col_config_version": "配置版本",
        "pct_suffix": "（%）",
        "total_row": "合计",
        "download_csv": "下载表格（CSV）",
        "trend_title": "月度趋势",
        "trend_actual_read": "实抄率趋势",
        "trend_error_rate": "差错率（户）趋势",
        "target_line": "目标",
        "axis_month": "月份",
        "no_error_months": "无复核数据的月份（图中断开）：{months}",
        "counts_note": "小抄表队的比率波动较大，请结合户数一起看。",
    },
    "en": {
        "app_title": "Reading-quality dashboard",
        "nav_section_main": "Indicators",
        "page_kpis": "Read rate & error rate",
        "lang_label": "Language",
        "month_label": "Month (billing month)",
        "team_label": "Reading teams",
        "team_placeholder": "All teams",
        "no_snapshot": (
            "No published data snapshot yet ({path}). Run `uv run readq demo` to generate a demo "
            "centre, or `readq build` to process the exports that have landed, then reload this page."
        ),
        "snapshot_unreadable": "The published data snapshot could not be read: {error}",
        "no_kpi_table": ("The snapshot has no KPI table marts.kpi_team_month yet. Run `readq build` and reload."),
        "no_kpi_rows": "The KPI table has no months yet.",
        "kpi_title": "Reading-quality KPIs",
        "kpi_header": "KPIs for {month}",
        "config_caption": "Config version: {versions} · computed at: {computed}",
        "scope_all": "Scope: whole centre ({n} teams)",
        "scope_selected": "Scope: {n} selected teams ({teams})",
        "metric_actual_read": "Actual-read rate",
        "metric_error_rate": "Error rate (customers)",
        "metric_errors_per_10k": "Errors per 10,000 customers",
        "metric_missed": "Missed-read rate",
        "metric_estimated": "Estimated-read rate",
        "vs_last_month": "vs last month",
        "no_prev_month": "no data for last month",
        "pp": "pp",
        "target_ge": "target ≥ {v}",
        "target_le": "target ≤ {v}",
        "meets": "meets target",
        "misses": "misses target",
        "no_data": "no data",
        "partial_errors": (
            "The error rate covers only the {k}/{n} teams with review findings; the other teams "
            "delivered no review results this month."
        ),
        "no_error_data": (
            "No review findings (error data) were delivered for this month: the error rate shows “no data”, not 0."
        ),
        "teams_table": "By team",
        "col_team": "Team",
        "col_due": "Customers due",
        "col_read": "Customers read",
        "col_missed": "Not read",
        "col_estimated": "Estimated",
        "col_errors": "Customers with error",
        "col_actual_read_rate": "Actual-read rate",
        "col_error_rate": "Error rate",
        "col_error_target": "Error-rate target",
        "col_meets": "Error rate meets target",
        "col_config_version": "Config version",
        "pct_suffix": " (%)",
        "total_row": "Total",
        "download_csv": "Download table (CSV)",
        "trend_title": "Monthly trend",
        "trend_actual_read": "Actual-read rate trend",
        "trend_error_rate": "Error rate (customers) trend",
        "target_line": "Target",
        "axis_month": "Month",
        "no_error_months": "Months without review findings (gaps in the chart): {months}",
        "counts_note": "Small teams give noisy rates: read the counts next to them.",
    },
}


def parse_lang(value: Any) -> str:
    """A supported language code, or the default for anything else (crafted values included)."""
    return value if isinstance(value, str) and value in CATALOG else DEFAULT_LANG


def get_lang() -> str:
    if LANG_STATE_KEY in st.session_state:
        return parse_lang(st.session_state[LANG_STATE_KEY])
    return parse_lang(st.query_params.get("lang"))


def t(key: str, **fmt: Any) -> str:
    """The text for `key` in the current language, formatted with `fmt`."""
    lang = get_lang()
    text = CATALOG[lang].get(key) or CATALOG[DEFAULT_LANG].get(key) or key
    return text.format(**fmt) if fmt else text
