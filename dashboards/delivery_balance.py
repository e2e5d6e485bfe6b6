"""Delivery balance and quarantine reasons for the data-quality page (pure functions on polars frames,
no Streamlit; the page is dashboards/views/quality.py).

The invariant the page checks: for every delivery, rows read = rows loaded + rows quarantined
(a rejected file loads nothing: all three are 0). It also checks that the detail tables list what
the registry counts: the distinct rows of a delivery in quarantine.rows and its rows in
ops.skipped_rows. Quarantine counts are entries: one row may fail several checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

Translate = Callable[..., str]  # dashboards.i18n.t, or a stand-in in tests

# A delivery's status in ops.deliveries -> its i18n key. `partly superseded`: a later file replaced
# some of its grain values (segments), the rest still stand; `superseded`: all of them.
STATUS_KEYS: dict[str, str] = {
    "loaded": "status_loaded",
    "partly superseded": "status_partly_superseded",
    "superseded": "status_superseded",
    "rejected": "status_rejected",
}
STATUSES: tuple[str, ...] = tuple(STATUS_KEYS)
COUNTS: tuple[str, ...] = ("rows_read", "rows_loaded", "rows_quarantined", "rows_skipped")


def filter_deliveries(df: pl.DataFrame, month: str | None, kind: str | None) -> pl.DataFrame:
    """Deliveries of `month` and `kind` (None: all). A delivery without a known month or kind
    (rejected before it could be told) is only in the "all" view of that filter."""
    if month is not None:
        df = df.filter(pl.col("period") == month)
    if kind is not None:
        df = df.filter(pl.col("kind") == kind)
    return df


def with_integrity(deliveries: pl.DataFrame, detail: pl.DataFrame) -> pl.DataFrame:
    """Deliveries plus `quarantine_recorded`, `skipped_recorded`, `difference`, `balanced`, `detail_ok`.

    `balanced`: rows_read = rows_loaded + rows_quarantined (a missing count is not balanced, except
    on a rejected file, which loads nothing). `detail_ok`: the quarantine and skipped-row listings
    hold as many rows as the registry says (not checked for rejected files: nothing of theirs is kept).
    """
    counts = [pl.col(c).cast(pl.Int64) for c in COUNTS]
    rejected = pl.col("status") == "rejected"
    df = (
        deliveries.with_columns(*counts)
        .join(detail, on="delivery_id", how="left")
        .with_columns(pl.col("quarantine_recorded", "skipped_recorded").fill_null(0).cast(pl.Int64))
    )
    read, loaded, quarantined = (pl.col(c).fill_null(0) for c in COUNTS[:3])
    complete = pl.all_horizontal(pl.col(c).is_not_null() for c in COUNTS[:3])
    return df.with_columns(
        (read - loaded - quarantined).alias("difference"),
        ((complete | rejected) & (read == loaded + quarantined)).alias("balanced"),
        (
            rejected
            | (
                (pl.col("quarantine_recorded") == quarantined)
                & (pl.col("skipped_recorded") == pl.col("rows_skipped").fill_null(0))
            )
        ).alias("detail_ok"),
    )


@dataclass(frozen=True)
class Headline:
    files: int
    loaded: int
    partly_superseded: int
    superseded: int
    rejected: int
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_skipped: int
    unbalanced: int
    detail_mismatch: int


def headline(df: pl.DataFrame) -> Headline:
    """Totals over the deliveries of `df` (from `with_integrity`)."""

    def total(column: str) -> int:
        return int(df[column].fill_null(0).sum())

    def status(name: str) -> int:
        return int((df["status"] == name).sum())

    return Headline(
        files=df.height,
        loaded=status("loaded"),
        partly_superseded=status("partly superseded"),
        superseded=status("superseded"),
        rejected=status("rejected"),
        rows_read=total("rows_read"),
        rows_loaded=total("rows_loaded"),
        rows_quarantined=total("rows_quarantined"),
        rows_skipped=total("rows_skipped"),
        unbalanced=int((~df["balanced"]).sum()),
        detail_mismatch=int((~df["detail_ok"]).sum()),
    )


def rejected(df: pl.DataFrame) -> pl.DataFrame:
    """The rejected deliveries, most recent first."""
    return df.filter(pl.col("status") == "rejected").sort("received_at", descending=True, nulls_last=True)


def reasons_in_scope(reasons: pl.DataFrame, delivery_ids: pl.Series) -> pl.DataFrame:
    """Quarantine counts (per delivery, check, column) restricted to the deliveries in scope."""
    return reasons.filter(pl.col("delivery_id").is_in(delivery_ids.implode()))


def count_by(reasons: pl.DataFrame, *keys: str) -> pl.DataFrame:
    """Entries and rows per `keys`, largest first (ties by key, so the order is stable)."""
    return (
        reasons.group_by(*keys)
        .agg(pl.col("failures").sum(), pl.col("rows").sum())
        .sort(["failures", *keys], descending=[True, *([False] * len(keys))], nulls_last=True)
    )


# Check codes as written by checks/casting.py, checks/schemas.py (pandera) and pipelines/ingest.
_CHECK_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], Translate], str]], ...] = (
    (re.compile(r"cast:(\w+)"), lambda m, tr: _cast_phrase(m[1], tr)),
    (re.compile(r"code_table:(\w+)"), lambda m, tr: tr("check_code_table", table=_code_table(m[1], tr))),
    (re.compile(r"not_nullable"), lambda m, tr: tr("check_not_nullable")),
    (re.compile(r"duplicate_row"), lambda m, tr: tr("check_duplicate_row")),
    (re.compile(r"duplicate_key"), lambda m, tr: tr("check_duplicate_key")),
    (re.compile(r"too_many_fields"), lambda m, tr: tr("check_too_many_fields")),
    (re.compile(r"unparseable_line"), lambda m, tr: tr("check_unparseable_line")),
    (re.compile(r"period_matches_delivery\((.*)\)"), lambda m, tr: tr("check_period_matches", period=m[1])),
    (re.compile(r"greater_than_or_equal_to\((.*)\)"), lambda m, tr: tr("check_ge", v=m[1])),
    (re.compile(r"greater_than\((.*)\)"), lambda m, tr: tr("check_gt", v=m[1])),
    (re.compile(r"less_than_or_equal_to\((.*)\)"), lambda m, tr: tr("check_le", v=m[1])),
    (re.compile(r"less_than\((.*)\)"), lambda m, tr: tr("check_lt", v=m[1])),
    (re.compile(r"in_range\(([^,]*), ?([^,]*)\)"), lambda m, tr: tr("check_in_range", lo=m[1], hi=m[2])),
    (re.compile(r"str_matches\(.*\)"), lambda m, tr: tr("check_str_matches")),
    (re.compile(r"str_length\(.*\)"), lambda m, tr: tr("check_str_length")),
    (re.compile(r"isin\(.*\)"), lambda m, tr: tr("check_isin")),
)
CAST_TYPES: tuple[str, ...] = ("int", "float", "date", "datetime", "period")
CODE_TABLES: tuple[str, ...] = (
    "read_status",
    "read_mode",
    "customer_class",
    "customer_status",
    "error_type",
    "found_by",
    "responsible_role",
    "field_anomaly_type",
    "segment_read_mode",
)
SKIP_REASONS: dict[str, str] = {"title row": "skip_title", "blank row": "skip_blank", "totals row": "skip_totals"}


def _cast_phrase(type_: str, tr: Translate) -> str:
    return tr(f"check_cast_{type_}") if type_ in CAST_TYPES else tr("check_cast", type=type_)


def _code_table(name: str, tr: Translate) -> str:
    return tr(f"code_table_{name}") if name in CODE_TABLES else name


def describe_check(code: str | None, tr: Translate) -> str:
    """A readable phrase for a stable check code; the code itself when it is not a known one."""
    if not code:
        return "—"
    for pattern, phrase in _CHECK_PATTERNS:
        match = pattern.fullmatch(code)
        if match:
            return phrase(match, tr)
    return code


_REPEAT = re.compile(r"exact repeat of (?:line|row) (\d+)")  # an exact repeat dropped within one delivery
_SAME_VALUES = re.compile(r"repeat of line (\d+) \(same values\)")  # the same values, spelt otherwise


def describe_skip(reason: str | None, tr: Translate) -> str:
    key = SKIP_REASONS.get(reason or "")
    if key:
        return tr(key)
    if reason and (m := _REPEAT.fullmatch(reason)):
        return tr("skip_repeat", line=m[1])
    if reason and (m := _SAME_VALUES.fullmatch(reason)):
        return tr("skip_repeat_same_values", line=m[1])
    return reason or "—"


def delivery_label(row: dict) -> str:
    """How a delivery is named in the drill-down select: language-independent (it goes in the URL)
    and unique (the delivery id is the registry's key)."""
    parts = [row.get("period") or "?", row["file_name"]]
    if row.get("sheet"):
        parts.append(row["sheet"])
    return " · ".join([*parts, row["delivery_id"]])


def csv_file_name(delivery_id: str) -> str:
    return "quarantine_" + re.sub(r"[^0-9A-Za-z_-]+", "_", delivery_id) + ".csv"


def kind_coverage(deliveries: pl.DataFrame, kinds: tuple[str, ...]) -> pl.DataFrame:
    """One row per month (newest first) and a column per kind of `kinds`: the files of that kind and month
    that loaded (rejected files do not count; 0 = nothing of that kind delivered). Deliveries without a
    month (rejected before it could be told) are left out."""
    known = deliveries.filter(pl.col("period").is_not_null() & (pl.col("status") != "rejected"))
    months = sorted({p for p in deliveries["period"].to_list() if p}, reverse=True)
    counts = {(p, k): n for p, k, n in known.group_by("period", "kind").len().iter_rows()}
    return pl.DataFrame(
        {"period": months, **{k: [counts.get((p, k), 0) for p in months] for k in kinds}},
        schema={"period": pl.String, **dict.fromkeys(kinds, pl.Int64)},
    )


def missing_kinds(coverage: pl.DataFrame, month: str) -> list[str]:
    """The kinds of `coverage` (see `kind_coverage`) with no loaded file in `month`, in catalogue order."""
    row = coverage.filter(pl.col("period") == month)
    kinds = [c for c in coverage.columns if c != "period"]
    if row.height == 0:
        return kinds
    values = row.row(0, named=True)
    return [k for k in kinds if not values[k]]
