"""Ground truth of the demo centre (never read by the pipeline): one row per injected problem
or benign event per reading, whether a review finding or a field anomaly report names it, the
readers' true propensities (and who fabricates, [fabricators]), and a run summary.

Export mess (problems EXPORT_*, readq.demo.mess) also names the `file` and its `source_row`
(1-based line/row); title, empty and totals rows have the customer fields null. Other rows
have `file` and `source_row` null."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from readq.demo.behaviour import Month
from readq.demo.centre import Centre
from readq.demo.settings import EXPORT_HARMLESS, EXPORT_QUARANTINED, EXPORT_SKIPPED

TRUTH_COLUMNS = [
    "period", "team", "reader", "segment_no", "customer_no", "meter_no", "read_mode", "problem", "detail",
    "true_this_read", "reported_this_read", "true_kwh", "reported_kwh", "detected", "finding_no", "report_no",
    "event_id", "file", "source_row",
]


def month_truth(m: Month, keys: pl.DataFrame, finding_links: pl.DataFrame) -> pl.DataFrame:
    truth = m.truth.join(finding_links, on=["pos", "problem"], how="left", maintain_order="left")
    ident = keys[truth["pos"].to_numpy()]
    return pl.concat([ident, truth.drop("pos")], how="horizontal")


def finalize(parts: list[pl.DataFrame], report_links: list[pl.DataFrame]) -> pl.DataFrame:
    truth = pl.concat(parts, how="diagonal")
    links = (pl.concat(report_links, how="vertical") if report_links
             else pl.DataFrame(schema={"event_id": pl.Int64, "report_no": pl.String}))
    links = links.unique("event_id", keep="first", maintain_order=True)
    truth = truth.join(links, on="event_id", how="left", maintain_order="left")
    return truth.with_columns(
        detected=pl.col("finding_no").is_not_null() | pl.col("report_no").is_not_null(),
        event_id=pl.when(pl.col("event_id") >= 0).then(pl.col("event_id")),
    ).select(TRUTH_COLUMNS)


def export_mess(truth: pl.DataFrame) -> dict[str, Any]:
    """Summary of the export mess: files with title/empty/totals rows and rows per EXPORT_* problem,
    by what the pipeline should do with them."""
    mess = truth.filter(pl.col("file").is_not_null())
    per = dict(mess.group_by("problem").len().iter_rows())
    files = dict(mess.group_by("problem").agg(pl.col("file").n_unique()).iter_rows())
    return {
        "files": {"title": files.get("EXPORT_TITLE_ROW", 0), "empty_rows": files.get("EXPORT_BLANK_ROW", 0),
                  "totals": files.get("EXPORT_TOTALS_ROW", 0)},
        "quarantined_rows": {p: per.get(p, 0) for p in EXPORT_QUARANTINED},
        "harmless_rows": {p: per.get(p, 0) for p in EXPORT_HARMLESS},
        "skipped_rows": {p: per.get(p, 0) for p in EXPORT_SKIPPED},
    }


def readers_frame(c: Centre) -> pl.DataFrame:
    return pl.DataFrame({
        "reader": c.reader_names,
        "team": [c.team_names[k] for k in c.reader_team],
        "pair": c.reader_pair,
        "partner": [c.reader_names[c.pair_members[p][1 - i % 2]] for i, p in enumerate(c.reader_pair)],
        "propensity": c.reader_propensity,
        "bad": c.reader_bad,
        "fabricator": c.reader_fabricator,
    })


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=False) + "\n", encoding="utf-8")
