"""The plausibility rules measured against truth on a small demo centre: the floors of
config/evaluation.toml (issue 8), marts.rule_efficacy against the confirmed review findings, and
`readq evaluate` writing its tables.

The demo is built once per module without Dagster (the same ingest and mart SQL, month by month in
order), which is what the pipeline runs inside its assets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from readq.config import load_toml
from readq.evaluate import Evaluation, evaluate, markdown
from warehouse.connection import connect
from warehouse.marts import marts, replace_month

pytestmark = pytest.mark.slow

CUSTOMERS, MONTHS = 2500, 18


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    from pipelines.ingest.deliver import ingest_path
    from readq.demo import generate_demo

    root = tmp_path_factory.mktemp("efficacy")
    landing, truth = root / "landing", root / "truth"
    generate_demo(landing, truth, customers=CUSTOMERS, months=MONTHS)
    db = root / "warehouse.duckdb"
    conn = connect(db)
    try:
        for path in sorted(p for p in landing.rglob("*") if p.is_file()):
            ingest_path(conn, path)
        periods = [r[0] for r in conn.execute("select distinct period from core.readings order by 1").fetchall()]
        for period in periods:
            conn.execute("begin")
            for m in marts():
                replace_month(conn, m.name, period)
            conn.execute("commit")
    finally:
        conn.close()
    yield db, truth


@pytest.fixture(scope="module")
def scored(demo: tuple[Path, Path]) -> Evaluation:
    return evaluate(*demo)


def test_every_floor_is_met(scored: Evaluation) -> None:
    # The fabrication floor is the default demo's (60 readers: the top decile is 6 ranks); this centre has
    # about a dozen readers, so its "top decile" is rank 1 alone: here the fabricator must be first in
    # most full-window months (docs/RULES.md has the default demo: first to third in every one).
    fabrication = [(v, ok) for name, v, _, ok in scored.floors if name.startswith("fabricating readers")]
    assert all(v >= 0.75 for v, _ in fabrication)
    missed = [(name, value, target) for name, value, target, ok in scored.floors
              if not ok and not name.startswith("fabricating readers")]
    assert not missed, missed
    names = " | ".join(name for name, *_ in scored.floors)
    for floor in ("keying errors", "true roll-overs: ROLLOVER", "multiplier errors", "stuck meters", "reversing",
                  "theft meters", "theft start", "meter replacements", "vacant", "precision of REG_DECREASE",
                  "reads flagged"):
        assert floor in names


def test_the_flag_budget_holds_and_rules_fire(scored: Evaluation) -> None:
    assert 0 < scored.flagged_share <= load_toml("evaluation.toml")["floors"]["flagged_share"]
    fired = set(scored.rules.filter(pl.col("flags") > 0)["rule_id"])
    # the rules whose problems this small demo holds for sure
    assert {"REG_DECREASE", "ROLLOVER", "FALSE_ROLLOVER", "ARITHMETIC", "MULTIPLIER_SHIFT", "ZERO_ACTIVE", "LOW",
            "SUSTAINED_DROP", "READ_DATE", "DUPLICATE"} <= fired


def test_retuning_a_rule_changes_the_next_build(demo: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    db, _ = demo
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(db.read_bytes())
    conn = connect(copy)
    period = conn.execute("select period from marts.reading_flags where rule_id = 'READ_DATE' "
                          "group by period order by count(*) desc, period limit 1").fetchall()[0][0]
    before = conn.execute("select count(*) from marts.reading_flags where period = ? and rule_id = 'READ_DATE'",
                          [period]).fetchall()[0][0]
    assert before > 0
    import readq.config as config

    cfg = load_toml("rules.toml")               # a copy: the change stays in this test
    cfg["rules"]["READ_DATE"]["enabled"] = False
    real = config.load_toml
    monkeypatch.setattr("warehouse.steps.reading_flags.load_toml",
                        lambda name: cfg if name == "rules.toml" else real(name))
    conn.execute("begin")
    replace_month(conn, "reading_flags", period)
    conn.execute("commit")
    after = conn.execute("select count(*) from marts.reading_flags where period = ? and rule_id = 'READ_DATE'",
                         [period]).fetchall()[0][0]
    conn.close()
    assert after == 0


def test_rule_efficacy_counts_the_confirmed_findings(demo: tuple[Path, Path]) -> None:
    db, _ = demo
    con = duckdb.connect(str(db), read_only=True)
    try:
        period = con.execute("select max(period) from marts.rule_efficacy").fetchall()[0][0]
        eff = con.sql("select * from marts.rule_efficacy where period = ?", params=[period]).pl()
        flags = con.sql("select rule_id, customer_no, meter_no, severity from marts.reading_flags where period = ?",
                        params=[period]).pl()
        findings = con.sql("select distinct customer_no, meter_no from core.review_findings where period = ?",
                           params=[period]).pl()
        reads = con.execute("select count(*) from marts.meter_readings where period = ? and read_status <> 'MISSED'",
                            [period]).fetchall()[0][0]
    finally:
        con.close()
    assert findings.height > 0
    by_customer = findings.filter(pl.col("meter_no").is_null()).select("customer_no")
    by_meter = findings.filter(pl.col("meter_no").is_not_null())
    confirmed = pl.concat([flags.join(by_meter, on=["customer_no", "meter_no"], how="semi"),
                           flags.join(by_customer, on="customer_no", how="semi")]).unique()
    for row in eff.filter(pl.col("rule_id") != "ALL").iter_rows(named=True):
        mine = flags.filter(pl.col("rule_id") == row["rule_id"])
        assert row["reads"] == reads
        assert row["flags"] == mine.height
        assert row["flags_confirmed"] == confirmed.filter(pl.col("rule_id") == row["rule_id"]).height
        assert row["confirmed_errors"] == findings.height
        if mine.height:
            assert row["precision"] == pytest.approx(row["flags_confirmed"] / mine.height)
            assert row["flags_per_1000"] == pytest.approx(1000 * mine.height / reads)
    every_rule = set(load_toml("rules.toml")["rules"])
    assert set(eff["rule_id"]) == every_rule | {"ALL"}


def test_no_findings_means_no_precision_not_zero(demo: tuple[Path, Path], tmp_path: Path) -> None:
    db, _ = demo
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(db.read_bytes())
    conn = connect(copy)
    period = conn.execute("select max(period) from marts.rule_efficacy").fetchall()[0][0]
    conn.execute("begin")
    conn.execute("delete from core.review_findings where period = ?", [period])
    conn.execute("update ops.deliveries set status = 'rejected' where kind = 'review_findings' and period = ?",
                 [period])
    replace_month(conn, "rule_efficacy", period)
    conn.execute("commit")
    rows = conn.execute("select findings_delivered, precision, recall, flags from marts.rule_efficacy "
                        "where period = ?", [period]).fetchall()
    conn.close()
    assert rows and all(not d and p is None and r is None for d, p, r, _ in rows)
    assert any(f > 0 for *_, f in rows)


def test_evaluate_writes_the_rules_document(scored: Evaluation) -> None:
    text = markdown(scored, source="demo: test")
    assert text.startswith("# Plausibility rules")
    for rule_id in load_toml("rules.toml")["rules"]:
        assert f"| {rule_id} |" in text
    assert "| ROLLOVER | benign event |" in text
    assert "## Floors" in text and "| reads flagged at warn or fail |" in text


def test_changing_a_loaded_config_changes_nobody_elses() -> None:
    first = load_toml("rules.toml")
    first["rules"]["READ_DATE"]["enabled"] = False
    assert load_toml("rules.toml")["rules"]["READ_DATE"]["enabled"] is True
