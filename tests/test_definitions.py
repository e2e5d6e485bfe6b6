"""The Dagster code location loads, with the assets, checks, job and schedule users rely on."""

from __future__ import annotations

import dagster as dg

from checks.mappings import KINDS
from readq.config import Home


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
    checks = {k.name for k in d.resolve_asset_graph().asset_check_keys}
    assert checks == {"rows_balance", "every_reading_once", "every_reading_judged", "flags_trace_to_readings",
                      "rates_are_rates", "one_row_per_reader"}
    # a mart with history depends on the months before its own
    graph = d.resolve_asset_graph()
    context = graph.get(dg.AssetKey(["marts", "reading_context"]))
    assert dg.AssetKey(["marts", "meter_readings"]) in context.parent_keys
    assert isinstance(d, dg.Definitions)
