"""The README's first command, end to end on a small centre: generate -> build -> publish."""

from __future__ import annotations

import json

import duckdb
import pytest

from readq.cli import main
from readq.config import Home

pytestmark = pytest.mark.slow


def test_readq_demo_builds_a_published_warehouse_and_does_not_regenerate(data_home: Home, capsys) -> None:
    assert main(["demo", "--customers", "3000", "--months", "3", "--end-month", "2026-10", "--no-serve"]) == 0
    out = capsys.readouterr().out
    assert "generated" in out and "published" in out
    assert not list(data_home.landing.iterdir())                      # every file loaded and archived
    truth = json.loads((data_home.demo_truth / "summary.json").read_text(encoding="utf-8"))
    with duckdb.connect(str(data_home.published), read_only=True) as con:
        kpi = con.sql("select period, count(*) as teams, sum(customers_due) as due, "
                      "count(customers_with_error) as with_findings from marts.kpi_team_month "
                      "group by period order by period").fetchall()
        rejected = con.sql("select count(*) from ops.deliveries where status = 'rejected'").fetchall()[0][0]
        loaded = con.sql("select sum(rows_read) from ops.deliveries where kind = 'readings'").fetchall()[0][0]
        repeats = con.sql("select count(*) from ops.skipped_rows s join ops.deliveries d using (delivery_id) "
                          "where d.kind = 'readings' and s.reason like 'exact repeat of line %'").fetchall()[0][0]
    assert [row[0] for row in kpi] == ["2026-08", "2026-09", "2026-10"]
    assert all(teams == 6 and with_findings == 6 for _, teams, _, with_findings in kpi)
    assert rejected == 0
    # every generated reading row was read, or dropped as the exact repeat of the row above it (and counted)
    assert loaded + repeats == truth["rows_per_kind"]["readings"]
    assert repeats == truth["export_mess"]["skipped_rows"]["EXPORT_DUPLICATE_ROW"] > 0

    assert main(["demo", "--customers", "3000", "--months", "3", "--no-serve"]) == 0
    assert "already holds data" in capsys.readouterr().out
