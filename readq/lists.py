"""`readq recheck` and `readq rotation`: next month's recheck list (复核抽样) per team and the suggested
rotation plan (轮换计划) as XLSX, from the published snapshot (the pipeline's file when nothing was
published yet).

    readq recheck --period 2026-10 [--team NAME] [--out DIR] [--unmasked]   复核清单_<month>.xlsx, a sheet per team
    readq rotation --period 2026-10 [--out DIR] [--unmasked]                 轮换计划_<month>.xlsx

Reader names are masked by default, as in every export; the lists carry no customer names, phones or
addresses. Sheet names are the team names made safe for a workbook (no []:*?/\\, at most 31 characters).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipelines.reports.error_table import mask_readers
from readq.config import home

console = Console()
def _source() -> Path:
    h = home()
    source = h.readable
    if not source.exists():
        raise FileNotFoundError(f"no warehouse at {h.root}: run `readq demo` or `readq ingest` and `readq build`")
    return source


def _read(table: str, period: str, order: str, *, required: bool = True, hint: str = "") -> tuple[Any, Path]:
    """The month's rows of marts.<table>; a month without rows is an error unless not `required` (a plan
    with nothing to move)."""
    from readq.cli import UsageError
    from warehouse.connection import connect
    from warehouse.schema import has_relation

    source = _source()
    with connect(source, read_only=True) as conn:
        if not has_relation(conn, f"marts.{table}"):
            raise UsageError(f"{source} has no marts.{table} (built before it existed): run `readq build`")
        frame = conn.sql(f"select * from marts.{table} where period = ? order by {order}", params=[period]).pl()
        if frame.is_empty() and required:
            months = [r[0] for r in conn.execute(f"select distinct period from marts.{table} order by 1").fetchall()]
            shown = f"{months[0]} .. {months[-1]}" if months else "none"
            raise UsageError(f"no marts.{table} rows for {period} in {source} (months built: {shown}){hint}")
    return frame, source


def _period(text: str) -> str:
    from readq.cli import period_arg

    return str(period_arg(text))


def write_recheck(path: Path, period: str, sample: Any, *, masked: bool) -> int:
    """The recheck list workbook, a sheet per team (pipelines.reports.sheets.recheck_sheets)."""
    from pipelines.reports.sheets import recheck_sheets
    from pipelines.reports.workbook import write_workbook

    return write_workbook(path, recheck_sheets(period, sample, masked=masked))


def write_rotation(path: Path, period: str, plan: Any, segments: Any, loads: Any, *, masked: bool) -> int:
    """The suggested moves, the segments due or in violation, the pairs' loads, what the plan could not do."""
    import polars as pl

    from pipelines.reports.workbook import Column, Sheet, write_workbook

    names = ("reader", "partner", "from_reader", "from_partner", "to_reader", "to_partner")
    plan, segments, loads = ((mask_readers(f, names) if masked else f) for f in (plan, segments, loads))
    if masked:
        loads = loads.with_columns(pl.concat_str([pl.col("reader"), pl.col("partner").fill_null("")],
                                                 separator="/").alias("pair"))
    moves = plan.filter(pl.col("kind") == "move")
    messages = plan.filter(pl.col("kind") != "move")
    nxt = plan["next_period"][0] if plan.height else ""
    return write_workbook(path, [
        Sheet("轮换建议", f"抄表段轮换建议（{period} → {nxt}）", [
            Column("team", "抄表队", width=14), Column("segment_no", "抄表段编号", width=14),
            Column("segment_name", "抄表段名称", width=16), Column("customer_count", "户数", "count"),
            Column("tenure_months", "已连续抄表（月）", "count"), Column("from_reader", "原抄表员"),
            Column("from_partner", "原同组抄表员"), Column("to_reader", "新抄表员"),
            Column("to_partner", "新同组抄表员"),
            Column("reason_zh", "原因", width=50)], moves),
        Sheet("到期与违规", f"抄表段连续抄表月数（{period}）", [
            Column("team", "抄表队", width=14), Column("segment_no", "抄表段编号", width=14),
            Column("segment_name", "抄表段名称", width=16), Column("reader", "抄表员"), Column("partner", "同组抄表员"),
            Column("tenure_months", "连续抄表（月）", "count"), Column("since", "起始年月"),
            Column("months_left", "距上限（月）", "count"), Column("status", "状态")],
            segments.filter(pl.col("status").is_in(["due", "violation"]))),
        Sheet("工作量", f"抄表员组工作量（{period}，轮换前后）", [
            Column("team", "抄表队", width=14), Column("pair", "抄表员组", width=16),
            Column("segments_before", "轮换前段数", "count"), Column("segments_after", "轮换后段数", "count"),
            Column("customers_before", "轮换前户数", "count"), Column("customers_after", "轮换后户数", "count"),
            Column("share_of_mean_after", "轮换后/队平均", "percent"),
            Column("within_tolerance_after", "在容差内")], loads),
        Sheet("未解决", "轮换计划未能解决的问题", [
            Column("team", "抄表队", width=14), Column("segment_no", "抄表段编号", width=14),
            Column("code", "代码", width=14), Column("reason_zh", "说明", width=60)], messages),
    ])


def cmd_recheck(args: argparse.Namespace) -> int:
    import polars as pl

    from readq.cli import EXIT_OK, UsageError

    period = _period(args.period)
    sample, source = _read("recheck_sample", period, "team, reader, draw_rank")
    if args.team:
        sample = sample.filter(pl.col("team") == args.team)
        if sample.is_empty():
            raise UsageError(f"no recheck list for team {args.team!r} in {period}")
    out = (Path(args.out) if args.out else home().reports / period) / f"复核清单_{period}.xlsx"
    rows = write_recheck(out, period, sample, masked=not args.unmasked)
    table = Table(title=f"复核清单 {period}")
    for c in ("抄表队", "抄表员", "抽取数", "疑似问题"):
        table.add_column(c, justify="left" if c in ("抄表队", "抄表员") else "right")
    shown = mask_readers(sample, ("reader",)) if not args.unmasked else sample
    per = shown.group_by("team", "reader").agg(pl.len().alias("n"), pl.col("flag_severity").is_not_null().sum()
                                               .alias("flagged")).sort("team", "reader")
    for r in per.iter_rows(named=True):
        table.add_row(Text(r["team"]), Text(r["reader"]), f"{r['n']:,}", f"{r['flagged']:,}")
    console.print(table)
    console.print(Text(f"wrote {out} ({rows} rows, read from {source})"), soft_wrap=True)
    return EXIT_OK


def cmd_rotation(args: argparse.Namespace) -> int:
    from readq.cli import EXIT_OK

    period = _period(args.period)
    segments, source = _read("rotation_segments", period, "team, segment_no",
                             hint="; rotation is planned from the assignment lists (抄表派工): deliver the "
                                  "month's with `readq ingest`")
    plan, _ = _read("rotation_plan", period, "kind, team, segment_no", required=False)
    loads, _ = _read("rotation_loads", period, "team, pair", required=False)
    out = (Path(args.out) if args.out else home().reports / period) / f"轮换计划_{period}.xlsx"
    rows = write_rotation(out, period, plan, segments, loads, masked=not args.unmasked)
    counts = segments["status"].value_counts().sort("status")
    console.print(Text("segments: " + ", ".join(f"{s} {n}" for s, n in counts.iter_rows())))
    moves = plan.filter(plan["kind"] == "move").height if plan.height else 0
    unresolved = plan.filter(plan["kind"] == "unresolved").height if plan.height else 0
    console.print(Text(f"{moves} moves suggested, {unresolved} unresolved; wrote {out} ({rows} rows, read from "
                       f"{source})"), soft_wrap=True)
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    """Register `readq recheck` and `readq rotation` on the CLI's subcommands."""
    r = sub.add_parser("recheck", help="next month's recheck list (复核抽样) per team as XLSX")
    r.add_argument("--period", required=True, help="billing month YYYY-MM (the readings drawn from)")
    r.add_argument("--team", help="only this team's list")
    r.add_argument("--out", help="folder for the workbook (default: READQ_HOME/reports/<month>/)")
    r.add_argument("--unmasked", action="store_true", help="reader names as delivered (masked by default)")
    r.set_defaults(func=cmd_recheck)
    o = sub.add_parser("rotation", help="the suggested rotation plan (轮换计划) for the month after, as XLSX")
    o.add_argument("--period", required=True, help="billing month YYYY-MM (planned from)")
    o.add_argument("--out", help="folder for the workbook (default: READQ_HOME/reports/<month>/)")
    o.add_argument("--unmasked", action="store_true", help="reader names as delivered (masked by default)")
    o.set_defaults(func=cmd_rotation)
