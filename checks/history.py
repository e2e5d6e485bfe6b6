"""What a metering point's history says about this month's reading: no I/O but the connection it is given.

`reading_context(window, period, cfg)` takes the readings of one month and of up to
`[history].months` months before it (the columns of marts.meter_readings listed in WINDOW_COLUMNS)
and returns one row per metering point read this month with the columns of marts.reading_context:
the read period in days, the use, the expected use and its band, robust statistics of the
deseasonalised use per day, runs of zero use and of estimates, the CUSUM change point of a sustained
drop, and whether the previous reading looks wrong in a way this one compensates.

The history is held as dense matrices (metering point × month) so that every statistic is one
vectorised numpy expression: the cost grows with the meters of the month, and only mildly with the
months of history (at most 25 columns). Each point's month is first encoded in numbers by one SQL text
(`POINT_MONTHS_SQL`: the kept row, its month index, a status code, a read day, a meter code and the
register values); the warehouse keeps those rows month by month in marts.point_history, so a month with
24 months behind it scans narrow numeric columns and joins on an integer (`HISTORY_SQL`), and nothing
per window row is done in Python. `reading_context` (pure: a frame in, a frame out) runs the same two
texts on an in-memory DuckDB over the frame it is given; the warehouse step runs them over
marts.meter_readings and marts.point_history (`context_from(conn, "marts.meter_readings", …,
history="marts.point_history")`), so the window is never a frame in Python.

A point with two rows in a month (the old and the new meter, or two in-force copies) keeps one:
`KEEP_ORDER` (the highest 本次, then the lowest meter number, then the other columns, so the choice is
always the same one), for the month's own row and for its history alike.

Conventions: "use" is kWh of the read period ((本次 − 上次) × 倍率); "per day" divides it by the days
of the read period (read dates, else 例日 to 例日, else months × `days_per_month`), so 2- and 4-month
cycles compare with monthly ones; "valid" history is a reading with status READ, a known positive use
and no meter change in its period (zeros, estimates, partial periods are no evidence of normal use).
"""

from __future__ import annotations

import os
from typing import Any

import duckdb
import numpy as np
import polars as pl

WINDOW_COLUMNS = (
    "period", "mp_key", "meter_no", "customer_class", "multiplier", "digits_int", "contract_capacity",
    "last_read", "this_read", "read_status", "read_date", "plan_day",
)
_READ, _MISSED, _ESTIMATED = 1, 2, 3

# Which row of a point's month is kept when it has several: the highest 本次 (a missing one last), then the
# lowest meter number; the other columns only make the choice the same every time.
KEEP_ORDER = ("this_read desc nulls last, meter_no, last_read desc nulls last, read_status, read_date, plan_day, "
              "multiplier, digits_int, customer_class, contract_capacity")

# The month's metering points in mp_key order, each with its kept row (the first of its mp_key) and mp_id, the
# hash of mp_key that the history joins on (marts.meter_readings.mp_id is the same hash).
POINTS_SQL = f"""
select mp_key, hash(mp_key) as mp_id, meter_no, customer_class, multiplier, digits_int, contract_capacity
from {{source}}
where period = $period
order by mp_key, {KEEP_ORDER}
"""

# One row per metering point and month of {source} (a relation with WINDOW_COLUMNS) where {where}: the kept
# row (KEEP_ORDER) of the point in the month, in numbers: mp_id (hash of mp_key), the month index (months
# since 0000-01), the status code, the numbers (null where unknown), the read day (days since 1970: the read
# date, else the 例日 in its month, clipped to the month's days, else the 15th), whether it was dated, and a
# code of the meter number (a 63-bit hash: equal codes, the same meter; -1: none). marts.point_history holds
# these rows month by month (warehouse/steps/point_history.py); over any other relation they are computed
# on the fly (`context_from` without `history`).
POINT_MONTHS_SQL = f"""
with kept as (
    select {", ".join(WINDOW_COLUMNS)}
    from {{source}}
    where {{where}}
    qualify row_number() over (partition by period, mp_key order by {KEEP_ORDER}) = 1
),
dated as (
    select *,
           make_date(left(period, 4)::integer, right(period, 2)::integer, 1)           as first_day
    from kept
),
final as (
    select period,
           mp_key,
           hash(mp_key)                                                                 as mp_id,
           (left(period, 4)::integer * 12 + right(period, 2)::integer - 1)::integer     as month,
           case read_status when 'READ' then 1 when 'MISSED' then 2 when 'ESTIMATED' then 3
                else 0 end::tinyint                                                     as status,
           this_read::double                                                            as this_read,
           last_read::double                                                            as last_read,
           multiplier::double                                                           as multiplier,
           digits_int::double                                                           as digits,
           coalesce(read_date - date '1970-01-01',
                    (first_day - date '1970-01-01') - 1 + least(greatest(coalesce(
                        case when not isnan(plan_day::double) then trunc(plan_day::double) end, 15), 1),
                        day(last_day(first_day))))::integer                              as read_day,
           read_date is not null                                                        as dated,
           case when meter_no is null then -1 else (hash(meter_no) >> 1)::bigint end   as meter
    from dated
)
select * from final
"""

# One row per history row of the month's points: i (the point's row in POINTS_SQL), j (the month's column in
# the window: 0 = `months` back, last = this month) and the columns of POINT_MONTHS_SQL, with no nulls (NaN
# for an unknown number, `dated` as 0/1) so that every column reaches numpy without a copy. {history} is a
# relation of POINT_MONTHS_SQL's rows (marts.point_history, or that SQL as a subquery); {points} is the
# relation of the points (mp_id, i).
HISTORY_SQL = """
select p.i,
       (h.month - $first_month)::smallint           as j,
       h.status,
       coalesce(h.this_read, 'nan'::double)         as this_read,
       coalesce(h.last_read, 'nan'::double)         as last_read,
       coalesce(h.multiplier, 'nan'::double)        as multiplier,
       coalesce(h.digits, 'nan'::double)            as digits,
       h.read_day,
       h.dated::tinyint                             as dated,
       h.meter
from {history} h
join {points} p on h.mp_id = p.mp_id
where h.period between $first and $last
"""


def month_index(period: str) -> int:
    """Months since 0000-01 of a 'YYYY-MM' period."""
    return int(period[:4]) * 12 + int(period[5:7]) - 1


def period_of_index(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_points(conn: duckdb.DuckDBPyConnection, source: str, period: str) -> pl.DataFrame:
    """The metering points read in `period` (mp_key order) with the columns of their kept row."""
    rows = conn.sql(POINTS_SQL.format(source=source), params={"period": period}).pl()
    points = rows.filter(rows["mp_key"].is_first_distinct())
    if points["mp_id"].n_unique() < points.height:
        twins = points.filter(pl.col("mp_id").is_duplicated())["mp_key"].to_list()
        raise ValueError(f"metering points {twins[:4]} of {period} share one 64-bit hash of their mp_key: "
                         "their histories cannot be told apart")
    return points


# The matrices history_matrices fills from HISTORY_SQL's columns: (dtype, value where a point has no row).
_MATRICES: dict[str, tuple[Any, Any]] = {
    "status": (np.int8, 0), "this_read": (np.float64, np.nan), "last_read": (np.float64, np.nan),
    "multiplier": (np.float64, np.nan), "digits": (np.float64, np.nan), "read_day": (np.float64, np.nan),
    "dated": (np.bool_, False), "meter": (np.int64, -1),
}
_BATCH_ROWS = 1 << 20


def history_params(period: str, months_back: int) -> dict[str, Any]:
    """HISTORY_SQL's parameters for `period` and the `months_back` months before it."""
    first = month_index(period) - months_back
    return {"first": period_of_index(first), "last": period, "first_month": first}


def adhoc_history(source: str) -> str:
    """POINT_MONTHS_SQL over `source` for HISTORY_SQL's window, as a subquery (where no marts.point_history is)."""
    return "(" + POINT_MONTHS_SQL.format(source=source, where="period between $first and $last") + ")"


def history_matrices(conn: duckdb.DuckDBPyConnection, history: str, points: pl.DataFrame, period: str,
                     months_back: int) -> dict[str, np.ndarray]:
    """HISTORY_SQL's columns as point × month matrices (row i: the i-th of `points`; column j: `months_back`
    − j months before `period`) from `history`, a relation of POINT_MONTHS_SQL's rows (one per point and month).

    The rows stream from DuckDB in batches, each scattered into the matrices at once (no frame of the whole
    window is ever held)."""
    n, M = points.height, months_back + 1
    # month-major while filling (a batch holds rows of few months: its writes stay close), point-major after
    out = {name: np.full(M * n, fill, dtype=dtype) for name, (dtype, fill) in _MATRICES.items()}
    cell_type = np.int32 if M * n < 2**31 else np.int64
    conn.register("history_points", points.select("mp_id", i=pl.int_range(pl.len(), dtype=pl.Int32)))
    try:
        reader = conn.sql(HISTORY_SQL.format(history=history, points="history_points"),
                          params=history_params(period, months_back)).to_arrow_reader(_BATCH_ROWS)
        for batch in reader:
            # through polars: zero-copy (no nulls, no booleans), and pyarrow's own to_numpy imports pandas (~1.5 s)
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            cell = frame["j"].to_numpy().astype(cell_type) * cell_type(n) + frame["i"].to_numpy()
            for col, target in out.items():
                target[cell] = frame[col].to_numpy()
    finally:
        conn.unregister("history_points")
    return {name: np.ascontiguousarray(out.pop(name).reshape(M, n).T) for name in list(out)}


def band_shares(expected_kwh: np.ndarray, bands: list[dict[str, float]]) -> tuple[np.ndarray, np.ndarray]:
    """(high share, low share) of the HIGH/LOW band for each expected use, by its size tier."""
    tiers = sorted(bands, key=lambda b: b["min_kwh"])
    high = np.full(len(expected_kwh), np.nan)
    low = np.full(len(expected_kwh), np.nan)
    for tier in tiers:
        sel = expected_kwh >= tier["min_kwh"]
        high[sel], low[sel] = tier["high"], tier["low"]
    return high, low


def _kth_last(valid: np.ndarray, values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k-th last (k = 1: last) valid value of each row and its column (-1, nan when none)."""
    from_right = np.cumsum(valid[:, ::-1], axis=1)[:, ::-1]
    hit = valid & (from_right == k)
    col = np.where(hit.any(axis=1), hit.argmax(axis=1), -1)
    rows = np.arange(len(col))
    val = np.where(col >= 0, values[rows, np.maximum(col, 0)], np.nan)
    return val, col


def _nanmedian_rows(m: np.ndarray) -> np.ndarray:
    """np.nanmedian(m, axis=1), NaN for a row without a number, on rows as short as the window's: one sort
    (NaN sorts last), then the middle one or two of each row's numbers (numpy's own takes the masked-array
    path for short rows, several times slower)."""
    if m.shape[1] == 0:
        return np.full(m.shape[0], np.nan)
    ordered = np.sort(m, axis=1)
    k = m.shape[1] - np.isnan(m).sum(axis=1)
    rows = np.arange(m.shape[0])
    lo, hi = np.maximum((k - 1) // 2, 0), k // 2
    with np.errstate(invalid="ignore"):
        mid = (ordered[rows, lo] + ordered[rows, np.minimum(hi, m.shape[1] - 1)]) / 2
    return np.where(k > 0, mid, np.nan)


def _empty_context() -> pl.DataFrame:
    return pl.DataFrame(schema=CONTEXT_SCHEMA)


CONTEXT_SCHEMA: dict[str, Any] = {
    "period": pl.String, "mp_key": pl.String, "meter_no": pl.String, "prev_period": pl.String,
    "prev_read_date": pl.Date, "prev_this_read": pl.Float64, "meter_changed": pl.Boolean,
    "period_days": pl.Int32, "cycle_months": pl.Int32, "use_kwh": pl.Float64, "wrapped_kwh": pl.Float64,
    "use_per_day": pl.Float64, "expected_kwh": pl.Float64, "expected_per_day": pl.Float64,
    "expected_trailing": pl.Float64, "expected_yoy": pl.Float64, "expected_smooth": pl.Float64,
    "season_index": pl.Float64,
    "history_months": pl.Int32, "band_low": pl.Float64, "band_high": pl.Float64,
    "robust_median": pl.Float64, "robust_mad": pl.Float64, "robust_z": pl.Float64, "robust_months": pl.Int32,
    "zero_cycles": pl.Int32, "estimate_cycles": pl.Int32, "repeat_kwh1": pl.Float64, "repeat_kwh2": pl.Float64,
    "repeat_days1": pl.Int32, "repeat_days2": pl.Int32, "drop_start": pl.String, "drop_ratio": pl.Float64,
    "drop_t": pl.Float64, "drop_months": pl.Int32, "prev_suspect": pl.Boolean,
}


def reading_context(window: pl.DataFrame, period: str, cfg: dict[str, Any]) -> pl.DataFrame:
    """One row per metering point read in `period`, from `window` (that month and its history; the frame's
    order does not matter: a point's kept row of a month is KEEP_ORDER's, as in the warehouse)."""
    with _memory().cursor() as conn:
        conn.register("history_window", window.select(WINDOW_COLUMNS))
        return context_from(conn, "history_window", period, cfg)


_MEMORY: dict[int, duckdb.DuckDBPyConnection] = {}


def _memory() -> duckdb.DuckDBPyConnection:
    """This process's in-memory DuckDB (opening one costs ~50 ms; a cursor of it, nothing)."""
    if (conn := _MEMORY.get(os.getpid())) is None:
        conn = _MEMORY[os.getpid()] = duckdb.connect()
    return conn


def context_from(conn: duckdb.DuckDBPyConnection, source: str, period: str, cfg: dict[str, Any],
                 history: str | None = None) -> pl.DataFrame:
    """reading_context over the relation `source` of `conn` (a table or view with WINDOW_COLUMNS): the month's
    points from it, their history from `history` (a relation of POINT_MONTHS_SQL's rows, e.g.
    marts.point_history), else from POINT_MONTHS_SQL over `source`."""
    hc = cfg["history"]
    rules = cfg["rules"]
    months_back = int(hc["months"])
    now = month_index(period)
    current = month_points(conn, source, period)
    n = current.height
    if n == 0:
        return _empty_context()
    M = months_back + 1
    mats = history_matrices(conn, history or adhoc_history(source), current, period, months_back)
    status = mats.pop("status")
    this_m, last_m = mats.pop("this_read"), mats.pop("last_read")
    mult = mats.pop("multiplier")
    mult = np.where(np.isnan(mult), 1.0, mult)
    digits = mats.pop("digits")
    span = np.where(np.isnan(digits), np.nan, 10.0 ** digits)
    del digits
    advance = this_m - last_m
    # a roll-over in the history counts when its wrapped use is below the FALSE_ROLLOVER line
    span_cap = rules["FALSE_ROLLOVER"]["max_span_share"] * span
    top_ok = (last_m >= (1 - hc["rollover_top_share"]) * span) | (advance + span <= span_cap)
    use_m = np.where(advance >= 0, advance * mult, np.where(top_ok, (advance + span) * mult, np.nan))
    del advance, span, span_cap, top_ok, mult
    date_m, dated_m, meter_m = mats.pop("read_day"), mats.pop("dated"), mats.pop("meter")

    # previous reading (not 未抄) before each month, per metering point
    is_read = (status == _READ) | (status == _ESTIMATED)
    pos = np.where(is_read, np.arange(M)[None, :], -1)
    last_pos = np.maximum.accumulate(pos, axis=1)
    prev_pos = np.concatenate([np.full((n, 1), -1), last_pos[:, :-1]], axis=1)
    rows2 = np.arange(n)[:, None]
    has_prev = prev_pos >= 0
    pp = np.maximum(prev_pos, 0)
    days_m = np.where(has_prev, date_m - date_m[rows2, pp], np.nan)
    cycle_m = np.where(has_prev, np.arange(M)[None, :] - prev_pos, 0)
    fallback_days = np.round(np.maximum(cycle_m, 1) * hc["days_per_month"])
    days_m = np.where(np.isnan(days_m) | (days_m <= 0), fallback_days, days_m)
    changed_m = has_prev & (meter_m != meter_m[rows2, pp]) & (meter_m >= 0)
    per_day_m = use_m / days_m
    valid = (status == _READ) & (use_m > 0) & ~changed_m & np.isfinite(per_day_m)

    # seasonal index per class and month: median over the class's points of use / own median
    classes = current["customer_class"].fill_null("").to_numpy()
    own_med = _nanmedian_rows(np.where(valid, per_day_m, np.nan))
    ratio_m = np.where(valid, per_day_m / own_med[:, None], np.nan)
    season = np.ones((n, M))
    for c in np.unique(classes):
        sel = classes == c
        block = ratio_m[sel]
        counts = (~np.isnan(block)).sum(axis=0)
        med = np.ones(M)
        enough = counts >= hc["season_min_points"]
        if enough.any():
            med[enough] = np.nanmedian(block[:, enough], axis=0)
        season[sel] = med[None, :]
    # history screened like a trend table: a month far from the point's own median is no evidence
    s_ratio = hc["suspect_ratio"]
    own_n = valid.sum(axis=1)
    screened = valid & ~((own_n[:, None] >= hc["min_history_months"])
                         & ((ratio_m > s_ratio) | (ratio_m < 1 / s_ratio)))
    x_m = np.where(valid, per_day_m / season, np.nan)

    cur = M - 1
    hist_valid = screened.copy()
    hist_valid[:, cur] = False
    trailing = np.stack([_kth_last(hist_valid, x_m, k)[0] for k in range(1, int(hc["trailing_reads"]) + 1)], axis=1)
    trail = _nanmedian_rows(trailing) * season[:, cur]
    yoy = np.where(hist_valid[:, cur - 12], per_day_m[:, cur - 12], np.nan) if M > 12 else np.full(n, np.nan)
    wt, wy = hc["trailing_weight"], hc["yoy_weight"]
    num = np.where(np.isnan(trail), 0, wt * np.nan_to_num(trail)) + np.where(np.isnan(yoy), 0, wy * np.nan_to_num(yoy))
    den = np.where(np.isnan(trail), 0, wt) + np.where(np.isnan(yoy), 0, wy)
    history_months = hist_valid.sum(axis=1)
    expected_pd = np.where((den > 0) & (history_months >= hc["min_history_months"]),
                           num / np.where(den > 0, den, 1), np.nan)

    # a period longer than the point's usual cycle (a suspension, months without a read) is not judged
    # against per-day history: nobody knows on how many of those days power was used
    cyc_hist = np.where(is_read & has_prev, cycle_m, np.nan).astype(np.float64)
    cyc_hist[:, cur] = np.nan
    usual = _nanmedian_rows(cyc_hist)
    gap = has_prev[:, cur] & (cycle_m[:, cur] > np.where(np.isnan(usual), 1, usual))
    # nor is a period whose 上次 is not the previous 本次 (the register chain is broken: a reading in
    # between is missing or was changed), or whose read dates give a length READ_DATE rejects
    pc0 = np.maximum(prev_pos[:, cur], 0)
    chain_broken = (has_prev[:, cur] & ~changed_m[:, cur]
                    & (np.abs(last_m[:, cur] - this_m[np.arange(n), pc0]) > hc["chain_tolerance"]))
    rd = rules["READ_DATE"]
    cyc = np.maximum(cycle_m[:, cur], 1)
    dated = dated_m[:, cur] & dated_m[np.arange(n), pc0] & has_prev[:, cur]
    length = days_m[:, cur]
    bad_length = dated & ((length < rd["min_days_per_month"] * cyc) | (length > rd["max_days_per_month"] * cyc))
    expected_pd = np.where(gap | chain_broken | bad_length, np.nan, expected_pd)

    # this month's period, use and roll-over plausibility
    days = days_m[:, cur]
    period_days = np.where(has_prev[:, cur], days, np.nan)
    expected_kwh = expected_pd * days
    cm = current
    c_this, c_last = this_m[:, cur], last_m[:, cur]
    c_mult = cm["multiplier"].cast(pl.Float64).fill_null(1.0).to_numpy()
    c_span = 10.0 ** cm["digits_int"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    capacity = cm["contract_capacity"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    cap_kwh = capacity * 24.0 * days * rules["CAPACITY"]["factor"]
    decrease = c_this < c_last
    wrapped = np.where(decrease, (c_this - c_last + c_span) * c_mult, np.nan)
    # plausible: the wrapped use is at most rollover_max_ratio × expected (else the capacity cap, else the
    # FALSE_ROLLOVER line: max_span_share of the register), and the register could have reached its top
    # with such a use (or was within rollover_top_share of it)
    limit = np.where(np.isnan(expected_kwh), cap_kwh, hc["rollover_max_ratio"] * expected_kwh)
    limit = np.where(np.isnan(limit), rules["FALSE_ROLLOVER"]["max_span_share"] * c_span * c_mult, limit)
    to_top = (c_span - c_last) * c_mult
    near_top = (c_last >= (1 - hc["rollover_top_share"]) * c_span) | (to_top <= limit)
    plausible_wrap = decrease & near_top & (wrapped <= limit)
    changed = changed_m[:, cur]
    use = np.where(~decrease, (c_this - c_last) * c_mult, np.where(plausible_wrap & ~changed, wrapped, np.nan))
    use_pd = use / days

    high, low = band_shares(np.nan_to_num(expected_kwh, nan=-1.0), rules["HIGH"]["bands"])
    floor = rules["HIGH"]["floor_kwh"]
    band_high = np.maximum(expected_kwh * (1 + high), expected_kwh + floor)
    band_low = np.maximum(np.minimum(expected_kwh * (1 - low), expected_kwh - floor), 0.0)

    # robust z of the deseasonalised use per day over the history
    hx = np.where(hist_valid, x_m, np.nan)
    r_med = _nanmedian_rows(hx)
    r_mad = _nanmedian_rows(np.abs(hx - r_med[:, None]))
    r_n = hist_valid.sum(axis=1)
    rz = rules["ROBUST_Z"]
    scale = 1.4826 * np.maximum(r_mad, rz["min_mad_share"] * r_med)
    x_cur = use_pd / season[:, cur]
    judged = (r_n > 0) & (scale > 0) & (use > 0) & ~gap
    robust_z = np.where(judged, np.abs(x_cur - r_med) / np.where(scale > 0, scale, 1), np.nan)

    zero_cycles, estimate_cycles = _runs(status, use_m, use)

    # previous two periods (REPEATED_USE)
    read_val = is_read.copy()
    read_val[:, cur] = False
    k1, c1 = _kth_last(read_val, use_m, 1)
    k2, c2 = _kth_last(read_val, use_m, 2)
    d1 = np.where(c1 >= 0, days_m[np.arange(n), np.maximum(c1, 0)], np.nan)
    d2 = np.where(c2 >= 0, days_m[np.arange(n), np.maximum(c2, 0)], np.nan)

    drop = _sustained_drop(x_m, valid, now - months_back, rules["SUSTAINED_DROP"])
    smooth = _smoothed(use_m, status, changed_m, hc["smooth_weight"])

    # the previous reading looks wrong and this one compensates it
    pc = prev_pos[:, cur]
    has = pc >= 0
    pcc = np.maximum(pc, 0)
    prev_use = use_m[np.arange(n), pcc]
    prev_exp = r_med * season[np.arange(n), pcc] * days_m[np.arange(n), pcc]
    prev_ratio = prev_use / prev_exp
    s = hc["suspect_ratio"]
    prev_bad = has & np.isfinite(prev_exp) & (prev_exp > 0) & (
        np.isnan(prev_use) | (prev_ratio > s) | (prev_ratio < 1 / s))
    prev_last = last_m[np.arange(n), pcc]
    both = (c_this - prev_last) * c_mult
    both_ratio = both / (prev_exp + expected_kwh)
    comp = hc["compensated_ratio"]
    by_ratio = prev_bad & np.isfinite(both_ratio) & (both_ratio <= comp) & (both_ratio >= 1 / comp)
    # or, with no history needed: the register is in order once the previous reading is left out (it was
    # above both neighbours, or below both), so that reading is the one out of line
    # (a meter running backwards by less than a month's use looks the same, so a previous use that
    # was plausible against expected clears that reading)
    prev_this = this_m[np.arange(n), pcc]
    known = np.isfinite(prev_exp) & (prev_exp > 0)
    too_high = (prev_this > c_this) & (c_this >= prev_last) & (~known | (prev_ratio > s))
    both_ok = ~np.isfinite(both_ratio) | ((both_ratio <= comp) & (both_ratio >= 1 / comp))
    too_low = (prev_this < prev_last) & (c_this >= prev_last) & both_ok
    prev_suspect = has & ~changed & (by_ratio | too_high | too_low)

    prev_period = _labels(now - months_back, M, pcc, has)
    prev_date = np.where(has, date_m[np.arange(n), pcc], np.nan)
    return pl.DataFrame({
        "period": [period] * n,
        "mp_key": cm["mp_key"],
        "meter_no": cm["meter_no"],
        "prev_period": prev_period,
        "prev_read_date": _int(prev_date).cast(pl.Date),
        "prev_this_read": np.where(has, this_m[np.arange(n), pcc], np.nan),
        "meter_changed": changed,
        "period_days": _int(period_days),
        "cycle_months": _int(np.where(has, cycle_m[:, cur], np.nan)),
        "use_kwh": use,
        "wrapped_kwh": wrapped,
        "use_per_day": use_pd,
        "expected_kwh": expected_kwh,
        "expected_per_day": expected_pd,
        "expected_trailing": trail,
        "expected_yoy": yoy,
        "expected_smooth": smooth,
        "season_index": season[:, cur],
        "history_months": history_months.astype(np.int32),
        "band_low": band_low,
        "band_high": band_high,
        "robust_median": r_med,
        "robust_mad": r_mad,
        "robust_z": robust_z,
        "robust_months": r_n.astype(np.int32),
        "zero_cycles": zero_cycles,
        "estimate_cycles": estimate_cycles,
        "repeat_kwh1": k1, "repeat_kwh2": k2,
        "repeat_days1": _int(d1), "repeat_days2": _int(d2),
        "drop_start": drop["start"], "drop_ratio": drop["ratio"], "drop_t": drop["t"],
        "drop_months": drop["months"],
        "prev_suspect": prev_suspect,
    }, nan_to_null=True).cast(CONTEXT_SCHEMA)


def _labels(first_index: int, months: int, col: np.ndarray, mask: np.ndarray) -> pl.Series:
    """The period label of column `col` of the window where `mask`, else null."""
    labels = pl.Series([period_of_index(first_index + c) for c in range(months)], dtype=pl.String)
    picked = labels.gather(col.astype(np.int64))
    return pl.select(pl.when(pl.Series(mask)).then(picked)).to_series()


def _int(a: np.ndarray) -> pl.Series:
    return pl.Series(np.round(np.asarray(a, dtype=np.float64)), nan_to_null=True).cast(pl.Int32)


def _smoothed(use_m: np.ndarray, status: np.ndarray, changed_m: np.ndarray, weight: float) -> np.ndarray:
    """The billing system's reference use before this month: exponential smoothing, with `weight` on the
    newest, of the uses reported (已抄, a known use; restarted by a new meter)."""
    n, M = use_m.shape
    est = np.full(n, np.nan)
    for c in range(M - 1):
        use = use_m[:, c]
        ok = (status[:, c] == _READ) & np.isfinite(use) & (use >= 0)
        est = np.where(changed_m[:, c], np.nan, est)
        est = np.where(ok, np.where(np.isnan(est), use, (1 - weight) * est + weight * use), est)
    return est


def _runs(status: np.ndarray, use_m: np.ndarray, use_now: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive zero-use read cycles and consecutive 估抄 ending with this month (未抄 months are
    not cycles: they neither count nor break a run)."""
    n, M = status.shape
    use_m = use_m.copy()
    use_m[:, -1] = use_now
    zeros = np.zeros(n, dtype=np.int32)
    estimates = np.zeros(n, dtype=np.int32)
    z_alive = np.ones(n, dtype=bool)
    e_alive = np.ones(n, dtype=bool)
    for c in range(M - 1, -1, -1):
        s = status[:, c]
        skip = (s == _MISSED) | (s == 0)
        is_zero = (s == _READ) & (use_m[:, c] == 0)
        zeros += (z_alive & is_zero).astype(np.int32)
        z_alive &= is_zero | skip
        is_est = s == _ESTIMATED
        estimates += (e_alive & is_est).astype(np.int32)
        e_alive &= is_est | skip
        if c == M - 1:
            z_alive &= is_zero
            e_alive &= is_est
    return zeros, estimates


def _sustained_drop(x_m: np.ndarray, valid: np.ndarray, first_index: int, p: dict[str, Any]) -> dict[str, Any]:
    """CUSUM change point of log(deseasonalised use per day), judged at the last month.

    The change point k maximises S_k = Σ_{t≤k} (y_t − ȳ) over the valid months; the drop is the mean
    after k against the mean before, with a pooled-variance t statistic. A drop counts when this
    month is valid and after it, at least `min_after` months long, and deep and sure enough; or when
    the last `below_months` uses are all below `below_share` of the level before them.
    """
    n, M = x_m.shape
    y = np.where(valid, np.log(np.where(valid, x_m, 1.0)), 0.0)
    cnt = valid.sum(axis=1)
    mean = np.where(cnt > 0, y.sum(axis=1) / np.maximum(cnt, 1), 0.0)
    dev = np.where(valid, y - mean[:, None], 0.0)
    S = np.cumsum(dev, axis=1)
    n1 = np.cumsum(valid, axis=1)
    n2 = cnt[:, None] - n1
    ok_k = valid & (n1 >= 2) & (n2 >= p["min_after"])
    S_masked = np.where(ok_k, S, -np.inf)
    k = S_masked.argmax(axis=1)
    rows = np.arange(n)
    has_k = np.isfinite(S_masked[rows, k])
    cy = np.cumsum(y, axis=1)
    cy2 = np.cumsum(y * y, axis=1)
    a1, a2 = n1[rows, k].astype(float), n2[rows, k].astype(float)
    s1, s2 = cy[rows, k], cy[:, -1] - cy[rows, k]
    q1, q2 = cy2[rows, k], cy2[:, -1] - cy2[rows, k]
    m1 = s1 / np.maximum(a1, 1)
    m2 = s2 / np.maximum(a2, 1)
    ss = (q1 - a1 * m1**2) + (q2 - a2 * m2**2)
    sp = np.sqrt(np.maximum(ss, 0) / np.maximum(a1 + a2 - 2, 1))
    sp = np.maximum(sp, 1e-3)
    t = (m1 - m2) / (sp * np.sqrt(1 / np.maximum(a1, 1) + 1 / np.maximum(a2, 1)))
    ratio = np.exp(m2 - m1)
    now_valid = valid[:, -1]
    # a drop is sustained: every month after the change point is nearer the new level than the old (one
    # low month after a normal one is LOW's or ROBUST_Z's, not a change of level)
    after_k = valid & (np.arange(M)[None, :] > k[:, None])
    highest_after = np.where(after_k, y, -np.inf).max(axis=1)
    cusum_ok = (has_k & now_valid & (cnt >= p["min_months"]) & (ratio <= p["max_ratio"]) & (t >= p["min_t"])
                & (highest_after < (m1 + m2) / 2))
    # the first valid month after k
    after = valid & (np.arange(M)[None, :] > k[:, None])
    start_col = np.where(after.any(axis=1), after.argmax(axis=1), -1)

    # or: the last `below_months` valid uses below `below_share` of the level before them
    bm = int(p["below_months"])
    lasts = [_kth_last(valid, x_m, kk) for kk in range(1, bm + 1)]
    last_vals = np.stack([v for v, _ in lasts], axis=1)
    first_of_run = lasts[-1][1]
    before = valid & (np.arange(M)[None, :] < first_of_run[:, None])
    level = _nanmedian_rows(np.where(before, x_m, np.nan))
    below_ok = (now_valid & (first_of_run >= 0) & (before.sum(axis=1) >= p["min_months"] - bm)
                & np.all(last_vals < p["below_share"] * level[:, None], axis=1))
    below_ratio = _nanmedian_rows(last_vals) / level

    found = cusum_ok | below_ok
    col = np.where(cusum_ok, start_col, first_of_run)
    start = _labels(first_index, M, np.maximum(col, 0), found & (col >= 0))
    months = np.where(found & (col >= 0), M - col, np.nan)
    return {
        "start": start,
        "ratio": np.where(found, np.where(cusum_ok, ratio, below_ratio), np.nan),
        "t": np.where(found & cusum_ok, t, np.nan),
        "months": _int(months),
    }
