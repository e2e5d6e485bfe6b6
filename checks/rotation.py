"""Rotation of readers over segments (轮换制度): pure functions, no I/O.

A reader may not hold the same 抄表段 (segment) for `max_months` consecutive months; readers work in
pairs (responsible reader 抄表员 + partner 同组抄表员), a pair holds several segments of its team. This
module holds

- `tenure`: per month, segment and holder (both pair members), the consecutive months held so far
  (undelivered months bridged and counted, a delivered month without the holding breaks the run,
  `held_since` of the marketing system extends a run back over months the data does not contradict);
- `rotation_status`: per segment of one month, the pair's tenure and 'ok' | 'due' | 'violation' | 'exempt';
- `plan_rotation`: next month's moves — every segment that would reach the limit goes to another pair of
  its team (never one that held it within the cooling-off), then as few counter-moves as keep the pairs'
  customer loads within tolerance (greedy; 'due' segments preferred);
- `plan_violations`: an independent check of a plan against the same rules.

Every number comes from config/rotation.toml (`rotation_config()`); the functions take it as a dict.
Rules and algorithm: docs/rotation.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import polars as pl

from readq.config import load_toml

REASONS: dict[str, tuple[str, str]] = {
    "LIMIT": ("连续抄表{tenure}个月，下月将达到{max_months}个月上限，须轮换",
              "held {tenure} consecutive months: would reach the {max_months}-month limit next month"),
    "BALANCE": ("为保持小组工作量均衡而调整（{status}）",
                "counter-move to keep the pairs' workloads balanced ({status})"),
}
UNRESOLVED: dict[str, tuple[str, str]] = {
    "NO_OTHER_PAIR": ("班组只有一个抄表小组，抄表段{segment}无法轮换",
                      "the team has a single pair: segment {segment} cannot rotate"),
    "COOLING_OFF": ("其他小组均在{cooling}个月冷却期内抄过抄表段{segment}",
                    "every other pair held segment {segment} within the {cooling}-month cooling-off"),
    "UNBALANCED": ("小组{pair}工作量{load}户，偏离班组平均{mean}户超过容差且比轮换前更差",
                   "pair {pair} would carry {load} customers, outside the tolerance around the team's "
                   "mean of {mean} and worse than before"),
}
NOTES: dict[str, tuple[str, str]] = {
    "NULL_CUSTOMERS": ("抄表段{segment}户数未知，按0户计入工作量，不作均衡调整",
                       "segment {segment} has no customer count: counted as 0 and never moved for balance"),
}
MESSAGE_SCHEMA = {"team": pl.String, "segment_no": pl.String, "pair": pl.String, "code": pl.String,
                  "message_zh": pl.String, "message_en": pl.String}
MOVE_SCHEMA = {"team": pl.String, "segment_no": pl.String, "segment_name": pl.String,
               "customer_count": pl.Int64, "from_reader": pl.String, "from_partner": pl.String,
               "to_reader": pl.String, "to_partner": pl.String, "tenure_months": pl.Int64,
               "status": pl.String, "reason": pl.String, "reason_zh": pl.String, "reason_en": pl.String}
LOAD_SCHEMA = {"team": pl.String, "pair": pl.String, "reader": pl.String, "partner": pl.String,
               "segments_before": pl.Int64, "segments_after": pl.Int64,
               "customers_before": pl.Int64, "customers_after": pl.Int64, "mean_customers": pl.Float64,
               "share_of_mean_before": pl.Float64, "share_of_mean_after": pl.Float64,
               "within_tolerance_after": pl.Boolean}
_FAR = 1 << 40          # a month index beyond any real one (sentinel for "no bound" / "never held")
STATUS_SCHEMA = {"period": pl.String, "team": pl.String, "segment_no": pl.String, "segment_name": pl.String,
                 "reader": pl.String, "partner": pl.String, "segment_read_mode": pl.String,
                 "customer_count": pl.Int64, "reader_tenure": pl.Int64, "partner_tenure": pl.Int64,
                 "tenure_months": pl.Int64, "since": pl.String, "status": pl.String, "months_left": pl.Int64}
TENURE_SCHEMA = {"period": pl.String, "team": pl.String, "segment_no": pl.String, "reader": pl.String,
                 "role": pl.String, "tenure_months": pl.Int64, "since": pl.String, "since_from": pl.String}


def rotation_config() -> dict[str, Any]:
    """config/rotation.toml."""
    return load_toml("rotation.toml")


# --- months ---------------------------------------------------------------------------------------------

def month_index(period: str) -> int:
    """'YYYY-MM' → months since year 0 (so that consecutive months differ by 1)."""
    return int(period[:4]) * 12 + int(period[5:7]) - 1


def month_label(index: int) -> str:
    """Inverse of `month_index`."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def next_month(period: str) -> str:
    return month_label(month_index(period) + 1)


def _month_index_expr(col: pl.Expr) -> pl.Expr:
    return (col.str.slice(0, 4).cast(pl.Int64) * 12 + col.str.slice(5, 2).cast(pl.Int64) - 1)


def _month_label_expr(col: pl.Expr) -> pl.Expr:
    return pl.format("{}-{}", (col // 12).cast(pl.String).str.zfill(4), (col % 12 + 1).cast(pl.String).str.zfill(2))


# --- tenure ---------------------------------------------------------------------------------------------

def tenure(assignments: pl.DataFrame, delivered_months: Iterable[str] | None = None) -> pl.DataFrame:
    """Consecutive months each holder has held each segment, per month.

    One row per (period, segment_no, holder) for the responsible reader (role 'reader') and the partner
    (role 'partner'): period, team, segment_no, reader (the holder), role, tenure_months, since (the run's
    first month) and since_from ('data' | 'held_since': whether `held_since` moved the start back).

    Runs are per (segment, holder) whatever the role: a partner who becomes the responsible reader keeps
    counting. The delivered months are `delivered_months` together with every month present in the frame.

    - a month not delivered (no assignment file at all) between two months in which the holder held the
      segment is bridged and counted: the calendar says the holder kept the segment;
    - a delivered month in which the segment shows other holders, or is absent, breaks the run;
    - `held_since` (of the responsible reader only: it is the month *the holder* took the segment over)
      earlier than the run's first month extends the run back to it, but never over a delivered month
      in which the holder did not hold the segment; the earliest `held_since` seen so far in the run
      counts (nothing later than the month computed is used);
    - a later `held_since` is ignored (the data shows the holder on the segment before, e.g. as
      partner), except in a bridged gap: if the reader held the segment as responsible reader in the
      last delivered month p and the system now says the reader took it over at h with p < h ≤ the
      month, the reader let it go in the undelivered months and the run restarts at h.
    """
    a = assignments.select("period", "team", "segment_no", "reader", "partner", "held_since")
    months = sorted(set(a["period"].unique().to_list()) | set(delivered_months or ()))
    if not months:
        return pl.DataFrame(schema=TENURE_SCHEMA)
    cal = [month_index(m) for m in months]
    delivered = pl.DataFrame({"period": months, "cal": cal, "drank": list(range(len(months))),
                              "prev_dcal": [None, *cal[:-1]]},
                             schema={"period": pl.String, "cal": pl.Int64, "drank": pl.Int64, "prev_dcal": pl.Int64})
    readers = a.select("period", "team", "segment_no", pl.col("reader").alias("holder"),
                       pl.lit("reader").alias("role"), pl.lit(0).alias("role_rank"),
                       _month_index_expr(pl.col("held_since")).alias("hs"))
    partners = a.filter(pl.col("partner").is_not_null() & (pl.col("partner") != pl.col("reader"))).select(
        "period", "team", "segment_no", pl.col("partner").alias("holder"), pl.lit("partner").alias("role"),
        pl.lit(1).alias("role_rank"), pl.lit(None, pl.Int64).alias("hs"))
    h = (pl.concat([readers, partners])
         .filter(pl.col("holder").is_not_null())
         .sort("role_rank")
         .unique(subset=["period", "segment_no", "holder"], keep="first", maintain_order=True)
         .join(delivered, on="period", how="left")
         .sort("segment_no", "holder", "cal"))
    g = ["segment_no", "holder"]
    h = h.with_columns(
        prev_drank=pl.col("drank").shift(1).over(g),
        prev_cal=pl.col("cal").shift(1).over(g),
        prev_role=pl.col("role").shift(1).over(g),
    )
    restart = ((pl.col("role") == "reader") & (pl.col("prev_role") == "reader") & pl.col("hs").is_not_null()
               & (pl.col("hs") > pl.col("prev_cal")) & (pl.col("hs") <= pl.col("cal"))
               & (pl.col("cal") - pl.col("prev_cal") > 1))
    h = h.with_columns(restart=restart.fill_null(False))
    h = h.with_columns(new_run=(pl.col("prev_drank").is_null() | (pl.col("drank") - pl.col("prev_drank") != 1)
                                | pl.col("restart")))
    h = h.with_columns(run=pl.col("new_run").cast(pl.Int64).cum_sum().over(g))
    r = [*g, "run"]
    # the earliest month the run can reach back to: after the holder's previous holding (restart) or after
    # the previous delivered month (which by construction did not show the holder); unbounded at the start
    lower = (pl.when(pl.col("restart")).then(pl.col("prev_cal") + 1)
             .when(pl.col("prev_dcal").is_not_null()).then(pl.col("prev_dcal") + 1))
    h = h.with_columns(
        first_cal=pl.col("cal").first().over(r),
        lower=lower.first().over(r).fill_null(-_FAR),
        hs_min=pl.col("hs").fill_null(_FAR).cum_min().over(r),
    )
    candidate = pl.min_horizontal("first_cal", "hs_min")
    h = h.with_columns(start=pl.max_horizontal(candidate, "lower"))
    return h.select(
        "period", "team", "segment_no", pl.col("holder").alias("reader"), "role",
        (pl.col("cal") - pl.col("start") + 1).alias("tenure_months"),
        _month_label_expr(pl.col("start")).alias("since"),
        pl.when(pl.col("start") < pl.col("first_cal")).then(pl.lit("held_since")).otherwise(pl.lit("data"))
        .alias("since_from"),
    ).sort("period", "team", "segment_no", "role", descending=[False, False, False, True])


# --- status ---------------------------------------------------------------------------------------------

def _single_period(assignments_month: pl.DataFrame) -> str:
    periods = assignments_month["period"].unique().to_list()
    if len(periods) != 1:
        raise ValueError(f"assignments_month must hold exactly one period, got {sorted(periods)}")
    return str(periods[0])


def rotation_status(tenure_frame: pl.DataFrame, assignments_month: pl.DataFrame,
                    config: dict[str, Any]) -> pl.DataFrame:
    """Per segment of the month of `assignments_month`: team, segment_no, segment_name, reader, partner,
    segment_read_mode, customer_count, reader_tenure, partner_tenure, tenure_months (the larger of the
    pair), since (that holder's run start), status and months_left.

    status: 'exempt' (segment_read_mode in exempt_read_modes), else 'violation' (tenure ≥ max_months),
    'due' (tenure ≥ warn_months), 'ok'. months_left = max_months − tenure_months, at least 0: the months
    until the holding reaches the limit (1 = it reaches it next month; null for exempt segments).
    `tenure_frame` must come from `tenure` over assignments that include this month (ValueError otherwise).
    """
    period = _single_period(assignments_month)
    t = tenure_frame.filter(pl.col("period") == period).select("segment_no", "reader", "tenure_months", "since")
    a = assignments_month.join(
        t.rename({"tenure_months": "reader_tenure", "since": "reader_since"}), on=["segment_no", "reader"],
        how="left").join(
        t.rename({"reader": "partner", "tenure_months": "partner_tenure", "since": "partner_since"}),
        on=["segment_no", "partner"], how="left")
    missing = a.filter(pl.col("reader_tenure").is_null()
                       | (pl.col("partner").is_not_null() & pl.col("partner_tenure").is_null()))
    if missing.height:
        raise ValueError(f"tenure_frame has no tenure for {missing.height} holding(s) of {period}, e.g. segment "
                         f"{missing['segment_no'][0]}: compute it with tenure() over assignments including {period}")
    max_m, warn_m = int(config["max_months"]), int(config["warn_months"])
    exempt = pl.col("segment_read_mode").is_in(list(config["exempt_read_modes"])).fill_null(False)
    tm = pl.max_horizontal("reader_tenure", "partner_tenure")
    return a.with_columns(
        tenure_months=tm,
        since=pl.when(pl.col("partner_tenure").is_null() | (pl.col("reader_tenure") >= pl.col("partner_tenure")))
        .then(pl.col("reader_since")).otherwise(pl.col("partner_since")),
    ).with_columns(
        status=pl.when(exempt).then(pl.lit("exempt"))
        .when(pl.col("tenure_months") >= max_m).then(pl.lit("violation"))
        .when(pl.col("tenure_months") >= warn_m).then(pl.lit("due"))
        .otherwise(pl.lit("ok")),
        months_left=pl.when(exempt).then(pl.lit(None, pl.Int64))
        .otherwise(pl.max_horizontal(pl.lit(max_m) - pl.col("tenure_months"), pl.lit(0))),
    ).select("period", "team", "segment_no", "segment_name", "reader", "partner", "segment_read_mode",
             "customer_count", "reader_tenure", "partner_tenure", "tenure_months", "since", "status",
             "months_left").sort("team", "segment_no")


# --- plan -----------------------------------------------------------------------------------------------

def pair_key(reader: str, partner: str | None) -> tuple[str, ...]:
    """A pair as the sorted tuple of its members (a reader without partner is a pair of one)."""
    return tuple(sorted({reader} | ({partner} if partner else set())))


def _label(key: tuple[str, ...]) -> str:
    return "/".join(key)


@dataclass(frozen=True)
class RotationPlan:
    """Next month's rotation of one month's assignments.

    moves: one row per moved segment (MOVE_SCHEMA), reason 'LIMIT' or 'BALANCE';
    loads: one row per pair (LOAD_SCHEMA), customers before and after the moves;
    unresolved: what the plan could not achieve (MESSAGE_SCHEMA), codes NO_OTHER_PAIR, COOLING_OFF,
      UNBALANCED — when not empty the plan breaks a rule and `plan_violations` says which;
    notes: informational (MESSAGE_SCHEMA), code NULL_CUSTOMERS.
    """
    period: str
    next_period: str
    moves: pl.DataFrame
    loads: pl.DataFrame
    unresolved: pl.DataFrame
    notes: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=MESSAGE_SCHEMA))


@dataclass
class _Seg:
    no: str
    name: str | None
    team: str
    cust: int | None
    exempt: bool
    key: tuple[str, ...]
    reader: str
    partner: str | None
    tenure: int
    status: str
    must_move: bool


def _last_held(tenure_frame: pl.DataFrame, period: str) -> dict[tuple[str, str], int]:
    """(segment_no, holder) → month index of the last month (≤ period) the holder held the segment."""
    last = (tenure_frame.filter(pl.col("period") <= period).group_by("segment_no", "reader")
            .agg(pl.col("period").max()))
    return {(s, r): month_index(p) for s, r, p in last.iter_rows()}


def _pairs(rows: Iterable[tuple[str, str | None]]) -> dict[tuple[str, ...], tuple[str, str | None]]:
    """Pair key → (reader, partner) as shown: the member who is responsible reader on more of the pair's
    segments is the pair's reader (ties: the first in sort order)."""
    counts: dict[tuple[str, ...], dict[str, int]] = {}
    for reader, partner in rows:
        c = counts.setdefault(pair_key(reader, partner), {})
        c[reader] = c.get(reader, 0) + 1
    out: dict[tuple[str, ...], tuple[str, str | None]] = {}
    for key, c in counts.items():
        lead = min(key, key=lambda m: (-c.get(m, 0), m))
        others = [m for m in key if m != lead]
        out[key] = (lead, others[0] if others else None)
    return out


def _message(table: dict[str, tuple[str, str]], code: str, team: str, segment: str | None, pair: str | None,
             **values: Any) -> dict[str, Any]:
    zh, en = table[code]
    return {"team": team, "segment_no": segment, "pair": pair, "code": code,
            "message_zh": zh.format(segment=segment, pair=pair, **values),
            "message_en": en.format(segment=segment, pair=pair, **values)}


class _Balance:
    """Loads of a team's pairs, in integers: with n pairs, total T and tolerance a/b, the pair p is in
    order when b·|n·load_p − T| ≤ max(a·T, b·|n·before_p − T|), i.e. |load − mean| ≤ tol·mean, or no
    further from the mean than before. `excess` is how far a pair is beyond that (0 = in order)."""

    def __init__(self, loads: dict[tuple[str, ...], int], tolerance: float) -> None:
        tol = Fraction(str(tolerance))
        self.a, self.b = tol.numerator, tol.denominator
        self.n = len(loads)
        self.total = sum(loads.values())
        self.load = dict(loads)
        self.allowed = {p: max(self.a * self.total, self.b * abs(self.n * v - self.total)) for p, v in loads.items()}

    def excess(self, p: tuple[str, ...], load: int) -> int:
        return max(0, self.b * abs(self.n * load - self.total) - self.allowed[p])

    def within_tolerance(self, p: tuple[str, ...]) -> bool:
        return self.b * abs(self.n * self.load[p] - self.total) <= self.a * self.total

    def badness(self) -> int:
        return sum(self.excess(p, v) for p, v in self.load.items())

    def delta(self, src: tuple[str, ...], dst: tuple[str, ...], cust: int) -> int:
        """Change of badness if `cust` customers go from pair src to pair dst."""
        if src == dst or cust == 0:
            return 0
        return (self.excess(src, self.load[src] - cust) - self.excess(src, self.load[src])
                + self.excess(dst, self.load[dst] + cust) - self.excess(dst, self.load[dst]))

    def apply(self, src: tuple[str, ...], dst: tuple[str, ...], cust: int) -> None:
        self.load[src] -= cust
        self.load[dst] += cust


_RANK = {"due": 0, "violation": 0, "ok": 1, "exempt": 2}   # counter-move preference: due segments first


@dataclass
class _Team:
    """One team's planning state: where each segment goes and why."""
    segs: list[_Seg]
    pairs: list[tuple[str, ...]]
    bal: _Balance
    load_of: dict[str, int]
    eligible: Any                                           # (segment, pair) -> bool
    where: dict[str, tuple[str, ...]] = field(default_factory=dict)
    reason: dict[str, str] = field(default_factory=dict)

    def move(self, s: _Seg, p: tuple[str, ...], reason: str) -> None:
        self.bal.apply(self.where[s.no], p, self.load_of[s.no])
        self.where[s.no] = p
        self.reason.setdefault(s.no, reason)

    def options(self) -> list[tuple[int, _Seg, tuple[str, ...]]]:
        """Every single change the balance phase may make: (change in the number of moves, segment, new
        pair). A moved segment may be re-targeted (0), a counter-moved one also sent back home (−1); a
        segment not moved yet may counter-move (+1). Segments without customers are never touched."""
        out = []
        for s in self.segs:
            if self.load_of[s.no] == 0 or s.cust is None or (s.must_move and s.no not in self.reason):
                continue                                    # changes no load, or has nowhere to go
            moved = s.no in self.reason
            for p in self.pairs:
                if p == self.where[s.no]:
                    continue
                if p == s.key and moved and not s.must_move:
                    out.append((-1, s, p))
                elif self.eligible(s, p):
                    out.append((0 if moved else 1, s, p))
        return out

    def undo(self, s: _Seg) -> None:
        self.bal.apply(self.where[s.no], s.key, self.load_of[s.no])
        self.where[s.no] = s.key
        self.reason.pop(s.no, None)


def _place_limit_moves(team: _Team) -> list[_Seg]:
    """Phase 1: every segment that must move goes to an eligible pair, the largest first, each to the pair
    that leaves the loads least out of order (then the lightest pair). Returns the segments with no
    eligible pair."""
    stuck = []
    for s in sorted((s for s in team.segs if s.must_move), key=lambda s: (-(s.cust or 0), -s.tenure, s.no)):
        options = [p for p in team.pairs if team.eligible(s, p)]
        if not options:
            stuck.append(s)
            continue
        c = team.load_of[s.no]
        team.move(s, min(options, key=lambda p: (team.bal.delta(s.key, p, c), team.bal.load[p], p)), "LIMIT")
    return stuck


def _balance(team: _Team) -> None:
    """Phase 2: while some pair is out of order, make the change that reduces the excess most: re-targets of
    counter-moves back home first, then re-targets of moved segments, then new counter-moves; among changes
    that remove the excess entirely, 'due' segments first, then longer tenure. When no single change helps,
    the best combination of two changes that share a pair (changes on disjoint pairs add up, so only those
    can help together). Stops when nothing helps; then `_prune`."""
    bal = team.bal
    while (bad := bal.badness()) > 0:
        opts = team.options()
        best: tuple[Any, ...] | None = None
        for cost, s, p in opts:
            after = bad + bal.delta(team.where[s.no], p, team.load_of[s.no])
            if after < bad:
                key = (cost, after > 0, after, _RANK[s.status], -s.tenure, s.no, p)
                if best is None or key < best[0]:
                    best = (key, ((s, p),))
        if best is None:
            best = _best_two(team, opts, bad)
        if best is None:
            break
        for s, p in best[1]:
            if p == s.key:
                team.undo(s)
            else:
                team.move(s, p, "BALANCE")
    _prune(team)


def _prune(team: _Team) -> None:
    """Send counter-moved segments back home when the loads stay in order without them (the greedy may have
    made a counter-move that later ones made unnecessary)."""
    for s in sorted((s for s in team.segs if team.reason.get(s.no) == "BALANCE"), key=lambda s: s.no):
        bad = team.bal.badness()
        if team.bal.delta(team.where[s.no], s.key, team.load_of[s.no]) + bad <= bad:
            team.undo(s)


def _best_two(team: _Team, opts: list[tuple[int, _Seg, tuple[str, ...]]], bad: int) -> tuple[Any, ...] | None:
    bal = team.bal
    best: tuple[Any, ...] | None = None
    for i, (c1, s1, p1) in enumerate(opts):
        src1, load1 = team.where[s1.no], team.load_of[s1.no]
        d1 = bal.delta(src1, p1, load1)
        bal.apply(src1, p1, load1)
        touched = {src1, p1}
        for c2, s2, p2 in opts[i + 1:]:
            src2 = team.where[s2.no]
            if s2.no == s1.no or not ({src2, p2} & touched):
                continue
            after = bad + d1 + bal.delta(src2, p2, team.load_of[s2.no])
            if after < bad:
                key = (c1 + c2, after > 0, after, _RANK[s1.status] + _RANK[s2.status], s1.no, s2.no, p1, p2)
                if best is None or key < best[0]:
                    best = (key, ((s1, p1), (s2, p2)))
        bal.apply(p1, src1, load1)
    return best


def plan_rotation(assignments_month: pl.DataFrame, tenure_frame: pl.DataFrame,
                  config: dict[str, Any]) -> RotationPlan:
    """Next month's moves for the month of `assignments_month` (rules and algorithm: docs/rotation.md).

    Per team: (1) LIMIT — every non-exempt segment whose pair's tenure + 1 ≥ max_months moves, the largest
    first, each to the eligible pair that leaves the loads least out of order (eligible: another pair of the
    team, no member of which holds it now or held it within cooling_off_months before next month);
    (2) BALANCE — while a pair is outside balance_tolerance of the team's mean pair load and further out than
    before, the change that reduces that most (re-targeting a LIMIT move first, else one more counter-move,
    'due' segments preferred; two changes at once when no single one helps). What cannot be achieved is
    reported in `unresolved`, never raised; `plan_violations` then names the rules the plan breaks.
    """
    period = _single_period(assignments_month)
    nxt = month_index(period) + 1
    max_m, cooling = int(config["max_months"]), int(config["cooling_off_months"])
    status = rotation_status(tenure_frame, assignments_month, config)
    last = _last_held(tenure_frame, period)
    count_exempt = bool(config["exempt_in_load"])

    moves: list[dict[str, Any]] = []
    loads_rows: list[dict[str, Any]] = []
    unresolved: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for (team_name,), rows in status.group_by(["team"], maintain_order=True):
        name = str(team_name)
        segs = [_Seg(no=r["segment_no"], name=r["segment_name"], team=name, cust=r["customer_count"],
                     exempt=r["status"] == "exempt", key=pair_key(r["reader"], r["partner"]), reader=r["reader"],
                     partner=r["partner"], tenure=int(r["tenure_months"]), status=r["status"],
                     must_move=r["status"] != "exempt" and int(r["tenure_months"]) + 1 >= max_m)
                for r in rows.sort("segment_no").iter_rows(named=True)]
        shown = _pairs((s.reader, s.partner) for s in segs)
        pairs = sorted(shown)
        load_of = {s.no: 0 if s.cust is None or (s.exempt and not count_exempt) else int(s.cust) for s in segs}
        before = dict.fromkeys(pairs, 0)
        for s in segs:
            before[s.key] += load_of[s.no]
            if s.cust is None:
                notes.append(_message(NOTES, "NULL_CUSTOMERS", name, s.no, _label(s.key)))

        def eligible(s: _Seg, p: tuple[str, ...]) -> bool:
            if p == s.key or (not s.exempt and set(p) & set(s.key)):
                return False
            return s.exempt or all(nxt - last.get((s.no, m), -_FAR) > cooling for m in p)

        team = _Team(segs=segs, pairs=pairs, bal=_Balance(before, float(config["balance_tolerance"])),
                     load_of=load_of, eligible=eligible, where={s.no: s.key for s in segs})
        for s in _place_limit_moves(team):
            code = "NO_OTHER_PAIR" if len(pairs) == 1 else "COOLING_OFF"
            unresolved.append(_message(UNRESOLVED, code, name, s.no, _label(s.key), cooling=cooling))
        _balance(team)

        bal = team.bal
        mean = bal.total / bal.n if bal.n else 0.0
        for p in pairs:
            if bal.excess(p, bal.load[p]) > 0:
                unresolved.append(_message(UNRESOLVED, "UNBALANCED", name, None, _label(p), load=bal.load[p],
                                           mean=round(mean, 1)))
            loads_rows.append({
                "team": name, "pair": _label(p), "reader": shown[p][0], "partner": shown[p][1],
                "segments_before": sum(1 for s in segs if s.key == p),
                "segments_after": sum(1 for s in segs if team.where[s.no] == p),
                "customers_before": before[p], "customers_after": bal.load[p], "mean_customers": mean,
                "share_of_mean_before": before[p] / mean if mean else None,
                "share_of_mean_after": bal.load[p] / mean if mean else None,
                "within_tolerance_after": bal.within_tolerance(p),
            })
        for s in segs:
            if s.no not in team.reason:
                continue
            p, reason = team.where[s.no], team.reason[s.no]
            zh, en = REASONS[reason]
            words = {"tenure": s.tenure, "max_months": max_m, "status": s.status}
            moves.append({"team": name, "segment_no": s.no, "segment_name": s.name, "customer_count": s.cust,
                          "from_reader": s.reader, "from_partner": s.partner,
                          "to_reader": shown[p][0], "to_partner": shown[p][1], "tenure_months": s.tenure,
                          "status": s.status, "reason": reason,
                          "reason_zh": zh.format(**words), "reason_en": en.format(**words)})
    return RotationPlan(
        period=period, next_period=month_label(nxt),
        moves=pl.DataFrame(moves, schema=MOVE_SCHEMA),
        loads=pl.DataFrame(loads_rows, schema=LOAD_SCHEMA),
        unresolved=pl.DataFrame(unresolved, schema=MESSAGE_SCHEMA),
        notes=pl.DataFrame(notes, schema=MESSAGE_SCHEMA),
    )


# --- verification ---------------------------------------------------------------------------------------

def plan_violations(assignments_month: pl.DataFrame, tenure_frame: pl.DataFrame, plan: RotationPlan,
                    config: dict[str, Any]) -> list[str]:
    """What `plan` breaks, checked from the inputs alone (empty = legal). Independent of the planner:
    it recomputes holdings, tenures, cooling-off and loads from the moves as given."""
    out: list[str] = []
    period = _single_period(assignments_month)
    if plan.period != period:
        out.append(f"PERIOD plan is for {plan.period}, assignments are of {period}")
    nxt = month_index(period) + 1
    max_m, cooling = int(config["max_months"]), int(config["cooling_off_months"])
    exempt_modes = set(config["exempt_read_modes"])
    tol = Fraction(str(config["balance_tolerance"]))
    count_exempt = bool(config["exempt_in_load"])

    now = {(s, r): int(t) for s, r, t in tenure_frame.filter(pl.col("period") == period)
           .select("segment_no", "reader", "tenure_months").iter_rows()}
    last: dict[tuple[str, str], int] = {}
    for s, r, p in tenure_frame.filter(pl.col("period") <= period).select("segment_no", "reader", "period").iter_rows():
        last[(s, r)] = max(last.get((s, r), -_FAR), month_index(p))

    seg = {r["segment_no"]: r for r in assignments_month.iter_rows(named=True)}
    team_pairs: dict[str, set[frozenset[str]]] = {}
    for r in seg.values():
        team_pairs.setdefault(r["team"], set()).add(frozenset(m for m in (r["reader"], r["partner"]) if m))
    holders = {no: frozenset(m for m in (r["reader"], r["partner"]) if m) for no, r in seg.items()}
    after = dict(holders)
    moved: set[str] = set()
    for m in plan.moves.iter_rows(named=True):
        no = m["segment_no"]
        if no not in seg:
            out.append(f"UNKNOWN {no}: the segment is not in the assignments of {period}")
            continue
        if no in moved:
            out.append(f"TWICE {no}: moved more than once")
            continue
        moved.add(no)
        r = seg[no]
        frm = frozenset(x for x in (m["from_reader"], m["from_partner"]) if x)
        to = frozenset(x for x in (m["to_reader"], m["to_partner"]) if x)
        if m["team"] != r["team"]:
            out.append(f"TEAM {no}: move says team {m['team']}, the segment belongs to {r['team']}")
        if frm != holders[no]:
            out.append(f"FROM {no}: move is from {sorted(frm)}, the segment is held by {sorted(holders[no])}")
        if to not in team_pairs.get(r["team"], set()):
            out.append(f"PAIR {no}: {sorted(to)} is not a pair of team {r['team']} (pairs move whole, within the team)")
        if to == holders[no]:
            out.append(f"SAME {no}: moved to the pair that holds it")
        if m["reason"] not in REASONS:
            out.append(f"REASON {no}: unknown reason code {m['reason']!r}")
        exempt = r["segment_read_mode"] in exempt_modes
        if m["reason"] == "LIMIT" and (exempt or max(now.get((no, h), 0) for h in holders[no]) + 1 < max_m):
            out.append(f"REASON {no}: LIMIT, but the segment did not have to move")
        if not exempt:
            for h in sorted(to):
                if h not in holders[no] and nxt - last.get((no, h), -_FAR) <= cooling:
                    out.append(f"COOLING {no}: {h} held it in {month_label(last[(no, h)])}, within "
                               f"{cooling} months of {month_label(nxt)}")
        after[no] = to

    for no, r in sorted(seg.items()):
        if r["segment_read_mode"] in exempt_modes:
            continue
        for h in sorted(after[no]):
            t_next = now.get((no, h), 0) + 1 if h in holders[no] else 1
            if t_next >= max_m:
                out.append(f"TENURE {no}: {h} would hold it {t_next} consecutive months in {month_label(nxt)} "
                           f"(limit {max_m})")

    for team in sorted(team_pairs):
        pairs = team_pairs[team]
        load_b = dict.fromkeys(pairs, 0)
        load_a = dict.fromkeys(pairs, 0)
        for no, r in seg.items():
            if r["team"] != team:
                continue
            c = r["customer_count"] or 0
            if r["segment_read_mode"] in exempt_modes and not count_exempt:
                c = 0
            load_b[holders[no]] += c
            if after[no] in load_a:
                load_a[after[no]] += c
        n, total = len(pairs), sum(load_b.values())
        for p in sorted(pairs, key=sorted):
            dev_b, dev_a = abs(n * load_b[p] - total), abs(n * load_a[p] - total)
            if dev_a > max(tol * total, dev_b):
                out.append(f"BALANCE {team} {'/'.join(sorted(p))}: {load_a[p]} customers after against "
                           f"{load_b[p]} before, team mean {total / n:.1f} (tolerance {float(tol):.0%})")
    return out
