"""The plausibility rules' flags for the anomalies page: fixed SQL, frame shaping, evidence
formatting and figures (pure: no Streamlit; the page is dashboards/views/anomalies.py).

Rates are "flags per 1,000 reads": the flags of the scope divided by its readings that were read
(`read_status` not 未抄) in marts.meter_readings, times 1,000 — summed over teams first, never an
average of team rates. A month whose flags were never computed (no build of marts.reading_flags, no
flag) has no rate (a gap), never 0; a computed month in which a rule did not fire has 0.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import plotly.graph_objects as go
import polars as pl

from checks.masking import mask_column, mask_text, personal_columns

PER = 1_000  # the unit of the rates: flags per 1,000 reads
RATE_DIGITS = 2  # 2.35 per 1,000
SHARE_DIGITS = 1  # precision / recall: 62.5%
SEVERITIES: tuple[str, ...] = ("fail", "warn", "info")  # most severe first
ALERT_SEVERITIES: tuple[str, ...] = ("fail", "warn")  # what the heatmap counts
ALL_RULES = "ALL"  # the row of marts.rule_efficacy for any rule at warn or fail
# The rules the UI has labels for, in the brief's order (display order; unknown ids follow, by name).
RULE_IDS: tuple[str, ...] = (
    "REG_DECREASE", "ROLLOVER", "FALSE_ROLLOVER", "ARITHMETIC", "MULTIPLIER_SHIFT", "ZERO_ACTIVE", "HIGH", "LOW",
    "VERY_HIGH", "VERY_LOW", "ROBUST_Z", "CAPACITY", "REPEATED_USE", "CONSEC_ESTIMATES", "SUSTAINED_DROP",
    "DIGIT_SLIP", "READ_DATE", "DUPLICATE",
)
READINGS_KIND = "readings"  # the input kind behind raw.readings (its mapping says which columns are personal)

Label = Callable[[str], str]

# --- SQL (fixed; values are parameters) ---------------------------------------------------------

# Readings of the month per team: the denominator of every rate (未抄 is not a read).
READS_SQL = """
select period, team, count(*) filter (where read_status is distinct from 'MISSED')::bigint as reads
from marts.meter_readings
group by period, team
"""

FLAG_COUNTS_SQL = """
select period, team, rule_id, severity, count(*)::bigint as flags
from marts.reading_flags
group by period, team, rule_id, severity
"""

# Months whose flags were computed (a month may be computed and have no flag at all).
FLAG_BUILDS_SQL = "select distinct period from ops.mart_builds where mart = 'reading_flags'"

EFFICACY_SQL = """
select rule_id, severity, reads, flags, flags_per_1000, findings_delivered, flags_confirmed, precision,
       confirmed_errors, errors_flagged, recall
from marts.rule_efficacy
where period = ?
"""

MONTH_FLAGS_SQL = """
select team, reader, segment_no, customer_no, meter_no, mp_key, rule_id, severity, observed, expected, ratio,
       history_months, evidence::varchar as evidence, delivery_id, sheet, source_row
from marts.reading_flags
where period = ?
order by case severity when 'fail' then 0 when 'warn' then 1 when 'info' then 2 else 3 end,
         rule_id, team, segment_no, customer_no, mp_key
"""

# One metering point over the months: its context (use, expected, band) and the rules that fired.
HISTORY_SQL = """
with c as (
    select period, use_kwh, expected_kwh, band_low, band_high
    from marts.reading_context
    where mp_key = ?
), f as (
    select period, list(distinct rule_id) as rules
    from marts.reading_flags
    where mp_key = ?
    group by period
)
select period, c.use_kwh, c.expected_kwh, c.band_low, c.band_high, f.rules
from c full join f using (period)
order by period
"""

# The readings a meter's flags of the month were computed on: their delivery, line and mart values.
_SOURCES = """
s as (
    select distinct delivery_id, sheet, source_row
    from marts.reading_flags
    where period = ? and mp_key = ?
)"""

SOURCES_SQL = f"""
with {_SOURCES}
select s.delivery_id, s.sheet, s.source_row, d.file_name, d.status, d.received_at,
       m.read_status, m.read_mode, m.read_date, m.last_read, m.this_read, m.kwh, m.multiplier, m.read_type,
       m.segment_no
from s
left join ops.deliveries d on d.delivery_id = s.delivery_id
left join marts.meter_readings m
  on m.period = ? and m.delivery_id = s.delivery_id and m.source_row = s.source_row
 and m.sheet is not distinct from s.sheet
order by s.delivery_id, s.source_row
"""

# The same readings as delivered (raw.readings: every value as text). Not every snapshot holds it.
RAW_ROWS_SQL = f"""
with {_SOURCES}
select r.*
from raw.readings r
join s on r.delivery_id = s.delivery_id and r.source_row = s.source_row and r.sheet is not distinct from s.sheet
order by r.delivery_id, r.source_row
"""


# --- rules and severities -----------------------------------------------------------------------

def rule_order(rule_ids: Iterable[str]) -> list[str]:
    """Rule ids in display order: the known rules as the brief lists them, then unknown ids by name."""
    known = {r: i for i, r in enumerate(RULE_IDS)}
    return sorted(set(rule_ids), key=lambda r: (known.get(r, len(known)), r))


def severity_rank(severity: str | None) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


# --- numbers --------------------------------------------------------------------------------------

def per_1000(flags: float | None, reads: float | None) -> float | None:
    """Flags per 1,000 reads; None without reads (no rate, never 0)."""
    if flags is None or reads is None or reads == 0:
        return None
    return flags / reads * PER


def fmt_rate(value: float | None) -> str | None:
    return None if value is None else f"{value:,.{RATE_DIGITS}f}"


def fmt_share(value: float | None) -> str | None:
    return None if value is None else f"{value * 100:.{SHARE_DIGITS}f}%"


def fmt_number(value: Any) -> str:
    """A value from the marts or a rule's evidence, readable: whole numbers without decimals, others
    to at most 2 decimals (4 significant digits below 1), texts as they are."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        if abs(value) < 1:
            return f"{value:.4g}"
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


# --- scope and rates ------------------------------------------------------------------------------

def in_scope(df: pl.DataFrame, teams: Sequence[str]) -> pl.DataFrame:
    """Rows of the selected teams (none selected: every team)."""
    return df.filter(pl.col("team").is_in(list(teams))) if teams else df


def computed_months(counts: pl.DataFrame, builds: Sequence[str]) -> set[str]:
    """Months whose flags were computed: a build of marts.reading_flags recorded, or any flag."""
    return set(builds) | set(counts["period"].to_list())


def rule_month_table(counts: pl.DataFrame, reads: pl.DataFrame, month: str) -> pl.DataFrame:
    """One row per rule that fired in `month` (counts and reads already in scope): flags by severity,
    all flags, reads and flags per 1,000 reads; most flags first."""
    month_reads = int(reads.filter(pl.col("period") == month)["reads"].sum())
    rows = counts.filter(pl.col("period") == month)
    out = []
    for rule in rule_order(rows["rule_id"].to_list()):
        r = rows.filter(pl.col("rule_id") == rule)
        by_sev = {s: int(r.filter(pl.col("severity") == s)["flags"].sum()) for s in SEVERITIES}
        total = int(r["flags"].sum())
        out.append({"rule_id": rule, **by_sev, "flags": total, "reads": month_reads,
                    "per_1000": per_1000(total, month_reads)})
    schema = {"rule_id": pl.String, **dict.fromkeys(SEVERITIES, pl.Int64), "flags": pl.Int64, "reads": pl.Int64,
              "per_1000": pl.Float64}
    table = pl.DataFrame(out, schema=schema)
    order = {r: i for i, r in enumerate(rule_order(table["rule_id"].to_list()))}
    return table.sort([pl.col("flags"), pl.col("rule_id").replace_strict(order, return_dtype=pl.Int64)],
                      descending=[True, False])


def rule_trend(counts: pl.DataFrame, reads: pl.DataFrame, computed: set[str],
               rules: Sequence[str]) -> pl.DataFrame:
    """Flags and flags per 1,000 reads per rule and month (in scope). Months not computed: null."""
    months = sorted(set(reads["period"].to_list()) | set(counts["period"].to_list()))
    month_reads = {p: int(n) for p, n in reads.group_by("period").agg(pl.col("reads").sum()).iter_rows()}
    by_cell = {(p, r): int(n) for p, r, n in
               counts.group_by("period", "rule_id").agg(pl.col("flags").sum()).iter_rows()}
    out = []
    for rule in rules:
        for month in months:
            flags = by_cell.get((month, rule), 0) if month in computed else None
            out.append({"period": month, "rule_id": rule, "flags": flags, "reads": month_reads.get(month, 0),
                        "per_1000": per_1000(flags, month_reads.get(month, 0))})
    return pl.DataFrame(out, schema={"period": pl.String, "rule_id": pl.String, "flags": pl.Int64,
                                     "reads": pl.Int64, "per_1000": pl.Float64})


def team_month_matrix(counts: pl.DataFrame, reads: pl.DataFrame, computed: set[str], rule: str | None,
                      ) -> tuple[list[str], list[str], list[list[float | None]], list[list[list[int | None]]]]:
    """(teams, months, per-1,000 rates [team][month], [flags, reads] [team][month]) of warn and fail
    flags (of `rule`, or of every rule) per 1,000 reads. Cells of months not computed, or without
    reads, are None (no colour), never 0."""
    alerts = counts.filter(pl.col("severity").is_in(list(ALERT_SEVERITIES)))
    if rule is not None:
        alerts = alerts.filter(pl.col("rule_id") == rule)
    months = sorted(set(reads["period"].to_list()) | set(counts["period"].to_list()))
    teams = sorted(set(reads["team"].to_list()) | set(counts["team"].to_list()))
    n_reads = {(p, tm): int(n) for p, tm, n in reads.select("period", "team", "reads").iter_rows()}
    n_flags = {(p, tm): int(n) for p, tm, n in
               alerts.group_by("period", "team").agg(pl.col("flags").sum()).iter_rows()}
    z: list[list[float | None]] = []
    custom: list[list[list[int | None]]] = []
    for team in teams:
        z_row: list[float | None] = []
        c_row: list[list[int | None]] = []
        for month in months:
            r = n_reads.get((month, team), 0)
            f = n_flags.get((month, team), 0) if month in computed else None
            z_row.append(per_1000(f, r))
            c_row.append([f, r])
        z.append(z_row)
        custom.append(c_row)
    return teams, months, z, custom


def filter_flags(flags: pl.DataFrame, teams: Sequence[str], rule: str | None, severity: str | None) -> pl.DataFrame:
    out = in_scope(flags, teams)
    if rule is not None:
        out = out.filter(pl.col("rule_id") == rule)
    if severity is not None:
        out = out.filter(pl.col("severity") == severity)
    return out


def listed_meters(flags: pl.DataFrame) -> list[str]:
    """The metering points of a flag list, in list order, each once."""
    return flags["mp_key"].unique(maintain_order=True).to_list()


# --- evidence -------------------------------------------------------------------------------------

def _value_text(key: str, value: Any, personal: frozenset[str]) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value_text(str(k), v, personal)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_value_text(key, v, personal) for v in value) + "]"
    text = fmt_number(value)
    # a rule never needs personal data; should one ever carry a personal column, it leaves masked
    if key in personal and value is not None:
        return mask_text(READINGS_KIND, key, text) or ""
    return text


def evidence_items(text: str | None, personal: frozenset[str] | None = None) -> list[tuple[str, str]]:
    """A flag's evidence (JSON text) as (key, readable value) pairs, in the rule's order. `personal`: the
    readings' personal columns (read from the mapping when not given)."""
    if text is None or not text.strip():
        return []
    try:
        obj = json.loads(text)
    except ValueError:
        return [("", text)]
    if personal is None:
        personal = frozenset(personal_columns(READINGS_KIND))
    if isinstance(obj, dict):
        return [(str(k), _value_text(str(k), v, personal)) for k, v in obj.items()]
    return [("", _value_text("", obj, personal))]


def evidence_text(text: str | None, personal: frozenset[str] | None = None) -> str:
    """The evidence on one line: `key: value · key: value`."""
    return " · ".join(f"{k}: {v}" if k else v for k, v in evidence_items(text, personal))


def evidence_texts(texts: Sequence[str | None]) -> list[str]:
    """`evidence_text` of many flags (a page's flag list), the mapping read once."""
    personal = frozenset(personal_columns(READINGS_KIND))
    return [evidence_text(t, personal) for t in texts]


# --- the meter's history --------------------------------------------------------------------------

def flag_marks(history: pl.DataFrame) -> dict[str, str]:
    """period -> the rule ids that fired on the meter that month (comma-separated, display order)."""
    return {str(p): ", ".join(rule_order(rules)) for p, rules in history.select("period", "rules").iter_rows()
            if rules}


def mask_raw_row(row: pl.DataFrame) -> pl.DataFrame:
    """A raw.readings row with its personal columns (per the readings mapping) masked."""
    personal = [c for c in personal_columns(READINGS_KIND) if c in row.columns]
    if not personal:
        return row
    return row.with_columns(
        mask_column(READINGS_KIND, c, pl.col(c).cast(pl.String)).alias(c) for c in personal
    )


LINEAGE_COLUMNS = ("delivery_id", "sheet", "source_row", "extras")


def raw_row_items(row: pl.DataFrame, headers: dict[str, str]) -> tuple[list[tuple[str, str, str | None]], list[str]]:
    """((column, export header, masked value) of the delivered columns, unmapped column names) of one
    raw.readings row. Unmapped columns (raw.extras) are named only: whether they hold personal data
    is unknown, so their values never leave the warehouse view."""
    masked = mask_raw_row(row)
    items: list[tuple[str, str, str | None]] = []
    record = masked.row(0, named=True)
    for column, value in record.items():
        if column in LINEAGE_COLUMNS:
            continue
        items.append((column, headers.get(column, ""), None if value is None else str(value)))
    extras: list[str] = []
    raw_extras = record.get("extras")
    if raw_extras:
        try:
            obj = json.loads(raw_extras) if isinstance(raw_extras, str) else raw_extras
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            extras = [str(k) for k in obj]
    return items, extras


# --- figures --------------------------------------------------------------------------------------

SEVERITY_COLOURS = {"fail": "#d62728", "warn": "#ff7f0e", "info": "#7f7f7f"}
_MARGIN = {"l": 10, "r": 10, "t": 50, "b": 10}


def _month_axis(fig: go.Figure, months: Sequence[str], title: str) -> None:
    step = max(1, -(-len(months) // 12))
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=list(months), title=title,
                     tickangle=-45, tickmode="array", tickvals=list(months)[::step], automargin=True)


def rule_bars(table: pl.DataFrame, *, rule_label: Label, severity_label: Label, title: str, x_title: str,
              ) -> go.Figure:
    """Horizontal bars of flags per 1,000 reads by rule (most flags on top), stacked by severity;
    counts in the hover."""
    rules = table["rule_id"].to_list()
    reads = table["reads"].to_list()
    labels = [f"{rule_label(r)} [{r}]" for r in rules]
    fig = go.Figure()
    for sev in SEVERITIES:
        counts = table[sev].to_list()
        if not any(counts):
            continue
        fig.add_trace(go.Bar(
            x=[per_1000(c, n) for c, n in zip(counts, reads, strict=True)],
            y=labels,
            orientation="h",
            name=severity_label(sev),
            marker={"color": SEVERITY_COLOURS[sev]},
            customdata=[[c, n] for c, n in zip(counts, reads, strict=True)],
            hovertemplate=(f"%{{y}} · {severity_label(sev)}: %{{x:.{RATE_DIGITS}f}} ‰"
                           "<br>%{customdata[0]:,d} / %{customdata[1]:,d}<extra></extra>"),
        ))
    fig.update_layout(title=title, barmode="stack", height=max(260, 80 + 30 * len(rules)), margin=_MARGIN,
                      legend={"orientation": "h", "y": -0.2})
    fig.update_yaxes(autorange="reversed", automargin=True, type="category")
    fig.update_xaxes(title=x_title, rangemode="tozero")
    return fig


def rule_lines(trend: pl.DataFrame, *, rule_label: Label, title: str, x_title: str, y_title: str) -> go.Figure:
    """One line per rule of flags per 1,000 reads by month; months not computed leave gaps."""
    months = sorted(set(trend["period"].to_list()))
    fig = go.Figure()
    for rule in rule_order(trend["rule_id"].to_list()):
        rows = trend.filter(pl.col("rule_id") == rule).sort("period")
        name = f"{rule_label(rule)} [{rule}]"
        fig.add_trace(go.Scatter(
            x=rows["period"].to_list(),
            y=rows["per_1000"].to_list(),
            mode="lines+markers",
            name=name,
            connectgaps=False,
            customdata=[[f, n] for f, n in rows.select("flags", "reads").iter_rows()],
            hovertemplate=(f"{name}: %{{y:.{RATE_DIGITS}f}} ‰ (%{{customdata[0]:,d}} / %{{customdata[1]:,d}})"
                           "<extra></extra>"),
        ))
    fig.update_layout(title=title, height=440, margin=_MARGIN, legend={"orientation": "h", "y": -0.3},
                      hovermode="x unified")
    _month_axis(fig, months, x_title)
    fig.update_yaxes(title=y_title, rangemode="tozero")
    return fig


def team_heatmap(teams: list[str], months: list[str], z: list[list[float | None]],
                 custom: list[list[list[int | None]]], *, title: str, x_title: str, hover: str) -> go.Figure:
    """Team × month heatmap of flags per 1,000 reads; `hover` is a template over %{y} (team), %{x}
    (month), %{z} (rate), %{customdata[0]} (flags) and %{customdata[1]} (reads)."""
    fig = go.Figure(go.Heatmap(
        x=months, y=teams, z=z, customdata=custom, colorscale="Reds", hoverongaps=False,
        hovertemplate=hover + "<extra></extra>", colorbar={"title": {"text": "‰"}},
    ))
    # grey behind the cells: a month without a rate reads as "no data", a rate of 0 as white
    fig.update_layout(title=title, height=max(260, 120 + 36 * len(teams)), margin=_MARGIN,
                      plot_bgcolor="#e5e5e5")
    _month_axis(fig, months, x_title)
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    return fig


def meter_history(history: pl.DataFrame, marks: dict[str, str], month: str, *, names: dict[str, str],
                  title: str, x_title: str, y_title: str) -> go.Figure:
    """Use (kWh) by month with the expected use, the band [band_low, band_high] shaded, the months
    with flags marked (hover: rule ids) and the chosen month outlined. `names` holds the trace names
    "use", "expected", "band" and "flags"."""
    months = history["period"].to_list()
    use = history["use_kwh"].to_list()
    expected = history["expected_kwh"].to_list()
    low, high = history["band_low"].to_list(), history["band_high"].to_list()
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=months, y=low, mode="lines", line={"width": 0}, showlegend=False,
                             connectgaps=False, hoverinfo="skip", name=names["band"] + " low"))
    fig.add_trace(go.Scatter(x=months, y=high, mode="lines", line={"width": 0}, fill="tonexty",
                             fillcolor="rgba(31, 119, 180, 0.18)", connectgaps=False, name=names["band"],
                             customdata=low,
                             hovertemplate=f"{names['band']}: %{{customdata:.1f}} – %{{y:.1f}}<extra></extra>"))
    fig.add_trace(go.Scatter(x=months, y=expected, mode="lines", name=names["expected"], connectgaps=False,
                             line={"dash": "dash", "color": "#1f77b4"},
                             hovertemplate=f"{names['expected']}: %{{y:.1f}}<extra></extra>"))
    fig.add_trace(go.Scatter(x=months, y=use, mode="lines+markers", name=names["use"], connectgaps=False,
                             line={"color": "#2ca02c"},
                             hovertemplate=f"{names['use']}: %{{y:.1f}}<extra></extra>"))
    by_month = dict(zip(months, zip(use, expected, strict=True), strict=True))
    flagged = [m for m in marks if m in by_month]
    if flagged:
        def y_of(m: str) -> float:
            u, e = by_month[m]
            return u if u is not None else (e if e is not None else 0.0)

        fig.add_trace(go.Scatter(
            x=flagged, y=[y_of(m) for m in flagged], mode="markers", name=names["flags"],
            marker={"symbol": "x", "size": 13, "color": "#d62728", "line": {"width": 1}},
            customdata=[marks[m] for m in flagged],
            hovertemplate=f"{names['flags']}: %{{customdata}}<extra></extra>",
        ))
    if month in by_month:
        fig.add_shape(type="line", xref="x", yref="paper", x0=month, x1=month, y0=0, y1=1,
                      line={"color": "#7f7f7f", "dash": "dot", "width": 1})
    fig.update_layout(title=title, height=420, margin=_MARGIN, legend={"orientation": "h", "y": -0.3},
                      hovermode="x unified")
    _month_axis(fig, months, x_title)
    fig.update_yaxes(title=y_title)
    return fig


# --- text -----------------------------------------------------------------------------------------

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>#|~$"})


def md_escape(text: str) -> str:
    """A data value (team, file name, meter) safe inside Markdown: no links, emphasis, colour or math."""
    return text.translate(_MD_SPECIAL)
