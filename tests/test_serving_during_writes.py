"""The dashboards keep serving while the pipeline writes: the app's data layer (dashboards/data.py), queried
in a loop from another thread while a month is re-materialized through Dagster and then published, never
raises and always answers from one whole snapshot — the one before the publish or the one after it, never a
mix and never a partial file (warehouse/publish.py swaps the snapshot in with os.replace)."""

from __future__ import annotations

import threading

import dagster as dg

from dashboards import data
from pipelines.defs.publish.assets import published_warehouse
from pipelines.defs.resources import build_resources
from readq.config import Home
from tests.test_pipeline_month import materialize_month, write_month

QUERIES = (
    ("select coalesce(sum(customers_due), 0)::bigint, coalesce(sum(customers_with_error), 0)::bigint "
     "from marts.kpi_team_month", ()),
    ("select count(*) from marts.error_findings", ()),
    ("select count(*) from ops.deliveries", ()),
)


def state(*, cached: bool = True) -> tuple:
    """What one snapshot says, read as a page reads it (one connection, several queries); uncached, the
    file is opened again on every call, as by a page whose cache missed."""
    snap = data.current_snapshot()
    assert snap is not None
    frames = data.query_many(snap, QUERIES) if cached else data._query_many.__wrapped__(snap, QUERIES)
    return tuple(tuple(f.row(0)) for f in frames)


def publish(h: Home) -> None:
    assert dg.materialize([published_warehouse], resources=build_resources(h)).success


def test_the_data_layer_answers_from_one_whole_snapshot_during_a_build_and_a_publish(data_home: Home) -> None:
    write_month(data_home.landing, with_findings=False)
    assert materialize_month(data_home).success
    publish(data_home)
    before = state()
    assert before[1] == (0,)                                  # no findings delivered yet

    seen: list[tuple] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                seen.append(state(cached=False))
                seen.append(state())
            except BaseException as exc:
                errors.append(exc)

    reader = threading.Thread(target=serve)
    reader.start()
    try:
        write_month(data_home.landing)                        # the findings arrive: the month is rebuilt
        assert materialize_month(data_home).success
        during_build = len(seen)
        publish(data_home)
        during_publish = len(seen) - during_build
        after = state()
        for _ in range(200):                                  # a few more reads on the new snapshot
            if len(seen) > 20 and seen[-1] == after:
                break
            done.wait(0.01)
    finally:
        done.set()
        reader.join(timeout=60)
    assert not errors, errors[:3]
    assert after != before and after[1] == (1,)              # the finding is in the new snapshot
    assert during_build > 20 and during_publish > 0          # the reads ran while the pipeline wrote
    assert set(seen) <= {before, after}                       # never a mix of the two, never a partial file
    assert seen[0] == before and seen[-1] == after
