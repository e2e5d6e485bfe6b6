"""Export mess: title lines, empty and totals rows, badly written values in the 抄表明细 files.

Real exports are messy (product brief §3). `Mess.apply` takes one reading file's clean frame
(canonical columns, string values, one row per reading) and returns it as config/demo.toml
[mess] says the file is written: the data rows (a duplicated row appears twice), the lines
above the header (CSV), the rows below the data, and one ground-truth row per change
(problem EXPORT_*, `file`, `source_row` = the 1-based line/row of that file the pipeline
reports). A changed row is still the reading of its customer: only a copy of one value is
written badly. Each file draws from its own random stream (seed, month, team), so nothing else
in the centre shifts when these numbers change.

Truth values of an EXPORT_* row: `true_this_read` / `true_kwh` hold the values the billing
system has (the clean export); `reported_this_read` / `reported_kwh` what the pipeline loads for
that reading: the same values, or null where the reading's row is quarantined (a duplicated
reading still loads from the first of its two rows).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from checks.mappings import code_tables
from checks.values import MISSING_MARKERS
from readq.demo.settings import EXPORT_QUARANTINED, Codes, rng_for

_S_MESS = 400

# Row-level kinds and their [mess] rates, in the order of the per-row categorical draw (one per row at most).
RATE_KEYS: dict[str, str] = {
    "EXPORT_BLANK_REGISTER": "blank_register_rate", "EXPORT_BAD_NUMBER": "bad_number_rate",
    "EXPORT_UNKNOWN_STATUS": "unknown_status_rate", "EXPORT_DUPLICATE_ROW": "duplicate_rate",
    "EXPORT_FULLWIDTH_DIGITS": "fullwidth_rate", "EXPORT_THOUSANDS_SEPARATOR": "thousands_rate",
    "EXPORT_DATE_FORMAT": "date_format_rate",
}
ROW_KINDS: tuple[str, ...] = tuple(RATE_KEYS)   # the order of the draw: keep it, or every demo file changes
LOST: tuple[str, ...] = EXPORT_QUARANTINED      # the reading's row is quarantined
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
IDENT = ["period", "team", "reader", "segment_no", "customer_no", "meter_no", "read_mode"]
TRUTH_SCHEMA: dict[str, pl.DataType] = {
    **{c: pl.String() for c in IDENT}, "event_id": pl.Int64(), "problem": pl.String(), "detail": pl.String(),
    "true_this_read": pl.Float64(), "reported_this_read": pl.Float64(), "true_kwh": pl.Float64(),
    "reported_kwh": pl.Float64(), "file": pl.String(), "source_row": pl.Int64(),
}


@dataclass
class FileMess:
    frame: pl.DataFrame                 # the data rows as written
    prefix: list[str]                   # lines above the header (CSV only)
    tail: list[dict[str, str]]          # rows below the data: {} = an empty row; the totals row
    truth: pl.DataFrame                 # TRUTH_SCHEMA


class _Truth:
    def __init__(self, file: str, period: str, team: str):
        self.file, self.period, self.team = file, period, team
        self.parts: list[pl.DataFrame] = []

    def rows(self, problem: str, ident: pl.DataFrame, lines: np.ndarray, detail: list[str],
             true_this: pl.Series, reported_this: pl.Series, true_kwh: pl.Series, reported_kwh: pl.Series) -> None:
        n = len(lines)
        if n == 0:
            return
        self.parts.append(ident.select(IDENT).with_columns(
            event_id=pl.lit(None, pl.Int64), problem=pl.lit(problem), detail=pl.Series(detail, dtype=pl.String),
            true_this_read=true_this, reported_this_read=reported_this, true_kwh=true_kwh,
            reported_kwh=reported_kwh, file=pl.lit(self.file), source_row=pl.Series(lines, dtype=pl.Int64)))

    def file_row(self, problem: str, line: int, detail: str, kwh: float | None = None) -> None:
        row = {c: None for c in TRUTH_SCHEMA} | {"period": self.period, "team": self.team, "problem": problem,
                                                 "detail": detail, "file": self.file, "source_row": line,
                                                 "true_kwh": kwh, "reported_kwh": kwh}
        self.parts.append(pl.DataFrame([row], schema=TRUTH_SCHEMA))

    def frame(self) -> pl.DataFrame:
        if not self.parts:
            return pl.DataFrame(schema=TRUTH_SCHEMA)
        return pl.concat([p.cast(TRUTH_SCHEMA) for p in self.parts], how="vertical").sort("source_row")


def _pick(rng: np.random.Generator, values: list[Any], n: int) -> list[Any]:
    return [values[i] for i in rng.integers(0, len(values), size=n)]


class Mess:
    def __init__(self, cfg: dict[str, Any], codes: Codes, seed: int, created: dt.datetime):
        self.cfg, self.seed, self.ctr = cfg["mess"], seed, cfg["centre"]
        mc = self.cfg
        self.rates = np.array([float(mc[RATE_KEYS[k]]) for k in ROW_KINDS])
        self.read_word = codes.word("read_status", "READ")
        self.date = created.date().isoformat()
        known = code_tables()["read_status"]
        clash = [w for w in mc["unknown_status_words"] if w in known]
        if clash:
            raise ValueError(f"config/demo.toml: mess.unknown_status_words {clash} are in the read_status code table")
        not_missing = [w for w in mc["blank_register_markers"] if w.strip() not in MISSING_MARKERS]
        if not_missing:
            raise ValueError(f"config/demo.toml: mess.blank_register_markers {not_missing} do not mean 'missing'")

    # -- one file ---------------------------------------------------------------------------------
    def apply(self, frame: pl.DataFrame, ident: pl.DataFrame, kwh_units: np.ndarray, dec: np.ndarray, *,
              fmt: str, file: str, first_column: str, period: str, team: str, t: int, team_k: int) -> FileMess:
        mc = self.cfg
        rng = rng_for(self.seed, _S_MESS, t, team_k)
        n = frame.height
        truth = _Truth(file, period, team)

        # file level (a fixed number of draws, so the row draws below do not depend on them)
        u = rng.random(4)
        n_blank_draw = int(rng.integers(mc["blank_rows"][0], mc["blank_rows"][1] + 1))
        title = fmt != "xlsx" and u[0] < mc["title_share"]
        totals = n > 0 and u[2] < mc["totals_share"]            # an empty file gets no rows below it
        n_blank = n_blank_draw if n > 0 and u[3] < mc["blank_share"] and (fmt != "xlsx" or totals) else 0
        prefix: list[str] = []
        if title:
            words = {"station": self.ctr["station"], "org_code": self.ctr["org_code"], "team": team,
                     "period": period, "date": self.date}
            prefix.append(mc["title"].format(**words))
            if u[1] < mc["export_time_share"]:
                prefix.append(mc["export_time"].format(**words))
            prefix += [""] * int(mc["title_blank_lines"])
        for i, line in enumerate(prefix):
            truth.file_row("EXPORT_TITLE_ROW", i + 1, f"line above the header: {line!r}")
        header_line = len(prefix) + 1

        # row level: one categorical draw per row, applied where the row can carry it
        kind = np.searchsorted(np.cumsum(self.rates), rng.random(n), side="right")
        clean_this = frame["this_read"].cast(pl.Float64)
        clean_kwh = frame["kwh"].cast(pl.Float64)
        eligible = {
            "EXPORT_BLANK_REGISTER": (frame["read_status"] == self.read_word).fill_null(False).to_numpy(),
            "EXPORT_THOUSANDS_SEPARATOR": pl.select(pl.any_horizontal(
                [frame[c].str.contains(r"^-?\d{4}").fill_null(False) for c in mc["thousands_columns"]])
            ).to_series().to_numpy(),
            "EXPORT_DATE_FORMAT": frame["read_date"].is_not_null().to_numpy(),
        }
        hits = {k: np.flatnonzero((kind == i) & eligible.get(k, True)) for i, k in enumerate(ROW_KINDS)}
        cols = {c: frame[c] for c in ("last_read", "this_read", "kwh", "read_status", "read_date")}
        lost = np.concatenate([hits[k] for k in LOST])
        reported_this = clean_this.clone().scatter(lost, None)
        reported_kwh = clean_kwh.clone().scatter(lost, None)
        details: dict[str, list[str]] = {}

        pos = hits["EXPORT_BLANK_REGISTER"]
        details["EXPORT_BLANK_REGISTER"] = _overwrite(cols, "this_read", pos,
                                                      _pick(rng, mc["blank_register_markers"], len(pos)))

        pos = hits["EXPORT_BAD_NUMBER"]
        which = _pick(rng, mc["bad_number_columns"], len(pos))
        u_kind, u_where = rng.random(len(pos)), rng.random(len(pos))
        details["EXPORT_BAD_NUMBER"] = []
        for j, (p, col) in enumerate(zip(pos, which, strict=True)):
            value = cols[col][int(p)]
            broken = self._bad_number(value, u_kind[j], u_where[j])
            cols[col] = cols[col].scatter(int(p), broken)
            details["EXPORT_BAD_NUMBER"].append(f"{col} written as {broken!r} (billing value {value})")

        pos = hits["EXPORT_UNKNOWN_STATUS"]
        details["EXPORT_UNKNOWN_STATUS"] = _overwrite(cols, "read_status", pos,
                                                      _pick(rng, mc["unknown_status_words"], len(pos)))

        pos = hits["EXPORT_FULLWIDTH_DIGITS"]
        details["EXPORT_FULLWIDTH_DIGITS"] = ["last_read and this_read in full-width digits"] * len(pos)
        for c in ("last_read", "this_read"):
            cols[c] = cols[c].scatter(pos, [v.translate(_FULLWIDTH) for v in cols[c].gather(pos)])

        pos = hits["EXPORT_THOUSANDS_SEPARATOR"]
        changed: list[list[str]] = [[] for _ in pos]
        for c in mc["thousands_columns"]:
            old = cols[c].gather(pos).to_list()
            new = [_thousands(v) for v in old]
            for j, (a, b) in enumerate(zip(old, new, strict=True)):
                if a != b:
                    changed[j].append(f"{c} {b}")
            cols[c] = cols[c].scatter(pos, new)
        details["EXPORT_THOUSANDS_SEPARATOR"] = ["written with thousands separators: " + ", ".join(ch)
                                                 for ch in changed]

        pos = hits["EXPORT_DATE_FORMAT"]
        formats = _pick(rng, mc["date_formats"], len(pos))
        old_dates = cols["read_date"].gather(pos)
        days = old_dates.str.to_date("%Y-%m-%d")
        new_dates = old_dates.clone()
        for f in mc["date_formats"]:
            which_f = np.flatnonzero(np.asarray([g == f for g in formats], dtype=bool))
            new_dates = new_dates.scatter(which_f, days.gather(which_f).dt.strftime(f))
        details["EXPORT_DATE_FORMAT"] = [f"read_date written as {b!r} ({a})"
                                         for a, b in zip(old_dates, new_dates, strict=True)]
        cols["read_date"] = cols["read_date"].scatter(pos, new_dates)

        messed = frame.with_columns(**cols)

        # duplicates: the exact copy right below the (otherwise clean) row
        dup = hits["EXPORT_DUPLICATE_ROW"]
        order = np.sort(np.concatenate([np.arange(n), dup]), kind="stable")
        messed = messed[order]
        line_of = header_line + 1 + np.arange(n) + np.searchsorted(dup, np.arange(n), side="left")
        details["EXPORT_DUPLICATE_ROW"] = [f"exact copy of line {line_of[p]}" for p in dup]
        n_rows = len(order)

        for k in ROW_KINDS:
            pos = hits[k]
            lines = line_of[pos] + (1 if k == "EXPORT_DUPLICATE_ROW" else 0)
            truth.rows(k, ident[pos], lines, details[k], clean_this.gather(pos), reported_this.gather(pos),
                       clean_kwh.gather(pos), reported_kwh.gather(pos))

        # rows below the data: empty rows, then the totals row
        tail: list[dict[str, str]] = [{} for _ in range(n_blank)]
        last = header_line + n_rows
        for i in range(n_blank):
            truth.file_row("EXPORT_BLANK_ROW", last + 1 + i, "empty row below the data")
        if totals:
            units, d = kwh_units[order].astype(np.int64), dec[order].astype(np.int64)
            top = int(d.max()) if len(d) else 0
            total_units = int((units * 10 ** (top - d)).sum())
            total = f"{total_units // 10 ** top}.{total_units % 10 ** top:0{top}d}" if top else str(total_units)
            tail.append({first_column: mc["totals_word"], "kwh": total})
            truth.file_row("EXPORT_TOTALS_ROW", last + n_blank + 1, f"{mc['totals_word']} row, kwh {total}",
                           float(total))
        return FileMess(messed, prefix, tail, truth.frame())

    def _bad_number(self, value: str, u_kind: float, u_where: float) -> str:
        """A copy of `value` that no number parser reads: a look-alike letter or a second point."""
        look = self.cfg["lookalikes"]
        spots = [i for i, ch in enumerate(value) if ch in look]
        if spots and u_kind >= self.cfg["double_point_share"]:
            i = spots[int(u_where * len(spots))]
            return value[:i] + look[value[i]] + value[i + 1:]
        whole = value.split(".")[0]
        i = 1 + int(u_where * max(len(whole) - 1, 1))
        broken = value[:i] + "." + value[i:]
        return broken if broken.count(".") >= 2 else broken + ".0"


def _thousands(value: str | None) -> str | None:
    if value is None:
        return None
    sign = "-" if value.startswith("-") else ""
    whole, _, frac = value.lstrip("-").partition(".")
    if len(whole) < 4 or not whole.isdigit():
        return value
    return f"{sign}{int(whole):,}" + (f".{frac}" if frac else "")


__all__ = ["RATE_KEYS", "ROW_KINDS", "FileMess", "Mess"]


def _overwrite(cols: dict[str, pl.Series], col: str, pos: np.ndarray, words: list[str]) -> list[str]:
    """Write `words` into column `col` at `pos`; the truth details say what was there."""
    details = [f"{col} written as {w!r} (billing value {v})" for w, v in zip(words, cols[col].gather(pos), strict=True)]
    cols[col] = cols[col].scatter(pos, words)
    return details
