"""The assessment (考核) under any scoring version: the ledger SQL of marts.assessment_ledger run as a
read, with config/assessment.toml replaced by another version's text, and the scores it gives.

A version is named as `readq assess --compare` and the Assessment page name it: "current" (the file
in force), a path to a TOML file, or a config version recorded in ops.config_versions (every build
records the text of every config file under its version). The scores follow the marts' definition:
a reader scores base + the points of their ledger rows, a team base + the team_points of its rows.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from readq.config import config_dir
from warehouse.marts import mart

SCORING_FILE = "assessment.toml"
CURRENT = "current"


@dataclass(frozen=True)
class Scoring:
    """One version of config/assessment.toml: where it came from, its text, its declared version."""

    ref: str            # as the user named it
    text: str

    @property
    def version(self) -> str:
        return str(tomllib.loads(self.text).get("version", "?"))

    @property
    def base(self) -> float:
        return float(tomllib.loads(self.text)["base"])


class UnknownScoring(ValueError):
    """A version reference that names no file and no recorded config version."""


# Every recorded config version holding the scoring file, newest first: (config version, its text).
SCORINGS_SQL = f"""
select config_version, files ->> '{SCORING_FILE}' as text
from ops.config_versions where files ->> '{SCORING_FILE}' is not null
order by recorded_at desc
"""


def distinct_scorings(rows: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Of SCORINGS_SQL's rows, the newest version of each distinct text."""
    seen: set[str] = set()
    out = []
    for version, text in rows:
        if text not in seen:
            seen.add(text)
            out.append((version, text))
    return out


def recorded_scorings(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(config version, assessment.toml text) of every recorded config version holding the file, newest
    first, one per distinct text."""
    return distinct_scorings(conn.execute(SCORINGS_SQL).fetchall())


def resolve(conn: duckdb.DuckDBPyConnection, ref: str) -> Scoring:
    """The scoring `ref` names: "current", a recorded config version, or a TOML file's path."""
    if ref == CURRENT:
        return Scoring(ref, (config_dir() / SCORING_FILE).read_text(encoding="utf-8"))
    found = conn.execute("select files ->> ? from ops.config_versions where config_version = ?",
                         [SCORING_FILE, ref]).fetchall()
    if found and found[0][0] is not None:
        return Scoring(ref, found[0][0])
    path = Path(ref)
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UnknownScoring(f"{ref} is not a valid TOML file ({exc})") from None
        return Scoring(ref, text)
    known = ", ".join(v for v, _ in recorded_scorings(conn)) or "none recorded"
    raise UnknownScoring(f"{ref!r} is neither 'current', a recorded config version ({known}) nor a TOML file")


def ledger_under(conn: duckdb.DuckDBPyConnection, period: str, scoring: Scoring) -> pl.DataFrame:
    """The month's ledger rows as `scoring` would write them (nothing is written)."""
    m = mart("assessment_ledger")
    sql = m.select_sql
    values = m.values(period, {SCORING_FILE: scoring.text})
    return conn.sql(sql, params={k: v for k, v in values.items() if f"${k}" in sql}).pl()


def scores_under(conn: duckdb.DuckDBPyConnection, period: str, scoring: Scoring) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(reader scores [team, reader, score], team scores [team, score]) of the month under `scoring`:
    every reader and team the marts score that month, and any other this ledger names."""
    ledger = ledger_under(conn, period, scoring)
    base = scoring.base
    # who is scored does not depend on the scoring: the marts' readers and teams of the month
    readers = conn.sql("select team, reader from marts.assessment_reader_month where period = ?", params=[period]).pl()
    teams = conn.sql("select team from marts.assessment_team_month where period = ?", params=[period]).pl()
    reader_rows = ledger.filter(pl.col("level") == "reader")
    readers = pl.concat([readers, reader_rows.select("team", "reader")]).unique()
    teams = pl.concat([teams, ledger.select("team")]).unique()
    by_reader = reader_rows.group_by("team", "reader").agg(pl.col("points").sum())
    by_team = ledger.group_by("team").agg(pl.col("team_points").sum())
    reader_scores = (readers.join(by_reader, on=["team", "reader"], how="left")
                     .select("team", "reader", (base + pl.col("points").fill_null(0.0)).alias("score")))
    team_scores = (teams.join(by_team, on="team", how="left")
                   .select("team", (base + pl.col("team_points").fill_null(0.0)).alias("score")))
    return reader_scores.sort("team", "reader"), team_scores.sort("team")


def compare(conn: duckdb.DuckDBPyConnection, period: str, old: Scoring,
            new: Scoring) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Reader and team scores of the month under two scorings side by side: score_old, score_new, change,
    and the ranks (1 = best) under each."""
    out = []
    for key, (a, b) in zip((["team", "reader"], ["team"]),
                           zip(scores_under(conn, period, old), scores_under(conn, period, new), strict=True),
                           strict=True):
        both = (a.rename({"score": "score_old"}).join(b.rename({"score": "score_new"}), on=key, how="full",
                                                       coalesce=True)
                .with_columns((pl.col("score_new") - pl.col("score_old")).alias("change"),
                              pl.col("score_old").rank("min", descending=True).cast(pl.Int64).alias("rank_old"),
                              pl.col("score_new").rank("min", descending=True).cast(pl.Int64).alias("rank_new")))
        out.append(both.sort("score_new", *key, descending=[True] + [False] * len(key)))
    return out[0], out[1]


def items_by_input(scoring_text: str) -> dict[str, list[str]]:
    """The optional input kinds the assessment's items rest on, each with its items: a month without that
    kind scores none of them (no data, not no errors)."""
    cfg = tomllib.loads(scoring_text)
    findings = [i["code"] for i in cfg["finding_items"]] + ["VETO", "ERROR_RATE_EXCESS"]
    return {"review_findings": findings, "field_anomalies": ["REPORT_LATE", "BONUS"]}


def missing_inputs(delivered: set[str], scoring_text: str) -> dict[str, list[str]]:
    """Of `items_by_input`, the kinds not in `delivered` (a month's delivered kinds)."""
    return {kind: items for kind, items in items_by_input(scoring_text).items() if kind not in delivered}


def evidence_summary(evidence: str | None) -> str:
    """A ledger row's evidence JSON as one readable line (key=value, lists joined)."""
    if not evidence:
        return ""
    data = json.loads(evidence)
    parts = []
    for k, v in data.items():
        if v is None:
            continue
        shown = "、".join(str(x) for x in v) if isinstance(v, list) else str(v)
        parts.append(f"{k}={shown}")
    return "; ".join(parts)
