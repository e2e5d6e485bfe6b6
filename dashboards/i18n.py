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
        # --- Data quality page ---
        "nav_section_data": "数据",
        "page_quality": "数据质量",
        "quality_title": "数据质量：交付、入库与隔离",
        "all_months": "全部月份",
        "kind_label": "数据类型",
        "all_kinds": "全部类型",
        "scope_caption": "范围：{month} · {kind}",
        "unscoped_note": "另有 {n} 个被拒收的文件无法确定月份或类型，只在“全部月份”“全部类型”中列出。",
        "no_quality_tables": (
            "数据快照中没有数据质量表（{tables}），可能是旧版本的快照。请运行 `readq build` 后刷新。"
        ),
        "no_deliveries": "还没有收到任何导出文件（交付登记 ops.deliveries 为空）。",
        "no_deliveries_scope": "所选月份和类型没有交付记录。",
        "headline_files": "文件",
        "headline_rows": "行",
        "metric_files_received": "收到文件",
        "metric_files_loaded": "已入库",
        "metric_files_partly_superseded": "部分被替代",
        "metric_files_superseded": "已被替代",
        "metric_files_rejected": "被拒收",
        "metric_rows_read": "读取行数",
        "metric_rows_loaded": "入库行数",
        "metric_rows_quarantined": "隔离行数",
        "metric_rows_skipped": "跳过行数",
        "help_files": "每个文件一条交付记录；Excel 工作簿每个工作表一条。",
        "help_partly_superseded": "其中部分抄表段已被后来的文件替代：这些段的行以新文件为准，其余段仍有效。",
        "help_superseded": "全部抄表段均已被后来的文件替代：其行不再计入数据仓库，交付记录保留。",
        "help_rows": "含已被替代的交付：它们的行曾入库，后被更正文件替换。",
        "help_skipped": "标题行、空行、合计行：不含数据，不计入读取行数。",
        "balance_ok": (
            "✓ 全部 {n} 个交付均满足 读取行数 = 入库行数 + 隔离行数："
            "每一行要么已入库，要么在隔离区并注明原因。"
        ),
        "balance_failed": "✗ {k} 个交付（共 {n} 个）不满足 读取行数 = 入库行数 + 隔离行数，有行下落不明：",
        "balance_line": "{file}：读取 {read} ≠ 入库 {loaded} + 隔离 {quarantined}（相差 {diff}）",
        "detail_ok": "隔离明细和跳过明细的行数与交付登记一致。",
        "detail_mismatch": "{k} 个交付的明细行数与交付登记不一致：",
        "detail_line": (
            "{file}：登记隔离 {quarantined} 行，明细 {q_recorded} 行；登记跳过 {skipped} 行，明细 {s_recorded} 行"
        ),
        "more_lines": "……另有 {n} 个",
        "rejected_title": "被拒收的文件",
        "rejected_caption": "整份文件未入库：请按原因修正后重新导出。最近收到的在前。",
        "no_rejected": "没有被拒收的文件。",
        "reasons_title": "隔离原因",
        "reasons_caption": "按条数统计：一行未通过多项检查时，每项各计一条；“行数”为涉及的行。",
        "no_quarantine": "没有被隔离的行。",
        "chart_by_check": "按检查项",
        "chart_by_column": "按字段",
        "axis_entries": "条数",
        "no_column": "（整行）",
        "files_title": "各文件明细",
        "drill_title": "查看单个交付",
        "drill_label": "交付（月份 · 文件 · 工作表 · 编号）",
        "drill_placeholder": "选择一个交付，查看其隔离行和跳过行",
        "drill_summary": "{status} · 读取 {read} · 入库 {loaded} · 隔离 {quarantined} · 跳过 {skipped}",
        "drill_quarantined": "隔离的行（{rows} 行，{n} 条）",
        "drill_skipped": "跳过的行（{n} 行）",
        "drill_no_quarantine": "该交付没有被隔离的行。",
        "drill_no_skipped": "该交付没有跳过的行。",
        "drill_truncated": "只显示前 {shown} 条；下载 CSV 可得到全部 {n} 条。",
        "drill_quarantined_many": "隔离的行（{rows} 行，条目过多）",
        "drill_csv_capped": (
            "只显示前 {shown} 条，CSV 含前 {n} 条。全部条目请用命令行："
            "`readq quarantine --file {file} --limit 100000000`。"
        ),
        "no_masked_values": "此快照没有脱敏后的值（旧版本快照），“值”一栏不显示。",
        "download_quarantine": "下载隔离行（CSV，个人信息已脱敏）",
        "col_received": "收到时间",
        "col_file": "文件",
        "col_sheet": "工作表",
        "col_kind": "类型",
        "col_period": "月份",
        "col_status": "状态",
        "col_message": "说明",
        "col_rows_read": "读取",
        "col_rows_loaded": "入库",
        "col_rows_quarantined": "隔离",
        "col_rows_skipped": "跳过",
        "col_balanced": "行数平衡",
        "col_encoding": "编码",
        "col_period_source": "月份来源",
        "col_superseded_by": "被替代为",
        "col_unmapped": "未映射的列",
        "col_delivery": "交付编号",
        "col_check": "检查项",
        "col_check_code": "检查代码",
        "col_column": "字段",
        "col_header": "导出表头",
        "col_entries": "条数",
        "col_rows": "行数",
        "col_row": "行号",
        "col_stage": "阶段",
        "col_value": "值（已脱敏）",
        "col_reason": "原因",
        "status_loaded": "已入库",
        "status_partly_superseded": "部分被替代",
        "status_superseded": "已被替代",
        "status_rejected": "被拒收",
        "stage_read": "读取",
        "stage_cast": "类型转换",
        "stage_validate": "校验",
        "skip_title": "标题行",
        "skip_blank": "空行",
        "skip_totals": "合计行",
        "skip_repeat": "与第 {line} 行完全重复",
        "skip_repeat_same_values": "与第 {line} 行数值相同（写法不同）",
        "check_cast": "无法转换为 {type}",
        "check_cast_int": "不是整数",
        "check_cast_float": "不是数值",
        "check_cast_date": "不是可识别的日期",
        "check_cast_datetime": "不是可识别的日期时间",
        "check_cast_period": "不是有效的年月（YYYY-MM）",
        "check_code_table": "不在代码表“{table}”中",
        "check_not_nullable": "必填项为空",
        "check_duplicate_row": "与文件中前面的某行完全重复",
        "check_duplicate_key": "与文件中另一行的主键相同而内容不同",
        "check_too_many_fields": "字段数多于表头",
        "check_unparseable_line": "无法解析的行",
        "check_period_matches": "所属月份与本次交付的月份（{period}）不一致",
        "check_ge": "小于 {v}（应 ≥ {v}）",
        "check_gt": "应大于 {v}",
        "check_le": "大于 {v}（应 ≤ {v}）",
        "check_lt": "应小于 {v}",
        "check_in_range": "不在 {lo}–{hi} 范围内",
        "check_str_matches": "格式不符",
        "check_str_length": "长度不符（如为空字符串）",
        "check_isin": "不在允许的取值中",
        "code_table_read_status": "抄表状态",
        "code_table_read_mode": "抄表方式",
        "code_table_customer_class": "用户分类",
        "code_table_customer_status": "用户状态",
        "code_table_error_type": "差错类型",
        "code_table_found_by": "发现方式",
        "code_table_responsible_role": "责任岗位",
        "code_table_field_anomaly_type": "异常类别",
        "code_table_segment_read_mode": "抄表段抄表方式",
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
        # --- Data quality page ---
        "nav_section_data": "Data",
        "page_quality": "Data quality",
        "quality_title": "Data quality: deliveries, loads and quarantine",
        "all_months": "All months",
        "kind_label": "Kind of data",
        "all_kinds": "All kinds",
        "scope_caption": "Scope: {month} · {kind}",
        "unscoped_note": (
            "{n} more rejected files have no known month or kind: they are listed only under "
            "“All months” and “All kinds”."
        ),
        "no_quality_tables": (
            "The snapshot has no data-quality tables ({tables}); it may be an older snapshot. "
            "Run `readq build` and reload."
        ),
        "no_deliveries": "No exports have been received yet (the delivery registry ops.deliveries is empty).",
        "no_deliveries_scope": "No deliveries for the selected month and kind.",
        "headline_files": "Files",
        "headline_rows": "Rows",
        "metric_files_received": "Files received",
        "metric_files_loaded": "Loaded",
        "metric_files_partly_superseded": "Partly superseded",
        "metric_files_superseded": "Superseded",
        "metric_files_rejected": "Rejected",
        "metric_rows_read": "Rows read",
        "metric_rows_loaded": "Rows loaded",
        "metric_rows_quarantined": "Rows quarantined",
        "metric_rows_skipped": "Rows skipped",
        "help_files": "One delivery per file; one per sheet for Excel workbooks.",
        "help_partly_superseded": (
            "Later files replaced some of its segments: their rows come from the newer file, "
            "the other segments still stand."
        ),
        "help_superseded": (
            "Later files replaced all of its segments: its rows no longer count in the warehouse, "
            "its record stays."
        ),
        "help_rows": "Superseded deliveries included: their rows were loaded, then replaced by the correction.",
        "help_skipped": "Title, blank and totals rows: they hold no data and are not counted as read.",
        "balance_ok": (
            "✓ All {n} deliveries satisfy rows read = rows loaded + rows quarantined: every row either "
            "reached the warehouse or sits in quarantine with its reason."
        ),
        "balance_failed": (
            "✗ {k} of {n} deliveries break rows read = rows loaded + rows quarantined: rows are unaccounted for:"
        ),
        "balance_line": "{file}: read {read} ≠ loaded {loaded} + quarantined {quarantined} (off by {diff})",
        "detail_ok": "The quarantine and skipped-row listings hold as many rows as the registry counts.",
        "detail_mismatch": "{k} deliveries have listings that disagree with the registry counts:",
        "detail_line": (
            "{file}: {quarantined} rows quarantined per registry, {q_recorded} listed; "
            "{skipped} skipped per registry, {s_recorded} listed"
        ),
        "more_lines": "… and {n} more",
        "rejected_title": "Rejected files",
        "rejected_caption": (
            "Nothing of these files was loaded: fix the cause and re-export them. Most recent first."
        ),
        "no_rejected": "No rejected files.",
        "reasons_title": "Quarantine reasons",
        "reasons_caption": (
            "Counted in entries: a row failing several checks counts once per check; “rows” counts the rows."
        ),
        "no_quarantine": "No quarantined rows.",
        "chart_by_check": "By check",
        "chart_by_column": "By column",
        "axis_entries": "Entries",
        "no_column": "(whole row)",
        "files_title": "By file",
        "drill_title": "One delivery in detail",
        "drill_label": "Delivery (month · file · sheet · id)",
        "drill_placeholder": "Choose a delivery to see its quarantined and skipped rows",
        "drill_summary": (
            "{status} · read {read} · loaded {loaded} · quarantined {quarantined} · skipped {skipped}"
        ),
        "drill_quarantined": "Quarantined rows (rows: {rows}, entries: {n})",
        "drill_skipped": "Skipped rows ({n})",
        "drill_no_quarantine": "This delivery has no quarantined rows.",
        "drill_no_skipped": "This delivery has no skipped rows.",
        "drill_truncated": "Showing the first {shown} entries; download the CSV for all {n}.",
        "drill_quarantined_many": "Quarantined rows ({rows} rows; too many entries to list)",
        "drill_csv_capped": (
            "Showing the first {shown} entries; the CSV holds the first {n}. For all of them use the command line: "
            "`readq quarantine --file {file} --limit 100000000`."
        ),
        "no_masked_values": "This older snapshot has no masked values: the value column stays empty.",
        "download_quarantine": "Download quarantined rows (CSV, personal data masked)",
        "col_received": "Received",
        "col_file": "File",
        "col_sheet": "Sheet",
        "col_kind": "Kind",
        "col_period": "Month",
        "col_status": "Status",
        "col_message": "Message",
        "col_rows_read": "Read",
        "col_rows_loaded": "Loaded",
        "col_rows_quarantined": "Quarantined",
        "col_rows_skipped": "Skipped",
        "col_balanced": "Rows balance",
        "col_encoding": "Encoding",
        "col_period_source": "Month from",
        "col_superseded_by": "Superseded by",
        "col_unmapped": "Unmapped columns",
        "col_delivery": "Delivery id",
        "col_check": "Check",
        "col_check_code": "Check code",
        "col_column": "Column",
        "col_header": "Export header",
        "col_entries": "Entries",
        "col_rows": "Rows",
        "col_row": "Row",
        "col_stage": "Stage",
        "col_value": "Value (masked)",
        "col_reason": "Reason",
        "status_loaded": "loaded",
        "status_partly_superseded": "partly superseded",
        "status_superseded": "superseded",
        "status_rejected": "rejected",
        "stage_read": "read",
        "stage_cast": "cast",
        "stage_validate": "validate",
        "skip_title": "title row",
        "skip_blank": "blank row",
        "skip_totals": "totals row",
        "skip_repeat": "exact repeat of line {line}",
        "skip_repeat_same_values": "repeat of line {line} (the same values, written differently)",
        "check_cast": "cannot be read as {type}",
        "check_cast_int": "not a whole number",
        "check_cast_float": "not a number",
        "check_cast_date": "not a recognisable date",
        "check_cast_datetime": "not a recognisable date and time",
        "check_cast_period": "not a valid month (YYYY-MM)",
        "check_code_table": "not in the “{table}” code table",
        "check_not_nullable": "required value missing",
        "check_duplicate_row": "exact repeat of an earlier row of the file",
        "check_duplicate_key": "same key as another row of the file, with different values",
        "check_too_many_fields": "more fields than the header",
        "check_unparseable_line": "line cannot be parsed",
        "check_period_matches": "month differs from the delivery's month ({period})",
        "check_ge": "below {v} (must be ≥ {v})",
        "check_gt": "must be greater than {v}",
        "check_le": "above {v} (must be ≤ {v})",
        "check_lt": "must be less than {v}",
        "check_in_range": "outside {lo}–{hi}",
        "check_str_matches": "wrong format",
        "check_str_length": "wrong length (e.g. empty text)",
        "check_isin": "not an allowed value",
        "code_table_read_status": "read status",
        "code_table_read_mode": "read mode",
        "code_table_customer_class": "customer class",
        "code_table_customer_status": "customer status",
        "code_table_error_type": "error type",
        "code_table_found_by": "found by",
        "code_table_responsible_role": "responsible role",
        "code_table_field_anomaly_type": "field anomaly type",
        "code_table_segment_read_mode": "segment read mode",
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
