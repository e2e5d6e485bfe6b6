"""Read-only access to the published snapshot (`readq.config.home().published`).

Each query opens a short-lived read-only DuckDB connection and closes it, so the pipeline can
swap the file with `os.replace` at any time. Results are cached with `st.cache_data` keyed by the
file's path and stamp (mtime, size, inode): a new publish changes the key and shows up on the
next rerun. Queries are fixed SQL with parameters; nothing from the URL is interpolated.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import duckdb
import polars as pl
import streamlit as st

from checks.mappings import KINDS, load_mapping
from dashboards import access
from readq.config import home, load_toml
from warehouse.schema import RELATIONS_SQL
from warehouse.scoping import ScopingPolicy, write_scoped

T = TypeVar("T")


class Snapshot(NamedTuple):
    """Identity of one published snapshot file (the cache key)."""

    path: str
    mtime_ns: int
    size: int
    inode: int


class SnapshotError(Exception):
    """The snapshot exists but cannot be read or lacks a table; `reason` is an i18n key."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


def snapshot_path() -> Path:
    return home().published


def _stamp(path: Path) -> Snapshot | None:
    try:
        st_ = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return Snapshot(str(path), st_.st_mtime_ns, st_.st_size, st_.st_ino)


def current_snapshot() -> Snapshot | None:
    """What the viewer reads: the published snapshot, or for a team leader (config [access]) its copy cut to
    their team; None when nothing has been published yet."""
    snap = _stamp(snapshot_path())
    if snap is None:
        return None
    who = access.viewer()
    return snap if who.teams is None else scoped(snap, who.teams)


SCOPED_DIR = "scoped"          # under the published snapshot's folder
SCOPED_KEEP_SECONDS = 600      # a copy of an older snapshot is removed once this old (a session may still read it)


def scoped(snap: Snapshot, teams: tuple[str, ...]) -> Snapshot:
    """The copy of `snap` cut to `teams` (warehouse/scoping.py), built on first use and kept beside the
    snapshot; copies of older snapshots are removed. Errors become `SnapshotError`."""
    policy = load_toml("readq.toml")["scoping"]
    published = hashlib.sha256(repr((snap.path, snap.mtime_ns, snap.size, snap.inode)).encode()).hexdigest()[:16]
    scope = hashlib.sha256(repr((sorted(teams), policy)).encode()).hexdigest()[:16]
    folder = Path(snap.path).parent / SCOPED_DIR
    target = folder / f"{published}-{scope}.duckdb"
    if not target.exists():
        try:
            write_scoped(Path(snap.path), teams, target, ScopingPolicy.from_config(policy))
        except (duckdb.Error, OSError) as exc:
            raise SnapshotError("snapshot_unreadable", str(exc)) from exc
        _prune(folder, keep=published)
    stamp = _stamp(target)
    if stamp is None:
        raise SnapshotError("snapshot_unreadable", f"{target} vanished")
    return stamp


def _prune(folder: Path, keep: str) -> None:
    now = time.time()
    for old in folder.glob("*.duckdb"):
        try:
            if not old.name.startswith(keep) and now - old.stat().st_mtime > SCOPED_KEEP_SECONDS:
                old.unlink()
        except OSError:
            pass  # another session removed it first


@st.cache_data(show_spinner=False, max_entries=64, ttl=3600)
def _query(snap: Snapshot, sql: str, params: tuple[Any, ...] = ()) -> pl.DataFrame:
    # No replacement scans: an unknown table name must not resolve to a Python variable.
    con = duckdb.connect(snap.path, read_only=True, config={"python_enable_replacements": False})
    try:
        return con.sql(sql, params=list(params)).pl()
    finally:
        con.close()


def reading(read: Callable[..., T], *args: Any) -> T:
    """`read(*args)` on the snapshot, its DuckDB errors as `SnapshotError` (a missing table, else unreadable)."""
    try:
        return read(*args)
    except duckdb.CatalogException as exc:
        raise SnapshotError("missing_table", str(exc)) from exc
    except duckdb.Error as exc:
        raise SnapshotError("snapshot_unreadable", str(exc)) from exc


def query(snap: Snapshot, sql: str, params: tuple[Any, ...] = ()) -> pl.DataFrame:
    """Run fixed `sql` with `params` on the snapshot; errors become `SnapshotError`."""
    return reading(_query, snap, sql, params)


@st.cache_data(show_spinner=False, max_entries=64, ttl=3600)
def _query_many(snap: Snapshot, queries: tuple[tuple[str, tuple[Any, ...]], ...]) -> list[pl.DataFrame]:
    con = duckdb.connect(snap.path, read_only=True, config={"python_enable_replacements": False})
    try:
        return [con.sql(sql, params=list(params)).pl() for sql, params in queries]
    finally:
        con.close()


def query_many(snap: Snapshot, queries: tuple[tuple[str, tuple[Any, ...]], ...]) -> list[pl.DataFrame]:
    """Run several fixed queries (each `(sql, params)`) on one short-lived connection, cached as one:
    a page that needs a few small results opens the snapshot once, not once per query (an open costs
    tens of milliseconds). Errors become `SnapshotError`, as in `query`."""
    return reading(_query_many, snap, queries)


# --- Overview and Errors pages: KPI marts, 差错统计表, control limits, the rows behind a reader ---------

TABLES_SQL = RELATIONS_SQL      # tables and views (a snapshot's marts are views over its parts)


def table_names(snap: Snapshot) -> set[str]:
    """"schema.table" of every table and view the snapshot holds (pages check for the marts they need)."""
    return set(query(snap, TABLES_SQL)["name"].to_list())


KPI_CENTRE_SQL = "select * from marts.kpi_centre_month order by period"
KPI_TEAM_SQL = "select * from marts.kpi_team_month order by period, team"


def kpi_levels(snap: Snapshot) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every row of marts.kpi_centre_month and marts.kpi_team_month (small: months, teams × months)."""
    centre, teams = query_many(snap, ((KPI_CENTRE_SQL, ()), (KPI_TEAM_SQL, ())))
    return centre, teams


SPC_P_CHART_SQL = "select * from marts.spc_p_chart order by period, metric, team"
SPC_FUNNEL_SQL = "select * from marts.spc_funnel where period = ? order by level, metric, team, reader"
SPC_FUNNEL_LIMITS_SQL = "select * from marts.spc_funnel_limits where period = ? order by level, metric, volume"
SPC_CUSUM_SQL = "select * from marts.spc_cusum where period = ? order by level, metric, team, reader"
SPC_TABLES = ("marts.spc_p_chart", "marts.spc_funnel", "marts.spc_funnel_limits", "marts.spc_cusum")


class Spc(NamedTuple):
    """The control-limit marts: the p-chart of every month, funnel, funnel curves and CUSUM of one month
    (empty frames when the snapshot predates them)."""

    p_chart: pl.DataFrame
    funnel: pl.DataFrame
    funnel_limits: pl.DataFrame
    cusum: pl.DataFrame


def spc(snap: Snapshot, month: str, tables: set[str]) -> Spc | None:
    """The control-limit marts for `month`; None when the snapshot has none of them."""
    if not all(name in tables for name in SPC_TABLES):
        return None
    frames = query_many(snap, ((SPC_P_CHART_SQL, ()), (SPC_FUNNEL_SQL, (month,)),
                               (SPC_FUNNEL_LIMITS_SQL, (month,)), (SPC_CUSUM_SQL, (month,))))
    return Spc(*frames)


ERROR_STATS_SQL = "select * from marts.error_stats_month order by period, team"
ERROR_STATS_READER_SQL = "select * from marts.error_stats_reader_month where period = ? order by team, reader, party"
ERROR_STATS_SEGMENT_SQL = "select * from marts.error_stats_segment_month where period = ? order by team, segment_no"
ERROR_TABLES = ("marts.error_stats_month", "marts.error_stats_reader_month", "marts.error_stats_segment_month")


def error_stats(snap: Snapshot) -> pl.DataFrame:
    """Every row of the 差错统计表 by team (teams × months)."""
    return query(snap, ERROR_STATS_SQL)


def error_stats_month(snap: Snapshot, month: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The month's 差错统计表 by reader and by segment."""
    readers, segments = query_many(snap, ((ERROR_STATS_READER_SQL, (month,)), (ERROR_STATS_SEGMENT_SQL, (month,))))
    return readers, segments


# The findings a reader's row of the 差错统计表 counts (in scope; the reader's own for a reader row, the
# party's for the team's clerk or system row), with the file and line they were delivered on.
READER_FINDINGS_SQL = """
select f.finding_no, f.segment_no, f.customer_no, f.meter_no, f.error_type, f.responsible, f.kwh_impact,
       f.found_by, f.found_date, d.file_name, f.sheet, f.source_row
from marts.error_findings f
left join ops.deliveries d on d.delivery_id = f.delivery_id
where f.period = ? and f.team = ? and f.in_scope and f.responsible = ?
  and (? <> 'READER' or f.reader = ?)
order by f.found_date nulls last, f.finding_no
"""

# The reader's flagged readings of the month (one row per rule that fired), with file and line.
READER_FLAGS_SQL = """
select f.rule_id, f.severity, f.segment_no, f.customer_no, f.meter_no, f.mp_key, f.observed, f.expected,
       d.file_name, f.sheet, f.source_row
from marts.reading_flags f
left join ops.deliveries d on d.delivery_id = f.delivery_id
where f.period = ? and f.team = ? and f.reader = ?
order by case f.severity when 'fail' then 0 when 'warn' then 1 when 'info' then 2 else 3 end,
         f.rule_id, f.segment_no, f.customer_no, f.mp_key
"""


def reader_rows(snap: Snapshot, month: str, team: str, reader: str, party: str,
                tables: set[str]) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:
    """(findings, flags) behind one row of the reader table; None for a table the snapshot lacks. A clerk's
    or the system's row has no flags of its own (flags belong to readers)."""
    queries: list[tuple[str, tuple[Any, ...]]] = []
    has_findings = "marts.error_findings" in tables
    has_flags = "marts.reading_flags" in tables and party == "READER"
    if has_findings:
        queries.append((READER_FINDINGS_SQL, (month, team, party, party, reader)))
    if has_flags:
        queries.append((READER_FLAGS_SQL, (month, team, reader)))
    found = list(query_many(snap, tuple(queries))) if queries else []
    findings = found.pop(0) if has_findings else None
    flags = found.pop(0) if has_flags else None
    return findings, flags


# --- Data quality page: delivery registry, quarantine, skipped rows -------------------------

QUALITY_TABLES: dict[str, tuple[str, ...]] = {
    "ops.deliveries": ("delivery_id", "file_name", "status", "rows_read", "rows_loaded", "rows_quarantined"),
    "quarantine.rows": ("delivery_id", "source_row", "check_name"),
    "ops.skipped_rows": ("delivery_id", "source_row", "reason"),
}

QUALITY_COLUMNS_SQL = """
select schema_name || '.' || table_name as table_name, column_name
from duckdb_columns()
where database_name = current_database() and schema_name in ('ops', 'quarantine')
"""


def quality_columns(snap: Snapshot) -> dict[str, set[str]]:
    """{"schema.table": column names} for the snapshot's ops and quarantine tables."""
    df = query(snap, QUALITY_COLUMNS_SQL)
    columns: dict[str, set[str]] = {}
    for table, column in df.iter_rows():
        columns.setdefault(table, set()).add(column)
    return columns


def missing_quality_tables(columns: dict[str, set[str]]) -> list[str]:
    """The data-quality tables (or their key columns) an older snapshot lacks."""
    return [table for table, needed in QUALITY_TABLES.items() if not set(needed) <= columns.get(table, set())]


DELIVERIES_SQL = """
select delivery_id, file_name, sheet, kind, period, status, rows_read, rows_loaded, rows_quarantined,
       rows_skipped, message, encoding, period_source, scope, superseded_by,
       array_to_string(unmapped_columns, ', ') as unmapped_columns, config_version, received_at
from ops.deliveries
order by received_at desc, file_name, sheet
"""


def deliveries(snap: Snapshot) -> pl.DataFrame:
    """Every delivery in the registry (one row per file, per sheet for workbooks), newest first."""
    return query(snap, DELIVERIES_SQL)


DETAIL_COUNTS_SQL = """
with q as (
    select delivery_id, count(distinct source_row) as rows_recorded from quarantine.rows group by delivery_id
), s as (
    select delivery_id, count(*) as skipped_recorded from ops.skipped_rows group by delivery_id
)
select delivery_id, coalesce(q.rows_recorded, 0)::bigint as quarantine_recorded,
       coalesce(s.skipped_recorded, 0)::bigint as skipped_recorded
from q full join s using (delivery_id)
"""


def detail_counts(snap: Snapshot) -> pl.DataFrame:
    """Per delivery: distinct rows listed in quarantine.rows and rows listed in ops.skipped_rows."""
    return query(snap, DETAIL_COUNTS_SQL)


REASONS_SQL = """
select delivery_id, kind, check_name, column_name,
       count(*)::bigint as failures, count(distinct source_row)::bigint as rows
from quarantine.rows
group by delivery_id, kind, check_name, column_name
"""


def quarantine_reasons(snap: Snapshot) -> pl.DataFrame:
    """Quarantine entries counted per delivery, check and column (one row may fail several checks)."""
    return query(snap, REASONS_SQL)


# masked_value is what views show; raw_value (personal data as delivered) is never read here.
_QUARANTINED_SQL = """
select sheet, source_row, stage, column_name, check_name, {value} as masked_value, message
from quarantine.rows
where delivery_id = ?
order by source_row, column_name nulls first, check_name
limit ?
"""
QUARANTINED_SQL = _QUARANTINED_SQL.format(value="masked_value")
QUARANTINED_SQL_UNMASKED_SNAPSHOT = _QUARANTINED_SQL.format(value="null::varchar")


def quarantined_rows(snap: Snapshot, delivery_id: str, *, has_masked_value: bool, limit: int) -> pl.DataFrame:
    """The first `limit` quarantine entries of one delivery, with masked values (none on snapshots
    without them). Ask for one more than you show to tell whether there are more."""
    sql = QUARANTINED_SQL if has_masked_value else QUARANTINED_SQL_UNMASKED_SNAPSHOT
    return query(snap, sql, (delivery_id, int(limit)))


SKIPPED_SQL = """
select sheet, source_row, reason from ops.skipped_rows where delivery_id = ? order by source_row
"""


def skipped_rows(snap: Snapshot, delivery_id: str) -> pl.DataFrame:
    """Title, blank and totals rows of one delivery."""
    return query(snap, SKIPPED_SQL, (delivery_id,))


class MappingLabels(NamedTuple):
    """Names from config/mappings for display: kind -> (label_zh, label_en); (kind, column) -> header."""

    kinds: dict[str, tuple[str, str]]
    headers: dict[tuple[str, str], str]


def mapping_labels() -> MappingLabels:
    """Kind labels and the marketing-system header of each column (empty if the config is unreadable)."""
    try:
        mappings = [load_mapping(kind) for kind in KINDS]
    except Exception:  # a broken config folder must not break the page: codes are shown instead
        return MappingLabels({}, {})
    return MappingLabels(
        {m.kind: (m.label_zh, m.label_en) for m in mappings},
        {(m.kind, name): spec.header_zh for m in mappings for name, spec in m.columns.items()},
    )


# --- Assessment page: scores, ranking, ledger, version comparison --------------------------------------

ASSESSMENT_TABLES = ("marts.assessment_ledger", "marts.assessment_reader_month", "marts.assessment_team_month")
ASSESSMENT_TEAMS_SQL = "select * from marts.assessment_team_month order by period, rank nulls last, team"
ASSESSMENT_READERS_SQL = """
select * from marts.assessment_reader_month where period = ? order by team, rank_in_team nulls last, reader
"""
ASSESSMENT_LEDGER_SQL = """
select * exclude (evidence), evidence::varchar as evidence
from marts.assessment_ledger where period = ? and team = ?
order by level, reader, points, item, evidence_id
"""


def assessment_teams(snap: Snapshot) -> pl.DataFrame:
    """Every team's score and rank of every month (teams × months: small)."""
    return query(snap, ASSESSMENT_TEAMS_SQL)


def assessment_month(snap: Snapshot, month: str, team: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(every reader's score of the month, the ledger rows of one team)."""
    readers, ledger = query_many(snap, ((ASSESSMENT_READERS_SQL, (month,)), (ASSESSMENT_LEDGER_SQL, (month, team))))
    return readers, ledger


MONTH_KINDS_SQL = "select distinct kind from ops.deliveries where period = ? and status <> 'rejected'"


def month_kinds(snap: Snapshot, month: str) -> set[str]:
    """The input kinds delivered (not rejected) for the month."""
    return set(query(snap, MONTH_KINDS_SQL, (month,))["kind"].to_list())


RAW_SOURCE_SQL = "select * from raw.{kind} where delivery_id = ? and source_row = ? and sheet is not distinct from ?"


def raw_source_row(snap: Snapshot, kind: str, delivery_id: str, source_row: int, sheet: str | None) -> pl.DataFrame:
    """The delivered row (every value as text, personal columns masked at publish) behind a ledger row;
    `kind` is an input kind (checks.mappings.KINDS), never user text."""
    if kind not in KINDS:
        raise ValueError(f"unknown input kind {kind!r}")
    return query(snap, RAW_SOURCE_SQL.format(kind=kind), (delivery_id, int(source_row), sheet))


def scoring_versions(snap: Snapshot) -> list[tuple[str, str]]:
    """(config version, assessment.toml text) of every recorded version, newest first, one per text."""
    from warehouse.assessment import SCORINGS_SQL, distinct_scorings

    return distinct_scorings(query(snap, SCORINGS_SQL).iter_rows())


@st.cache_data(show_spinner=False, max_entries=16, ttl=3600)
def _compare(snap: Snapshot, month: str, old: tuple[str, str],
             new: tuple[str, str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    from warehouse.assessment import Scoring, compare

    con = duckdb.connect(snap.path, read_only=True, config={"python_enable_replacements": False})
    try:
        return compare(con, month, Scoring(*old), Scoring(*new))
    finally:
        con.close()


def assessment_compare(snap: Snapshot, month: str, old: tuple[str, str],
                       new: tuple[str, str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Reader and team scores of the month under two scorings ((ref, assessment.toml text) each)."""
    try:
        return _compare(snap, month, old, new)
    except duckdb.Error as exc:
        raise SnapshotError("snapshot_unreadable", str(exc)) from exc


# --- Workflows page: anomaly reports and segment rounds -------------------------------------------------

WORKFLOW_TABLES = ("marts.workflow_reports", "marts.workflow_segments")
WORKFLOW_REPORTS_SQL = "select * from marts.workflow_reports where period = ? order by found_at, report_no"
WORKFLOW_SEGMENTS_SQL = "select * from marts.workflow_segments where period = ? order by team, segment_no, reader"
WORKFLOW_MONTHS_SQL = """
select period from marts.workflow_reports union select period from marts.workflow_segments order by 1
"""


ZERO_CHECKS_SQL = "select * from marts.zero_checks where period = ? order by team, customer_class, check_rank"


def zero_checks(snap: Snapshot, month: str) -> pl.DataFrame:
    """The month's remote customers with a zero run, the sample to check on site and the visits."""
    return query(snap, ZERO_CHECKS_SQL, (month,))


def workflow_months(snap: Snapshot) -> list[str]:
    return query(snap, WORKFLOW_MONTHS_SQL)["period"].to_list()


def workflows(snap: Snapshot, month: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the month's anomaly reports with their deadlines, its segment rounds)."""
    reports, segments = query_many(snap, ((WORKFLOW_REPORTS_SQL, (month,)), (WORKFLOW_SEGMENTS_SQL, (month,))))
    return reports, segments


@st.cache_data(show_spinner=False, max_entries=8, ttl=3600)
def assessment_workbooks(snap: Snapshot, month: str) -> tuple[bytes, bytes]:
    """(经济责任制考核记录, team ranking) of the month as XLSX bytes, reader names masked (readq assess's
    workbooks)."""
    import tempfile

    from readq.assessment import ledger_frame, reader_scores, team_ranking, write_ranking, write_records
    from readq.config import config_dir
    from warehouse.assessment import missing_inputs

    con = duckdb.connect(snap.path, read_only=True, config={"python_enable_replacements": False})
    try:
        ledger, scores, teams = ledger_frame(con, month), reader_scores(con, month), team_ranking(con, month)
    finally:
        con.close()
    missing = missing_inputs(month_kinds(snap, month), (config_dir() / "assessment.toml").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        records, ranking = Path(tmp) / "records.xlsx", Path(tmp) / "ranking.xlsx"
        write_records(records, month, ledger, scores, masked=True, missing=missing)
        write_ranking(ranking, month, teams)
        return records.read_bytes(), ranking.read_bytes()


# --- Readers & segments page: rotation, recheck, a reader's profile ---------------------------------------

ROTATION_TABLES = ("marts.rotation_segments", "marts.rotation_plan", "marts.rotation_loads")
RECHECK_TABLES = ("marts.recheck_readers", "marts.recheck_sample")
PAGE_MONTHS_SQL = "select distinct period from {table}"


def months_of(snap: Snapshot, tables: set[str], names: tuple[str, ...]) -> list[str]:
    """The months any of `names` (those the snapshot has) holds; names are fixed table names."""
    present = [n for n in names if n in tables]
    if not present:
        return []
    sql = " union ".join(PAGE_MONTHS_SQL.format(table=n) for n in present)
    return query(snap, sql)["period"].to_list()


ROTATION_SEGMENTS_SQL = "select * from marts.rotation_segments where period = ? order by team, segment_no"
ROTATION_PLAN_SQL = "select * from marts.rotation_plan where period = ? order by kind, team, segment_no"
ROTATION_LOADS_SQL = "select * from marts.rotation_loads where period = ? order by team, pair"
SEGMENT_HISTORY_SQL = """
select period, team, reader, partner, tenure_months, status from marts.rotation_segments
where segment_no = ? order by period
"""


def rotation(snap: Snapshot, month: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(the month's segments with tenure and status, next month's plan, the pairs' loads)."""
    segments, plan, loads = query_many(snap, ((ROTATION_SEGMENTS_SQL, (month,)), (ROTATION_PLAN_SQL, (month,)),
                                              (ROTATION_LOADS_SQL, (month,))))
    return segments, plan, loads


def segment_history(snap: Snapshot, segment: str) -> pl.DataFrame:
    """One segment's holder and tenure in every month."""
    return query(snap, SEGMENT_HISTORY_SQL, (segment,))


RECHECK_READERS_SQL = "select * from marts.recheck_readers where period = ? order by team, reader"
RECHECK_SAMPLE_SQL = "select * from marts.recheck_sample where period = ? order by team, reader, draw_rank"


def recheck(snap: Snapshot, month: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(each reader's recheck size, the drawn list) of the month."""
    readers, sample = query_many(snap, ((RECHECK_READERS_SQL, (month,)), (RECHECK_SAMPLE_SQL, (month,))))
    return readers, sample


PROFILE_SQL = {
    "kpi": ("marts.kpi_reader_month", "select actual_read_rate, error_rate, on_time_rate, customers_due, "
            "customers_read, customers_with_error from marts.kpi_reader_month where period = ? and team = ? "
            "and reader = ?"),
    "flags": ("marts.reading_flags", "select rule_id, severity, count(*) as flags from marts.reading_flags "
              "where period = ? and team = ? and reader = ? group by all order by flags desc, rule_id"),
    "score": ("marts.assessment_reader_month", "select score, rank_in_team, rank_in_centre, deductions, bonus, "
              "vetoed from marts.assessment_reader_month where period = ? and team = ? and reader = ?"),
}


def reader_profile(snap: Snapshot, month: str, team: str, reader: str,
                   tables: set[str]) -> dict[str, pl.DataFrame | None]:
    """A reader's month across the marts: KPIs, flags by rule, assessment score (None: the snapshot lacks
    that mart)."""
    wanted = [(name, sql) for name, (table, sql) in PROFILE_SQL.items() if table in tables]
    found = query_many(snap, tuple((sql, (month, team, reader)) for _, sql in wanted)) if wanted else []
    out: dict[str, pl.DataFrame | None] = dict.fromkeys(PROFILE_SQL)
    out.update({name: frame for (name, _), frame in zip(wanted, found, strict=True)})
    return out


@st.cache_data(show_spinner=False, max_entries=8, ttl=3600)
def list_workbooks(snap: Snapshot, month: str) -> tuple[bytes | None, bytes | None]:
    """(复核清单, 轮换计划) of the month as XLSX bytes, reader names masked (readq recheck / rotation's
    workbooks); None where the month has no rows."""
    import tempfile

    from readq.lists import write_recheck, write_rotation

    con = duckdb.connect(snap.path, read_only=True, config={"python_enable_replacements": False})
    try:
        sample = con.sql(RECHECK_SAMPLE_SQL, params=[month]).pl()
        segments = con.sql(ROTATION_SEGMENTS_SQL, params=[month]).pl()
        plan = con.sql(ROTATION_PLAN_SQL, params=[month]).pl()
        loads = con.sql(ROTATION_LOADS_SQL, params=[month]).pl()
    finally:
        con.close()
    with tempfile.TemporaryDirectory() as tmp:
        recheck_path, rotation_path = Path(tmp) / "recheck.xlsx", Path(tmp) / "rotation.xlsx"
        recheck_bytes = rotation_bytes = None
        if sample.height:
            write_recheck(recheck_path, month, sample, masked=True)
            recheck_bytes = recheck_path.read_bytes()
        if segments.height:
            write_rotation(rotation_path, month, plan, segments, loads, masked=True)
            rotation_bytes = rotation_path.read_bytes()
        return recheck_bytes, rotation_bytes
