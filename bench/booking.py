"""Booking benchmarks: the day schedule, patient search and the booking POST, against gunicorn.

Targets (issue 3), each measured in this one run:
  day schedule requests/s >= 0.10 x H (a trivial view through the same middleware);
  booking POST requests/s >= 0.15 x H;
  patient search p95 <= 25 ms at 1,000,000 patients and <= 1.3 x its p95 at 100,000;
  SQL queries per page equal at 1x and 10x data, and at most 10; no errors in any load run.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import urllib.parse
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from bench import harness
from bench.data import FIRST_NAMES, LARGE, LOCATIONS, SLOTS_PER_DAY, SMALL, ZONE, database_url, ensure

SECONDS = 10  # each load run
WARM_UP = 3
CONNECTIONS = 8  # the server has 2 workers; enough to keep both busy
SEARCH_CONNECTIONS = 2  # latency, not queueing: one request per worker at a time


def search_paths(n: int = 300) -> list[str]:
    """What a desk types: 3+3 letters of a name, 4 last phone digits, or the start of an email."""
    rng = random.Random(3)
    from bench.data import LAST_NAMES

    typed = []
    for i in range(n):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        kind = i % 4
        if kind in (0, 1):
            typed.append(f"{first[:3].lower()} {last[:3].lower()}")
        elif kind == 2:
            typed.append(f"{rng.randrange(10_000):04d}")
        else:
            typed.append(f"{first.lower()}.{last[:2].lower()}@")
    return ["/patients/?" + urllib.parse.urlencode({"q": q}) for q in typed]


def booking_requests(database: str, *, count: int, offset_days: int = 0) -> list[tuple[str, str, dict[str, str], str]]:
    """``count`` bookable POSTs, each a different free hour after every existing appointment."""
    with psycopg.connect(database_url(database)) as conn:
        location_id = conn.execute("SELECT id FROM clinic_location WHERE name = %s", [LOCATIONS[1]]).fetchone()[0]  # type: ignore[index]
        type_id = conn.execute("SELECT id FROM clinic_appointmenttype WHERE kind = 'consultation'").fetchone()[0]  # type: ignore[index]
        pairs = conn.execute(
            """
            SELECT u.id, r.id FROM clinic_user u
            JOIN clinic_room r ON r.location_id = u.home_location_id
             AND r.name = format('Room %%s', split_part(u.username, '-', 3))
            WHERE u.username LIKE 'prac-%%' AND u.home_location_id = %s ORDER BY u.id
            """,
            [location_id],
        ).fetchall()
        last = conn.execute("SELECT max(start) FROM clinic_appointment").fetchone()[0]  # type: ignore[index]
        first_patient, last_patient = conn.execute("SELECT min(id), max(id) FROM clinic_patient").fetchone()  # type: ignore[misc]
    zone = ZoneInfo(ZONE)
    first_day = last.astimezone(zone).date() + timedelta(days=1 + offset_days)
    rng = random.Random(5)
    requests = []
    for n in range(count):
        day, rest = divmod(n, len(pairs) * SLOTS_PER_DAY)
        slot, pair = divmod(rest, len(pairs))
        practitioner, room = pairs[pair]
        start = datetime.combine(first_day + timedelta(days=day), datetime.min.time(), tzinfo=zone) + timedelta(
            hours=8 + slot
        )
        patient = rng.randint(first_patient, min(last_patient, first_patient + 199_999))
        body = urllib.parse.urlencode(
            {"appointment_type": type_id, "practitioner": practitioner, "room": room, "start": start.isoformat()}
        )
        requests.append(
            ("POST", f"/patients/{patient}/book/", {"Content-Type": "application/x-www-form-urlencoded"}, body)
        )
    return requests


def _load(
    server: harness.Server,
    session: harness.Session,
    requests: list[tuple[str, str, dict[str, str], str | None]],
    *,
    connections: int,
    warm: bool = True,
) -> dict[str, float]:
    headed = [(m, p, {**h, "Cookie": session.cookie, "X-CSRFToken": session.csrf}, b) for m, p, h, b in requests]
    if warm:
        harness.wrk(server.url, headed, seconds=WARM_UP, connections=connections)
    return harness.wrk(server.url, headed, seconds=SECONDS, connections=connections)


def search_only(results_dir: Path) -> dict[str, object]:
    """Only the patient search figures (``python -m bench.booking --search-only``)."""
    log: list[str] = []
    for scale in (SMALL, LARGE):
        ensure(scale, log)
    search = [("GET", path, {"HX-Request": "true"}, None) for path in search_paths()]
    runs = {}
    for scale in (SMALL, LARGE):
        with harness.serve(scale.database) as server:
            session = harness.sign_in(server, "bench-desk")
            runs[scale.label] = _load(server, session, search, connections=SEARCH_CONNECTIONS)
    small, large = runs[SMALL.label], runs[LARGE.label]
    figures: dict[str, object] = {
        "search_p95_ms_1m (<= 25)": large["p95_ms"],
        "search_p95_ms_100k": small["p95_ms"],
        "search_p95_ratio_1m_to_100k (<= 1.3)": round(large["p95_ms"] / small["p95_ms"], 2),
        "search_p50_ms_1m": large["p50_ms"],
        "search_p50_ms_100k": small["p50_ms"],
        "requests_1m_100k": [int(large["requests"]), int(small["requests"])],
        "errors_1m_100k": [int(large["errors"]), int(small["errors"])],
        "log": log,
    }
    figures["targets_met"] = {
        "search_p95_1m": large["p95_ms"] <= 25,
        "search_growth": large["p95_ms"] <= 1.3 * small["p95_ms"],
    }
    (results_dir / "booking-search.json").write_text(json.dumps(figures, indent=2))
    return figures


def main(results_dir: Path) -> dict[str, object]:
    began = time.monotonic()
    log: list[str] = []
    generated = {scale.label: round(ensure(scale, log)) for scale in (SMALL, LARGE)}
    queries = {scale.label: harness.query_counts(scale.database) for scale in (SMALL, LARGE)}

    search = [("GET", path, {"HX-Request": "true"}, None) for path in search_paths()]
    with harness.serve(SMALL.database) as server:
        session = harness.sign_in(server, "bench-desk")
        search_small = _load(server, session, search, connections=SEARCH_CONNECTIONS)

    with harness.serve(LARGE.database) as server:
        session = harness.sign_in(server, "bench-desk")
        baseline = _load(server, session, [("GET", "/bench/trivial/", {}, None)], connections=CONNECTIONS)
        day = _load(server, session, [("GET", "/front-desk/", {}, None)], connections=CONNECTIONS)
        search_large = _load(server, session, search, connections=SEARCH_CONNECTIONS)
        # Booking writes: each request books a new hour, so the warm-up books its own batch
        # and the measured run's hours are chosen after it.
        _load(server, session, booking_requests(LARGE.database, count=5_000), connections=CONNECTIONS, warm=False)
        bookings = booking_requests(LARGE.database, count=20_000)
        booking = _load(server, session, bookings, connections=CONNECTIONS, warm=False)

    h = baseline["rps"]
    runs = {
        "H": baseline,
        "day_schedule": day,
        "booking_post": booking,
        "search_1m": search_large,
        "search_100k": search_small,
    }
    same_queries = queries[SMALL.label] == queries[LARGE.label]
    most_queries = max(max(c.values()) for c in queries.values())
    figures: dict[str, object] = {
        "data": f"{LARGE.patients:,} patients / {LARGE.appointments:,} appointments (10x); "
        f"{SMALL.patients:,} / {SMALL.appointments:,} (1x)",
        "generation_seconds": generated,
        "H_trivial_rps": h,
        "day_schedule_rps": day["rps"],
        "day_schedule_ratio_to_H (>= 0.10)": round(day["rps"] / h, 3),
        "booking_post_rps": booking["rps"],
        "booking_post_ratio_to_H (>= 0.15)": round(booking["rps"] / h, 3),
        "search_p95_ms_1m (<= 25)": search_large["p95_ms"],
        "search_p95_ms_100k": search_small["p95_ms"],
        "search_p95_ratio_1m_to_100k (<= 1.3)": round(search_large["p95_ms"] / search_small["p95_ms"], 2),
        "queries_1x": queries[SMALL.label],
        "queries_10x": queries[LARGE.label],
        "queries_equal_1x_10x": same_queries,
        "queries_max (<= 10)": most_queries,
        "errors_per_run": {name: int(run["errors"]) for name, run in runs.items()},
        "requests_per_run": {name: int(run["requests"]) for name, run in runs.items()},
        "latency_p95_ms": {name: run["p95_ms"] for name, run in runs.items()},
        "log": log,
        "total_seconds": round(time.monotonic() - began),
    }
    figures["targets_met"] = {
        "day_schedule": day["rps"] >= 0.10 * h,
        "booking_post": booking["rps"] >= 0.15 * h,
        "search_p95_1m": search_large["p95_ms"] <= 25,
        "search_growth": search_large["p95_ms"] <= 1.3 * search_small["p95_ms"],
        "queries": same_queries and most_queries <= 10,
        "no_errors": all(run["errors"] == 0 for run in runs.values()),
    }
    table = ["| figure | value |", "| --- | --- |"] + [f"| {k} | {v} |" for k, v in figures.items() if k != "log"]
    (results_dir / "booking.md").write_text("\n".join(table) + "\n")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.booking")
    parser.add_argument("--search-only", action="store_true", help="measure only the patient search")
    arguments = parser.parse_args()
    results = Path(__file__).resolve().parent / "results"
    results.mkdir(parents=True, exist_ok=True)
    chosen = search_only(results) if arguments.search_only else main(results)
    for key, value in chosen.items():
        print(f"  {key:<48} {value}")
