"""DIGIT_SLIP: 本次示数 is the likely reading with two neighbouring digits transposed, one digit off by
one, or shifted ×10/÷10 (the keying errors that dominate audits: hi/lo checks caught 5 of 15).

A reading is judged when its use is at least `implausible_z` robust σ (of log use) from expected;
each digit variant of its integer part is tried (fraction kept), and the variant whose use is
closest to expected, if within `plausible_z` σ, is named as the intended reading."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from checks.rules.base import FLAG_SCHEMA, flags

KINDS = ("transposition", "slip", "shift")


def variants(whole: np.ndarray, digits: np.ndarray, positions: int) -> list[tuple[str, int, np.ndarray]]:
    """Every keying variant of the integer readings `whole` (kind, position, values; -1 where none)."""
    out: list[tuple[str, int, np.ndarray]] = []
    top = 10.0 ** digits
    for pos in range(positions):
        d1 = (whole // 10**pos) % 10
        d2 = (whole // 10 ** (pos + 1)) % 10
        t = whole + (d2 - d1) * 10**pos + (d1 - d2) * 10 ** (pos + 1)
        out.append(("transposition", pos, np.where((d1 != d2) & (10.0 ** (pos + 1) < top), t, -1)))
        d = (whole // 10**pos) % 10
        out.append(("slip", pos, np.where((d < 9) & (10.0**pos < top), whole + 10**pos, -1)))
        out.append(("slip", pos, np.where(d > 0, whole - 10**pos, -1)))
    out.append(("shift", 1, np.where(whole * 10 < top, whole * 10, -1)))
    out.append(("shift", -1, np.where(whole >= 10, whole // 10, -1)))
    return out


def digit_slip(f: pl.DataFrame, p: dict[str, Any], ctx: dict[str, Any]) -> pl.DataFrame:
    base = f.filter((pl.col("read_status") == "READ") & ~pl.col("meter_changed") & (pl.col("expected_kwh") > 0)
                    & pl.col("this_read").is_not_null() & pl.col("last_read").is_not_null()
                    & pl.col("digits_int").is_not_null())
    if base.height == 0:
        return pl.DataFrame(schema=FLAG_SCHEMA)
    mult = base["multiplier"].fill_null(1.0).to_numpy()
    this, last = base["this_read"].to_numpy(), base["last_read"].to_numpy()
    expected = base["expected_kwh"].to_numpy()
    rel_mad = (base["robust_mad"] / base["robust_median"]).fill_null(0.0).fill_nan(0.0).to_numpy()
    sigma = np.maximum(1.4826 * rel_mad, p["min_sigma"])

    def z_of(reading: np.ndarray) -> np.ndarray:
        use = (reading - last) * mult
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(use > 0, np.abs(np.log(np.where(use > 0, use, 1.0) / expected)) / sigma, np.inf)

    z_now = z_of(this)
    use_now = (this - last) * mult
    outside = ~((use_now >= base["band_low"].fill_null(np.nan).to_numpy())
                & (use_now <= base["band_high"].fill_null(np.nan).to_numpy()))
    judged = (z_now >= p["implausible_z"]) & outside
    whole = np.floor(this).astype(np.int64)
    frac = this - whole
    digits = base["digits_int"].to_numpy().astype(np.int64)
    best_z = np.full(base.height, np.inf)
    best_val = np.full(base.height, np.nan)
    best_kind = np.full(base.height, "", dtype=object)
    best_pos = np.zeros(base.height, dtype=np.int64)
    top = 10.0 ** digits
    tried = [(kind, pos, np.where(cand >= 0, cand + frac, -1.0)) for kind, pos, cand in
             variants(whole, digits, int(p["positions"]))]
    # a digit dropped or added in the whole reading moves the decimals too
    tried += [("shift", 1, np.where(this * 10 < top, np.round(this * 10, 4), -1.0)),
              ("shift", -1, np.where(this >= 10, np.round(this / 10, 4), -1.0))]
    for kind, pos, cand in tried:
        ok = judged & (cand >= 0)
        reading = np.where(ok, cand, np.nan)
        z = np.where(ok, z_of(np.where(ok, reading, this)), np.inf)
        better = z < best_z
        best_z = np.where(better, z, best_z)
        best_val = np.where(better, reading, best_val)
        best_kind = np.where(better, kind, best_kind)
        best_pos = np.where(better, pos, best_pos)
    hit = judged & (best_z <= p["plausible_z"])
    cand = base.with_columns(
        _hit=pl.Series(hit), _intended=pl.Series(np.round(best_val, 4)), _kind=pl.Series(best_kind, dtype=pl.String),
        _pos=pl.Series(best_pos), _z=pl.Series(np.where(np.isfinite(z_now), z_now, np.nan)),
        _z_best=pl.Series(np.where(np.isfinite(best_z), best_z, np.nan)))
    intended_use = (pl.col("_intended") - pl.col("last_read")) * pl.col("multiplier").fill_null(1.0)
    return flags(cand, pl.col("_hit"), p, observed=pl.col("this_read"), expected=pl.col("_intended"),
                 ratio=pl.when(pl.col("expected_kwh") > 0).then(pl.col("use_kwh") / pl.col("expected_kwh")),
                 history_months=pl.col("history_months"),
                 kind=pl.col("_kind"), position=pl.col("_pos"), reading=pl.col("this_read"),
                 intended_reading=pl.col("_intended"), intended_use_kwh=intended_use.round(2),
                 use_kwh=((pl.col("this_read") - pl.col("last_read")) * pl.col("multiplier").fill_null(1.0)).round(2),
                 expected_kwh=pl.col("expected_kwh").round(2), z=pl.col("_z").round(2),
                 intended_z=pl.col("_z_best").round(2))
