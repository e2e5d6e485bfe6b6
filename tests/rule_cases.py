"""Builder of small synthetic metering-point histories for the rule tests (tests/test_rules.py).

`reading(...)` is one row of marts.meter_readings (every column but config_version / computed_at),
with the defaults of an ordinary residential manual read; `chain(...)` builds a metering point's
monthly history from its uses (the register advancing by use / multiplier, wrapping at 10^digits,
上次 = the previous row's 本次 as the export carries it), with per-month overrides; `window(rows)` is
the frame; `evaluate(rows, period)` runs checks.history.reading_context and checks.rules.run_rules
on it exactly as the warehouse does (the month's readings, the window's history) and returns both.
Pure functions: no DuckDB.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl

from checks.history import month_index, period_of_index, reading_context
from checks.rules import run_rules
from readq.config import load_toml

Row = dict[str, Any]

READINGS_SCHEMA: dict[str, Any] = {
    "period": pl.String, "delivery_id": pl.String, "sheet": pl.String, "source_row": pl.Int32,
    "team": pl.String, "reader": pl.String, "team_source": pl.String, "reader_source": pl.String,
    "segment_no": pl.String, "plan_day": pl.Int32, "customer_no": pl.String, "mp_key": pl.String,
    "mp_id": pl.UInt64, "meter_no": pl.String, "read_type": pl.String, "customer_class": pl.String,
    "multiplier": pl.Float64, "reading_multiplier": pl.Float64, "digits_int": pl.Int32, "digits_dec": pl.Int32,
    "contract_capacity": pl.Float64, "master_source": pl.String, "last_read": pl.Float64,
    "this_read": pl.Float64, "kwh": pl.Float64, "read_status": pl.String, "read_mode": pl.String,
    "read_date": pl.Date, "upload_time": pl.Datetime("us"), "anomaly_type": pl.String, "copies": pl.Int32,
    "copies_differ": pl.Boolean, "repeats_dropped": pl.Int32,
}

TODAY = date(2027, 1, 15)   # after every period the tests use: no read date is "in the future" unless meant
_AUTO = object()            # "compute it" (distinct from an explicit None)


def cfg() -> dict[str, Any]:
    """config/rules.toml as the lead keeps it (load_toml caches: deepcopy before changing it)."""
    return load_toml("rules.toml")


def shift(period: str, months: int) -> str:
    return period_of_index(month_index(period) + months)


def billed(last: float | None, this: float | None, mult: float, digits: int | None) -> float | None:
    """抄见电量 as the billing system computes it: a decrease is taken for a roll-over (product brief §2)."""
    if last is None or this is None:
        return None
    advance = this - last
    if advance < 0 and digits is not None:
        advance += 10.0**digits
    return round(advance * mult, 4)


def reading(period: str, last_read: float | None, this_read: float | None, *, kwh: Any = _AUTO,
            mp_key: str = "MP1", meter_no: str | None = None, customer_no: str | None = None,
            status: str = "READ", multiplier: float | None = 1.0, reading_multiplier: Any = _AUTO,
            digits: int | None = 6, digits_dec: int | None = 2, customer_class: str | None = "LV_RES",
            read_mode: str | None = "MANUAL", read_date: date | None = None, plan_day: int | None = None,
            contract_capacity: float | None = None, master_source: str = "master", copies: int = 1,
            copies_differ: bool = False, repeats_dropped: int = 0, source_row: int = 1, team: str = "T1",
            reader: str = "R1", segment_no: str = "S1", anomaly_type: str | None = "无异常") -> Row:
    """One row of marts.meter_readings. 未抄 rows carry 本次 = 上次 and 0 kWh unless told otherwise."""
    r_mult = multiplier if reading_multiplier is _AUTO else reading_multiplier
    if status == "MISSED" and this_read is None:
        this_read = last_read
    if kwh is _AUTO:
        kwh = 0.0 if status == "MISSED" else billed(last_read, this_read, r_mult if r_mult is not None else 1.0,
                                                     digits)
    return {
        "period": period, "delivery_id": f"D-{period}", "sheet": "Sheet1", "source_row": source_row,
        "team": team, "reader": reader, "team_source": "export", "reader_source": "export",
        "segment_no": segment_no, "plan_day": plan_day, "customer_no": customer_no or f"C-{mp_key}",
        "mp_key": mp_key, "mp_id": zlib.crc32(mp_key.encode()), "meter_no": meter_no or f"M-{mp_key}",
        "read_type": "有功总", "customer_class": customer_class, "multiplier": multiplier,
        "reading_multiplier": r_mult, "digits_int": digits, "digits_dec": digits_dec,
        "contract_capacity": contract_capacity, "master_source": master_source, "last_read": last_read,
        "this_read": this_read, "kwh": kwh, "read_status": status, "read_mode": read_mode,
        "read_date": read_date,
        "upload_time": datetime.combine(read_date, datetime.min.time()).replace(hour=18) if read_date else None,
        "anomaly_type": anomaly_type, "copies": copies, "copies_differ": copies_differ,
        "repeats_dropped": repeats_dropped,
    }


def noisy(base: float, months: int, *, amplitude: float = 0.05, phase: int = 0) -> list[float]:
    """`months` uses around `base` with a deterministic ±`amplitude` wobble (never two equal in a row,
    so REPEATED_USE stays silent on ordinary histories)."""
    return [round(base * (1 + amplitude * math.sin(2.3 * (i + phase) + 0.7)), 1) for i in range(months)]


def chain(uses: Sequence[float | None], *, end: str, mp_key: str = "MP1", start_read: float = 10_000.0,
          multiplier: float = 1.0, digits: int = 6, status: Mapping[int, str] | None = None,
          at: Mapping[int, Mapping[str, Any]] | None = None, every: int = 1, read_day: int | None = None,
          **fields: Any) -> list[Row]:
    """A metering point's readings ending in period `end`, one every `every` months, the i-th with use
    `uses[i]` (kWh; None: 未抄, register unchanged). The true register starts at `start_read` and
    advances by use / multiplier, wrapping at 10^digits; 上次 is the previous row's 本次. `status` sets
    the status of row i (e.g. ESTIMATED), `at` overrides any reading() field of row i (-1: the last
    row; a keyed 本次 is an override: the true register goes on, next month's 上次 is the keyed value). `read_day`: read
    dates on that day of each month (else none: the period runs 例日 to 例日)."""
    status, at = status or {}, at or {}
    rows: list[Row] = []
    true_reg = start_read
    prev_this: float | None = start_read
    first = shift(end, -every * (len(uses) - 1))
    span = 10.0**digits
    for i, use in enumerate(uses):
        period = shift(first, every * i)
        back = i - len(uses)   # negative indices count from the end: -1 is the month `end`
        st = status.get(i, status.get(back, "READ" if use is not None else "MISSED"))
        if use is not None:
            true_reg = round((true_reg + use / multiplier) % span, 4)
        kw: dict[str, Any] = {"mp_key": mp_key, "multiplier": multiplier, "digits": digits, "status": st,
                              "source_row": i + 1, **fields}
        if read_day is not None:
            y, m = divmod(month_index(period), 12)
            kw["read_date"] = date(y, m + 1, read_day)
        kw.update(at.get(i, at.get(back, {})))
        last = kw.pop("last_read", prev_this)
        this = kw.pop("this_read", true_reg if use is not None else last)
        row = reading(period, last, this, **kw)
        rows.append(row)
        prev_this = row["this_read"]
    return rows


def window(rows: Iterable[Row]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=READINGS_SCHEMA, orient="row")


@dataclass
class Outcome:
    period: str
    context: pl.DataFrame
    flags: pl.DataFrame

    def of(self, rule_id: str | None = None, mp_key: str | None = None) -> pl.DataFrame:
        f = self.flags
        if rule_id is not None:
            f = f.filter(pl.col("rule_id") == rule_id)
        if mp_key is not None:
            f = f.filter(pl.col("mp_key") == mp_key)
        return f

    def rules(self, mp_key: str | None = None) -> set[str]:
        return set(self.of(mp_key=mp_key)["rule_id"].to_list())

    def one(self, rule_id: str, mp_key: str = "MP1") -> dict[str, Any]:
        """The single flag of the rule on the point, with its evidence parsed."""
        hit = self.of(rule_id, mp_key)
        assert hit.height == 1, f"{rule_id} on {mp_key} in {self.period}: {hit.height} flags\n{self.flags}"
        row = hit.row(0, named=True)
        row["evidence"] = json.loads(row["evidence"])
        return row

    def ctx(self, mp_key: str = "MP1") -> dict[str, Any]:
        hit = self.context.filter(pl.col("mp_key") == mp_key)
        assert hit.height == 1, f"no context row of {mp_key} in {self.period}"
        return hit.row(0, named=True)


def together(cases: Mapping[str, Sequence[Row]]) -> list[Row]:
    """The rows of several cases as one window, each case its own metering point (named by its key)."""
    return [{**r, "mp_key": key, "mp_id": zlib.crc32(key.encode()), "customer_no": f"C-{key}",
             "meter_no": f"{key}/{r['meter_no']}"} for key, rows in cases.items() for r in rows]


_MEMO: dict[str, Outcome] = {}


def evaluate(rows: Iterable[Row], period: str, config: dict[str, Any] | None = None, *,
             today: date = TODAY) -> Outcome:
    """Context and flags of `period` for the points of `rows`, as the warehouse computes them (the
    same inputs twice are computed once: the rules cost ~0.1 s of fixed overhead per call)."""
    c = config if config is not None else cfg()
    rows = list(rows)
    key = json.dumps([rows, period, c, str(today)], sort_keys=True, default=str)
    if key not in _MEMO:
        w = window(rows)
        context = reading_context(w, period, c)
        flags = run_rules(w.filter(pl.col("period") == period), context, c, today=today)
        _MEMO[key] = Outcome(period, context, flags)
    return _MEMO[key]
