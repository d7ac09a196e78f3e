"""`python -m bench reports`: each report's p95 over 90 days and over a year, at 1x and 10x.

The data: the booking generator's appointments (bench/data.py) plus its clinical layer
(consultations, plans, signed sessions with present-lesion counts, reviews, aftercare
messages, check-ins), added to the booking suite's databases (``clinic_bench_1x`` / ``_10x``;
``BENCH_DATABASE_PREFIX`` renames them). 10x takes long to generate on a small machine;
``BENCH_REPORTS_ONLY_1X=1`` runs 1x alone.

Each report is built in-process (the view's own build function, as the page calls it) for
the manager of the busiest location, RUNS times after a warm-up; the SQL query count of each
build is recorded too. Targets (issue 14): 90 days p95 <= 300 ms at 10x and <= 2x its 1x p95;
a year p95 <= 1.5 s; the same query count at 1x and 10x.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import data

# The booking suite's scales and databases (``<BENCH_DATABASE_PREFIX>_1x`` / ``_10x``) with the
# clinical layer on top. BENCH_REPORTS_ONLY_1X=1 skips 10x (long to generate on a small machine).
SCALES = [data.SMALL] if os.environ.get("BENCH_REPORTS_ONLY_1X") == "1" else [data.SMALL, data.LARGE]
RUNS = int(os.environ.get("BENCH_REPORTS_RUNS", "20"))


def probe() -> dict[str, object]:
    """Run inside Django (DATABASE_URL points at a bench database): time every report."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    django.setup()
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from clinic.models import Location, User
    from reports import summaries
    from reports.forms import Filters
    from reports.framework import Drill
    from reports.views import SPECS

    # The summaries as beat keeps them: refreshed (the generator writes the rows after the
    # migrations made the views, empty). How long a refresh takes is a figure too: beat runs it
    # every CLINIC_REPORTS_SUMMARY_REFRESH_SECONDS.
    figures: dict[str, object] = {}
    began = time.perf_counter()
    summaries.refresh_summaries()
    figures["summaries_refresh_s"] = round(time.perf_counter() - began, 1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    location = Location.objects.get(name=data.LOCATIONS[1])
    user = User.objects.get(username="bench-desk")  # has the location; the builds do not check roles
    today = timezone.localdate()
    for days in (90, 365):
        first = today - timedelta(days=days - 1)
        chosen = Filters(
            first_day=first,
            last_day=today,
            start=location.day_bounds(first)[0],
            end=location.day_bounds(today)[1],
            location_ids=(location.pk,),
            zone=location.time_zone,
            late_hours=24,
            by="",
        )
        for slug, spec in SPECS.items():
            drill = Drill(slug, chosen)
            spec.build(chosen, user, drill)  # warm-up: caches (the user's locations) as a page has them
            with CaptureQueriesContext(connection) as queries:
                spec.build(chosen, user, drill)
            timings = []
            for _ in range(RUNS):
                began = time.perf_counter()
                spec.build(chosen, user, drill)
                timings.append((time.perf_counter() - began) * 1000)
            timings.sort()
            figures[f"{slug}_{days}d"] = {
                "p50_ms": round(timings[len(timings) // 2], 1),
                "p95_ms": round(timings[min(len(timings) - 1, int(len(timings) * 0.95))], 1),
                "queries": len(queries),
            }
    return figures


def main(results_dir: Path) -> dict[str, object]:
    began = time.monotonic()
    log: list[str] = []
    results: dict[str, object] = {}
    for scale in SCALES:
        seconds = data.ensure_clinical(scale, log)
        env = {
            **os.environ,
            "DATABASE_URL": data.database_url(scale.database),
            "DJANGO_DEBUG": "true",
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "bench-only-secret-key-" + "x" * 40),
            "LOG_LEVEL": "WARNING",
        }
        run = subprocess.run(
            [sys.executable, "-m", "bench.reports", "--probe"],
            check=True,
            env=env,
            cwd=data.ROOT,
            capture_output=True,
            text=True,
        )
        results[scale.label] = json.loads(run.stdout.strip().splitlines()[-1])
        log.append(f"{scale.database}: generation {seconds:.0f} s")
    figures: dict[str, object] = {"runs_per_report": RUNS, **results, "log": log}
    if len(SCALES) == 2:
        small, large = (results[s.label] for s in SCALES)
        assert isinstance(small, dict)
        assert isinstance(large, dict)
        figures["targets_met"] = {
            key: {
                "90d_p95_le_300ms": value["p95_ms"] <= 300 if key.endswith("_90d") else None,
                "90d_le_2x_1x": value["p95_ms"] <= 2 * small[key]["p95_ms"] if key.endswith("_90d") else None,
                "year_p95_le_1500ms": value["p95_ms"] <= 1500 if key.endswith("_365d") else None,
                "same_queries": value["queries"] == small[key]["queries"],
            }
            for key, value in large.items()
            if isinstance(value, dict)
        }
    figures["total_seconds"] = round(time.monotonic() - began)
    return figures


if __name__ == "__main__":
    if "--probe" in sys.argv:
        print(json.dumps(probe()))
    else:
        out = Path(__file__).resolve().parent / "results"
        out.mkdir(parents=True, exist_ok=True)
        print(json.dumps(main(out), indent=2))
