"""The Dagster code location loads, with the assets, checks, job and schedule users rely on."""

from __future__ import annotations

import dagster as dg

from checks.mappings import KINDS
from readq.config import Home
from warehouse.sql import SQL_DIR


def test_definitions_load(data_home: Home) -> None:
    from pipelines.definitions import defs

    d = defs()
    keys = {k.to_user_string() for k in d.resolve_asset_graph().get_all_asset_keys()}
    for kind in KINDS:
        assert f"raw/{kind}" in keys and f"core/{kind}" in keys
    assert {"marts/kpi_team_month", "marts/meter_readings", "marts/reading_context", "marts/reading_flags",
            "marts/rule_efficacy", "marts/reader_forensics", "published/warehouse"} <= keys
    assert d.resolve_job_def("month_job") is not None
    assert d.resolve_schedule_def("month_job_schedule").cron_schedule == "0 6 5 * *"
    checks = {(k.asset_key.path[-1], k.name) for k in d.resolve_asset_graph().asset_check_keys}
    # every check file of warehouse/sql/checks/ (<mart>.<check>.sql) is an asset check of its mart
    files = {tuple(f.name.removesuffix(".sql").split(".")) for f in (SQL_DIR / "checks").glob("*.sql")}
    assert files <= checks
    assert {("readings", "rows_balance"), ("meter_readings", "every_reading_once"),
            ("kpi_levels_month", "levels_add_up"), ("spc_funnel", "limits_nest")} <= checks
    # every mart declares its key (`-- key:`), and the key is an asset check of the mart
    from warehouse.marts import marts
    assert all(m.key for m in marts())
    assert {(m.name, "key_not_null_and_unique") for m in marts()} <= checks
    assert {name for _, name in checks - files} == {"rows_balance", "key_not_null_and_unique"}
    # a mart with history depends on the months before its own
    graph = d.resolve_asset_graph()
    context = graph.get(dg.AssetKey(["marts", "reading_context"]))
    assert dg.AssetKey(["marts", "meter_readings"]) in context.parent_keys
    assert isinstance(d, dg.Definitions)
