"""landing_sensor: request the month's run when export files land.

The cursor holds the whole seen-map {file: mtime} (not just the latest files), so a file is
requested once per version; run keys are `<file>:<mtime>`. Files whose month cannot be told
are logged and left for `readq ingest --period` (which records the rejection); so are files of a
month outside the accepted ones (`readq build` records their rejection)."""

import json

import dagster as dg

from checks.periods import accepted_months
from pipelines.defs.resources import ReadqHome
from pipelines.defs.schedules import month_job
from pipelines.ingest.landing import landing_files, period_of_file
from pipelines.partitions import partition_of


@dg.sensor(job=month_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.STOPPED)
def landing_sensor(context: dg.SensorEvaluationContext, readq_home: ReadqHome) -> dg.SensorResult:
    landing = readq_home.paths.landing
    seen: dict[str, float] = json.loads(context.cursor) if context.cursor else {}
    requests: list[dg.RunRequest] = []
    for path in landing_files(landing):
        name = path.relative_to(landing).as_posix()
        mtime = path.stat().st_mtime
        if seen.get(name) == mtime:
            continue
        seen[name] = mtime
        period = period_of_file(path)
        if period is None:
            context.log.warning(f"{name}: cannot tell its billing month; run `readq ingest {name} --period YYYY-MM`")
            continue
        first, last = accepted_months()
        if not first <= period <= last:
            context.log.warning(f"{name}: its billing month {period} is outside the accepted months ({first} .. "
                                f"{last}); `readq build` records it as rejected")
            continue
        requests.append(dg.RunRequest(run_key=f"{name}:{mtime}", partition_key=partition_of(period),
                                      tags={"readq/file": name}))
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(seen, ensure_ascii=False, sort_keys=True))
