"""Running the app as in production (gunicorn, DEBUG off) and loading it with wrk.

Also ``python -m bench.harness querycount <database>``: the SQL queries each measured page
makes, counted in-process with Django's test client (printed as JSON); and
``python -m bench.harness profile <database> [requests]``: where each page's time goes (SQL,
template rendering, the rest: view and middleware Python), with a pyinstrument profile of
each page written to bench/results/profile-<page>.txt.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from django_otp.oath import TOTP

from bench.data import BENCH_PASSWORD, ROOT, database_url

# gunicorn's recommended production size, (2 x cores) + 1: a request waiting on PostgreSQL
# leaves its core to another worker.
WORKERS = 2 * (os.cpu_count() or 1) + 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def production_env(database: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(database),
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-secret-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_SECURE_SSL": "false",
        "CLINIC_ROOT_URLCONF": "bench.urls",
        "CLINIC_TESTING": "false",
        "LOG_LEVEL": "WARNING",
    }


_collected: set[str] = set()


def collectstatic(database: str) -> None:
    """Production serves hashed static files (WhiteNoise's manifest): build it once per run."""
    if not _collected:
        env = production_env(database)
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--no-input", "-v", "0"],
            check=True,
            env=env,
            cwd=ROOT,
        )
        _collected.add(database)


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    database: str = ""


@contextmanager
def serve(database: str) -> Iterator[Server]:
    """gunicorn with the production settings against ``database``."""
    env = production_env(database)
    collectstatic(database)
    port = free_port()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    log = open(ROOT / "bench" / "results" / f"gunicorn-{database}.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [gunicorn, "clinic.wsgi:application", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/sign-in/", timeout=2)  # noqa: S310  (our own loopback server)
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"gunicorn did not start; see {log.name}")
        yield Server(url, process, database)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


@dataclass
class Session:
    cookie: str
    csrf: str


BENCH_TOTP_KEY = "62656e63682d746f74702d6b65792d3230323621"  # hex; a throwaway local database


def _bench_totp_code(database: str, username: str) -> str:
    with psycopg.connect(database_url(database), autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO otp_totp_totpdevice (user_id, name, confirmed, key, step, t0, digits, tolerance, drift,
                                             last_t, throttling_failure_timestamp, throttling_failure_count)
            SELECT u.id, 'Bench authenticator', true, %s, 30, 0, 6, 1, 0, -1, NULL, 0
            FROM clinic_user u WHERE u.username = %s
              AND NOT EXISTS (SELECT 1 FROM otp_totp_totpdevice d WHERE d.user_id = u.id)
            """,
            [BENCH_TOTP_KEY, username],
        )
        # Each sign-in needs a code not used before: the next 30-second step after the last one.
        row = conn.execute(
            "SELECT d.last_t FROM otp_totp_totpdevice d JOIN clinic_user u ON u.id = d.user_id WHERE u.username = %s",
            [username],
        ).fetchone()
    totp = TOTP(bytes.fromhex(BENCH_TOTP_KEY))
    totp.time = time.time()
    last_t = int(row[0]) if row else -1
    if last_t >= totp.t():
        time.sleep((last_t + 1 - totp.t()) * 30 - (time.time() % 30) + 0.5)
        totp.time = time.time()
    return f"{totp.token():06d}"


def sign_in(server: Server, username: str) -> Session:
    base, database = server.url, server.database
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/sign-in/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, "no CSRF token on the sign-in page"
    body = urllib.parse.urlencode(
        {"username": username, "password": BENCH_PASSWORD, "csrfmiddlewaretoken": token.group(1)}
    ).encode()
    form = urllib.request.Request(f"{base}/sign-in/", data=body, headers={"Referer": f"{base}/sign-in/"})  # noqa: S310
    opener.open(form)
    # The second factor, as staff pass it: a code from the account's authenticator (a fixed
    # bench key, set up here so databases generated before the second factor work too).
    cookies = {c.name: c.value for c in jar}
    body = urllib.parse.urlencode(
        {"token": _bench_totp_code(database, username), "csrfmiddlewaretoken": cookies["csrftoken"]}
    ).encode()
    verify = urllib.request.Request(  # noqa: S310
        f"{base}/sign-in/verify/", data=body, headers={"Referer": f"{base}/sign-in/verify/"}
    )
    opener.open(verify)
    cookies = {c.name: c.value for c in jar}
    assert "sessionid" in cookies, "sign-in failed"
    return Session(
        cookie=f"sessionid={cookies['sessionid']}; csrftoken={cookies['csrftoken']}", csrf=cookies["csrftoken"]
    )


LUA = r"""
local requests = {%(requests)s}
local max_per_thread = %(max_per_thread)d
local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  counter = 1 + id
end

function request()
  local r = requests[((counter - 1) %% #requests) + 1]
  counter = counter + %(threads)d
  return wrk.format(r[1], r[2], r[3], r[4])
end

local done_here = 0
function response(status, headers, body)
  done_here = done_here + 1
  if done_here >= max_per_thread then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, "write": %%d, ' ..
    '"status": %%d, "timeout": %%d, "p50_ms": %%.3f, "p95_ms": %%.3f, "p99_ms": %%.3f, "mean_ms": %%.3f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.mean / 1000))
end
"""


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def wrk(
    base: str,
    requests: list[tuple[str, str, dict[str, str], str | None]],
    *,
    seconds: int,
    connections: int,
    threads: int = 2,
    max_requests: int = 20_000,
) -> dict[str, float]:
    """Load ``base`` with ``requests`` (method, path, headers, body), cycled; bounded in time and count."""
    rows = []
    for method, path, headers, body in requests:
        lua_headers = "{" + ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()) + "}"
        rows.append(
            f"{{{_lua_string(method)}, {_lua_string(path)}, {lua_headers}, {_lua_string(body) if body else 'nil'}}}"
        )
    script = LUA % {
        "requests": ",\n".join(rows),
        "max_per_thread": max(1, max_requests // threads),
        "threads": threads,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t",
                str(threads),
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "--timeout",
                "10s",
                "-s",
                handle.name,
                base,
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        os.unlink(handle.name)
    match = re.search(r"^WRK_JSON (.*)$", out, re.MULTILINE)
    assert match, out
    figures: dict[str, float] = json.loads(match.group(1))
    figures["rps"] = round(figures["requests"] / (figures["duration_us"] / 1_000_000), 1)
    figures["errors"] = sum(int(figures[k]) for k in ("connect", "read", "write", "status", "timeout"))
    return figures


def query_counts(database: str) -> dict[str, int]:
    collectstatic(database)
    out = subprocess.run(
        [sys.executable, "-m", "bench.harness", "querycount", database],
        check=True,
        capture_output=True,
        text=True,
        env=production_env(database),
        cwd=ROOT,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _desk_client(database: str) -> Any:
    """A test client signed in as the bench desk, past the second factor (its bench device)."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from clinic.models import User

    _bench_totp_code(database, "bench-desk")  # makes the device if the data predates it
    desk = User.objects.get(username="bench-desk")
    client = Client()
    client.force_login(desk)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=desk).persistent_id
    session.save()
    client.get("/front-desk/")  # the session is warm, as for a desk in mid-morning
    return client


def _count_queries(database: str) -> dict[str, int]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.booking import booking_requests, search_paths

    client = _desk_client(database)
    pages = {
        "day_schedule": ("get", "/front-desk/", None),
        "day_schedule_by_room": ("get", "/front-desk/?by=room", None),
        "patient_search": ("get", search_paths()[0], None),
        "trivial_H": ("get", "/bench/trivial/", None),
    }
    counts = {}
    for name, (_method, path, _body) in pages.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, headers={"HX-Request": "true"} if "search" in name else {})
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(captured)
    warm, (_method, path, _headers, body) = booking_requests(database, count=2, offset_days=900)
    # The first booking ever also writes the standard message templates: not the steady state.
    assert client.post(warm[1], data=warm[3], content_type="application/x-www-form-urlencoded").status_code == 302
    with CaptureQueriesContext(connection) as captured:
        response = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 302, response.status_code
    counts["booking_post"] = len(captured)
    return counts


def _profile(database: str, repeat: int) -> dict[str, dict[str, float]]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    django.setup()
    from django.db import connection
    from django.template.backends.django import Template
    from pyinstrument import Profiler

    from bench.booking import booking_requests, search_paths

    spent = {"sql": 0.0, "template": 0.0}

    def timed_sql(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent["sql"] += time.perf_counter() - began

    plain_render = Template.render

    def timed_render(self: Any, *args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return plain_render(self, *args, **kwargs)
        finally:
            spent["template"] += time.perf_counter() - began

    Template.render = timed_render  # type: ignore[method-assign]
    client = _desk_client(database)
    searches = search_paths()
    bookings = booking_requests(database, count=repeat + 1, offset_days=1200)
    pages: dict[str, Any] = {
        "trivial_H": lambda n: client.get("/bench/trivial/"),
        "day_schedule": lambda n: client.get("/front-desk/"),
        "day_schedule_by_room": lambda n: client.get("/front-desk/?by=room"),
        "patient_search": lambda n: client.get(searches[n % len(searches)], headers={"HX-Request": "true"}),
        "booking_post": lambda n: client.post(
            bookings[n][1], data=bookings[n][3], content_type="application/x-www-form-urlencoded"
        ),
    }
    results: dict[str, dict[str, float]] = {}
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    for name, request in pages.items():
        request(repeat)  # warm: the first request of a page compiles its templates
        spent.update(sql=0.0, template=0.0)
        profiler = Profiler(interval=0.0005)
        with connection.execute_wrapper(timed_sql):
            began = time.perf_counter()
            profiler.start()
            for n in range(repeat):
                request(n)
            profiler.stop()
            wall = time.perf_counter() - began
        (results_dir / f"profile-{name}.txt").write_text(profiler.output_text(unicode=False, color=False))
        per = 1000 / repeat
        results[name] = {
            "ms_per_request": round(wall * per, 2),
            "sql_ms": round(spent["sql"] * per, 2),
            "template_ms": round(spent["template"] * per, 2),
            "python_and_middleware_ms": round((wall - spent["sql"] - spent["template"]) * per, 2),
        }
    return results


if __name__ == "__main__" and sys.argv[1:2] == ["querycount"]:
    print(json.dumps(_count_queries(sys.argv[2])))
elif __name__ == "__main__" and sys.argv[1:2] == ["profile"]:
    collectstatic(sys.argv[2])
    os.environ.update(production_env(sys.argv[2]))
    print(json.dumps(_profile(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 50), indent=2))
