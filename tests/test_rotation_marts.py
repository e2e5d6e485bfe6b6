"""Rotation on the demo centre (config/demo.toml with more, smaller reader pairs and segments, so that
every team has pairs to rotate between): the assignment exports go through the real ingest, the
rotation marts are built month by month, and every month's suggested plan breaks no rule (an
independent check: checks/rotation.py plan_violations) while moving what must move."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from checks.rotation import plan_violations, rotation_config, tenure
from pipelines.ingest.deliver import ingest_path
from readq.config import REPO_ROOT
from readq.demo import generate_demo
from warehouse.connection import connect
from warehouse.marts import mart, replace_month
from warehouse.steps.rotation_inputs import month_inputs, month_plan

ROTATION_MARTS = ("rotation_segments", "rotation_plan", "rotation_loads")


def test_the_plan_breaks_no_rule_on_the_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config", cfg)
    demo = cfg / "demo.toml"
    text = demo.read_text(encoding="utf-8")
    text = text.replace("customers_per_reader = 1667 ", "customers_per_reader = 200  ")
    text = text.replace("mean_customers = 333 ", "mean_customers = 80  ")
    demo.write_text(text, encoding="utf-8")
    monkeypatch.setenv("READQ_CONFIG", str(cfg))
    generate_demo(tmp_path / "landing", tmp_path / "truth", customers=6000, months=4)
    moved = due = 0
    with connect(tmp_path / "warehouse.duckdb") as conn:
        for path in sorted((tmp_path / "landing").glob("抄表派工_*")):
            ingest_path(conn, path)
        periods = [r[0] for r in conn.execute("select distinct period from core.assignments order by 1").fetchall()]
        assert len(periods) == 4
        for period in periods:
            conn.execute("begin")
            for name in ROTATION_MARTS:
                replace_month(conn, name, period)
            conn.execute("commit")
            every, month, delivered = month_inputs(conn, period)
            plan = month_plan(conn, period)
            assert plan is not None
            assert plan_violations(month, tenure(every, delivered), plan, rotation_config()) == []
            assert plan.unresolved.is_empty()
            for name in ROTATION_MARTS:
                for check in mart(name).checks:
                    assert check.violations(conn, period)[0] == 0, (name, check.name, period)
            must = conn.execute("select count(*) from marts.rotation_segments where period = ? "
                                "and status <> 'exempt' and tenure_months + 1 >= max_months", [period]).fetchall()[0][0]
            limit_moves = conn.execute("select count(*) from marts.rotation_plan where period = ? and kind = 'move' "
                                       "and reason = 'LIMIT'", [period]).fetchall()[0][0]
            assert limit_moves == must                  # exactly the segments at the limit move for it
            moved += limit_moves
            due += conn.execute("select count(*) from marts.rotation_segments where period = ? and status = 'due'",
                                [period]).fetchall()[0][0]
            # every pair is within the tolerance after the plan, or no further out than before
            loads = conn.execute("select share_of_mean_before, share_of_mean_after, tolerance, within_tolerance_after "
                                 "from marts.rotation_loads where period = ?", [period]).fetchall()
            assert loads
            for before, after, _tolerance, within in loads:
                assert within or abs(after - 1) <= abs(before - 1) + 1e-9
    assert moved > 0 and due > 0                      # the demo has segments at and near the limit
