"""The sheets of the assessment records (经济责任制考核记录, 班组排名) and of next month's recheck list
(复核清单), with the seed's column names: written by `readq assess`, `readq recheck`, the dashboards'
downloads and the monthly report's workbook. Reader names are masked unless `masked=False`."""

from __future__ import annotations

import re

import duckdb
import polars as pl

from pipelines.reports.error_table import mask_readers
from pipelines.reports.workbook import Column, Sheet
from readq.config import load_toml
from warehouse.assessment import evidence_summary

UNITS = {"customer": ("户", "customer"), "finding": ("次", "time"), "segment": ("段次", "round"),
         "half_day": ("半天", "half day"), "case": ("件", "case"), "step": ("档", "step"), "score": ("分", "point")}


def item_label(item: str, lang: str = "zh") -> str:
    labels = load_toml("assessment.toml")["labels"]
    return str(labels.get(item, {}).get(lang, item))


def ledger_frame(conn: duckdb.DuckDBPyConnection, period: str, reader: str | None = None) -> pl.DataFrame:
    """The month's ledger rows with their item labels and evidence in words, reader rows by reader, then
    team rows."""
    where, params = ("and reader = ?", [period, reader]) if reader else ("", [period])
    frame = conn.sql(f"select * exclude (evidence), evidence::varchar as evidence from marts.assessment_ledger "
                     f"where period = ? {where} order by team, level, reader, item, evidence_id",
                     params=params).pl()
    return frame.with_columns(
        pl.col("item").map_elements(item_label, return_dtype=pl.String).alias("item_label"),
        pl.col("unit").replace_strict({k: v[0] for k, v in UNITS.items()}, default=pl.col("unit"),
                                      return_dtype=pl.String).alias("unit_label"),
        pl.col("evidence").map_elements(evidence_summary, return_dtype=pl.String).alias("evidence_text"),
    )


def reader_scores(conn: duckdb.DuckDBPyConnection, period: str, reader: str | None = None) -> pl.DataFrame:
    where, params = ("and reader = ?", [period, reader]) if reader else ("", [period])
    return conn.sql(f"select * from marts.assessment_reader_month where period = ? {where} "
                    "order by rank_in_centre nulls last, team, reader", params=params).pl()


def team_ranking(conn: duckdb.DuckDBPyConnection, period: str) -> pl.DataFrame:
    return conn.sql("select * from marts.assessment_team_month where period = ? order by rank nulls last, team",
                    params=[period]).pl()


def records_sheets(period: str, ledger: pl.DataFrame, scores: pl.DataFrame, *, masked: bool,
                   missing: dict[str, list[str]] | None = None) -> list[Sheet]:
    """The 经济责任制考核记录 of the month: a summary sheet (one row per reader) and the ledger sheet; the notes
    say which inputs the month lacks (`missing`: kind -> the items resting on it)."""
    versions = sorted(set(scores["scoring_version"].to_list()) | set(ledger["scoring_version"].to_list()))
    hashes = sorted(set(scores["scoring_hash"].to_list()) | set(ledger["scoring_hash"].to_list()))
    notes = [f"评分版本：{', '.join(versions)}（{', '.join(hashes)}）；得分 = 基础分 + 本人各条考核记录分值之和。"]
    for kind, items in (missing or {}).items():
        listed = "、".join(item_label(i) for i in items)
        notes.append(f"本月未交付 {kind}：{listed} 无数据，得分未含这些项（不等于没有差错）。")
    if masked:
        notes.append("抄表员姓名已脱敏（导出时加 --unmasked 可显示全名）。")
    summary = Sheet("考核汇总", f"经济责任制考核汇总（{period}）", [
        Column("team", "抄表队", width=14), Column("reader", "抄表员", width=12),
        Column("customers_due", "应抄户数", "count"), Column("base", "基础分", "score"),
        Column("deductions", "扣分", "points"), Column("bonus", "加分", "points"),
        Column("vetoed", "一票否决"), Column("floored", "保底"),
        Column("score", "得分", "score"), Column("rank_in_team", "队内名次", "count"),
        Column("rank_in_centre", "中心名次", "count"), Column("prev_score", "上月得分", "score"),
        Column("rank_change", "名次变化", "count"),
    ], mask_readers(scores) if masked else scores, notes)
    records = Sheet("考核记录", f"经济责任制考核记录（{period}）", [
        Column("team", "抄表队", width=14), Column("reader", "抄表员", width=12),
        Column("item_label", "考核项目", width=20), Column("points", "分值", "points"),
        Column("quantity", "数量", "decimal"), Column("unit_label", "单位", width=6),
        Column("evidence_kind", "依据类型", width=10), Column("evidence_id", "依据编号", width=22),
        Column("segment_no", "抄表段编号", width=14), Column("customer_no", "用户编号", width=14),
        Column("file_name", "来源文件", width=30), Column("sheet", "工作表", width=10),
        Column("source_row", "行号", "count", width=8), Column("team_points", "计入班组分值", "points"),
        Column("evidence_text", "说明", width=60), Column("scoring_version", "评分版本", width=12),
    ], mask_readers(ledger) if masked else ledger, notes)
    return [summary, records]


def ranking_sheet(period: str, teams: pl.DataFrame) -> Sheet:
    """The centre's team ranking of the month."""
    versions = sorted(set(teams["scoring_version"].to_list()))
    return Sheet("班组排名", f"抄表队考核排名（{period}）", [
        Column("rank", "名次", "count", 6), Column("team", "抄表队", width=14),
        Column("score", "得分", "score"), Column("reader_mean", "抄表员加权平均分", "score", 16),
        Column("team_items", "班组扣分", "points"), Column("readers", "抄表员人数", "count"),
        Column("customers_due", "应抄户数", "count"), Column("prev_score", "上月得分", "score"),
        Column("prev_rank", "上月名次", "count"), Column("rank_change", "名次变化", "count"),
    ], teams, [f"评分版本：{', '.join(versions)}；班组得分 = 抄表员得分按应抄户数加权平均 − 班组考核项。"])


UNSAFE_SHEET = re.compile(r"[\[\]:*?/\\]")


def sheet_name(team: str, taken: set[str]) -> str:
    """A worksheet name for `team`: unsafe characters replaced, at most 31 characters, unique."""
    base = UNSAFE_SHEET.sub("_", team).strip("'") or "_"
    name, n = base[:31], 1
    while name in taken:
        n += 1
        name = f"{base[:28]}~{n}"
    taken.add(name)
    return name


def recheck_sheets(period: str, sample: pl.DataFrame, *, masked: bool) -> list[Sheet]:
    """One sheet per team: the readings drawn for recheck, reader by reader in draw order."""
    shown = mask_readers(sample, ("reader",)) if masked else sample
    shown = shown.with_columns(pl.col("rule_ids").list.join("、").alias("rules"))
    columns = [Column("reader", "抄表员"), Column("draw_rank", "抽取顺序", "count", 8),
               Column("segment_no", "抄表段编号", width=14), Column("customer_no", "用户编号", width=14),
               Column("meter_no", "电能表编号", width=24), Column("flag_severity", "疑似问题等级", width=10),
               Column("rules", "触发规则", width=24), Column("inclusion_probability", "入样概率", "decimal"),
               Column("file_name", "来源文件", width=30), Column("source_row", "行号", "count", 8),
               Column("recheck_result", "复核结果（填写）", width=16)]
    shown = shown.with_columns(pl.lit(None, pl.String).alias("recheck_result"))
    taken: set[str] = set()
    sheets = []
    for team in sorted(shown["team"].unique().to_list()):
        rows = shown.filter(pl.col("team") == team).sort("reader", "draw_rank")
        sheets.append(Sheet(sheet_name(team, taken), f"{team} 复核清单（{period} 抄表，次月复核）", columns, rows, [
            f"随机种子 {rows['seed'][0]}，复核抽样版本 {rows['recheck_version'][0]}；同一种子与数据重抽结果相同。",
            "入样概率用于按 Horvitz–Thompson 方法估计抄表员差错率（docs/recheck.md）。"]))
    return sheets
