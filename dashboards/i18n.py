"""UI text in Chinese (default) and English.

Every visible label goes through `t(key, **fmt)`. The language comes from the session (set by the
sidebar switch in `components.language_switch`), else from `?lang=` in the URL, else Chinese.
Data values (team names, months, config versions) are shown as they are.

Texts of the first pages are in CATALOG below; each newer page keeps its own in
`dashboards/text/<page>.toml` (tables [zh] and [en]), merged in at import. A key defined twice is
an error at import, so two pages can never silently overwrite each other's labels.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import streamlit as st

DEFAULT_LANG = "zh"
LANG_STATE_KEY = "ui_lang"  # session_state key of the language widget
LANG_NAMES: dict[str, str] = {"zh": "中文", "en": "English"}

CATALOG: dict[str, dict[str, str]] = {
    "zh": {
        "app_title": "抄表质量看板",
        "nav_section_main": "指标",
        "lang_label": "语言",
        "month_label": "月份（电费年月）",
        "team_label": "抄表队",
        "team_placeholder": "全部抄表队",
        "no_snapshot": (
            "尚未发布数据快照（{path}）。请先运行 `uv run readq demo` 生成演示数据，"
            "或运行 `readq build` 处理已到达的导出文件，然后刷新本页。"
        ),
        "snapshot_unreadable": "无法读取已发布的数据快照：{error}",
        "no_data": "无数据",
        "col_team": "抄表队",
        "col_config_version": "配置版本",
        "total_row": "合计",
        "axis_month": "月份",
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
        "month_not_listed": "链接中的月份“{month}”不在数据中，显示最新月份 {latest}。",
        "team_not_listed": "链接中的抄表队（{teams}）不在数据中，已忽略。",
        "drill_not_listed": "链接中的交付“{value}”不在所选范围内，请从列表中选择。",
        "url_value_not_listed": "链接中的{label}“{value}”不在数据中，显示{all}。",
        "coverage_title": "各月交付的数据类型",
        "coverage_caption": (
            "每格为该月已入库的文件数（被拒收的不计）。未交付的类型，各页相关指标显示为无数据并说明原因，而不是 0。"
        ),
        "coverage_not_delivered": "未交付",
        "coverage_missing": "{month} 未交付 {n} 类数据，以下数字本月无数据（不是 0）：",
        "coverage_complete": "{month} 各类数据均已交付。",
        "coverage_effect_readings": "全部抄表指标（实抄率、差错率的分母等）、异常标记、考核得分",
        "coverage_effect_review_findings": "差错数、差错率、差错统计表、考核中的差错扣分、规则的精确率和召回率",
        "coverage_effect_field_anomalies": "异常报告及时率、消缺及时率、异常未报和查处窃电的考核项",
        "coverage_effect_assignments": "抄表段轮换（任期、违规、下月轮换计划）",
        "coverage_effect_customers": "新装/变更复核率、档案核对",
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
        # --- Anomalies and readers pages ---
        "nav_section_analysis": "异常分析",
        "list_sep": "、",
        "page_anomalies": "异常标记",
        "page_readers": "抄表员与抄表段",
        "rule_REG_DECREASE": "示数倒走",
        "rule_ROLLOVER": "示数翻转（满量程）",
        "rule_FALSE_ROLLOVER": "误判翻转",
        "rule_ARITHMETIC": "电量计算不符",
        "rule_MULTIPLIER_SHIFT": "倍率错误",
        "rule_ZERO_ACTIVE": "有抄无量（零电量）",
        "rule_HIGH": "电量偏高",
        "rule_LOW": "电量偏低",
        "rule_VERY_HIGH": "电量异常偏高",
        "rule_VERY_LOW": "电量异常偏低",
        "rule_ROBUST_Z": "偏离历史（稳健 Z 值）",
        "rule_CAPACITY": "超出合同容量",
        "rule_REPEATED_USE": "电量重复（疑似估抄）",
        "rule_CONSEC_ESTIMATES": "连续估抄",
        "rule_SUSTAINED_DROP": "电量持续下降",
        "rule_DIGIT_SLIP": "数字错位",
        "rule_READ_DATE": "抄表日期异常",
        "rule_DUPLICATE": "重复抄表记录",
        "rule_ALL": "任一规则（警告或严重）",
        "severity_fail": "严重",
        "severity_warn": "警告",
        "severity_info": "提示",
        "anomalies_title": "合理性规则：异常标记",
        "no_flag_tables": (
            "快照中还没有规则标记所需的表（{tables}），可能是旧版本快照。请运行 `readq build` 后刷新。"
        ),
        "no_flag_months": "还没有任何月份的抄表记录或规则标记。",
        "rule_label": "规则",
        "all_rules": "全部规则",
        "anomalies_scope": "范围：{month} · {teams} · {rule}",
        "unattributed_note": "“{name}”是导出和抄表派工都没有归属到抄表队的抄表记录：单独列出，不会被丢弃。",
        "metric_reads": "抄表次数（不含未抄）",
        "metric_flags": "标记数",
        "metric_per_1000": "每千次抄表标记数",
        "metric_fail_flags": "严重标记",
        "flags_not_computed": (
            "{month} 的规则标记尚未计算（快照中没有该月 marts.reading_flags 的构建记录）："
            "标记数和比率显示“无数据”，而不是 0。"
        ),
        "no_flags_month": "{month} 的 {reads} 次抄表没有触发任何规则。",
        "rules_title": "按规则",
        "rules_caption": (
            "每千次抄表标记数 = 标记数 ÷ 范围内已抄（不含未抄）的抄表次数 × 1,000；一次抄表可能触发多条规则。"
        ),
        "col_rule_code": "规则代码",
        "col_rule": "规则",
        "col_flags": "标记数",
        "col_reads": "抄表次数",
        "col_per_1000": "每千次抄表标记数",
        "col_severity": "严重程度",
        "chart_rules_month": "{month} 各规则每千次抄表标记数",
        "chart_rules_trend": "各规则每千次抄表标记数（按月）",
        "axis_per_1000": "每千次抄表标记数",
        "months_not_computed": "规则标记尚未计算的月份（图中为空缺，不是 0）：{months}",
        "heatmap_section": "抄表队 × 月份",
        "heatmap_title": "每千次抄表的警告与严重标记（{rule}）",
        "heatmap_caption": (
            "颜色越深，每千次抄表的标记越多；灰色格：该月没有抄表或标记尚未计算（无数据，不是 0）。"
            "悬停可见标记数和抄表次数。"
        ),
        "efficacy_title": "规则有效性（对照复核差错）",
        "efficacy_caption": (
            "精确率 = 复核确认为差错的标记 ÷ 标记数；召回率 = 被标记的确认差错 ÷ 确认差错数。"
            "全中心口径，不受抄表队筛选影响。"
        ),
        "no_efficacy_table": (
            "快照中没有 marts.rule_efficacy（可能是旧版本快照），无法显示规则有效性。请运行 `readq build` 后刷新。"
        ),
        "no_efficacy_rows": "{month} 没有规则有效性数据。",
        "findings_missing_note": (
            "{month} 没有收到复核结果（差错数据）：精确率和召回率显示为“无复核结果”，而不是 0。"
        ),
        "no_findings": "无复核结果",
        "no_flags_short": "无标记",
        "no_confirmed_errors": "无确认差错",
        "col_precision": "精确率（确认 / 标记）",
        "col_recall": "召回率（已标记 / 确认差错）",
        "flag_list_title": "{month} 标记明细",
        "severity_label": "严重程度",
        "all_severities": "全部严重程度",
        "severity_not_listed": "链接中的严重程度不是可用的值，显示全部严重程度。",
        "an_reader_label": "抄表员",
        "an_reader_placeholder": "全部抄表员",
        "an_reader_not_listed": "链接中的抄表员在 {month} 当前筛选的标记中没有，显示全部抄表员。",
        "no_flags_filtered": "{month} 在当前筛选条件下没有标记。",
        "flag_list_caption": "共 {n} 条标记，涉及 {meters} 个计量点。",
        "flag_list_truncated": "只显示前 {shown} 条（共 {n} 条）：可用规则、抄表队或严重程度缩小范围。",
        "col_reader": "抄表员",
        "col_segment": "抄表段",
        "col_customer_no": "用户编号",
        "col_meter_no": "电能表编号",
        "col_mp_key": "计量点",
        "col_observed": "观测值",
        "col_expected": "期望值",
        "col_ratio": "比值",
        "col_history_months": "历史月数",
        "col_evidence": "证据",
        "meter_label": "计量点（选择一条标记，查看该计量点的历史与原始记录）",
        "meter_placeholder": "从标记列表中选择一个计量点",
        "meter_not_listed": (
            "链接中的计量点不在 {month} 当前筛选的标记列表中（可能是旧链接或被修改过的链接）：请从列表中选择。"
        ),
        "meter_title": "计量点详情",
        "meter_caption": "计量点 {meter} · 用户编号 {customer} · 电能表 {meter_no} · {team} · {reader}",
        "evidence_title": "本月的标记与证据",
        "col_evidence_key": "证据项",
        "col_evidence_value": "取值",
        "history_title": "用电量历史",
        "no_context_table": "快照中没有 marts.reading_context（可能是旧版本快照），无法显示历史。",
        "no_history": "该计量点在 marts.reading_context 中没有历史记录。",
        "chart_history": "用电量、期望用电量与合理区间",
        "trace_use": "用电量",
        "trace_expected": "期望用电量",
        "trace_band": "合理区间",
        "trace_flags": "触发的规则",
        "axis_kwh": "电量（kWh）",
        "col_band_low": "区间下限",
        "col_band_high": "区间上限",
        "history_table": "历史明细",
        "source_title": "溯源：交付文件、行号与原始行",
        "no_delivery_record": "（交付登记中没有该交付）",
        "raw_title": "原始行（按交付原样，个人信息已脱敏）",
        "raw_not_published": "此快照不含原始行（raw.readings 未发布到看板快照）：只能显示文件和行号。",
        "raw_row_missing": "原始数据中找不到第 {row} 行。",
        "col_raw_value": "交付值（已脱敏）",
        "col_value_in_mart": "入库值",
        "raw_extras": "未映射的列（不显示取值：无法确定是否含个人信息）：{columns}",
        "readers_title": "抄表员与抄表段：数字特征、轮换与复核",
        "no_forensics_table": (
            "快照中没有抄表员核查表 marts.reader_forensics（可能是旧版本快照）。请运行 `readq build` 后刷新。"
        ),
        "no_forensics_rows": "抄表员核查表还没有任何月份。",
        "no_forensics_scope": "{month} 所选抄表队没有抄表员核查数据。",
        "readers_scope": "范围：{month} · {teams}",
        "forensics_caption": (
            "每位抄表员的统计覆盖截至 {month} 的滚动窗口（见“月数”）。标记是复核的线索，不是结论；"
            "“数据不足”表示读数太少，不是 0。"
        ),
        "col_reads_window": "抄表次数（窗口内）",
        "col_reads_month": "本月抄表次数",
        "col_months": "月数",
        "col_heaping": "尾数堆积指数",
        "col_last_digit_p": "末位均匀性 p 值",
        "col_digit_slip": "数字错位占比",
        "col_signature": "编造特征值",
        "col_signature_rank": "特征排名",
        "col_flagged": "已标记",
        "col_flag_reasons": "标记原因",
        "col_dispersion": "残差离散度",
        "too_few": "数据不足",
        "flagged_yes": "⚠️ 是",
        "flagged_no": "否",
        "reason_HEAPING": "尾数堆积",
        "reason_LAST_DIGIT": "末位数字不均匀",
        "reason_DIGIT_SLIP": "数字错位偏多",
        "reason_FABRICATION": "读数过于贴近期望值",
        "reader_label": "抄表员（抄表员 · 抄表队）",
        "reader_placeholder": "选择一位抄表员查看详情",
        "reader_not_listed": "链接中的抄表员不在 {month} 当前筛选的列表中：请从列表中选择。",
        "reader_header": "抄表员详情",
        "reader_summary": "{reader} · {team} · 窗口内 {reads} 次抄表 · {months} 个月 · 本月 {reads_month} 次",
        "chart_digits": "本次示数末位数字分布",
        "axis_digit": "末位数字",
        "axis_count": "读数个数",
        "digits_observed": "实际个数",
        "digits_expected": "均匀分布期望",
        "digits_heaped": "计入尾数堆积的数字",
        "digits_caption": (
            "期望 = 计入末位统计的读数 ÷ 10（{n} ÷ 10 = {e}）；示数未变的读数计入抄表次数，但不计入末位统计。"
        ),
        "no_digits": "该抄表员没有计入末位统计的读数。",
        "chart_peers": "{team}：各抄表员的残差离散度",
        "peer_line": "同行中位离散度",
        "peers_caption": (
            "残差 = ln(用电量 ÷ 期望用电量)；离散度越低，读数越贴近期望。"
            "特征值 = 同行中位离散度 ÷ 本人离散度（越高越可疑）。"
        ),
        "peers_missing": "没有离散度（残差读数不足）、未画出的抄表员：{readers}",
        "no_peers": "该抄表队没有可比较的离散度（残差读数不足）。",
        "unattributed_reader_note": (
            "“{name}”汇总了无法归属到抄表员的记录（多人混合）：只作参考，不排名、不标记，也不作为他人的同行。"
        ),
    },
    "en": {
        "app_title": "Reading-quality dashboard",
        "nav_section_main": "Indicators",
        "lang_label": "Language",
        "month_label": "Month (billing month)",
        "team_label": "Reading teams",
        "team_placeholder": "All teams",
        "no_snapshot": (
            "No published data snapshot yet ({path}). Run `uv run readq demo` to generate a demo "
            "centre, or `readq build` to process the exports that have landed, then reload this page."
        ),
        "snapshot_unreadable": "The published data snapshot could not be read: {error}",
        "no_data": "no data",
        "col_team": "Team",
        "col_config_version": "Config version",
        "total_row": "Total",
        "axis_month": "Month",
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
        "month_not_listed": "The month “{month}” in the link is not in the data; showing the latest month, {latest}.",
        "team_not_listed": "The team(s) in the link ({teams}) are not in the data and were ignored.",
        "drill_not_listed": "The delivery “{value}” in the link is not in the chosen scope; pick one from the list.",
        "url_value_not_listed": "The {label} “{value}” in the link is not in the data; showing {all}.",
        "coverage_title": "Kinds delivered per month",
        "coverage_caption": (
            "Each cell counts the month's files that loaded (rejected files do not count). For a kind not delivered, "
            "the pages show its figures as no data, with the reason, never as 0."
        ),
        "coverage_not_delivered": "not delivered",
        "coverage_missing": "{month}: {n} kind(s) not delivered, so these figures have no data this month (not 0):",
        "coverage_complete": "{month}: every kind was delivered.",
        "coverage_effect_readings": "every reading KPI (actual-read rate, the error rates' denominators …), the rule "
                                    "flags, the assessment scores",
        "coverage_effect_review_findings": "errors, error rates, the error statistics table, the assessment's error "
                                           "deductions, the rules' precision and recall",
        "coverage_effect_field_anomalies": "on-time anomaly reports and defect handling, the assessment items for "
                                           "unreported anomalies and theft found",
        "coverage_effect_assignments": "segment rotation (tenure, violations, next month's plan)",
        "coverage_effect_customers": "the review rate of new and changed customers, master-data checks",
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
        # --- Anomalies and readers pages ---
        "nav_section_analysis": "Analysis",
        "list_sep": ", ",
        "page_anomalies": "Anomaly flags",
        "page_readers": "Readers & segments",
        "rule_REG_DECREASE": "register decreased",
        "rule_ROLLOVER": "register roll-over",
        "rule_FALSE_ROLLOVER": "false roll-over",
        "rule_ARITHMETIC": "kWh arithmetic mismatch",
        "rule_MULTIPLIER_SHIFT": "multiplier shift",
        "rule_ZERO_ACTIVE": "zero use while read",
        "rule_HIGH": "use high",
        "rule_LOW": "use low",
        "rule_VERY_HIGH": "use very high",
        "rule_VERY_LOW": "use very low",
        "rule_ROBUST_Z": "off its history (robust z)",
        "rule_CAPACITY": "above contract capacity",
        "rule_REPEATED_USE": "repeated use (possible estimate)",
        "rule_CONSEC_ESTIMATES": "consecutive estimates",
        "rule_SUSTAINED_DROP": "sustained drop",
        "rule_DIGIT_SLIP": "digit slip",
        "rule_READ_DATE": "read date off plan",
        "rule_DUPLICATE": "duplicate reading",
        "rule_ALL": "any rule (warn or fail)",
        "severity_fail": "fail",
        "severity_warn": "warning",
        "severity_info": "info",
        "anomalies_title": "Plausibility rules: anomaly flags",
        "no_flag_tables": (
            "The snapshot has no tables for the rule flags yet ({tables}); it may be an older snapshot. "
            "Run `readq build` and reload."
        ),
        "no_flag_months": "No month has readings or rule flags yet.",
        "rule_label": "Rule",
        "all_rules": "All rules",
        "anomalies_scope": "Scope: {month} · {teams} · {rule}",
        "unattributed_note": (
            "“{name}” holds the readings that neither the export nor the assignments attribute to a team: "
            "listed as such, never dropped."
        ),
        "metric_reads": "Reads (missed reads not counted)",
        "metric_flags": "Flags",
        "metric_per_1000": "Flags per 1,000 reads",
        "metric_fail_flags": "Fail flags",
        "flags_not_computed": (
            "The rule flags of {month} have not been computed (the snapshot records no build of "
            "marts.reading_flags for it): flags and rates show “no data”, not 0."
        ),
        "no_flags_month": "No rule fired on the {reads} reads of {month}.",
        "rules_title": "By rule",
        "rules_caption": (
            "Flags per 1,000 reads = flags ÷ reads in scope (missed reads not counted) × 1,000; one reading may "
            "trip several rules."
        ),
        "col_rule_code": "Rule id",
        "col_rule": "Rule",
        "col_flags": "Flags",
        "col_reads": "Reads",
        "col_per_1000": "Flags per 1,000 reads",
        "col_severity": "Severity",
        "chart_rules_month": "Flags per 1,000 reads by rule, {month}",
        "chart_rules_trend": "Flags per 1,000 reads by rule and month",
        "axis_per_1000": "Flags per 1,000 reads",
        "months_not_computed": "Months whose flags were not computed (gaps in the chart, not 0): {months}",
        "heatmap_section": "Teams × months",
        "heatmap_title": "Warn and fail flags per 1,000 reads ({rule})",
        "heatmap_caption": (
            "Darker means more flags per 1,000 reads; a grey cell: no reads that month, or flags not "
            "computed (no data, not 0). Hover for the flag and read counts."
        ),
        "efficacy_title": "Rule efficacy (against review findings)",
        "efficacy_caption": (
            "Precision = flags that a review finding confirmed as an error ÷ flags; recall = confirmed "
            "errors that were flagged ÷ confirmed errors. Whole centre: the team filter does not apply."
        ),
        "no_efficacy_table": (
            "The snapshot has no marts.rule_efficacy (it may be an older snapshot): rule efficacy cannot be "
            "shown. Run `readq build` and reload."
        ),
        "no_efficacy_rows": "No rule efficacy for {month}.",
        "findings_missing_note": (
            "No review findings (error data) were delivered for {month}: precision and recall show "
            "“no review findings”, not 0."
        ),
        "no_findings": "no review findings",
        "no_flags_short": "no flags",
        "no_confirmed_errors": "no confirmed errors",
        "col_precision": "Precision (confirmed / flags)",
        "col_recall": "Recall (flagged / confirmed errors)",
        "flag_list_title": "Flags of {month}",
        "severity_label": "Severity",
        "all_severities": "All severities",
        "severity_not_listed": "The severity in the link is not one of the values; showing every severity.",
        "an_reader_label": "Meter reader",
        "an_reader_placeholder": "All readers",
        "an_reader_not_listed": (
            "The reader in the link has no flags in {month} under the current filters; showing every reader."
        ),
        "no_flags_filtered": "No flags in {month} for the current filters.",
        "flag_list_caption": "{n} flags on {meters} metering points.",
        "flag_list_truncated": "Showing the first {shown} of {n} flags: narrow them by rule, team or severity.",
        "col_reader": "Reader",
        "col_segment": "Segment",
        "col_customer_no": "Customer no.",
        "col_meter_no": "Meter no.",
        "col_mp_key": "Metering point",
        "col_observed": "Observed",
        "col_expected": "Expected",
        "col_ratio": "Ratio",
        "col_history_months": "History months",
        "col_evidence": "Evidence",
        "meter_label": "Metering point (choose a flag to see the meter's history and source row)",
        "meter_placeholder": "Choose a metering point from the flag list",
        "meter_not_listed": (
            "The metering point in the link is not in the flag list of {month} for the current filters "
            "(an old or edited link): choose one from the list."
        ),
        "meter_title": "Metering point",
        "meter_caption": "Metering point {meter} · customer no. {customer} · meter {meter_no} · {team} · {reader}",
        "evidence_title": "This month's flags and their evidence",
        "col_evidence_key": "Evidence item",
        "col_evidence_value": "Value",
        "history_title": "Use history",
        "no_context_table": (
            "The snapshot has no marts.reading_context (it may be an older snapshot): the history cannot be shown."
        ),
        "no_history": "This metering point has no history in marts.reading_context.",
        "chart_history": "Use, expected use and band",
        "trace_use": "Use",
        "trace_expected": "Expected use",
        "trace_band": "Expected band",
        "trace_flags": "Rules fired",
        "axis_kwh": "kWh",
        "col_band_low": "Band low",
        "col_band_high": "Band high",
        "history_table": "History table",
        "source_title": "Source: file, line and delivered row",
        "no_delivery_record": "(not in the delivery registry)",
        "raw_title": "The row as delivered (personal data masked)",
        "raw_not_published": (
            "This snapshot holds no delivered rows (raw.readings is not published to the dashboards' "
            "snapshot): only the file and line are shown."
        ),
        "raw_row_missing": "Line {row} is not in the delivered rows.",
        "col_raw_value": "Delivered value (masked)",
        "col_value_in_mart": "Value in the warehouse",
        "raw_extras": "Unmapped columns (values not shown: they may hold personal data): {columns}",
        "readers_title": "Readers & segments: digits, rotation and recheck",
        "no_forensics_table": (
            "The snapshot has no reader forensics table marts.reader_forensics (it may be an older snapshot). "
            "Run `readq build` and reload."
        ),
        "no_forensics_rows": "The reader forensics table has no months yet.",
        "no_forensics_scope": "No reader forensics for the selected teams in {month}.",
        "readers_scope": "Scope: {month} · {teams}",
        "forensics_caption": (
            "Each reader's statistics cover the rolling window ending with {month} (see “Months”). A flag is "
            "a lead for a recheck, not a finding; “too few” means too few readings, not 0."
        ),
        "col_reads_window": "Reads (window)",
        "col_reads_month": "Reads this month",
        "col_months": "Months",
        "col_heaping": "Heaping index",
        "col_last_digit_p": "Last-digit p-value",
        "col_digit_slip": "Digit-slip share",
        "col_signature": "Signature",
        "col_signature_rank": "Signature rank",
        "col_flagged": "Flagged",
        "col_flag_reasons": "Reasons",
        "col_dispersion": "Residual dispersion",
        "too_few": "too few",
        "flagged_yes": "⚠️ yes",
        "flagged_no": "no",
        "reason_HEAPING": "terminal-digit heaping",
        "reason_LAST_DIGIT": "last digit not uniform",
        "reason_DIGIT_SLIP": "many digit slips",
        "reason_FABRICATION": "readings too close to expected",
        "reader_label": "Reader (reader · team)",
        "reader_placeholder": "Choose a reader for the details",
        "reader_not_listed": (
            "The reader in the link is not in the list of {month} for the current filters: choose one from the list."
        ),
        "reader_header": "Reader detail",
        "reader_summary": "{reader} · {team} · {reads} reads in {months} months · {reads_month} this month",
        "chart_digits": "Last digit of the readings",
        "axis_digit": "Last digit",
        "axis_count": "Readings",
        "digits_observed": "Observed",
        "digits_expected": "Uniform expectation",
        "digits_heaped": "Digits counted as heaping",
        "digits_caption": (
            "Expectation = readings with a counted last digit ÷ 10 ({n} ÷ 10 = {e}); readings whose register "
            "did not move count as reads but not in the digit statistics."
        ),
        "no_digits": "This reader has no readings with a counted last digit.",
        "chart_peers": "{team}: residual dispersion of each reader",
        "peer_line": "Peers' median dispersion",
        "peers_caption": (
            "Residual = ln(use ÷ expected use); the lower the dispersion, the closer the readings sit to "
            "expected. Signature = peers' median dispersion ÷ own dispersion (higher is more suspicious)."
        ),
        "peers_missing": "Readers without a dispersion (too few residuals), not drawn: {readers}",
        "no_peers": "No reader of this team has a dispersion to compare (too few residuals).",
        "unattributed_reader_note": (
            "“{name}” pools the readings no reader is attributed to (many people): for reference only, never "
            "ranked, flagged or anyone's peer."
        ),
    },
}


TEXT_DIR = Path(__file__).parent / "text"


def _merge_text_files(catalog: dict[str, dict[str, str]]) -> None:
    for path in sorted(TEXT_DIR.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for lang, texts in data.items():
            if lang not in catalog:
                raise ValueError(f"{path.name}: unknown language table [{lang}]")
            clash = sorted(set(texts) & set(catalog[lang]))
            if clash:
                raise ValueError(f"{path.name}: keys already defined elsewhere: {', '.join(clash)}")
            catalog[lang].update(texts)


_merge_text_files(CATALOG)


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


def t_or(key: str, fallback: str) -> str:
    """The text of `key` when a page defines one, else `fallback` (a code without a text of its own,
    such as a rule ID added in config, shows as delivered rather than as the key)."""
    text = t(key)
    return fallback if text == key else text
