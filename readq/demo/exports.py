"""Writing the demo centre's exports the way the marketing system delivers them.

Frames are built with canonical column names and string values, then renamed to the first
header alias of `config/mappings/<kind>.toml` (in that file's column order) and written as
GBK CSV, UTF-8-with-BOM CSV or XLSX. Register values are written with the register's
decimals (`12345.67`); XLSX files get numeric cells for the mapping's int/float columns (text
cells for values that are no number as written). The 抄表明细 files are messed up first as
[mess] says (readq.demo.mess): title lines, empty and totals rows, badly written values.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import xlsxwriter

from checks.mappings import load_mapping
from readq.demo.behaviour import ANOMALY_TYPES, MeterState, Month
from readq.demo.centre import Centre, meter_numbers
from readq.demo.mess import Mess
from readq.demo.settings import (
    CLASSES,
    READ_MODES,
    READ_STATUS,
    Codes,
    month_index,
    month_name,
)

UTF8_BOM = b"\xef\xbb\xbf"


def fmt_units(units: np.ndarray, dec: np.ndarray) -> pl.Series:
    """Integer register units (10^-dec) -> '12345.67' (no decimal point when dec = 0)."""
    scale = (10 ** dec.astype(np.int64)).astype(np.int64)
    df = pl.DataFrame({"w": units // scale, "f": units % scale, "d": dec.astype(np.int64)})
    return df.select(
        pl.when(pl.col("d") > 0)
        .then(pl.concat_str(pl.col("w").cast(pl.String), pl.lit("."),
                            pl.col("f").cast(pl.String).str.zfill(pl.col("d").cast(pl.UInt64))))
        .otherwise(pl.col("w").cast(pl.String))
    ).to_series()


def fmt_datetime(ts: np.ndarray, fmt: str) -> pl.Series:
    return pl.Series(ts.astype("datetime64[ms]")).dt.strftime(fmt)


def _text_cells(text: pl.DataFrame, numeric: pl.DataFrame, cols: list[str]) -> dict[int, dict[int, str]]:
    """{sheet row: {column index: text}} for values of numeric columns that are no number as written
    (full-width digits, thousands separators, '--', typing errors): those become text cells."""
    if text.width == 0:
        return {}
    unread = [(text[c].is_not_null() & (text[c] != "") & numeric[c].is_null()).alias(c) for c in text.columns]
    flags = text.select(unread)
    rows = np.flatnonzero(flags.select(pl.any_horizontal(pl.all())).to_series().to_numpy())
    out: dict[int, dict[int, str]] = {}
    for r in rows:
        out[int(r) + 1] = {cols.index(c): text[c][int(r)] for c in text.columns if flags[c][int(r)]}
    return out


def _const(value: str, n: int) -> pl.Series:
    return pl.Series([value], dtype=pl.String).gather(np.zeros(n, dtype=np.int64))


def _words(words: list[str], idx: np.ndarray) -> pl.Series:
    return pl.Series(words, dtype=pl.String).gather(np.asarray(idx, dtype=np.int64))


class Exporter:
    def __init__(self, c: Centre, cfg: dict[str, Any], codes: Codes, landing: Path, created: dt.datetime,
                 seed: int):
        self.c, self.cfg, self.codes, self.landing, self.created = c, cfg, codes, landing, created
        self.mess = Mess(cfg, codes, seed, created)
        self.mess_truth: list[pl.DataFrame] = []        # EXPORT_* truth rows of the files written so far
        self.ex = cfg["export"]
        self.mappings = {k: load_mapping(k) for k in
                         ("readings", "review_findings", "field_anomalies", "assignments", "customers")}
        self.class_words = codes.words_for("customer_class", CLASSES)
        self.status_words = codes.words_for("read_status", READ_STATUS)
        self.mode_words = codes.words_for("read_mode", READ_MODES)
        self.seg_mode_words = codes.words_for("segment_read_mode", ("MANUAL", "REMOTE"))
        self.anomaly_words = [cfg["centre"]["no_anomaly"], *codes.words_for("field_anomaly_type", ANOMALY_TYPES)]
        self.team_s = pl.Series(c.team_names, dtype=pl.String)
        self.reader_s = pl.Series(c.reader_names, dtype=pl.String)

    # -- generic writer -------------------------------------------------------------------
    def columns(self, kind: str, frame: pl.DataFrame, omit: tuple[str, ...] | list[str] = ()) -> list[str]:
        """The frame's columns as the file holds them (the mapping's order, without `omit`)."""
        mapping = self.mappings[kind]
        missing = [name for name in frame.columns if name not in mapping.columns]
        if missing:
            raise ValueError(f"{kind}: columns {missing} are not in mappings/{kind}.toml")
        return [name for name in mapping.columns if name in frame.columns and name not in omit]

    def write(self, kind: str, frame: pl.DataFrame, stem: str, fmt: str, *, sheet: str = "Sheet1",
              omit: tuple[str, ...] | list[str] = (), prefix: list[str] | tuple[str, ...] = (),
              tail: list[dict[str, str]] | tuple[dict[str, str], ...] = ()) -> Path:
        """Write `frame`; `prefix` = lines above the header (CSV), `tail` = rows below the data
        (canonical column -> text; {} = an empty row)."""
        mapping = self.mappings[kind]
        cols = self.columns(kind, frame, omit)
        out = frame.select(cols)
        if tail:
            out = pl.concat([out, pl.DataFrame([{c: row.get(c) for c in cols} for row in tail],
                                               schema=dict.fromkeys(cols, pl.String))], how="vertical")
        header = {n: mapping.columns[n].header_zh for n in cols}
        if fmt == "xlsx":
            if prefix:
                raise ValueError("XLSX files get no lines above the header")
            numeric = [n for n in cols if mapping.columns[n].type in ("int", "float")]
            text = out.select(numeric)
            out = out.with_columns(pl.col(numeric).cast(pl.Float64, strict=False))
            path = self.landing / f"{stem}.xlsx"
            self._write_xlsx(out.rename(header), path, sheet, _text_cells(text, out, cols))
            return path
        term = self.ex["line_terminator"]
        text = "".join(line + term for line in prefix) + out.rename(header).write_csv(line_terminator=term)
        data = text.encode("gbk") if fmt == "csv_gbk" else UTF8_BOM + text.encode("utf-8")
        path = self.landing / f"{stem}.csv"
        path.write_bytes(data)
        return path

    def _write_xlsx(self, frame: pl.DataFrame, path: Path, sheet: str,
                    text_cells: dict[int, dict[int, str]] | None = None) -> None:
        wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                             "strings_to_formulas": False, "strings_to_urls": False})
        wb.set_properties({"created": self.created})
        ws = wb.add_worksheet(sheet)
        ws.write_row(0, 0, frame.columns)
        write_row = ws.write_row
        fix = text_cells or {}
        for r, row in enumerate(frame.iter_rows(), start=1):
            cells = fix.get(r)
            if cells:
                row = tuple(cells.get(i, v) for i, v in enumerate(row))
            write_row(r, 0, row)
        wb.close()

    # -- per-month keys -------------------------------------------------------------------
    def keys(self, m: Month) -> pl.DataFrame:
        """Identity of every reading row of the month (shared by readings, truth, findings)."""
        c = self.c
        cust = c.mp_cust[m.rows]
        return pl.DataFrame({
            "period": _const(m.period, len(m.rows)),
            "team": self.team_s.gather(c.seg_team[m.seg]),
            "reader": self.reader_s.gather(m.reader),
            "segment_no": c.seg_no.gather(m.seg),
            "customer_no": c.cust_no.gather(cust),
            "meter_no": meter_numbers(c, m.meter_counter, m.meter_len, self.cfg["meters"]["asset_prefix"],
                                      self.cfg["meters"]["asset_digits"]),
            "read_mode": pl.Series(np.asarray(READ_MODES)[m.mode], dtype=pl.String),
        })

    # -- readings ---------------------------------------------------------------------------
    def readings_frame(self, m: Month, keys: pl.DataFrame, pos: np.ndarray) -> pl.DataFrame:
        c, ctr = self.c, self.cfg["centre"]
        n = len(pos)
        rows = m.rows[pos]
        cust = c.mp_cust[rows]
        seg = m.seg[pos]
        k = keys[pos]
        status = _words(self.status_words, m.status[pos])
        raw = pl.Series(m.raw_code[pos])
        read_date = fmt_datetime(m.read_ts[pos], "%Y-%m-%d")
        return pl.DataFrame({
            "period": k["period"],
            "org_code": _const(ctr["org_code"], n),
            "station": _const(ctr["station"], n),
            "team": k["team"],
            "segment_no": k["segment_no"],
            "segment_name": c.seg_name.gather(seg),
            "plan_day": pl.Series(c.seg_plan_day[seg]).cast(pl.String),
            "reader": k["reader"],
            "customer_no": k["customer_no"],
            "customer_name": c.cust_name.gather(cust),
            "phone": c.cust_phone.gather(cust),
            "address": c.cust_address.gather(cust),
            "customer_class": _words(self.class_words, c.cust_class[cust]),
            "mp_no": c.mp_no.gather(rows),
            "route_seq": pl.Series(c.cust_route[cust]).cast(pl.String),
            "meter_no": k["meter_no"],
            "read_type": _const(ctr["read_type"], n),
            "last_read": fmt_units(m.last[pos], m.dec[pos]),
            "this_read": fmt_units(m.this[pos], m.dec[pos]),
            "kwh": fmt_units(m.kwh[pos], m.dec[pos]),
            "multiplier": pl.Series(m.mult[pos]).cast(pl.String),
            "digits": pl.select(pl.concat_str(pl.Series(m.digits_int[pos]).cast(pl.String), pl.lit("."),
                                              pl.Series(m.dec[pos]).cast(pl.String))).to_series(),
            "anomaly_type": _words(self.anomaly_words, m.anomaly[pos] + 1),
            "read_status": pl.select(pl.when(raw).then(pl.lit(self.cfg["problems"]["MISSED"]["raw_code"]))
                                     .otherwise(status)).to_series(),
            "read_mode": _words(self.mode_words, m.mode[pos]),
            "read_date": pl.select(pl.when(pl.Series(m.read_day[pos]) > 0).then(read_date)).to_series(),
            "upload_time": fmt_datetime(m.upload_ts[pos], "%Y-%m-%d %H:%M:%S"),
        })

    def write_readings(self, m: Month, keys: pl.DataFrame) -> list[tuple[Path, int]]:
        out = []
        team_of_row = self.c.seg_team[m.seg]
        for k, name in enumerate(self.c.team_names):
            pos = np.flatnonzero(team_of_row == k)
            fmt = self.c.team_export[k]
            last_n = int(self.ex["xlsx_last_months"])
            if fmt == "xlsx" and last_n and m.t < self.c.months - last_n:
                fmt = self.ex["xlsx_earlier_export"]
            frame = self.readings_frame(m, keys, pos)
            stem = self.ex["readings_name"].format(period=m.period, team=name)
            omit = self.ex["xlsx_omit"] if fmt == "xlsx" else ()
            messy = self.mess.apply(
                frame, keys[pos], m.kwh[pos], m.dec[pos], fmt=fmt, file=f"{stem}.{'xlsx' if fmt == 'xlsx' else 'csv'}",
                first_column=self.columns("readings", frame, omit)[0], period=m.period, team=name, t=m.t, team_k=k)
            self.mess_truth.append(messy.truth)
            out.append((self.write("readings", messy.frame, stem, fmt, sheet=self.ex["xlsx_sheet"], omit=omit,
                                   prefix=messy.prefix, tail=messy.tail), messy.frame.height))
        return out

    # -- assignments ------------------------------------------------------------------------
    def assignments_frame(self, m: Month) -> pl.DataFrame:
        c, t = self.c, m.t
        S = len(c.seg_no)
        active_customers = np.unique(c.mp_cust[m.rows])
        count = np.bincount(c.cust_segment[active_customers], minlength=S)
        first = month_index(c.periods[0])
        held = [month_name(first + int(h)) for h in c.plan_held_since[t]]
        return pl.DataFrame({
            "period": _const(m.period, S),
            "team": self.team_s.gather(c.seg_team),
            "segment_no": c.seg_no,
            "segment_name": c.seg_name,
            "plan_day": pl.Series(c.seg_plan_day).cast(pl.String),
            "reader": self.reader_s.gather(c.plan_reader[t]),
            "partner": self.reader_s.gather(c.plan_partner[t]),
            "held_since": pl.Series(held, dtype=pl.String),
            "segment_read_mode": _words(self.seg_mode_words, (c.seg_remote_from <= t).astype(np.int64)),
            "customer_count": pl.Series(count).cast(pl.String),
        })

    # -- customer / meter master -----------------------------------------------------------
    def customers_frame(self, st: MeterState) -> pl.DataFrame:
        c = self.c
        t = c.months - 1
        M = c.n_mp
        cust = c.mp_cust
        changed_cust = np.zeros(len(c.cust_no), dtype=bool)
        changed_cust[cust[st.changed_in == t]] = True
        status = np.full(len(c.cust_no), "NORMAL", dtype=object)
        status[changed_cust | c.cust_info_changed] = "CHANGED"
        status[c.cust_install == t] = "NEW"
        status[(c.cust_susp_start <= t) & (t < c.cust_susp_end)] = "SUSPENDED"
        status[c.cust_close <= t] = "CLOSED"
        status_words = [self.codes.word("customer_status", s) for s in status[cust]]
        seg = c.cust_segment[cust]
        remote = c.seg_remote_from[seg] <= t
        mode = np.where(remote, READ_MODES.index("REMOTE"),
                        np.where(c.seg_hand[seg], READ_MODES.index("MANUAL"), READ_MODES.index("HANDHELD")))
        return pl.DataFrame({
            "period": _const(c.periods[-1], M),
            "customer_no": c.cust_no.gather(cust),
            "customer_name": c.cust_name.gather(cust),
            "phone": c.cust_phone.gather(cust),
            "address": c.cust_address.gather(cust),
            "customer_class": _words(self.class_words, c.cust_class[cust]),
            "customer_status": pl.Series(status_words, dtype=pl.String),
            "segment_no": c.seg_no.gather(seg),
            "mp_no": c.mp_no,
            "meter_no": meter_numbers(c, st.meter_counter, st.meter_len, self.cfg["meters"]["asset_prefix"],
                                      self.cfg["meters"]["asset_digits"]),
            "multiplier": pl.Series(c.mp_mult).cast(pl.String),
            "digits": pl.select(pl.concat_str(pl.Series(st.digits_int).cast(pl.String), pl.lit("."),
                                              pl.Series(st.digits_dec).cast(pl.String))).to_series(),
            "contract_capacity": pl.Series(np.round(c.cust_capacity[cust]).astype(np.int64)).cast(pl.String),
            "read_mode": _words(self.mode_words, mode),
            "installed_on": fmt_datetime(st.installed.astype("datetime64[s]"), "%Y-%m-%d"),
        })
