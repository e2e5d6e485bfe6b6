"""Review findings (复核差错记录) and field anomaly reports (异常报告单) of a month.

A realistic fraction of the injected reading problems is confirmed by review (per-type
`detect` probability in demo.toml); the rest stay hidden. Field anomaly reports come from
sustained faults found on site, 现场无表 rows and defects, with report / hand-over / closure
times (most on time, some late, some still open at the export cut-off).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from readq.demo.behaviour import Month
from readq.demo.centre import Centre
from readq.demo.exports import fmt_datetime, fmt_units
from readq.demo.settings import CLASSES, READING_PROBLEMS, Codes, rng_for

_S_FINDINGS, _S_REPORTS = 200, 300
_DAY = np.timedelta64(86400, "s")


def _signed_kwh(values: np.ndarray) -> pl.Series:
    cents = np.round(values * 100).astype(np.int64)
    body = fmt_units(np.abs(cents), np.full(len(cents), 2))
    return pl.select(pl.when(pl.Series(cents) < 0).then(pl.concat_str(pl.lit("-"), body)).otherwise(body)).to_series()


def _seq_numbers(prefix: str, period: str, n: int) -> pl.Series:
    return pl.select(pl.concat_str(pl.lit(prefix + period.replace("-", "")),
                                   pl.Series(np.arange(1, n + 1)).cast(pl.String).str.zfill(6))).to_series()


def _hours(h: np.ndarray) -> np.ndarray:
    return np.round(h * 3600).astype(np.int64).astype("timedelta64[s]")


class Reporter:
    def __init__(self, c: Centre, cfg: dict[str, Any], codes: Codes, seed: int, cutoff: np.datetime64):
        self.c, self.cfg, self.codes, self.seed, self.cutoff = c, cfg, codes, seed, cutoff
        pc = cfg["problems"]
        self.detect = {p: float(pc[p]["detect"]) for p in READING_PROBLEMS}
        self.error_word = {p: codes.word("error_type", pc[p]["finding_type"]) for p in READING_PROBLEMS}
        self.role = {p: pc[p].get("responsible_role", "READER") for p in READING_PROBLEMS}
        self.description = {p: pc[p]["description"] for p in READING_PROBLEMS}

    # ------------------------------------------------------------------------------------
    def findings(self, m: Month, keys: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(export frame, links pos/problem -> finding_no)."""
        rng = rng_for(self.seed, _S_FINDINGS, m.t)
        fcfg = self.cfg["findings"]
        truth = m.truth.filter(pl.col("problem").is_in(list(READING_PROBLEMS)))
        events = truth.select("event_id", "problem").unique(maintain_order=True)
        p = np.array([self.detect[x] for x in events["problem"].to_list()])
        detected = events.filter(pl.Series(rng.random(len(events)) < p))["event_id"]
        rows = truth.filter(pl.col("event_id").is_in(detected.implode())).sort("pos")
        n = len(rows)
        pos = rows["pos"].to_numpy()
        k = keys[pos]
        problems = rows["problem"].to_list()
        w = np.asarray(fcfg["found_by_weights"], dtype=float)
        found_by = np.asarray(fcfg["found_by"])[rng.choice(len(w), n, p=w / w.sum())]
        role = [self.role[x] for x in problems]
        clerk = np.asarray(self.c.clerk_names, dtype=object)[rng.integers(0, len(self.c.clerk_names), n)]
        person = np.where(np.asarray(role) == "CLERK", clerk, np.asarray(k["reader"].to_list(), dtype=object))
        lo, hi = fcfg["found_days"]
        found = m.read_ts[pos].astype("datetime64[D]") + rng.integers(lo, hi + 1, n).astype("timedelta64[D]")
        finding_no = _seq_numbers(fcfg["number_prefix"], m.period, n)
        frame = pl.DataFrame({
            "finding_no": finding_no,
            "period": k["period"],
            "team": k["team"],
            "segment_no": k["segment_no"],
            "customer_no": k["customer_no"],
            "meter_no": k["meter_no"],
            "error_type": pl.Series([self.error_word[x] for x in problems], dtype=pl.String),
            "kwh_impact": _signed_kwh((rows["true_kwh"] - rows["reported_kwh"]).to_numpy()),
            "found_by": pl.Series([self.codes.word("found_by", x) for x in found_by], dtype=pl.String),
            "responsible_role": pl.Series([self.codes.word("responsible_role", x) for x in role], dtype=pl.String),
            "responsible_person": pl.Series(person.tolist(), dtype=pl.String),
            "found_date": fmt_datetime(found.astype("datetime64[s]"), "%Y-%m-%d"),
            "description": pl.Series([self.description[x] for x in problems], dtype=pl.String),
        })
        links = pl.DataFrame({"pos": rows["pos"], "problem": rows["problem"], "finding_no": finding_no})
        return frame, links

    # ------------------------------------------------------------------------------------
    def reports(self, m: Month, keys: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(export frame, links event_id -> report_no)."""
        rng = rng_for(self.seed, _S_REPORTS, m.t)
        acfg = self.cfg["anomalies"]
        reps = m.reports
        n = len(reps)
        pos = reps["pos"].to_numpy()
        types = reps["anomaly_type"].to_list()
        k = keys[pos]
        cust = self.c.mp_cust[m.rows[pos]]
        hv = self.c.cust_class[cust] == CLASSES.index("HV")
        found = m.read_ts[pos]
        immediate = np.isin(np.asarray(types, dtype=object), acfg["immediate_types"])
        on_time = rng.random(n) < acfg["on_time_share"]
        d_imm = _hours(rng.uniform(*acfg["immediate_delay_hours"], n))
        end_of_day = found.astype("datetime64[D]").astype("datetime64[s]") + _DAY - np.timedelta64(1, "s")
        same_day = np.minimum(found + _hours(rng.uniform(*acfg["same_day_delay_hours"], n)), end_of_day)
        late = found + _hours(rng.uniform(*acfg["late_delay_hours"], n))
        reported = np.where(on_time, np.where(immediate, found + d_imm, same_day), late)
        handed = reported + _hours(rng.uniform(*acfg["handover_hours"], n))
        deadline = np.where(hv, acfg["close_days_hv"], acfg["close_days_lv"]).astype(float)
        close_ok = rng.random(n) < acfg["close_on_time_share"]
        lo, hi = acfg["close_late_days"]
        days = np.where(close_ok, rng.uniform(0.05, 1.0, n) * deadline, deadline + rng.uniform(lo, hi, n))
        closed = handed + _hours(days * 24)
        never = rng.random(n) < acfg["never_closed_share"]
        nat = np.datetime64("NaT", "s")
        handed = np.where(handed > self.cutoff, nat, handed)
        closed = np.where(never | (closed > self.cutoff) | np.isnat(handed), nat, closed)
        outcome = []
        for typ, is_closed in zip(types, ~np.isnat(closed), strict=True):
            choices = acfg["outcomes"][typ]
            outcome.append(choices[int(rng.integers(0, len(choices)))] if is_closed else acfg["open_outcome"])
        report_no = _seq_numbers(acfg["number_prefix"], m.period, n)
        stamp = "%Y-%m-%d %H:%M:%S"
        frame = pl.DataFrame({
            "report_no": report_no,
            "period": k["period"],
            "team": k["team"],
            "segment_no": k["segment_no"],
            "customer_no": k["customer_no"],
            "meter_no": k["meter_no"],
            "customer_class": pl.Series([self.codes.word("customer_class", CLASSES[x])
                                         for x in self.c.cust_class[cust]], dtype=pl.String),
            "anomaly_type": pl.Series([self.codes.word("field_anomaly_type", x) for x in types], dtype=pl.String),
            "reporter": k["reader"],
            "found_at": fmt_datetime(found, stamp),
            "reported_at": fmt_datetime(reported, stamp),
            "handed_over_at": fmt_datetime(handed, stamp),
            "closed_at": fmt_datetime(closed, stamp),
            "outcome": pl.Series(outcome, dtype=pl.String),
        })
        links = pl.DataFrame({"event_id": reps["event_id"], "report_no": report_no}).filter(pl.col("event_id") >= 0)
        return frame, links
