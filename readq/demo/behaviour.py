"""Month-by-month simulation: consumption, registers, meter changes, sustained faults, reading
behaviour and injected reading problems.

Registers are integers in units of 10^-decimals (a `6.2` register holds 0 .. 10^8 - 1), so
arithmetic is exact. The billing system's rule is applied to what the reader reported:
抄见电量 = ((本次 - 上次) mod 10^digits) x 综合倍率 (a decrease is taken as a roll-over), and
next month's 上次 is this month's reported 本次.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from readq.demo.centre import NEVER, Centre, meter_numbers
from readq.demo.settings import (
    CLASSES,
    FAULTS,
    READ_MODES,
    READ_STATUS,
    READING_PROBLEMS,
    days_in_month,
    month_start,
    parse_digits,
    rng_for,
    weighted_choice,
)

ANOMALY_TYPES: tuple[str, ...] = (
    "THEFT", "VIOLATION", "METER_FAULT", "INFO_MISMATCH", "METER_MISSING", "BOX_DAMAGED", "SEAL_MISSING",
)
FAULT_EVENT_BASE = 10**12          # event id of a sustained fault episode = base + meter point id
CORRUPTIONS: tuple[str, ...] = ("transposition", "slip", "shift")
_A = {name: i for i, name in enumerate(ANOMALY_TYPES)}
_NO_LIMIT = 10**15
_DETAILS = {"ESTIMATED": "estimated from history", "FABRICATED": "close to expected, status READ"}
_S_STATE, _S_MONTH, _S_FABRICATION = 7, 100, 500
_FABRICATED = READING_PROBLEMS.index("FABRICATED")
_MANUAL, _HANDHELD, _REMOTE = (READ_MODES.index(m) for m in ("MANUAL", "HANDHELD", "REMOTE"))
_READ, _MISSED, _ESTIMATED = (READ_STATUS.index(s) for s in ("READ", "MISSED", "ESTIMATED"))


@dataclass
class MeterState:
    """What changes over time, per metering point."""

    reg: np.ndarray               # true register (units)
    rep: np.ndarray               # last reported 本次示数 (units) = next month's 上次示数
    est: np.ndarray               # the billing system's expected monthly advance (units)
    digits_int: np.ndarray
    digits_dec: np.ndarray
    meter_counter: np.ndarray
    meter_len: np.ndarray
    installed: np.ndarray
    fault_type: np.ndarray        # 0 none, else 1 + index in FAULTS
    fault_start: np.ndarray
    fault_found: np.ndarray
    fault_param: np.ndarray       # theft factor, or register units lost per month
    fault_violation: np.ndarray
    fault_change: np.ndarray      # month the faulty meter is replaced
    change_month: np.ndarray      # routine replacement month
    vac_start: np.ndarray
    vac_end: np.ndarray
    changed_in: np.ndarray        # last month a meter was changed
    next_counter: int
    next_event: int = 1

    def scale(self, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
        return (10 ** self.digits_dec[idx]).astype(np.int64)

    def cap(self, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
        return (10 ** (self.digits_int[idx] + self.digits_dec[idx])).astype(np.int64)


def init_state(c: Centre, cfg: dict[str, Any], seed: int) -> MeterState:
    rng = rng_for(seed, _S_STATE)
    M, T = c.n_mp, c.months
    mp_class = c.cust_class[c.mp_cust]
    scale = 10.0 ** c.mp_digits_dec
    fault_type = np.zeros(M, dtype=np.int8)
    fault_start = np.full(M, NEVER, dtype=np.int64)
    vac_start = np.full(M, NEVER, dtype=np.int64)
    vac_end = np.full(M, NEVER, dtype=np.int64)
    for k, cls in enumerate(CLASSES):
        sel = np.flatnonzero(mp_class == k)
        cc = cfg["classes"][cls]
        for f, name in enumerate(FAULTS):
            h = cc[f"{name.lower()}_hazard"]
            if h <= 0:
                continue
            first = rng.geometric(h, len(sel)) - 1
            better = first < fault_start[sel]
            fault_start[sel[better]] = first[better]
            fault_type[sel[better]] = f + 1
        vac = sel[rng.random(len(sel)) < cc["vacant_share"]]
        vac_start[vac] = rng.integers(-T, max(T, 1), len(vac))
        vac_end[vac] = vac_start[vac] + rng.geometric(1.0 / max(cc["vacant_months_mean"], 1), len(vac))
    fault_type[fault_start >= T] = 0
    fault_start[fault_type == 0] = NEVER
    fault_found = np.full(M, NEVER, dtype=np.int64)
    fault_param = np.zeros(M)
    fault_violation = np.zeros(M, dtype=bool)
    for f, name in enumerate(FAULTS):
        sel = np.flatnonzero(fault_type == f + 1)
        fc = cfg["faults"][name]
        fault_found[sel] = fault_start[sel] + rng.geometric(fc["find_rate"], len(sel))
        if name == "THEFT":
            fault_param[sel] = rng.uniform(*fc["factor"], len(sel))
            fault_violation[sel] = rng.random(len(sel)) < fc["violation_share"]
        elif name == "REVERSING":
            fault_param[sel] = rng.uniform(*fc["reverse_kwh"], len(sel)) / c.mp_mult[sel] * scale[sel]
    change = rng.geometric(cfg["meters"]["replacement_hazard"], M) - 1
    change = np.where((change < T) & (change > c.cust_install[c.mp_cust]), change, NEVER)
    est = c.mp_base_kwh / c.mp_mult * scale
    return MeterState(
        reg=c.mp_register0.copy(), rep=c.mp_register0.copy(), est=est,
        digits_int=c.mp_digits_int.copy(), digits_dec=c.mp_digits_dec.copy(),
        meter_counter=c.mp_meter_counter.copy(), meter_len=c.mp_meter_len.copy(),
        installed=c.mp_installed.copy(), fault_type=fault_type, fault_start=fault_start,
        fault_found=fault_found, fault_param=fault_param, fault_violation=fault_violation,
        fault_change=np.full(M, NEVER, dtype=np.int64), change_month=change,
        vac_start=vac_start, vac_end=vac_end, changed_in=np.full(M, -NEVER, dtype=np.int64),
        next_counter=M,
    )


def season_table(cfg: dict[str, Any], periods: list[str]) -> np.ndarray:
    """(classes, months) seasonal factor with a summer and a winter peak."""
    s = cfg["season"]
    month = np.array([int(p[5:7]) for p in periods], dtype=float)

    def bump(peak: float) -> np.ndarray:
        d = np.abs(month - peak) % 12
        d = np.minimum(d, 12 - d)
        return np.exp(-(d**2) / (2 * s["width_months"] ** 2))

    out = np.zeros((len(CLASSES), len(periods)))
    for k, cls in enumerate(CLASSES):
        cc = cfg["classes"][cls]
        out[k] = 1 + cc["summer_amplitude"] * bump(s["summer_peak_month"]) + cc["winter_amplitude"] * bump(
            s["winter_peak_month"])
    return out


@dataclass
class Month:
    """One billing month's readings (positions = export rows) and what happened in them."""

    t: int
    period: str
    rows: np.ndarray              # metering point ids, in export order
    seg: np.ndarray
    reader: np.ndarray
    mode: np.ndarray
    status: np.ndarray
    raw_code: np.ndarray          # status written as the raw code (89)
    last: np.ndarray
    this: np.ndarray
    kwh: np.ndarray               # units of 10^-dec kWh
    dec: np.ndarray
    digits_int: np.ndarray
    mult: np.ndarray
    meter_counter: np.ndarray
    meter_len: np.ndarray
    anomaly: np.ndarray           # index in ANOMALY_TYPES, -1 = none
    read_day: np.ndarray          # 0 = no read date (未抄)
    read_ts: np.ndarray           # datetime64[s] of the (planned) read
    upload_ts: np.ndarray         # datetime64[s]
    truth: pl.DataFrame           # pos, event_id, problem, detail, true/reported values
    reports: pl.DataFrame         # pos, anomaly_type, event_id


def _ndigits(v: np.ndarray) -> np.ndarray:
    out = np.ones(len(v), dtype=np.int64)
    for k in range(1, 19):
        out += v >= 10**k
    return out


def corrupt_number(rng: np.random.Generator, v: np.ndarray, limit: np.ndarray, kinds: list[str],
                   weights: list[float], max_pos: int) -> tuple[np.ndarray, np.ndarray]:
    """Typical keying errors on non-negative integers: two neighbouring digits transposed, one
    digit off by one, or a x10 shift (÷10 when x10 would not fit under `limit`).
    Returns the new values and the kind applied (index in ("transposition", "slip", "shift"))."""
    n = len(v)
    names = ("transposition", "slip", "shift")
    p = np.asarray(weights, dtype=float)
    kind = np.asarray([names.index(k) for k in kinds])[rng.choice(len(kinds), n, p=p / p.sum())]
    nd = _ndigits(v)
    # transposition of digits p and p+1
    n_pairs = np.minimum(nd - 1, max_pos)
    pos = np.floor(rng.random(n) * np.maximum(n_pairs, 1)).astype(np.int64)
    d1 = v // 10**pos % 10
    d2 = v // 10 ** (pos + 1) % 10
    v_t = v + (d2 - d1) * 10**pos + (d1 - d2) * 10 ** (pos + 1)
    trans_ok = (kind == 0) & (n_pairs >= 1) & (d1 != d2)
    # one digit off by one
    pos_s = np.floor(rng.random(n) * np.minimum(nd, max_pos)).astype(np.int64)
    ds = v // 10**pos_s % 10
    delta = np.where(ds == 0, 1, np.where(ds == 9, -1, np.where(rng.random(n) < 0.5, -1, 1)))
    v_s = v + delta * 10**pos_s
    # shift
    v_sh = np.where(v * 10 < limit, v * 10, v // 10)
    shift_ok = (kind == 2) & (v_sh != v)
    out = np.where(shift_ok, v_sh, np.where(trans_ok, v_t, v_s))
    applied = np.where(shift_ok, 2, np.where(trans_ok, 0, 1))
    return out, applied


@dataclass
class _Ctx:
    """Arrays of the month being simulated (one entry per reading row)."""

    t: int
    period: str
    dim: int
    rows: np.ndarray
    seg: np.ndarray
    cls: np.ndarray
    mult: np.ndarray
    changing: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    change_frac: np.ndarray = field(default_factory=lambda: np.zeros(0))
    old_meter: tuple[np.ndarray, np.ndarray] = field(default_factory=lambda: (np.zeros(0), np.zeros(0)))


@dataclass
class _Register:
    scale: np.ndarray
    cap: np.ndarray
    kwh_actual: np.ndarray          # what the customer really used (kWh)
    vacant: np.ndarray
    fault_on: np.ndarray            # fault id (1 + index in FAULTS) where a fault is active, else 0
    rolled: np.ndarray
    true_this: np.ndarray
    last: np.ndarray


@dataclass
class _Read:
    mode: np.ndarray
    reader: np.ndarray
    pick: np.ndarray                # index in READING_PROBLEMS, -1 = none
    cand: np.ndarray                # CROSSED rows ...
    partner: np.ndarray             # ... and their route neighbours
    status: np.ndarray
    raw_code: np.ndarray
    rep_this: np.ndarray
    kwh: np.ndarray
    true_kwh: np.ndarray
    wrap: np.ndarray
    detail: dict[str, Any]


class Simulator:
    """Runs the centre month by month; `month(t)` must be called for t = 0, 1, 2, ..."""

    def __init__(self, c: Centre, cfg: dict[str, Any], seed: int):
        self.c, self.cfg, self.seed = c, cfg, seed
        self.st = init_state(c, cfg, seed)
        self.season = season_table(cfg, c.periods)
        pc = cfg["problems"]
        self.rates = np.array([pc[p]["rate"] for p in READING_PROBLEMS])
        self.reader_driven = np.array([pc[p].get("reader_driven", True) for p in READING_PROBLEMS])
        self.noise_sigma = np.array([cfg["classes"][k]["noise_sigma"] for k in CLASSES])
        self.wrong_mults = np.asarray(cfg["meters"]["wrong_multipliers"], dtype=np.int64)
        self.fab_read_share = float(cfg["fabricators"]["read_share"])

    def month(self, t: int) -> Month:
        c, st = self.c, self.st
        rng = rng_for(self.seed, _S_MONTH, t)
        period = c.periods[t]
        cust_active = ((c.cust_install <= t) & (c.cust_close > t)
                       & ~((c.cust_susp_start <= t) & (t < c.cust_susp_end)))
        active = cust_active[c.mp_cust]
        for due in (st.fault_found, st.change_month, st.fault_change):
            due[(due == t) & ~active] += 1          # wait for the meter's next active month
        rows = np.flatnonzero(active)
        cust = c.mp_cust[rows]
        ctx = _Ctx(t=t, period=period, dim=days_in_month(period), rows=rows, seg=c.cust_segment[cust],
                   cls=c.cust_class[cust], mult=c.mp_mult[rows])
        self._meter_changes(ctx, rng)
        reg = self._register(ctx, rng)
        rd = self._read(ctx, reg, rng)
        timing = self._timing(ctx, rd, rng)
        event = self._events(rd)
        anomaly, reports = self._anomalies(ctx, rd, event, rng)
        truth = self._truth(ctx, reg, rd, event, timing)
        self._learn(ctx, rd, reg)
        return Month(
            t=t, period=period, rows=rows, seg=ctx.seg, reader=rd.reader, mode=rd.mode, status=rd.status,
            raw_code=rd.raw_code, last=reg.last, this=rd.rep_this, kwh=rd.kwh, dec=st.digits_dec[rows].copy(),
            digits_int=st.digits_int[rows].copy(), mult=ctx.mult, meter_counter=st.meter_counter[rows].copy(),
            meter_len=st.meter_len[rows].copy(), anomaly=anomaly, read_day=timing["read_day"],
            read_ts=timing["read_ts"], upload_ts=timing["upload_ts"], truth=truth,
            reports=pl.DataFrame(reports, schema={"pos": pl.Int64, "anomaly_type": pl.String, "event_id": pl.Int64})
            .sort("pos", maintain_order=True),
        )

    # -- meters replaced this month (the month's row shows the new meter) ---------------------
    def _meter_changes(self, ctx: _Ctx, rng: np.random.Generator) -> None:
        c, st, t, cfg = self.c, self.st, ctx.t, self.cfg
        ctx.changing = (st.change_month[ctx.rows] == t) | (st.fault_change[ctx.rows] == t)
        ch = ctx.rows[ctx.changing]
        ctx.old_meter = (st.meter_counter[ch].copy(), st.meter_len[ch].copy())
        for k, name in enumerate(CLASSES):
            sel = ch[c.cust_class[c.mp_cust[ch]] == k]
            cc = cfg["classes"][name]
            d_int, d_dec = parse_digits(weighted_choice(rng, cc["digits"], cc["digits_weights"], len(sel)))
            st.est[sel] *= 10.0 ** (d_dec - st.digits_dec[sel])
            st.digits_int[sel], st.digits_dec[sel] = d_int, d_dec
        start = np.round(rng.uniform(*cfg["meters"]["new_meter_start"], len(ch)) * st.scale(ch)).astype(np.int64)
        st.reg[ch] = start
        st.rep[ch] = start
        st.meter_counter[ch] = st.next_counter + np.arange(len(ch))
        st.next_counter += len(ch)
        st.meter_len[ch] = 0
        st.changed_in[ch] = t
        st.change_month[ch[st.change_month[ch] == t]] = NEVER
        st.fault_change[ch] = NEVER
        # a new meter ends a stuck or reversing register (theft by bypass goes on)
        clears = np.isin(st.fault_type[ch], [FAULTS.index("STUCK") + 1, FAULTS.index("REVERSING") + 1])
        clears &= st.fault_start[ch] <= t
        st.fault_found[ch[clears]] = np.minimum(st.fault_found[ch[clears]], t - 1)
        ctx.change_frac = np.zeros(len(ctx.rows))
        ctx.change_frac[ctx.changing] = rng.uniform(*cfg["meters"]["change_day_fraction"], len(ch))
        day = np.floor(ctx.change_frac[ctx.changing] * ctx.dim).astype(np.int64)
        st.installed[ch] = month_start(ctx.period) + day.astype("timedelta64[D]")

    # -- consumption and the true register -------------------------------------------------
    def _register(self, ctx: _Ctx, rng: np.random.Generator) -> _Register:
        c, st, t, rows = self.c, self.st, ctx.t, ctx.rows
        scale, cap = st.scale(rows), st.cap(rows)
        season = 1 + c.mp_season_sens[rows] * (self.season[ctx.cls, t] - 1)
        sig = self.noise_sigma[ctx.cls]
        noise = rng.lognormal(-(sig**2) / 2, sig)
        vacant = (st.vac_start[rows] <= t) & (t < st.vac_end[rows])
        kwh_actual = np.where(vacant, 0.0, c.mp_base_kwh[rows] * season * noise) * (1 - ctx.change_frac)
        adv = kwh_actual / ctx.mult * scale
        ftype = st.fault_type[rows]
        fault_on = np.where((ftype > 0) & (st.fault_start[rows] <= t) & (t <= st.fault_found[rows]), ftype, 0)
        theft, stuck, reversing = (fault_on == FAULTS.index(f) + 1 for f in ("THEFT", "STUCK", "REVERSING"))
        reg_adv = np.round(np.where(theft, adv * st.fault_param[rows], adv)).astype(np.int64)
        reg_adv[stuck] = 0
        reg_adv[reversing] = -np.round(st.fault_param[rows][reversing]).astype(np.int64)
        prev = st.reg[rows]
        return _Register(scale=scale, cap=cap, kwh_actual=kwh_actual, vacant=vacant, fault_on=fault_on,
                         rolled=(prev + reg_adv >= cap) & (reg_adv > 0), true_this=(prev + reg_adv) % cap,
                         last=st.rep[rows].copy())

    # -- who reads how, and the injected reading problems ----------------------------------
    def _read(self, ctx: _Ctx, reg: _Register, rng: np.random.Generator) -> _Read:
        c, st, cfg, t = self.c, self.st, self.cfg, ctx.t
        n, seg, mult = len(ctx.rows), ctx.seg, ctx.mult
        pc = cfg["problems"]
        remote_seg = c.seg_remote_from[seg] <= t
        fallback = remote_seg & (rng.random(n) < cfg["remote"]["fallback_rate"])
        mode = np.where(remote_seg & ~fallback, _REMOTE, np.where(c.seg_hand[seg], _MANUAL, _HANDHELD))
        is_remote = mode == _REMOTE
        reader = c.plan_reader[t, seg]
        prop = c.reader_propensity[reader] * np.where(is_remote, cfg["remote"]["error_factor"], 1.0)

        # one categorical draw per reading: at most one reading problem
        u = rng.random(n)
        pick = np.full(n, -1, dtype=np.int64)
        cum = np.zeros(n)
        for k, name in enumerate(READING_PROBLEMS):
            p_k = self.rates[k] * prop if self.reader_driven[k] else np.full(n, self.rates[k])
            if name == "MULTIPLIER":
                p_k = p_k * (mult > 1)
            cum += p_k
            pick[(pick < 0) & (u < cum)] = k
        # 串户 needs a clean, on-site-read route neighbour in the same segment
        cand = np.flatnonzero(pick == READING_PROBLEMS.index("CROSSED"))
        partner = cand + 1
        ok = (partner < n) & ~is_remote[cand]
        ok[ok] &= (seg[partner[ok]] == seg[cand[ok]]) & (pick[partner[ok]] == -1) & ~is_remote[partner[ok]]
        pick[cand[~ok]] = -1
        cand, partner = cand[ok], partner[ok]
        made_up = self._fabricators(ctx, reader, is_remote, prop, pick, cum, partner)

        def rows_of(name: str) -> np.ndarray:
            return np.flatnonzero(pick == READING_PROBLEMS.index(name))

        last, true_this, scale, cap = reg.last, reg.true_this, reg.scale, reg.cap
        est = st.est[ctx.rows]
        status = np.full(n, _READ, dtype=np.int8)
        raw_code = np.zeros(n, dtype=bool)
        rep_this = true_this.copy()
        detail: dict[str, Any] = {}

        i = rows_of("MISSED")
        status[i] = _MISSED
        rep_this[i] = last[i]
        raw_code[i] = rng.random(len(i)) < pc["MISSED"]["raw_code_share"]
        i = rows_of("ESTIMATED")
        status[i] = _ESTIMATED
        rep_this[i] = (last[i] + np.round(est[i] * pc["ESTIMATED"]["estimate_factor"]).astype(np.int64)) % cap[i]
        i = rows_of("MISREAD")
        mc = pc["MISREAD"]
        whole, frac = true_this[i] // scale[i], true_this[i] % scale[i]
        new_whole, kind = corrupt_number(rng, whole, 10 ** st.digits_int[ctx.rows][i], mc["kinds"],
                                         mc["kind_weights"], mc["max_position"])
        rep_this[i] = (new_whole * scale[i] + frac) % cap[i]
        detail["MISREAD"] = np.asarray(CORRUPTIONS)[kind]
        rep_this[cand] = true_this[partner]
        rep_this[partner] = true_this[cand]
        i = rows_of("FABRICATED")
        noise = np.zeros(len(i))
        extra = np.isin(i, made_up)                 # a fabricator's extra rows draw from their own stream
        noise[~extra] = rng.normal(0, pc["FABRICATED"]["noise"], int((~extra).sum()))
        noise[extra] = rng_for(self.seed, _S_FABRICATION, t, 1).normal(0, pc["FABRICATED"]["noise"], len(made_up))
        fab = np.maximum(np.round(est[i] * (1 + noise)), 0)
        rep_this[i] = (last[i] + fab.astype(np.int64)) % cap[i]

        # billing: a decrease is taken as a roll-over
        wrap = (rep_this - last) % cap
        kwh = wrap * mult
        true_kwh = ((true_this - last) % cap) * mult
        i = rows_of("ENTRY")
        ec = pc["ENTRY"]
        new_kwh, kind = corrupt_number(rng, kwh[i] // scale[i], np.full(len(i), _NO_LIMIT), ec["kinds"],
                                       ec["kind_weights"], ec.get("max_position", 3))
        kwh[i] = new_kwh * scale[i] + kwh[i] % scale[i]
        detail["ENTRY"] = np.char.add("kwh ", np.asarray(CORRUPTIONS)[kind])
        for name in ("MULTIPLIER", "DATA_PREP"):
            i = rows_of(name)
            j = rng.integers(0, len(self.wrong_mults), len(i))
            wrong = self.wrong_mults[j]
            wrong = np.where(wrong == mult[i], self.wrong_mults[(j + 1) % len(self.wrong_mults)], wrong)
            kwh[i] = wrap[i] * wrong
            detail[name] = wrong
        return _Read(mode=mode, reader=reader, pick=pick, cand=cand, partner=partner, status=status,
                     raw_code=raw_code, rep_this=rep_this, kwh=kwh, true_kwh=true_kwh, wrap=wrap, detail=detail)

    def _fabricators(self, ctx: _Ctx, reader: np.ndarray, is_remote: np.ndarray, prop: np.ndarray,
                     pick: np.ndarray, cum: np.ndarray, partner: np.ndarray) -> np.ndarray:
        """A fabricator ([fabricators]) makes up `read_share` of their on-site reads. The categorical
        draw already gave each row its ordinary FABRICATED chance; a row it left clean (and that is
        no 串户 partner) becomes FABRICATED with the probability that brings the row's share to
        read_share. Drawn from an own stream, so every other draw of the month stays as it was.
        Sets `pick` and returns the rows made up this way."""
        n = len(pick)
        rng = rng_for(self.seed, _S_FABRICATION, ctx.t, 0)
        u = rng.random(n)
        on_site = self.c.reader_fabricator[reader] & ~is_remote
        clean = pick == -1
        clean[partner] = False
        ordinary = self.rates[_FABRICATED] * prop
        q = np.clip((self.fab_read_share - ordinary) / np.maximum(1.0 - cum, 1e-12), 0.0, 1.0)
        rows = np.flatnonzero(on_site & clean & (u < q))
        pick[rows] = _FABRICATED
        return rows

    # -- read dates, upload times, segment-level timing problems ------------------------------
    def _timing(self, ctx: _Ctx, rd: _Read, rng: np.random.Generator) -> dict[str, np.ndarray]:
        c, cfg, t, dim = self.c, self.cfg, ctx.t, ctx.dim
        n, seg = len(ctx.rows), ctx.seg
        tc = cfg["read_timing"]
        S = len(c.seg_no)
        is_remote = rd.mode == _REMOTE
        plan = c.seg_plan_day[seg]
        seg_prop = c.reader_propensity[c.plan_reader[t]]
        on_site = c.seg_remote_from > t
        off_seg = on_site & (rng.random(S) < tc["off_plan_rate"] * seg_prop)
        late_seg = on_site & (rng.random(S) < tc["late_upload_rate"] * seg_prop)
        shift = rng.integers(tc["off_plan_days"][0], tc["off_plan_days"][1] + 1, S)
        sign = np.where(rng.random(S) < 0.5, -1, 1)
        target = c.seg_plan_day + sign * shift
        sign = np.where(target > dim, -1, np.where(target < 1, 1, sign))
        seg_shift = np.where(off_seg, sign * shift, 0)
        lo, hi = tc["late_upload_days"]
        late_days = np.where(late_seg, rng.integers(lo, hi + 1, S), 0)
        offset = weighted_choice(rng, tc["day_offsets"], tc["day_offset_weights"], n)
        row_shift = seg_shift[seg]
        row_shift = np.where(row_shift != 0, row_shift + np.sign(row_shift) * offset, offset)
        day = np.where(is_remote, plan, np.clip(plan + row_shift, 1, dim))
        hours = np.where(is_remote, rng.uniform(*cfg["remote"]["collect_hours"], n),
                         rng.uniform(*tc["read_hours"], n))
        read_sec = np.round(hours * 3600).astype(np.int64)
        delay = np.round(rng.uniform(*tc["upload_delay_hours"], n) * 3600).astype(np.int64)
        up_sec = np.where(is_remote, read_sec, np.minimum(read_sec + delay, 86399) + late_days[seg] * 86400)
        base = month_start(ctx.period).astype("datetime64[s]") + ((day - 1) * 86400).astype("timedelta64[s]")
        return {
            "plan": plan, "day": day, "read_day": np.where(rd.status == _MISSED, 0, day),
            "read_ts": base + read_sec.astype("timedelta64[s]"), "upload_ts": base + up_sec.astype("timedelta64[s]"),
            "off_seg": off_seg, "late_seg": late_seg, "late_days": late_days,
        }

    # -- field anomalies found this month ----------------------------------------------------
    def _anomalies(self, ctx: _Ctx, rd: _Read, event: np.ndarray, rng: np.random.Generator
                   ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        st, cfg, t, rows = self.st, self.cfg, ctx.t, ctx.rows
        n = len(rows)
        pc = cfg["problems"]
        anomaly = np.full(n, -1, dtype=np.int64)
        pos_parts, type_parts, event_parts = [], [], []

        def add(pos: np.ndarray, types: np.ndarray, events: np.ndarray) -> None:
            anomaly[pos] = types
            pos_parts.append(pos)
            type_parts.append(types)
            event_parts.append(events)

        ftype = st.fault_type[rows]
        fpos = np.flatnonzero((ftype > 0) & (st.fault_found[rows] == t))
        theft = ftype[fpos] == FAULTS.index("THEFT") + 1
        kinds = np.where(theft, np.where(st.fault_violation[rows][fpos], _A["VIOLATION"], _A["THEFT"]),
                         _A["METER_FAULT"])
        add(fpos, kinds, FAULT_EVENT_BASE + rows[fpos])
        st.fault_change[rows[fpos][~theft]] = t + 1       # a faulty meter is replaced next month
        missing = _A[pc["MISSED"]["raw_code_anomaly"]]
        flagged = np.flatnonzero(rd.raw_code & (anomaly < 0))
        anomaly[flagged] = missing                         # 89 rows carry 现场无表
        reported = flagged[rng.random(len(flagged)) < pc["MISSED"]["raw_code_report_share"]]
        add(reported, np.full(len(reported), missing), event[reported])
        defects = cfg["anomalies"]["defect_rates"]
        names = sorted(defects)
        cum = np.cumsum([defects[d] for d in names])
        u = rng.random(n)
        eligible = (u < cum[-1]) & (rd.mode != _REMOTE) & (anomaly < 0) & (rd.status != _MISSED)
        pick = np.where(eligible, np.searchsorted(cum, u, side="right"), -1)
        for k, name in enumerate(names):
            pos = np.flatnonzero(pick == k)
            add(pos, np.full(len(pos), _A[name]), np.full(len(pos), -1))
        order = np.argsort(np.concatenate(pos_parts), kind="stable")
        return anomaly, {
            "pos": np.concatenate(pos_parts).astype(np.int64)[order],
            "anomaly_type": np.asarray(ANOMALY_TYPES)[np.concatenate(type_parts).astype(np.int64)][order],
            "event_id": np.concatenate(event_parts).astype(np.int64)[order],
        }

    def _events(self, rd: _Read) -> np.ndarray:
        """Event id of each reading problem (both rows of a 串户 share one)."""
        event = np.full(len(rd.pick), -1, dtype=np.int64)
        hit = np.flatnonzero(rd.pick >= 0)
        event[hit] = self.st.next_event + np.arange(len(hit))
        event[rd.partner] = event[rd.cand]
        self.st.next_event += len(hit)
        return event

    # -- ground truth rows -------------------------------------------------------------------
    def _truth(self, ctx: _Ctx, reg: _Register, rd: _Read, event: np.ndarray, timing: dict[str, np.ndarray]
               ) -> pl.DataFrame:
        c, st, rows, cfg = self.c, self.st, ctx.rows, self.cfg
        tb = _TruthBuilder(reg.true_this, rd.rep_this, rd.true_kwh, rd.kwh, reg.scale)
        cust = c.mp_cust[rows]
        for name in READING_PROBLEMS:
            pos = np.flatnonzero(rd.pick == READING_PROBLEMS.index(name))
            if name == "CROSSED":
                pos, other = np.concatenate([rd.cand, rd.partner]), np.concatenate([rd.partner, rd.cand])
                detail: Any = _concat("swapped with ", c.cust_no.gather(cust[other]))
            elif name == "MISSED":
                detail = np.where(rd.raw_code[pos], "raw status code, 现场无表", "status MISSED")
            elif name in rd.detail and name in ("MULTIPLIER", "DATA_PREP"):
                detail = _concat("multiplier ", ctx.mult[pos], " -> ", rd.detail[name])
            else:
                detail = rd.detail.get(name, _DETAILS.get(name, "no trace in the readings"))
            tb.add(name, pos, event[pos], detail)
        since = np.asarray([*c.periods, "?"])[np.clip(st.fault_start[rows], 0, len(c.periods))]
        for f, name in enumerate(FAULTS):
            pos = np.flatnonzero(reg.fault_on == f + 1)
            tb.add(name, pos, FAULT_EVENT_BASE + rows[pos], np.char.add(f"{name.lower()} since ", since[pos]),
                   true_kwh_actual=reg.kwh_actual[pos])
        is_remote = rd.mode == _REMOTE
        for name, mask in (("OFF_PLAN_DAY", timing["off_seg"]), ("LATE_UPLOAD", timing["late_seg"])):
            seg_event = np.full(len(mask), -1, dtype=np.int64)
            segs = np.flatnonzero(mask)
            seg_event[segs] = st.next_event + np.arange(len(segs))
            st.next_event += len(segs)
            on_site = mask[ctx.seg] & ~is_remote
            if name == "OFF_PLAN_DAY":
                pos = np.flatnonzero(on_site & (rd.status != _MISSED))
                detail = _concat("read day ", timing["day"][pos], " vs plan day ", timing["plan"][pos])
            else:
                pos = np.flatnonzero(on_site)
                detail = _concat("uploaded ", timing["late_days"][ctx.seg[pos]], " day(s) late")
            tb.add(name, pos, seg_event[ctx.seg[pos]], detail)
        pos = np.flatnonzero(reg.rolled)
        tb.add("ROLLOVER", pos, np.full(len(pos), -1), _concat("register wrapped at 10^", st.digits_int[rows][pos]))
        pos = np.flatnonzero(ctx.changing)
        old = meter_numbers(c, *ctx.old_meter, cfg["meters"]["asset_prefix"], cfg["meters"]["asset_digits"])
        tb.add("METER_CHANGE", pos, np.full(len(pos), -1), _concat("replaces meter ", old))
        pos = np.flatnonzero(reg.vacant)
        tb.add("VACANT", pos, np.full(len(pos), -1), "vacant, no use", true_kwh_actual=np.zeros(len(pos)))
        return tb.frame()

    # -- what the billing system remembers ------------------------------------------------
    def _learn(self, ctx: _Ctx, rd: _Read, reg: _Register) -> None:
        st, rows = self.st, ctx.rows
        st.reg[rows] = reg.true_this
        st.rep[rows] = rd.rep_this
        learn = (rd.status == _READ) & (rd.wrap < reg.cap // 2)
        w = self.cfg["problems"]["ESTIMATED"]["history_weight"]
        st.est[rows[learn]] = (1 - w) * st.est[rows[learn]] + w * rd.wrap[learn]


def _concat(*parts: Any) -> pl.Series:
    """Vectorised string building: str parts are literals, arrays/Series are columns."""
    exprs = [pl.lit(p) if isinstance(p, str) else pl.Series(p).cast(pl.String) for p in parts]
    return pl.select(pl.concat_str(exprs)).to_series()


class _TruthBuilder:
    def __init__(self, true_this: np.ndarray, rep_this: np.ndarray, true_kwh: np.ndarray, rep_kwh: np.ndarray,
                 scale: np.ndarray):
        self.true_this, self.rep_this, self.true_kwh, self.rep_kwh, self.scale = (
            true_this, rep_this, true_kwh, rep_kwh, scale)
        self.parts: list[pl.DataFrame] = []

    def add(self, problem: str, pos: np.ndarray, event: np.ndarray, detail: Any,
            true_kwh_actual: np.ndarray | None = None) -> None:
        if len(pos) == 0:
            return
        sc = self.scale[pos].astype(float)
        true_kwh = self.true_kwh[pos] / sc if true_kwh_actual is None else np.round(true_kwh_actual, 2)
        if isinstance(detail, str):
            detail = pl.Series([detail]).gather(np.zeros(len(pos), dtype=np.int64))
        self.parts.append(pl.DataFrame({
            "pos": pos.astype(np.int64),
            "event_id": np.asarray(event, dtype=np.int64),
            "problem": pl.Series([problem]).gather(np.zeros(len(pos), dtype=np.int64)),
            "detail": pl.Series(detail, dtype=pl.String),
            "true_this_read": self.true_this[pos] / sc,
            "reported_this_read": self.rep_this[pos] / sc,
            "true_kwh": true_kwh,
            "reported_kwh": self.rep_kwh[pos] / sc,
        }))

    def frame(self) -> pl.DataFrame:
        schema = {"pos": pl.Int64, "event_id": pl.Int64, "problem": pl.String, "detail": pl.String,
                  "true_this_read": pl.Float64, "reported_this_read": pl.Float64, "true_kwh": pl.Float64,
                  "reported_kwh": pl.Float64}
        if not self.parts:
            return pl.DataFrame(schema=schema)
        return pl.concat(self.parts, how="vertical").cast(schema)
