"""`readq evaluate`: every plausibility rule scored against the demo generator's ground truth.

The pipeline never reads the truth; this does, after a build, from the warehouse's marts
(reading_flags, meter_readings, reading_context) and READQ_HOME/demo_truth/injected_problems.parquet.
How truth is matched and the floors the default demo must meet are in config/evaluation.toml. The
result is three tables — per rule (flags, precision, recall of its target problems), per injected
problem kind (readings, caught by any warn/fail flag), and the floors — written to docs/RULES.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from checks.history import month_index
from checks.rules import RULES
from readq.config import config_version, load_toml

ALERT = ("warn", "fail")


@dataclass
class Evaluation:
    rules: pl.DataFrame                 # per rule and severity
    problems: pl.DataFrame              # per injected problem kind
    floors: list[tuple[str, float, str, bool]] = field(default_factory=list)  # (name, value, target, met)
    notes: list[str] = field(default_factory=list)
    reads: int = 0
    flagged_share: float = 0.0

    @property
    def met(self) -> bool:
        return all(ok for *_, ok in self.floors)


def fabricator_ranks(warehouse: Path, truth_dir: Path, window_months: int) -> pl.DataFrame:
    """Per month with a full forensics window: each fabricating reader's signature rank and percentile
    (null when too few readings to be ranked)."""
    readers_path = truth_dir / "readers.parquet"
    if not readers_path.exists():
        return pl.DataFrame(schema={"period": pl.String, "reader": pl.String, "signature_pct": pl.Float64})
    fabricators = pl.read_parquet(readers_path).filter(pl.col("fabricator")).select("reader")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        ranks = con.sql("select period, reader, signature_rank, signature_pct from marts.reader_forensics").pl()
        first = con.execute("select min(period) from marts.meter_readings").fetchall()[0][0]
    finally:
        con.close()
    if first is None:
        return ranks.head(0)
    full = ranks.filter(pl.col("period").map_elements(month_index, return_dtype=pl.Int64)
                        >= month_index(first) + window_months - 1)
    return full.join(fabricators, on="reader", how="inner").sort("period", "reader")


def load_inputs(warehouse: Path, truth_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(flags, readings with their previous period, truth rows of readings)."""
    truth_path = truth_dir / "injected_problems.parquet"
    if not truth_path.exists():
        raise FileNotFoundError(f"no ground truth at {truth_path}: `readq evaluate` scores a demo built with "
                                "`readq demo` (a real centre has no ground truth; see marts.rule_efficacy)")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        flags = con.sql("select period, mp_key, meter_no, rule_id, severity, evidence from marts.reading_flags").pl()
        readings = con.sql("""select r.period, r.mp_key, r.meter_no, r.customer_class, r.read_mode, r.read_status,
                                     c.prev_period
                              from marts.meter_readings r
                              left join marts.reading_context c using (period, mp_key)""").pl()
    finally:
        con.close()
    truth = pl.read_parquet(truth_path).filter(pl.col("meter_no").is_not_null())
    return flags, readings, truth


def _problems_by_reading(truth: pl.DataFrame, readings: pl.DataFrame) -> pl.DataFrame:
    """(period, mp_key) -> list of truth problems, through the meter number of the month."""
    keys = readings.select("period", "meter_no", "mp_key").unique(["period", "meter_no"])
    return (truth.join(keys, on=["period", "meter_no"], how="inner")
            .group_by("period", "mp_key").agg(problems=pl.col("problem").unique()))


def score(flags: pl.DataFrame, readings: pl.DataFrame, truth: pl.DataFrame, cfg: dict[str, Any],
          rules_cfg: dict[str, Any]) -> Evaluation:
    benign = set(cfg["benign"])
    no_trace = set(cfg["no_trace"])
    targets: dict[str, list[str]] = cfg.get("targets", {})
    by_reading = _problems_by_reading(truth, readings)
    prev = readings.select("period", "mp_key", "prev_period").join(
        by_reading.rename({"period": "prev_period", "problems": "prev_problems"}),
        on=["prev_period", "mp_key"], how="left")
    f = (flags.join(by_reading, on=["period", "mp_key"], how="left")
         .join(prev.select("period", "mp_key", "prev_problems"), on=["period", "mp_key"], how="left")
         .with_columns(pl.col("problems").fill_null([]), pl.col("prev_problems").fill_null([])))

    def right(rule_id: str, problems: list[str], prev_problems: list[str]) -> bool:
        pool = problems + (prev_problems if cfg.get("previous_counts", True) else [])
        wanted = targets.get(rule_id)
        return any((p in wanted) if wanted else (p not in benign) for p in pool)

    f = f.with_columns(right=pl.struct("rule_id", "problems", "prev_problems").map_elements(
        lambda s: right(s["rule_id"], s["problems"], s["prev_problems"]), return_dtype=pl.Boolean))
    reads = readings.filter(pl.col("read_status") != "MISSED").height
    alert = f.filter(pl.col("severity").is_in(ALERT))
    flagged_share = alert.select("period", "mp_key").unique().height / max(reads, 1)

    # per injected problem kind: caught by any warn/fail flag, and which rules fire most
    t = truth.join(readings.select("period", "meter_no", "mp_key").unique(["period", "meter_no"]),
                   on=["period", "meter_no"], how="inner")
    fired = alert.group_by("period", "mp_key").agg(rules=pl.col("rule_id").unique())
    any_severity = f.group_by("period", "mp_key").agg(rules_all=pl.col("rule_id").unique())
    t = (t.join(fired, on=["period", "mp_key"], how="left").join(any_severity, on=["period", "mp_key"], how="left")
         .with_columns(caught=pl.col("rules").is_not_null()))
    t = t.with_columns(material=_material(cfg["material"]))
    top = (t.select("problem", "rules").explode("rules").drop_nulls("rules")
           .group_by("problem", "rules").len().sort("len", "rules", descending=[True, False])
           .group_by("problem", maintain_order=True).agg(top_rules=pl.col("rules").head(3).str.join(", ")))
    problems = (t.group_by("problem").agg(readings=pl.len(), caught=pl.col("caught").sum())
        .join(top, on="problem", how="left")
        .with_columns(recall=pl.col("caught") / pl.col("readings"),
                      kind=pl.when(pl.col("problem").is_in(list(benign))).then(pl.lit("benign event"))
                      .when(pl.col("problem").is_in(list(no_trace))).then(pl.lit("no trace in the reading"))
                      .otherwise(pl.lit("error")))
        .sort("kind", "problem"))

    # per rule: flags, precision against its targets, recall of its targets
    per_rule = (f.group_by("rule_id", "severity").agg(flags=pl.len(), right=pl.col("right").sum())
                .with_columns(precision=pl.col("right") / pl.col("flags"),
                              per_1000=1000 * pl.col("flags") / max(reads, 1)))
    recall_rows = []
    for rule_id in RULES:
        wanted = targets.get(rule_id)
        pool = t.filter(pl.col("problem").is_in(wanted)) if wanted else t.filter(
            ~pl.col("problem").is_in(list(benign | no_trace)))
        hit = pool.filter(pl.col("rules_all").list.contains(rule_id).fill_null(False)).height
        recall_rows.append({"rule_id": rule_id, "target_readings": pool.height, "target_caught": hit})
    rules = (pl.DataFrame(recall_rows)
             .join(per_rule, on="rule_id", how="left")
             .with_columns(configured=pl.col("rule_id").replace_strict(
                 {r: rules_cfg["rules"][r]["severity"] for r in RULES}, default=None),
                 recall=pl.col("target_caught") / pl.col("target_readings"))
             .sort("rule_id", "severity"))
    ev = Evaluation(rules=rules, problems=problems, reads=reads, flagged_share=flagged_share)
    ev.floors = _floors(cfg, rules_cfg, f, t, readings, flagged_share)
    ev.notes = _digit_slip_notes(f, t)
    return ev


def _digit_slip_notes(f: pl.DataFrame, t: pl.DataFrame) -> list[str]:
    """How often DIGIT_SLIP names the kind of keying error and the reading the reader meant."""
    slips = f.filter(pl.col("rule_id") == "DIGIT_SLIP").with_columns(
        kind=pl.col("evidence").str.json_path_match("$.kind"),
        intended=pl.col("evidence").str.json_path_match("$.intended_reading").cast(pl.Float64))
    mis = t.filter(pl.col("problem") == "MISREAD").select("period", "mp_key", "detail", "true_this_read")
    both = slips.join(mis, on=["period", "mp_key"], how="inner")
    if both.height == 0:
        return ["DIGIT_SLIP flagged no injected misread."]
    kind_ok = both.select((pl.col("kind") == pl.col("detail")).mean()).item()
    read_ok = both.select(((pl.col("intended") - pl.col("true_this_read")).abs() < 0.005).mean()).item()
    return [f"DIGIT_SLIP on injected misreads (n = {both.height}): kind named right {kind_ok:.0%}, intended reading "
            f"equal to the true reading {read_ok:.0%}."]


def _material(m: dict[str, float]) -> pl.Expr:
    moved = (pl.col("reported_kwh") - pl.col("true_kwh")).abs()
    return (moved >= m["kwh"]) & (moved >= m["share"] * pl.col("true_kwh").abs())


def _has(rule: str) -> pl.Expr:
    return pl.col("rules").list.contains(rule).fill_null(False)


def _floors(cfg: dict[str, Any], rules_cfg: dict[str, Any], f: pl.DataFrame, t: pl.DataFrame,
            readings: pl.DataFrame, flagged_share: float) -> list[tuple[str, float, str, bool]]:
    fl = cfg["floors"]
    out: list[tuple[str, float, str, bool]] = []

    def at_least(name: str, frame: pl.DataFrame, caught: pl.Expr, floor: float) -> None:
        value = frame.select(caught.mean()).item() if frame.height else float("nan")
        out.append((f"{name} (n = {frame.height})", value, f">= {floor}", frame.height > 0 and value >= floor))

    keying = t.filter(((pl.col("problem") == "MISREAD") & pl.col("material")) | (pl.col("problem") == "ENTRY"))
    if cfg["material"].get("needs_history", False):
        seen = readings.filter(pl.col("prev_period").is_not_null()).select("period", "mp_key")
        keying = keying.join(seen, on=["period", "mp_key"], how="semi")
    at_least("keying errors caught (transposition, slip, x10 shift; material)", keying, pl.col("caught"),
             fl["keying_recall"])
    roll = t.filter(pl.col("problem") == "ROLLOVER")
    at_least("true roll-overs: ROLLOVER", roll, _has("ROLLOVER"), fl["rollover_recall"])
    errors = t.filter(~pl.col("problem").is_in(list(set(cfg["benign"])))).select("period", "mp_key").unique()
    n_false = roll.join(errors, on=["period", "mp_key"], how="anti").filter(_has("FALSE_ROLLOVER")).height
    out.append(("true roll-overs (no other error on the reading) with FALSE_ROLLOVER", n_false,
                f"<= {fl['rollover_false']}", n_false <= fl["rollover_false"]))
    at_least("multiplier errors caught", t.filter(pl.col("problem").is_in(["MULTIPLIER", "DATA_PREP"])),
             pl.col("caught"), fl["multiplier_recall"])
    at_least("stuck meters: ZERO_ACTIVE once the cycle rule allows it", _stuck_eligible(t, readings, rules_cfg),
             _has("ZERO_ACTIVE"), fl["stuck_recall"])
    at_least("reversing meters: REG_DECREASE", t.filter(pl.col("problem") == "REVERSING"), _has("REG_DECREASE"),
             fl["reversing_recall"])
    caught, within, n = _theft(t, f, readings, rules_cfg, fl)
    out.append((f"theft meters: SUSTAINED_DROP (n = {n})", caught, f">= {fl['theft_recall']}",
                n > 0 and caught >= fl["theft_recall"]))
    out.append((f"theft start month within ±{fl['theft_start_within']} (of those caught)", within,
                f">= {fl['theft_start_share']}", within >= fl["theft_start_share"]))
    changes = t.filter(pl.col("problem") == "METER_CHANGE")
    share = changes.select(_has("REG_DECREASE").mean()).item() if changes.height else 0.0
    out.append((f"meter replacements with REG_DECREASE (n = {changes.height})", share,
                f"<= {fl['meter_change_decrease']}", share <= fl["meter_change_decrease"]))
    benign = set(cfg["benign"])
    vacant = t.filter(pl.col("problem") == "VACANT").select("period", "mp_key").unique()
    clean = f.filter(pl.col("problems").list.eval(~pl.element().is_in(list(benign))).list.any().not_()
                     & pl.col("prev_problems").list.eval(~pl.element().is_in(list(benign))).list.any().not_())
    vacant_fail = (clean.filter(pl.col("severity") == "fail").join(vacant, on=["period", "mp_key"], how="semi")
                   .height)
    out.append((f"fail-severity flags on vacant homes with no error of their own (n = {vacant.height})", vacant_fail,
                f"<= {fl['vacant_fail']}", vacant_fail <= fl["vacant_fail"]))
    fails = f.filter(pl.col("severity") == "fail").group_by("rule_id").agg(p=pl.col("right").mean(), n=pl.len())
    for rule_id, p, n_flags in fails.sort("rule_id").iter_rows():
        out.append((f"precision of {rule_id} at fail (n = {n_flags})", p, f">= {fl['fail_precision']}",
                    p >= fl["fail_precision"]))
    out.append(("reads flagged at warn or fail", flagged_share, f"<= {fl['flagged_share']}",
                flagged_share <= fl["flagged_share"]))
    return out


def _stuck_eligible(t: pl.DataFrame, readings: pl.DataFrame, rules_cfg: dict[str, Any]) -> pl.DataFrame:
    """Stuck-meter readings read (status READ) on a run of stuck months at least as long as the cycle
    rule of ZERO_ACTIVE requires for the point's class and read mode (未抄 months skipped)."""
    p = rules_cfg["rules"]["ZERO_ACTIVE"]
    stuck = (t.filter(pl.col("problem") == "STUCK")
             .join(readings.select("period", "mp_key", "read_status", "customer_class",
                                   pl.col("read_mode").alias("mode")), on=["period", "mp_key"], how="inner")
             .filter(pl.col("read_status") == "READ")
             .with_columns(m=pl.col("period").map_elements(month_index, return_dtype=pl.Int64))
             .sort("mp_key", "m"))
    stuck = stuck.with_columns(run=pl.col("m").cum_count().over("mp_key"))
    need = (pl.when(pl.col("mode") == "REMOTE").then(pl.lit(p["remote_cycles"]))
            .otherwise(pl.col("customer_class").replace_strict(p["cycles"], default=max(p["cycles"].values()),
                                                               return_dtype=pl.Int64)))
    return stuck.filter(pl.col("run") >= need)


def _theft(t: pl.DataFrame, f: pl.DataFrame, readings: pl.DataFrame, rules_cfg: dict[str, Any],
           fl: dict[str, Any]) -> tuple[float, float, int]:
    """Share of theft meters SUSTAINED_DROP caught during the theft, and the share of those whose
    reported start month is within the tolerance of the true one. Meters whose theft began before the
    data (or too early to have the rule's history before it) or with fewer months than the rule needs
    after it are left out."""
    p = rules_cfg["rules"]["SUSTAINED_DROP"]
    first = readings.select(pl.col("period").min()).item()
    if first is None:
        return 0.0, 0.0, 0
    theft = (t.filter(pl.col("problem") == "THEFT")
             .with_columns(start=pl.col("detail").str.extract(r"since (\d{4}-\d{2})"))
             .filter(pl.col("start").is_not_null()))
    per = theft.group_by("mp_key").agg(start=pl.col("start").first(), months=pl.col("period").n_unique(),
                                       periods=pl.col("period"))
    per = per.filter((pl.col("start").map_elements(month_index, return_dtype=pl.Int64)
                      - month_index(first) >= p["min_months"]) & (pl.col("months") >= p["min_after"]))
    if per.height == 0:
        return 0.0, 0.0, 0
    drops = f.filter(pl.col("rule_id") == "SUSTAINED_DROP").with_columns(
        est=pl.col("evidence").str.json_path_match("$.start_month")).sort("period")
    hits = (per.explode("periods").join(drops, left_on=["mp_key", "periods"], right_on=["mp_key", "period"],
                                        how="inner")
            .sort("periods").group_by("mp_key").agg(start=pl.col("start").first(), est=pl.col("est").first()))
    caught = hits.height / per.height
    if hits.height == 0:
        return caught, 0.0, per.height
    off = hits.select((pl.col("est").map_elements(month_index, return_dtype=pl.Int64)
                       - pl.col("start").map_elements(month_index, return_dtype=pl.Int64)).abs()
                      <= fl["theft_start_within"]).to_series()
    return caught, float(off.mean() or 0.0), per.height


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}" if v == v else "–"
    return str(v)


def markdown(ev: Evaluation, *, source: str) -> str:
    """docs/RULES.md: what the rules are, then the three tables."""
    rules_cfg = load_toml("rules.toml")
    lines = [
        "# Plausibility rules: what they are and how well they work",
        "",
        "Generated by `readq evaluate` from the ground truth of the demo generator (the pipeline never reads it);",
        f"{source}. Config {config_version()}, {date.today().isoformat()}. Scoring: config/evaluation.toml —",
        "a flag is right when its reading, or the reading before it on the same metering point (whose 本次 is",
        "this row's 上次), carries an injected error (or the rule's named target). On real data without",
        "ground truth the same measures come from confirmed review findings: `marts.rule_efficacy`.",
        "",
        "## The rules (config/rules.toml, one function each in checks/rules/)",
        "",
        "| ID | severity | fires when |",
        "|---|---|---|",
    ]
    lines += [f"| {r} | {rules_cfg['rules'][r]['severity']} | {rules_cfg['rules'][r]['description']} |" for r in RULES]
    lines += ["", f"## Floors ({ev.reads:,} readings, {ev.flagged_share:.2%} flagged at warn or fail)", "",
              "| floor | value | target | met |", "|---|---|---|---|"]
    lines += [f"| {n} | {_fmt(v)} | {tgt} | {'yes' if ok else '**no**'} |" for n, v, tgt, ok in ev.floors]
    lines += ["", *[f"- {note}" for note in ev.notes]]
    lines += ["", "## Per rule", "",
              "| rule | severity | flags | per 1,000 reads | precision | target readings | recall |",
              "|---|---|---|---|---|---|---|"]
    for row in ev.rules.iter_rows(named=True):
        lines.append(f"| {row['rule_id']} | {row['severity'] or row['configured']} | {_fmt(row['flags'] or 0)} | "
                     f"{_fmt(row['per_1000'])} | {_fmt(row['precision'])} | {row['target_readings']} | "
                     f"{_fmt(row['recall'])} |")
    lines += ["", "## Per injected problem (caught = any warn or fail flag on the reading)", "",
              "| problem | kind | readings | caught | recall | rules firing most |", "|---|---|---|---|---|---|"]
    for row in ev.problems.iter_rows(named=True):
        lines.append(f"| {row['problem']} | {row['kind']} | {row['readings']} | {row['caught']} | "
                     f"{_fmt(row['recall'])} | {row['top_rules'] or ''} |")
    return "\n".join(lines) + "\n"


def evaluate(warehouse: Path, truth_dir: Path) -> Evaluation:
    flags, readings, truth = load_inputs(warehouse, truth_dir)
    cfg = load_toml("evaluation.toml")
    ev = score(flags, readings, truth, cfg, load_toml("rules.toml"))
    window = int(load_toml("forensics.toml")["scope"]["window_months"])
    ranks = fabricator_ranks(warehouse, truth_dir, window).filter(pl.col("signature_pct").is_not_null())
    decile = cfg["floors"]["fabricator_top_share"]
    if ranks.height:
        # the top share of the ranked readers, at least the first (a small centre has fewer than 10)
        ranked = (pl.col("signature_rank") / pl.col("signature_pct")).round()
        top = pl.col("signature_rank") <= pl.max_horizontal((ranked * decile).floor(), pl.lit(1.0))
        share = ranks.select(top.mean()).item()
        ev.floors.append((f"fabricating readers in the top {decile:.0%} (at least rank 1) of the signature, per month "
                          f"with a full {window}-month window (n = {ranks.height} reader-months)", share,
                          f">= {cfg['floors']['fabricator_months']}", share >= cfg["floors"]["fabricator_months"]))
    return ev


def describe_source(truth_dir: Path) -> str:
    summary = truth_dir / "summary.json"
    if not summary.exists():
        return "demo of unknown size"
    text = summary.read_text(encoding="utf-8")
    found = {k: re.search(rf'"{k}":\s*([\d"\-]+)', text) for k in ("customers", "months", "seed")}
    parts = [f"{k} {m.group(1).strip(chr(34))}" for k, m in found.items() if m]
    return "demo: " + ", ".join(parts) if parts else "demo"
