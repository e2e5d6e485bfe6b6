"""The Errors page's frames — the 差错统计表 in the seed's shape, the Pareto by error type, the data of
the p-chart and funnel plot, the reader options of the drill-down (pure: no Streamlit; the page is
dashboards/views/errors.py).

The table's columns, their order, headers and number formats are those of `readq errors` (the XLSX
export, readq/errors.py), read from config/errors.toml [table]: the key, 户数 and 电量 of each error type
in the seed's order, 合计, the three rates with their counts and per 万户, the responsible parties, the
status-unknown customers and the notes column. A screen has one header row, so a header that repeats
(户数, 差错率) carries its group: 错抄·户数, 差错率（按户）·差错率. The 合计 row sums the rows and recomputes
the rates from those sums, as the export does. Null counts stay null ("no data", with the reason in
the notes column), never 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from dashboards.forensics import SEP
from pipelines.reports.error_table import KEYS, Column, layout, mask_readers, total_row
from readq.config import load_toml

GROUP_SEP = "·"
PERCENT = 100.0  # rates are shown and downloaded as percentages


@dataclass(frozen=True)
class Shown:
    """A column of the on-screen table: the mart column, its header, its number format (readq.errors)."""

    name: str
    label: str
    format: str  # count | kwh | percent | decimal | text


def columns(by: str, lang: str) -> list[Shown]:
    """The table's columns for `by` (team | reader | segment) in the seed's order, one header each. A
    header that repeats within any of the three tables carries its group in all of them, so a column is
    named the same in each (责任方（户数）·抄表员 beside the reader table's 抄表员)."""
    cols: list[Column] = layout(by, lang)
    repeated = {h for b in KEYS for h, n in Counter(c.header for c in layout(b, lang)).items() if n > 1}
    out = [Shown(c.name, f"{c.group}{GROUP_SEP}{c.header}" if c.group and c.header in repeated else c.header,
                 c.format) for c in cols]
    labels = [c.label for c in out]
    if len(set(labels)) != len(labels):
        raise ValueError(f"config/errors.toml [table] gives two columns the same header: {labels}")
    return out


def errors_config() -> dict:
    return load_toml("errors.toml")


def reason_texts(lang: str) -> dict[str, str]:
    """null_reason code -> text (config/errors.toml [reasons])."""
    return {code: r["en" if lang == "en" else "zh"] for code, r in errors_config()["reasons"].items()}


def type_labels(lang: str) -> list[tuple[str, str]]:
    """(code, label) of each error type, in the seed's order."""
    return [(t["code"], t["en" if lang == "en" else "zh"]) for t in errors_config()["types"]]


def in_teams(frame: pl.DataFrame, teams: Sequence[str]) -> pl.DataFrame:
    return frame.filter(pl.col("team").is_in(list(teams))) if teams else frame


def stats_table(rows: pl.DataFrame, by: str, lang: str, *, total_name: str | None, masked: bool = False,
                percent_suffix: str = "") -> pl.DataFrame:
    """The 差错统计表 of `rows` (one mart's rows of a month) with headers as shown, a 合计 row last when
    `total_name` is given; rates as percentages (`percent_suffix` appended to their headers, for the CSV),
    reasons as text, reader names masked when `masked` (the CSV: as `readq errors` writes them)."""
    shown = columns(by, lang)
    cols = [Column(c.name, c.label, None, c.format) for c in shown]
    reasons = reason_texts(lang)
    body = mask_readers(rows) if masked else rows
    records = body.select([c.name for c in shown]).to_dicts()
    if total_name is not None and rows.height:
        total = total_row(rows, cols, total_name)
        total.update({k: "" for k in KEYS[by][1:]})  # the 合计 row has no reader / segment
        total["null_reason"] = _common_reason(rows)
        records.append(total)
    data: dict[str, list] = {}
    for c in shown:
        values = [r.get(c.name) for r in records]
        label = c.label + (percent_suffix if c.format == "percent" else "")
        if c.name == "null_reason":
            data[label] = [reasons.get(v, v) if v else None for v in values]
        elif c.format == "percent":
            data[label] = [None if v is None else float(v) * PERCENT for v in values]
        else:
            data[label] = values
    return pl.DataFrame(data, schema=_schema(shown, percent_suffix), strict=False)


def _schema(shown: Sequence[Shown], percent_suffix: str) -> dict[str, pl.DataType]:
    kinds = {"count": pl.Int64, "kwh": pl.Float64, "percent": pl.Float64, "decimal": pl.Float64, "text": pl.String}
    return {c.label + (percent_suffix if c.format == "percent" else ""): kinds[c.format]  # type: ignore[misc]
            for c in shown}


def _common_reason(rows: pl.DataFrame) -> str | None:
    """The 合计 row's note: the reason every row shares (no findings for the month), else none."""
    found = set(rows["null_reason"].to_list())
    return found.pop() if len(found) == 1 else None


# --- Pareto by error type --------------------------------------------------------------------------------

PARETO_SCHEMA = {"code": pl.String, "label": pl.String, "customers": pl.Int64, "kwh": pl.Float64,
                 "share": pl.Float64, "cumulative": pl.Float64}


def pareto(rows: pl.DataFrame, lang: str) -> pl.DataFrame:
    """户数 and 电量 of each error type summed over `rows`, largest first (ties: the seed's order), with
    each type's share of the summed 户数 and the cumulative share. Types without an error are left out;
    empty when no findings were delivered (the counts are null)."""
    types = type_labels(lang)
    if rows.height == 0 or not rows["findings_delivered"].any():
        return pl.DataFrame(schema=PARETO_SCHEMA)
    delivered = rows.filter(pl.col("findings_delivered"))
    recs = []
    for order, (code, label) in enumerate(types):
        c, k = f"{code.lower()}_customers", f"{code.lower()}_kwh"
        customers = int(delivered[c].fill_null(0).sum()) if c in delivered.columns else 0
        kwh = float(delivered[k].fill_null(0).sum()) if k in delivered.columns else 0.0
        if customers > 0:
            recs.append({"code": code, "label": label, "customers": customers, "kwh": kwh, "order": order})
    if not recs:
        return pl.DataFrame(schema=PARETO_SCHEMA)
    frame = pl.DataFrame(recs).sort(["customers", "order"], descending=[True, False])
    total = float(frame["customers"].sum())
    return frame.with_columns(share=pl.col("customers") / total,
                              cumulative=pl.col("customers").cum_sum() / total).select(list(PARETO_SCHEMA))


# --- p-chart and funnel -------------------------------------------------------------------------------------

def p_chart_rows(p_chart: pl.DataFrame, metric: str, teams: Sequence[str], unattributed: str) -> pl.DataFrame:
    """Every month of the teams' p-chart rows of `metric` (the unattributed team is never charted)."""
    rows = p_chart.filter((pl.col("metric") == metric) & (pl.col("team") != unattributed))
    return in_teams(rows, teams).sort("team", "period")


def funnel_points(funnel: pl.DataFrame, metric: str, level: str, teams: Sequence[str],
                  unattributed: str) -> pl.DataFrame:
    """The month's units of `level` (team | reader) with volume, for the funnel plot."""
    rows = funnel.filter((pl.col("metric") == metric) & (pl.col("level") == level)
                         & (pl.col("team") != unattributed) & (pl.col("denominator") > 0))
    if level == "reader":
        rows = rows.filter(pl.col("reader") != unattributed)
    return in_teams(rows, teams).sort("team", "reader", nulls_last=False)


def funnel_curves(limits: pl.DataFrame, metric: str, level: str) -> pl.DataFrame:
    return limits.filter((pl.col("metric") == metric) & (pl.col("level") == level)).sort("volume")


# --- the reader drill-down ----------------------------------------------------------------------------------

def reader_option(team: str, reader: str) -> str:
    """The `?reader=` value: "<reader> · <team>", as the Readers page writes it (a shared URL means the
    same on both pages)."""
    return f"{reader}{SEP}{team}"


def reader_options(rows: pl.DataFrame) -> dict[str, tuple[str, str, str]]:
    """Option text -> (team, reader, party) of the reader table's rows, in their order."""
    return {reader_option(r["team"], r["reader"]): (r["team"], r["reader"], r["party"])
            for r in rows.select("team", "reader", "party").to_dicts()}
