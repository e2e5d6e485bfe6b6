"""The 差错统计表 in the seed's shape (config/errors.toml [table]): its columns, its 合计 row, its notes and
its worksheet — one sheet with a title row, two header rows (each error type over its 户数 and 电量, the
rate blocks over their numerator and denominator), a row per team / reader / segment, the 合计 row (the
sum of the rows; its rates recomputed from those sums) and notes. Written by `readq errors`, the Errors
page's download and the monthly report (docs/errors.md).

Personal data: reader names are masked by default (the name style of config/readq.toml [privacy]);
the rows a clerk's or the system's errors are listed under, and '(未指定)', are labels and stay as they
are. Every text cell goes through checks.exports (no cell runs as a formula).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.reports.workbook import write_cell
from pipelines.reports.workbook import write_workbook as write_sheets
from readq.config import load_toml

if TYPE_CHECKING:
    import polars as pl

TABLES = {"team": "error_stats_month", "reader": "error_stats_reader_month", "segment": "error_stats_segment_month"}
KEYS = {"team": ["team"], "reader": ["team", "reader"], "segment": ["team", "segment_no"]}
RATES = {  # rate column -> (numerator, denominator, factor): how the 合计 row recomputes it
    "error_rate": ("customers_with_error", "customers_read", 1.0),
    "errors_per_10k": ("customers_with_error", "customers_read", 10_000.0),
    "error_rate_meter": ("meters_with_error", "meters_due", 1.0),
    "error_rate_kwh": ("kwh_error", "kwh_due", 1.0),
}
NUMBER_FORMATS = {"count": "#,##0", "kwh": "#,##0.00", "percent": "0.000%", "decimal": "0.00", "text": "@"}

@dataclass(frozen=True)
class Column:
    """One column of the exported table: the mart column, its header cells and its number format."""

    name: str
    header: str                 # the lower header cell (or the only one)
    group: str | None = None    # the cell above it, shared with its neighbours of the same group
    format: str = "count"       # a key of NUMBER_FORMATS


def error_config() -> dict[str, Any]:
    return load_toml("errors.toml")


def _format_of(name: str, declared: str | None) -> str:
    if declared:
        return declared
    if name in ("team", "reader", "segment_no", "null_reason"):
        return "text"
    return "kwh" if name.endswith("_kwh") or name.startswith("kwh_") else "count"


def layout(by: str, lang: str = "zh") -> list[Column]:
    """The table's columns left to right, as config/errors.toml [table] lists them for `by`."""
    cfg = error_config()
    table = cfg["table"]
    headers = table["headers"]
    out: list[Column] = []
    for entry in table["columns"]:
        if entry == "@key":
            out += [Column(k, headers[k][lang], format="text") for k in KEYS[by]]
        elif entry == "@types":
            for t in cfg["types"]:
                code = t["code"].lower()
                out.append(Column(f"{code}_customers", table["type_customers"][lang], t[lang], "count"))
                out.append(Column(f"{code}_kwh", table["type_kwh"][lang], t[lang], "kwh"))
        else:
            h = headers[entry]
            out.append(Column(entry, h[lang], h.get("group"), _format_of(entry, h.get("format"))))
    return out


def labels() -> set[str]:
    """Row names that are labels, not people: the clerk's and the system's rows, '(未指定)'."""
    cfg = error_config()
    return {p["row"] for p in cfg["parties"] if p["row"]} | {cfg["unattributed"]}


def mask_readers(frame: pl.DataFrame, columns: tuple[str, ...] = ("reader",)) -> pl.DataFrame:
    """`frame` with the reader names of `columns` masked (the name style of [privacy]); labels left as
    they are."""
    import polars as pl

    from checks.masking import STYLES

    keep = sorted(labels())
    return frame.with_columns(pl.when(pl.col(c).is_in(keep)).then(pl.col(c)).otherwise(STYLES["name"](pl.col(c)))
                              .alias(c) for c in columns if c in frame.columns)


def read_table(conn: Any, period: str, by: str) -> pl.DataFrame:
    """The month's rows of the mart behind `by`, in key order."""
    keys = ", ".join(KEYS[by])
    return conn.sql(f"select * from marts.{TABLES[by]} where period = ? order by {keys}", params=[period]).pl()


def _sum(column: pl.Series) -> float | int | None:
    """The sum of a column's values; null when every value is null (no data is not 0)."""
    return None if column.null_count() == column.len() else column.sum()


def total_row(frame: pl.DataFrame, columns: list[Column], name: str) -> dict[str, object]:
    """The 合计 row: every count and kWh summed over the rows, the rates recomputed from those sums."""
    row: dict[str, object] = {}
    for c in columns:
        if c.format == "text":
            row[c.name] = None
        elif c.name not in RATES:
            row[c.name] = _sum(frame[c.name])
    for rate, (numerator, denominator, factor) in RATES.items():
        top, bottom = _sum(frame[numerator]), _sum(frame[denominator])
        row[rate] = None if top is None or not bottom else factor * top / bottom
    row[columns[0].name] = name
    return row


def notes(frame: pl.DataFrame, *, masked: bool) -> list[str]:
    """The lines under the table: definitions, why cells are empty, masking, the config version."""
    cfg = error_config()
    text = cfg["table"]["notes"]
    lines = list(text["always"])
    for code in sorted({r for r in frame["null_reason"].to_list() if r}):
        lines.append(f"{text['empty']}{cfg['reasons'][code]['zh']}")
    if masked:
        lines.append(text["masked"])
    versions = sorted({v for v in frame["config_version"].to_list() if v})
    if versions:
        lines.append(f"{text['config_version']}{', '.join(versions)}")
    return lines


@dataclass(frozen=True)
class ErrorSheet:
    """The 差错统计表 of `frame` as one worksheet of a workbook (pipelines.reports.workbook.write_workbook)."""

    frame: pl.DataFrame
    period: str
    by: str
    masked: bool = True

    def write(self, book: Any) -> int:
        return write_error_sheet(book, self.frame, period=self.period, by=self.by, masked=self.masked)


def write_workbook(frame: pl.DataFrame, path: Path, *, period: str, by: str, masked: bool = True) -> int:
    """Write the 差错统计表 of `frame` (rows of the mart behind `by`) to `path`; the data rows written."""
    return write_sheets(path, [ErrorSheet(frame, period, by, masked)])


def write_error_sheet(book: Any, frame: pl.DataFrame, *, period: str, by: str, masked: bool = True) -> int:
    """Add the 差错统计表 of `frame` to the xlsxwriter `book`; the data rows written."""
    import polars as pl

    from checks.exports import neutralise_formulas

    cfg = error_config()
    table = cfg["table"]
    columns = layout(by)
    shown = mask_readers(frame) if masked else frame
    reasons = {code: r["zh"] for code, r in cfg["reasons"].items()}
    shown = shown.with_columns(pl.col("null_reason").replace_strict(reasons, default=None, return_dtype=pl.String))
    body = neutralise_formulas(shown.select([c.name for c in columns]))
    total = total_row(frame, columns, table["total_row"]["zh"])

    sheet = book.add_worksheet(table["sheet"])
    title = book.add_format({"bold": True, "font_size": 14, "align": "center"})
    head = book.add_format({"bold": True, "align": "center", "valign": "vcenter", "border": 1,
                            "text_wrap": True, "bg_color": "#DDEBF7"})
    cell = {k: book.add_format({"num_format": f, "border": 1}) for k, f in NUMBER_FORMATS.items()}
    bold = {k: book.add_format({"num_format": f, "border": 1, "bold": True}) for k, f in NUMBER_FORMATS.items()}
    last = len(columns) - 1
    sheet.merge_range(0, 0, 0, last, f"{table['title']['zh']}（{period}，{table['by'][by]}）", title)
    i = 0
    while i < len(columns):  # header rows 1 and 2: a group over its run of columns, else one tall cell
        group = columns[i].group
        j = i
        while group is not None and j + 1 < len(columns) and columns[j + 1].group == group:
            j += 1
        if group is None:
            sheet.merge_range(1, i, 2, i, columns[i].header, head)
        else:
            if j > i:
                sheet.merge_range(1, i, 1, j, group, head)
            else:
                sheet.write_string(1, i, group, head)
            for k in range(i, j + 1):
                sheet.write_string(2, k, columns[k].header, head)
        i = j + 1
    for r, values in enumerate(body.iter_rows(), start=3):
        for k, (c, value) in enumerate(zip(columns, values, strict=True)):
            write_cell(sheet, r, k, value, cell[c.format])
    r = 3 + body.height
    for k, c in enumerate(columns):
        write_cell(sheet, r, k, total[c.name], bold[c.format])
    for n, line in enumerate(notes(frame, masked=masked), start=r + 2):
        sheet.write_string(n, 0, line)
    for k, c in enumerate(columns):
        sheet.set_column(k, k, 16 if c.format == "text" else 11)
    sheet.freeze_panes(3, len(KEYS[by]))
    return body.height
