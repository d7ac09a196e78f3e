"""Aftercare outbox benchmark (`python -m bench aftercare`).

1. Throughput and lag: 10,000 due messages dispatched by a real Celery worker (beat at its
   production interval, 60 s) to a local SMTP sink, against a bare smtplib loop sending
   the same pre-built messages to the same sink over one connection.
2. The claim query's time with 500,000 and then 5,000,000 stored messages (the history
   grows; what is scheduled does not), bulk-inserted with generate_series.

Uses its own database, clinic_bench_aftercare (dropped and recreated), and its own
private redis-server on a free port. Needs DATABASE_URL's server (any database on it).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import threading
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from aiosmtpd.controller import Controller

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DB = "clinic_bench_aftercare"
MESSAGES = 10_000
SMALL, LARGE = 500_000, 5_000_000
SCHEDULED_FUTURE, DUE_NOW = 5_000, 200  # the live part of the outbox, the same at both sizes
CLAIM_RUNS = 300
BEAT_INTERVAL = 60
CONCURRENCY = 4

CLAIM_SQL = """
SELECT m.*, p.*, u.*
FROM aftercare_message m
INNER JOIN clinic_patient p ON m.patient_id = p.id
LEFT OUTER JOIN clinic_user u ON m.to_user_id = u.id
WHERE m.next_attempt_at <= now() AND m.status = 'scheduled'
ORDER BY m.next_attempt_at ASC, m.id ASC
LIMIT 1
FOR UPDATE OF m SKIP LOCKED
"""  # what MessageQuerySet.due().select_for_update(skip_locked=True, of=("self",)) sends

SUBJECT = "Your aftercare from Clearwater Skin Clinic"
BODY_TEXT = (
    "Hello Anna,\n\nThank you for coming in today. Your skin may stay red and sensitive for a day or so; "
    "that is expected.\n\n" + "- Avoid harsh actives: retinoids, acids and scrubs.\n" * 8 + "\n\nWith best wishes"
)
BODY_HTML = "<!DOCTYPE html><html><body>" + "<p>" + BODY_TEXT.replace("\n", "<br>") * 2 + "</p></body></html>"


def say(text: str) -> None:
    print(f"[bench aftercare] {text}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class CountingHandler:
    def __init__(self) -> None:
        self.count = 0
        self.ids: set[str] = set()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        content: bytes = envelope.content
        start = content.find(b"Message-ID:")
        mid = content[start : content.find(b"\r\n", start)] if start >= 0 else b""
        with self.lock:
            self.count += 1
            self.ids.add(mid.decode())
        return "250 OK"

    def reset(self) -> None:
        with self.lock:
            self.count = 0
            self.ids = set()


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    from clinic.devstack import _redis_server_binary

    return _redis_server_binary()


def urls() -> tuple[str, str, str]:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic")
    parts = urlsplit(base)
    admin = parts._replace(path="/postgres").geturl()
    bench = parts._replace(path=f"/{BENCH_DB}").geturl()
    return base, admin, bench


def recreate_database(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def app_env(bench_url: str, redis_url: str, smtp_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": bench_url,
            "REDIS_URL": redis_url,
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_DEBUG": "false",
            "CLINIC_TESTING": "false",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "AFTERCARE_DISPATCH_INTERVAL_SECONDS": str(BEAT_INTERVAL),
            "AFTERCARE_DISPATCH_FANOUT": str(CONCURRENCY),
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def insert_patients(conn: psycopg.Connection[Any], count: int) -> None:
    conn.execute(
        """
        INSERT INTO clinic_patient (first_name, last_name, date_of_birth, email, phone, preferred_contact,
            email_consent, email_consent_at, front_desk_notes, created_at, updated_at)
        SELECT 'Patient', 'No ' || i, DATE '1990-01-01', 'patient' || i || '@example.com', '', 'email',
            true, now(), '', now(), now()
        FROM generate_series(1, %s::bigint) AS i
        """,
        (count,),
    )


def insert_messages(
    conn: psycopg.Connection[Any], *, first: int, count: int, status_sql: str, due_sql: str, body: str, html: str
) -> None:
    conn.execute(
        f"""
        INSERT INTO aftercare_message (patient_id, location_id, to_user_id, kind, status, due_at, next_attempt_at,
            attempts, attempt_limit, last_error, sent_at, cancelled_reason, subject, body_text, body_html,
            attachment_ics, token,
            source, idempotency_key, created_at)
        SELECT p.id, NULL, NULL,
            (ARRAY['aftercare_right_after', 'checkin_day1', 'actives_return', 'session_reminder',
                   'progress_review'])[1 + mod(i, 5)],
            s.status, d.due, d.due,
            CASE WHEN s.status = 'sent' THEN 1 ELSE 0 END, 6, '',
            CASE WHEN s.status = 'sent' THEN d.due + interval '30 seconds' END, '',
            %(subject)s, %(body)s, %(html)s, '', gen_random_uuid(),
            'bench:' || i, 'bench:' || i, now()
        FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
        CROSS JOIN LATERAL (SELECT {status_sql} AS status) s
        CROSS JOIN LATERAL (SELECT {due_sql} AS due) d
        JOIN clinic_patient p ON p.id = (SELECT min(id) FROM clinic_patient) + mod(i, %(patients)s)
        """,  # noqa: S608  (fixed SQL fragments from this module, no input)
        {
            "subject": SUBJECT,
            "body": body,
            "html": html,
            "first": first,
            "last": first + count - 1,
            "patients": 10_000,
        },
    )


# What scheduling does for each new row (aftercare.services stamps it before storing): the
# bench's rows are inserted with SQL, so they get their wire bytes here, before either run.
STAMP = """
from aftercare.models import Message
from aftercare.outgoing import stamp
rows = list(Message.objects.filter(status="scheduled", raw=b"").select_related("patient", "to_user"))
for row in rows:
    stamp(row)
Message.objects.bulk_update(rows, ["raw", "envelope_from", "envelope_to"], batch_size=1000)
"""


def stamp_messages(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", "shell", "-c", STAMP], env=env, cwd=BASE_DIR, check=True)


def prebuilt_messages(conn: psycopg.Connection[Any]) -> list[tuple[str, str, bytes]]:
    """The very bytes the worker will send (stored at scheduling), with the Date it adds."""
    rows = conn.execute(
        "SELECT envelope_from, envelope_to, raw FROM aftercare_message WHERE status = 'scheduled' ORDER BY id"
    ).fetchall()
    return [(sender, to, b"Date: " + formatdate().encode() + b"\r\n" + bytes(raw)) for sender, to, raw in rows]


def bare_smtplib_rate(port: int, messages: list[tuple[str, str, bytes]]) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for sender, to, raw in messages:
            smtp.sendmail(sender, [to], raw)
    return len(messages) / (time.perf_counter() - started)


def spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "clinic", *argv],
        env=env,
        cwd=BASE_DIR,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def claim_timing(bench_url: str) -> dict[str, float]:
    timings = []
    with psycopg.connect(bench_url) as conn:
        for _ in range(CLAIM_RUNS):
            started = time.perf_counter()
            conn.execute(CLAIM_SQL).fetchall()
            timings.append((time.perf_counter() - started) * 1000)
            conn.rollback()
    timings.sort()
    return {"median_ms": round(statistics.median(timings), 3), "p95_ms": round(timings[int(0.95 * len(timings))], 3)}


def fill_history(bench_url: str, *, up_to: int) -> None:
    """Grow the stored messages to ``up_to`` rows of history (sent, some skipped or cancelled)."""
    with psycopg.connect(bench_url, autocommit=True) as conn:
        existing = conn.execute("SELECT count(*) FROM aftercare_message").fetchone()[0]  # type: ignore[index]
        first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM aftercare_message").fetchone()[0]  # type: ignore[index]
        # Bulk load: the audit triggers are skipped for these synthetic rows (replica role).
        conn.execute("SET session_replication_role = replica")
        chunk = 500_000
        todo = up_to - existing
        while todo > 0:
            n = min(chunk, todo)
            insert_messages(
                conn,
                first=first,
                count=n,
                status_sql="CASE WHEN mod(i, 50) = 0 THEN 'skipped_no_consent' WHEN mod(i, 70) = 0 THEN 'cancelled' "
                "ELSE 'sent' END",
                due_sql="now() - mod(i, 1000) * interval '1 day' - interval '1 day'",
                body="Hello,\n\nHistorical message body.",
                html="<p>Hello,</p><p>Historical message body.</p>",
            )
            first += n
            todo -= n
        conn.execute("VACUUM ANALYZE aftercare_message")


def main(results_dir: Path) -> dict[str, Any]:
    _base, admin_url, bench_url = urls()
    figures: dict[str, Any] = {}
    started_all = time.monotonic()
    say(f"recreating {BENCH_DB}")
    recreate_database(admin_url)
    redis_port, smtp_port = free_port(), free_port()
    redis_dir = results_dir / "aftercare-redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    redis_proc = subprocess.Popen(
        [
            redis_server_binary(),
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(redis_dir),
        ],
        stdout=subprocess.DEVNULL,
    )
    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    env = app_env(bench_url, f"redis://127.0.0.1:{redis_port}/0", smtp_port)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], env=env, cwd=BASE_DIR, check=True)
        with psycopg.connect(bench_url, autocommit=True) as conn:
            insert_patients(conn, 10_000)
            # The 10,000 to send: stored first, due far in the future until the worker runs.
            insert_messages(
                conn,
                first=1,
                count=MESSAGES,
                status_sql="'scheduled'",
                due_sql="now() + interval '30 days'",
                body=BODY_TEXT,
                html=BODY_HTML,
            )
        say("building each message's bytes, as scheduling does")
        stamp_messages(env)
        with psycopg.connect(bench_url, autocommit=True) as conn:
            built = prebuilt_messages(conn)
        say("bare smtplib loop")
        bare_rate = bare_smtplib_rate(smtp_port, built)
        handler.reset()
        say("worker and beat")
        logs = results_dir / "aftercare-logs"
        logs.mkdir(exist_ok=True)
        processes.append(
            spawn(["worker", "-c", str(CONCURRENCY), "-l", "WARNING", "-n", "bench@%h"], env, logs / "w.log")
        )
        processes.append(
            spawn(
                ["beat", "-l", "WARNING", "-s", str(logs / "beat-schedule"), "--pidfile", str(logs / "beat.pid")],
                env,
                logs / "beat.log",
            )
        )
        time.sleep(5)
        with psycopg.connect(bench_url, autocommit=True) as conn:
            # They all become due now, at an arbitrary point of the beat's cycle.
            conn.execute(
                "UPDATE aftercare_message SET due_at = now(), next_attempt_at = now() WHERE status = 'scheduled'"
            )
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                sent = conn.execute("SELECT count(*) FROM aftercare_message WHERE status = 'sent'").fetchone()[0]  # type: ignore[index]
                if sent >= MESSAGES:
                    break
                time.sleep(1)
            row = conn.execute(
                """
                SELECT count(*),
                    extract(epoch FROM max(sent_at) - min(sent_at)),
                    extract(epoch FROM percentile_cont(0.99) WITHIN GROUP (ORDER BY sent_at - due_at)),
                    extract(epoch FROM percentile_cont(0.50) WITHIN GROUP (ORDER BY sent_at - due_at)),
                    extract(epoch FROM min(sent_at) - min(due_at))
                FROM aftercare_message WHERE status = 'sent'
                """
            ).fetchone()
        assert row is not None
        sent_count, drain, p99, p50, first_wait = (float(v or 0) for v in row)
        worker_rate = sent_count / drain if drain else 0.0
        figures["cpus"] = os.cpu_count()
        figures["load_average_1m_during_dispatch"] = round(os.getloadavg()[0], 2)
        figures["messages_sent"] = int(sent_count)
        figures["sink_received"] = handler.count
        figures["sink_distinct_message_ids"] = len(handler.ids)
        figures["worker_messages_per_s"] = round(worker_rate, 1)
        figures["bare_smtplib_messages_per_s"] = round(bare_rate, 1)
        figures["ratio_worker_to_bare"] = round(worker_rate / bare_rate, 3) if bare_rate else None
        figures["target_ratio"] = ">= 0.6"
        figures["beat_interval_s"] = BEAT_INTERVAL
        figures["wait_for_first_beat_s"] = round(first_wait, 1)
        figures["drain_time_s"] = round(drain, 1)
        figures["lag_p50_s"] = round(p50, 1)
        figures["lag_p99_s"] = round(p99, 1)
        figures["lag_p99_target_s"] = round(2 * BEAT_INTERVAL + drain, 1)
        for process in processes:
            stop(process)
        processes.clear()

        if os.environ.get("BENCH_AFTERCARE_SKIP_CLAIM"):  # for iterating on throughput only
            return figures
        say(f"claim query at {SMALL:,} stored messages")
        with psycopg.connect(bench_url, autocommit=True) as conn:
            conn.execute("DELETE FROM aftercare_message WHERE status <> 'sent'")
            conn.execute("SET session_replication_role = replica")
            insert_messages(
                conn,
                first=20_000_000,
                count=SCHEDULED_FUTURE,
                status_sql="'scheduled'",
                due_sql="now() + mod(i, 90) * interval '1 day' + interval '1 hour'",
                body=BODY_TEXT,
                html=BODY_HTML,
            )
            insert_messages(
                conn,
                first=30_000_000,
                count=DUE_NOW,
                status_sql="'scheduled'",
                due_sql="now() - interval '1 minute'",
                body=BODY_TEXT,
                html=BODY_HTML,
            )
        fill_history(bench_url, up_to=SMALL)
        small = claim_timing(bench_url)
        say(f"claim query at {LARGE:,} stored messages")
        fill_history(bench_url, up_to=LARGE)
        large = claim_timing(bench_url)
        with psycopg.connect(bench_url) as conn:
            stored = conn.execute("SELECT count(*) FROM aftercare_message").fetchone()[0]  # type: ignore[index]
        figures["claim_stored_small"] = SMALL
        figures["claim_median_ms_small"] = small["median_ms"]
        figures["claim_p95_ms_small"] = small["p95_ms"]
        figures["claim_stored_large"] = stored
        figures["claim_median_ms_large"] = large["median_ms"]
        figures["claim_p95_ms_large"] = large["p95_ms"]
        figures["claim_ratio_large_to_small"] = round(large["median_ms"] / small["median_ms"], 2)
        figures["claim_target_ratio"] = "<= 1.5"
        figures["total_bench_s"] = round(time.monotonic() - started_all, 1)
        figures["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    finally:
        for process in processes:
            stop(process)
        controller.stop()
        redis_proc.kill()
        redis_proc.wait()
    return figures
