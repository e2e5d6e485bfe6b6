"""The demo centre's entities: teams, reader pairs, segments, customers, metering points,
and the month-by-month assignment (rotation) plan.

All arrays are numpy, indexed by entity id. Customers are ordered by segment and route order
(抄表序号), metering points by customer, segments by 抄表段编号, so a month's readings come out
already in export order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from readq.demo import names
from readq.demo.settings import CLASSES, month_start, parse_digits, rng_for, weighted_choice

# random-stream purposes (keys of rng_for)
_S_SEGMENTS, _S_STAFF, _S_CUSTOMERS, _S_METERS, _S_ROTATION, _S_NAMES = 1, 2, 3, 4, 5, 6
_S_FABRICATORS = 8   # (7 is the simulation state's, readq.demo.behaviour)
NEVER = 1 << 30      # "month index" of something that does not happen


@dataclass
class Centre:
    periods: list[str]
    # teams
    team_names: list[str]
    team_export: list[str]
    # staff
    reader_names: list[str]
    reader_team: np.ndarray
    reader_pair: np.ndarray
    reader_propensity: np.ndarray
    reader_bad: np.ndarray
    reader_fabricator: np.ndarray     # makes up a large share of the on-site reads ([fabricators])
    pair_team: np.ndarray
    pair_members: np.ndarray          # (pairs, 2) reader ids
    clerk_names: list[str]
    # segments
    seg_no: pl.Series
    seg_name: pl.Series
    seg_team: np.ndarray
    seg_plan_day: np.ndarray
    seg_hv: np.ndarray
    seg_hand: np.ndarray              # read by hand (手工) when not remote, else 抄表机
    seg_remote_from: np.ndarray       # month index from which the segment is read remotely
    seg_start: np.ndarray             # first customer id of each segment
    # rotation plan, (months, segments)
    plan_pair: np.ndarray
    plan_reader: np.ndarray           # the responsible reader of the pair
    plan_partner: np.ndarray
    plan_held_since: np.ndarray       # month index (negative = before the window)
    # customers
    cust_no: pl.Series
    cust_name: pl.Series
    cust_phone: pl.Series
    cust_address: pl.Series
    cust_class: np.ndarray
    cust_segment: np.ndarray
    cust_route: np.ndarray
    cust_install: np.ndarray          # month index of 新装 (-1 = before the window)
    cust_close: np.ndarray            # month index from which closed (NEVER = open)
    cust_susp_start: np.ndarray
    cust_susp_end: np.ndarray
    cust_capacity: np.ndarray
    cust_info_changed: np.ndarray     # 当前变更 in the last month without a meter change
    # metering points (initial values; the simulation state evolves them)
    mp_cust: np.ndarray
    mp_no: pl.Series
    mp_mult: np.ndarray
    mp_digits_int: np.ndarray
    mp_digits_dec: np.ndarray
    mp_base_kwh: np.ndarray
    mp_season_sens: np.ndarray
    mp_meter_counter: np.ndarray      # creation counter of the current meter (-> its number)
    mp_meter_len: np.ndarray          # 0 = 21-digit asset code, else length of a short number
    mp_register0: np.ndarray          # register at the start (units of 10^-dec)
    mp_installed: np.ndarray          # datetime64[D] the current meter was installed
    meter_code: tuple[int, int, int, int]   # (a, b, a_short, b_short) of the meter-number bijection

    @property
    def months(self) -> int:
        return len(self.periods)

    @property
    def n_mp(self) -> int:
        return len(self.mp_cust)


# -- helpers -------------------------------------------------------------------------------

def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split `total` into integers proportional to `weights` (largest remainder)."""
    if total == 0 or len(weights) == 0:
        return np.zeros(len(weights), dtype=np.int64)
    raw = weights / weights.sum() * total
    out = np.floor(raw).astype(np.int64)
    rest = total - int(out.sum())
    order = np.argsort(-(raw - out), kind="stable")
    out[order[:rest]] += 1
    return out


def _segment_sizes(rng: np.random.Generator, total: int, mean: float, seg_cfg: dict[str, Any]) -> np.ndarray:
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    n = max(1, round(total / mean))
    shape = float(seg_cfg["size_shape"])
    lo, hi = seg_cfg["size_clip"]
    n = min(n, total)
    while True:
        w = np.clip(rng.gamma(shape, 1.0 / shape, n), lo, hi)
        sizes = _allocate(total, w)
        if sizes.max() > seg_cfg["max_customers"]:
            n += 1
        elif sizes.min() == 0:
            n -= 1
        else:
            return sizes


def _coprime10(rng: np.random.Generator, low: int, high: int) -> int:
    while True:
        a = int(rng.integers(low, high))
        if a % 2 and a % 5:
            return a


def meter_numbers(centre: Centre, counter: np.ndarray, length: np.ndarray, asset_prefix: str,
                  asset_digits: int) -> pl.Series:
    """电能表编号 of meters with the given creation counters: a bijection of the counter, so
    numbers never repeat; 21-digit asset codes (length 0) or short factory numbers."""
    a, b, a2, b2 = centre.meter_code
    width = asset_digits - len(asset_prefix)
    counter = counter.astype(np.int64)
    long_part = (a * counter + b) % (10**width)
    length = length.astype(np.int64)
    mod = np.power(10, np.where(length > 0, length, 1)).astype(np.int64)
    short_part = (a2 * counter + b2) % mod
    frame = pl.DataFrame({"l": long_part, "s": short_part, "n": length})
    return frame.select(
        pl.when(pl.col("n") == 0)
        .then(pl.concat_str(pl.lit(asset_prefix), pl.col("l").cast(pl.String).str.zfill(width)))
        .otherwise(pl.col("s").cast(pl.String).str.zfill(pl.col("n").cast(pl.UInt64)))
    ).to_series()


# -- building ------------------------------------------------------------------------------

def build_centre(cfg: dict[str, Any], seed: int, customers: int, periods: list[str]) -> Centre:
    if customers < 1:
        raise ValueError("customers must be at least 1")
    T = len(periods)
    teams = cfg["teams"]
    n_teams = len(teams)
    seg_cfg, cust_cfg, met_cfg, ctr = cfg["segments"], cfg["customers"], cfg["meters"], cfg["centre"]

    # ---- segments and customer classes
    rng = rng_for(seed, _S_SEGMENTS)
    shares = cust_cfg["class_shares"]
    n_hv = round(customers * shares["HV"])
    n_nonres = round(customers * shares["LV_NONRES"])
    n_res = customers - n_hv - n_nonres
    lv_sizes = _segment_sizes(rng, n_res + n_nonres, seg_cfg["mean_customers"], seg_cfg)
    hv_sizes = _segment_sizes(rng, n_hv, seg_cfg["hv_mean_customers"], seg_cfg)
    sizes = np.concatenate([lv_sizes, hv_sizes])
    is_hv = np.concatenate([np.zeros(len(lv_sizes), bool), np.ones(len(hv_sizes), bool)])
    order = rng.permutation(len(sizes))
    sizes, seg_hv = sizes[order], is_hv[order]
    S = len(sizes)
    seg_team = rng.permutation(S) % n_teams
    lo, hi = seg_cfg["plan_day_range"]
    seg_plan_day = rng.integers(lo, hi + 1, S)
    seg_hand = rng.random(S) < seg_cfg["manual_share"]
    step_lo, step_hi = ctr["segment_no_step"]
    seg_numbers = int(rng.integers(1, 1000)) + np.cumsum(rng.integers(step_lo, step_hi + 1, S))
    seg_no = _prefixed(ctr["segment_no_prefix"], ctr["segment_no_digits"], seg_numbers)

    rem = cfg["remote"]
    seg_remote_from = np.full(S, NEVER, dtype=np.int64)
    u = rng.random(S)
    start_share, end_share = rem["segment_share_start"], max(rem["segment_share_end"], rem["segment_share_start"])
    lv = ~seg_hv
    seg_remote_from[lv & (u < start_share)] = -1
    converting = lv & (u >= start_share) & (u < end_share)
    if T > 1:
        seg_remote_from[converting] = rng.integers(1, T, int(converting.sum()))
    seg_remote_from[seg_hv & (rng.random(S) < rem["hv_segment_share"])] = -1

    # ---- customers
    rng = rng_for(seed, _S_CUSTOMERS)
    cust_segment = np.repeat(np.arange(S), sizes)
    seg_start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    cust_route = (np.arange(customers) - seg_start[cust_segment] + 1).astype(np.int64)
    cust_class = np.full(customers, CLASSES.index("HV"), dtype=np.int8)
    lv_classes = np.concatenate([np.full(n_res, CLASSES.index("LV_RES")),
                                 np.full(n_nonres, CLASSES.index("LV_NONRES"))])
    cust_class[~seg_hv[cust_segment]] = rng.permutation(lv_classes).astype(np.int8)
    a = _coprime10(rng, 10**6, 10**7)
    b = int(rng.integers(0, 10**7))
    width = ctr["customer_no_digits"] - len(ctr["customer_no_prefix"])
    cust_no = _prefixed(ctr["customer_no_prefix"], ctr["customer_no_digits"],
                        (a * rng.permutation(customers).astype(np.int64) + b) % 10**width)

    # lifecycle: new, closed, suspended or ordinary (mutually exclusive)
    p_new, p_closed, p_susp = cust_cfg["new_share"], cust_cfg["closed_share"], cust_cfg["suspended_share"]
    u = rng.random(customers)
    is_new = (u < p_new) & (T > 1)
    is_closed = (u >= p_new) & (u < p_new + p_closed)
    is_susp = (u >= p_new + p_closed) & (u < p_new + p_closed + p_susp)
    cust_install = np.full(customers, -1, dtype=np.int64)
    if T > 1:
        cust_install[is_new] = rng.integers(1, T, int(is_new.sum()))
    cust_close = np.full(customers, NEVER, dtype=np.int64)
    cust_close[is_closed] = rng.integers(-cust_cfg["closed_before_months"], T, int(is_closed.sum()))
    cust_susp_start = np.full(customers, NEVER, dtype=np.int64)
    cust_susp_end = np.full(customers, NEVER, dtype=np.int64)
    cust_susp_start[is_susp] = rng.integers(0, T, int(is_susp.sum()))
    s_lo, s_hi = cust_cfg["suspension_months"]
    cust_susp_end[is_susp] = cust_susp_start[is_susp] + rng.integers(s_lo, s_hi + 1, int(is_susp.sum()))
    cust_info_changed = rng.random(customers) < cust_cfg["changed_share"]

    # ---- metering points
    rng = rng_for(seed, _S_METERS)
    n_mp_per = np.ones(customers, dtype=np.int64)
    hv_c = cust_class == CLASSES.index("HV")
    n_mp_per[hv_c & (rng.random(customers) < cust_cfg["hv_two_meter_share"])] = 2
    mp_cust = np.repeat(np.arange(customers), n_mp_per)
    M = len(mp_cust)
    mp_class = cust_class[mp_cust]
    mp_mult = np.ones(M, dtype=np.int64)
    mp_digits_int = np.zeros(M, dtype=np.int64)
    mp_digits_dec = np.zeros(M, dtype=np.int64)
    mp_base = np.zeros(M)
    for k, cls in enumerate(CLASSES):
        sel = np.flatnonzero(mp_class == k)
        c = cfg["classes"][cls]
        mp_mult[sel] = weighted_choice(rng, c["multipliers"], c["multiplier_weights"], len(sel))
        mp_digits_int[sel], mp_digits_dec[sel] = parse_digits(
            weighted_choice(rng, c["digits"], c["digits_weights"], len(sel)))
        mp_base[sel] = rng.lognormal(np.log(c["median_kwh"]), c["sigma"], len(sel))
    mp_season_sens = rng.lognormal(0.0, cfg["season"]["sensitivity_sigma"], M)
    mp_meter_counter = rng.permutation(M).astype(np.int64)   # meters of a route were not bought in order
    mp_meter_len = np.zeros(M, dtype=np.int64)
    short = rng.random(M) < met_cfg["short_share"]
    d_lo, d_hi = met_cfg["short_digits"]
    mp_meter_len[short] = rng.integers(d_lo, d_hi + 1, int(short.sum()))
    # register at the start: age x mean use, wrapped; a few deliberately near 10^digits
    scale = 10.0 ** mp_digits_dec
    cap = (10 ** (mp_digits_int + mp_digits_dec)).astype(np.int64)
    adv = mp_base / mp_mult * scale
    age_lo, age_hi = met_cfg["age_months"]
    age = rng.integers(age_lo, age_hi + 1, M)
    reg0 = np.round(age * adv).astype(np.int64) % cap
    near = rng.random(M) < met_cfg["near_rollover_share"]
    n_lo, n_hi = met_cfg["near_rollover_months"]
    reg0[near] = cap[near] - np.round(rng.uniform(n_lo, n_hi, int(near.sum())) * adv[near]).astype(np.int64)
    reg0 = np.clip(reg0, 0, cap - 1)
    first = month_start(periods[0])
    mp_installed = first - (age * 30.44).astype("timedelta64[D]") - rng.integers(0, 28, M).astype("timedelta64[D]")
    # new customers get a fresh meter at installation
    new_mp = cust_install[mp_cust] >= 0
    s_lo, s_hi = met_cfg["new_meter_start"]
    reg0[new_mp] = np.round(rng.uniform(s_lo, s_hi, int(new_mp.sum())) * scale[new_mp]).astype(np.int64)
    starts = np.array([month_start(p) for p in periods], dtype="datetime64[D]")
    new_idx = np.flatnonzero(new_mp)
    mp_installed[new_idx] = (starts[cust_install[mp_cust[new_idx]]]
                             + rng.integers(0, 20, len(new_idx)).astype("timedelta64[D]"))
    step_lo, step_hi = ctr["mp_no_step"]
    mp_numbers = int(rng.integers(1, 10**6)) + np.cumsum(rng.integers(step_lo, step_hi + 1, M))
    mp_no = _prefixed(ctr["mp_no_prefix"], ctr["mp_no_digits"], mp_numbers)
    width = met_cfg["asset_digits"] - len(met_cfg["asset_prefix"])
    meter_code = (_coprime10(rng, 10**10, 10**11), int(rng.integers(0, 10**width)),
                  _coprime10(rng, 10**3, 10**4), int(rng.integers(0, 10**7)))

    # contract capacity per customer: smallest standard step covering the use at the load factor
    cust_base = np.bincount(mp_cust, weights=mp_base, minlength=customers)
    cust_capacity = np.zeros(customers)
    for k, cls in enumerate(CLASSES):
        sel = cust_class == k
        c = cfg["classes"][cls]
        steps = np.asarray(c["capacities"], dtype=float)
        need = cust_base[sel] / (24 * 30.44 * c["load_factor"])
        cust_capacity[sel] = steps[np.minimum(np.searchsorted(steps, need), len(steps) - 1)]

    # ---- staff
    rng = rng_for(seed, _S_STAFF)
    staff_cfg = cfg["staff"]
    team_customers = np.bincount(seg_team[cust_segment], minlength=n_teams).astype(float)
    total_pairs = max(n_teams * staff_cfg["min_pairs_per_team"],
                      round(customers / staff_cfg["customers_per_reader"] / 2))
    base = staff_cfg["min_pairs_per_team"]
    pairs_per_team = base + _allocate(total_pairs - n_teams * base, np.maximum(team_customers, 1.0))
    pair_team = np.repeat(np.arange(n_teams), pairs_per_team)
    P = len(pair_team)
    pair_members = np.arange(2 * P).reshape(P, 2)
    reader_pair = np.repeat(np.arange(P), 2)
    reader_team = pair_team[reader_pair]
    R = 2 * P
    prop_cfg = cfg["propensity"]
    propensity = rng.lognormal(0.0, prop_cfg["good_sigma"], R)
    bad = rng.random(R) < prop_cfg["bad_share"]
    propensity[bad] = rng.uniform(*prop_cfg["bad_range"], int(bad.sum()))
    propensity *= np.asarray([t["propensity_factor"] for t in teams])[reader_team]
    rng_names = rng_for(seed, _S_NAMES)
    staff_names = names.unique_person_names(rng_names, R + staff_cfg["clerks"])
    reader_names, clerk_names = staff_names[:R], staff_names[R:]

    # ---- personal data
    area = pl.Series(names.area_names(rng_names, S))
    lv_no = rng_names.integers(1, 9, S)
    hv_name = pl.concat_str(pl.lit("专变用户"), pl.Series(np.arange(1, S + 1)).cast(pl.String), pl.lit("段"))
    lv_name = pl.concat_str(area, pl.Series(lv_no).cast(pl.String), pl.lit("#台区"))
    seg_name = pl.select(pl.when(pl.Series(seg_hv)).then(hv_name).otherwise(lv_name)).to_series()
    house = cust_route * rng_names.integers(1, 3, customers) + rng_names.integers(0, 3, customers)
    cust_address = names.addresses(rng_names, area.gather(cust_segment), house)
    cust_phone = names.phones(rng_names, customers)
    person = names.person_names(rng_names, customers)
    shop = names.business_names(rng_names, customers, large=False)
    company = names.business_names(rng_names, customers, large=True)
    cls_s = pl.Series(cust_class)
    cust_name = pl.select(
        pl.when(cls_s == CLASSES.index("HV")).then(company)
        .when(cls_s == CLASSES.index("LV_NONRES")).then(shop).otherwise(person)).to_series()

    # ---- rotation plan
    plan_pair, plan_reader, plan_partner, plan_held = _rotation_plan(
        rng_for(seed, _S_ROTATION), cfg["rotation"], T, seg_team, seg_remote_from, pair_team, pair_members)
    on_site = np.zeros(R, dtype=bool)
    on_site[plan_reader[np.arange(T)[:, None] < seg_remote_from[None, :]]] = True
    fabricator = choose_fabricators(rng_for(seed, _S_FABRICATORS), cfg["fabricators"], on_site)

    return Centre(
        periods=list(periods), team_names=[t["name"] for t in teams], team_export=[t["export"] for t in teams],
        reader_names=reader_names, reader_team=reader_team, reader_pair=reader_pair,
        reader_propensity=propensity, reader_bad=bad, reader_fabricator=fabricator, pair_team=pair_team,
        pair_members=pair_members,
        clerk_names=clerk_names,
        seg_no=seg_no, seg_name=seg_name, seg_team=seg_team, seg_plan_day=seg_plan_day, seg_hv=seg_hv,
        seg_hand=seg_hand, seg_remote_from=seg_remote_from, seg_start=seg_start,
        plan_pair=plan_pair, plan_reader=plan_reader, plan_partner=plan_partner, plan_held_since=plan_held,
        cust_no=cust_no, cust_name=cust_name, cust_phone=cust_phone, cust_address=cust_address,
        cust_class=cust_class, cust_segment=cust_segment, cust_route=cust_route, cust_install=cust_install,
        cust_close=cust_close, cust_susp_start=cust_susp_start, cust_susp_end=cust_susp_end,
        cust_capacity=cust_capacity, cust_info_changed=cust_info_changed,
        mp_cust=mp_cust, mp_no=mp_no, mp_mult=mp_mult, mp_digits_int=mp_digits_int, mp_digits_dec=mp_digits_dec,
        mp_base_kwh=mp_base, mp_season_sens=mp_season_sens, mp_meter_counter=mp_meter_counter,
        mp_meter_len=mp_meter_len, mp_register0=reg0,
        mp_installed=mp_installed, meter_code=meter_code,
    )


def fabricator_count(fab_cfg: dict[str, Any], readers: int) -> int:
    """How many of `readers` fabricate: share x readers rounded half up, at least min_count in a
    centre of at least min_readers readers, never more than there are."""
    n = math.floor(float(fab_cfg["share"]) * readers + 0.5)
    if readers >= int(fab_cfg["min_readers"]):
        n = max(n, int(fab_cfg["min_count"]))
    return min(n, readers)


def choose_fabricators(rng: np.random.Generator, fab_cfg: dict[str, Any], on_site: np.ndarray) -> np.ndarray:
    """Boolean per reader: the fabricators, fabricator_count(all readers) of them, drawn uniformly
    among the readers who read on site at all in the window (`on_site`; a reader whose pair's
    other member does the rounds, or whose segments are all remote, has nothing to make up)."""
    out = np.zeros(len(on_site), dtype=bool)
    eligible = np.flatnonzero(on_site)
    n = min(fabricator_count(fab_cfg, len(on_site)), len(eligible))
    out[rng.choice(eligible, n, replace=False)] = True
    return out


def _prefixed(prefix: str, digits: int, values: np.ndarray) -> pl.Series:
    width = digits - len(prefix)
    return pl.select(pl.concat_str(pl.lit(prefix), pl.Series(values.astype(np.int64)).cast(pl.String)
                                   .str.zfill(width))).to_series()


def _rotation_plan(rng: np.random.Generator, rot: dict[str, Any], T: int, seg_team: np.ndarray,
                   seg_remote_from: np.ndarray, pair_team: np.ndarray, pair_members: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Which pair (and which member of it, the responsible reader) holds each segment in each
    month, and since when. Segments change pair when their tenure reaches a per-segment
    cadence; a configured share is held past the limit; remote segments do not rotate."""
    S = len(seg_team)
    team_pairs = [np.flatnonzero(pair_team == k) for k in range(int(pair_team.max()) + 1)]
    padded = np.zeros((len(team_pairs), max(len(p) for p in team_pairs)), dtype=np.int64)
    for k, pairs in enumerate(team_pairs):
        padded[k, :len(pairs)] = pairs
    local = np.zeros(S, dtype=np.int64)
    for k, pairs in enumerate(team_pairs):
        segs = np.flatnonzero(seg_team == k)
        local[segs] = rng.permutation(len(segs)) % len(pairs)
    n_local = np.array([len(team_pairs[k]) for k in seg_team])
    member = rng.integers(0, 2, S)
    c_lo, c_hi = rot["cadence_months"]
    cadence = rng.integers(c_lo, c_hi + 1, S)
    overdue = rng.random(S) < rot["overdue_share"]
    o_lo, o_hi = rot["overdue_months"]
    cadence[overdue] = rng.integers(o_lo, o_hi + 1, int(overdue.sum()))
    held = -rng.integers(0, cadence)          # held_since relative to month 0
    plan_pair = np.zeros((T, S), dtype=np.int64)
    plan_held = np.zeros((T, S), dtype=np.int64)
    plan_member = np.zeros((T, S), dtype=np.int64)
    for t in range(T):
        due = np.flatnonzero((t - held >= cadence) & (seg_remote_from > t))
        for s in due:
            if n_local[s] > 1:
                local[s] = (local[s] + rng.integers(1, n_local[s])) % n_local[s]
            else:
                member[s] = 1 - member[s]
            held[s] = t
            cadence[s] = rng.integers(c_lo, c_hi + 1)
        plan_pair[t] = padded[seg_team, local]
        plan_member[t] = member
        plan_held[t] = held
    plan_reader = pair_members[plan_pair, plan_member]
    plan_partner = pair_members[plan_pair, 1 - plan_member]
    return plan_pair, plan_reader, plan_partner, plan_held
