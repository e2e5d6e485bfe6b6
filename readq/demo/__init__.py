"""Demo-centre generator: a synthetic 抄表中心 with realistic exports and known ground truth.

`generate_demo(landing, truth_dir, ...)` writes, for every billing month, one 抄表明细 file per
team (mostly GBK CSV, some XLSX / UTF-8-BOM), a 复核差错记录, an 异常报告单 and a 抄表派工
file, plus one 用户档案 snapshot for the last month, into `landing`; the ground truth
(`injected_problems.parquet`, `readers.parquet`, `summary.json`) goes to `truth_dir`, which the
pipeline never reads. Every domain number comes from `config/demo.toml`; the same arguments
give byte-identical files.

Modules: settings (config, codes, headers, months) · names (fake personal data) · centre
(entities and rotation plan) · behaviour (consumption, registers, injected problems) · findings
(review findings, anomaly reports) · mess (title/totals rows and badly written values in the
抄表明细 files, config [mess]) · exports (file writing) · truth (ground truth).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from readq.config import config_version
from readq.demo.behaviour import Simulator
from readq.demo.centre import build_centre
from readq.demo.exports import Exporter
from readq.demo.findings import Reporter
from readq.demo.settings import (
    ALL_PROBLEMS,
    load_codes,
    load_demo_config,
    month_index,
    month_name,
    month_start,
    periods_ending,
)
from readq.demo.truth import export_mess, finalize, month_truth, readers_frame, write_summary

__all__ = ["DemoSummary", "generate_demo"]

Progress = Callable[[str, int, int], None]

TASK_CENTRE = "建立抄表中心 / building the centre"
TASK_MONTHS = "逐月生成抄表数据 / generating months"
TASK_FINISH = "写入用户档案与真值 / writing master and truth"


@dataclass
class DemoSummary:
    files: list[Path]                                   # every file written into landing
    files_per_kind: dict[str, int]
    rows_per_kind: dict[str, int]                      # data rows written (a duplicated reading row twice)
    truth_files: list[Path]
    problems: dict[str, int]                           # truth rows per problem
    detected: dict[str, int]                           # ... of which named by a finding / report
    seconds: float
    customers: int = 0
    meters: int = 0
    segments: int = 0
    readers: int = 0
    fabricators: int = 0                               # readers who make up much of their route
    periods: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.rows_per_kind.values())


def generate_demo(landing: Path, truth_dir: Path, *, seed: int = 20261129, customers: int = 100_000,
                  months: int = 24, end_month: str = "2026-10", progress: Progress | None = None) -> DemoSummary:
    """Generate a demo centre's exports into `landing` and its ground truth into `truth_dir`."""
    started = time.perf_counter()
    report = progress or (lambda _task, _done, _total: None)
    cfg = load_demo_config()
    codes = load_codes()
    periods = periods_ending(end_month, months)
    landing, truth_dir = Path(landing), Path(truth_dir)
    landing.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    ex_cfg = cfg["export"]

    report(TASK_CENTRE, 0, 1)
    centre = build_centre(cfg, seed, customers, periods)
    sim = Simulator(centre, cfg, seed)
    cutoff = (month_start(month_name(month_index(periods[-1]) + 1))
              + np.timedelta64(int(cfg["anomalies"]["export_lag_days"]), "D")).astype("datetime64[s]")
    created = dt.datetime.fromisoformat(str(cutoff))
    exporter = Exporter(centre, cfg, codes, landing, created, seed)
    reporter = Reporter(centre, cfg, codes, seed, cutoff)
    report(TASK_CENTRE, 1, 1)

    files: list[Path] = []
    kinds: list[str] = []
    rows: Counter[str] = Counter()
    truth_parts: list[pl.DataFrame] = []
    report_links: list[pl.DataFrame] = []

    def wrote(kind: str, path: Path, n: int) -> None:
        files.append(path)
        kinds.append(kind)
        rows[kind] += n

    report(TASK_MONTHS, 0, len(periods))
    for t, period in enumerate(periods):
        m = sim.month(t)
        keys = exporter.keys(m)
        for path, n in exporter.write_readings(m, keys):
            wrote("readings", path, n)
        findings, finding_links = reporter.findings(m, keys)
        wrote("review_findings", exporter.write(
            "review_findings", findings, ex_cfg["findings_name"].format(period=period), ex_cfg["findings_format"],
            sheet=ex_cfg["findings_sheet"]), len(findings))
        anomalies, links = reporter.reports(m, keys)
        report_links.append(links)
        wrote("field_anomalies", exporter.write(
            "field_anomalies", anomalies, ex_cfg["anomalies_name"].format(period=period),
            ex_cfg["anomalies_format"]), len(anomalies))
        assignments = exporter.assignments_frame(m)
        wrote("assignments", exporter.write(
            "assignments", assignments, ex_cfg["assignments_name"].format(period=period),
            ex_cfg["assignments_format"]), len(assignments))
        truth_parts.append(month_truth(m, keys, finding_links))
        truth_parts.extend(exporter.mess_truth)
        exporter.mess_truth.clear()
        report(TASK_MONTHS, t + 1, len(periods))

    report(TASK_FINISH, 0, 1)
    master = exporter.customers_frame(sim.st)
    wrote("customers", exporter.write(
        "customers", master, ex_cfg["customers_name"].format(period=periods[-1]), ex_cfg["customers_format"]),
        len(master))

    truth = finalize(truth_parts, report_links)
    truth_files = [truth_dir / "injected_problems.parquet", truth_dir / "readers.parquet",
                   truth_dir / "summary.json"]
    truth.write_parquet(truth_files[0])
    readers_frame(centre).write_parquet(truth_files[1])
    counts = truth.group_by("problem").agg(n=pl.len(), detected=pl.col("detected").sum())
    n_by = dict(zip(counts["problem"].to_list(), counts["n"].to_list(), strict=True))
    d_by = dict(zip(counts["problem"].to_list(), counts["detected"].to_list(), strict=True))
    problems = {p: int(n_by.get(p, 0)) for p in ALL_PROBLEMS}
    detected = {p: int(d_by.get(p, 0)) for p in ALL_PROBLEMS}
    files_per_kind = dict(sorted(Counter(kinds).items()))
    rows_per_kind = dict(sorted(rows.items()))
    write_summary(truth_files[2], {
        "seed": seed,
        "arguments": {"customers": customers, "months": months, "end_month": end_month},
        "periods": periods,
        "config_version": config_version(),
        "demo_config_version": cfg.get("version"),
        "centre": {"teams": len(centre.team_names), "readers": len(centre.reader_names),
                   "fabricators": int(centre.reader_fabricator.sum()),
                   "segments": len(centre.seg_no), "customers": customers, "meters": centre.n_mp},
        "files_per_kind": files_per_kind,
        "rows_per_kind": rows_per_kind,
        "problems": problems,
        "detected": detected,
        "export_mess": export_mess(truth),
    })
    report(TASK_FINISH, 1, 1)
    return DemoSummary(
        files=files, files_per_kind=files_per_kind, rows_per_kind=rows_per_kind, truth_files=truth_files,
        problems=problems, detected=detected, seconds=time.perf_counter() - started, customers=customers,
        meters=centre.n_mp, segments=len(centre.seg_no), readers=len(centre.reader_names),
        fabricators=int(centre.reader_fabricator.sum()), periods=periods,
    )
