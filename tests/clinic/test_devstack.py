"""`make run` supervises its processes: a dying worker is restarted, a dying web server stops everything,
and the URL and sign-ins are printed only once the web server answers."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from clinic import devstack
from clinic.devstack import Announcement, Supervised, answers, supervise


def _script(tmp_path: Path, name: str, body: str) -> list[str]:
    path = tmp_path / f"{name}.py"
    path.write_text(body)
    return [sys.executable, str(path)]


def test_a_worker_that_dies_is_restarted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    starts = tmp_path / "starts.log"
    # Each start appends a line, then the "worker" dies at once.
    worker = _script(tmp_path, "worker", f"open({str(starts)!r}, 'a').write('x\\n')\n")
    web = _script(tmp_path, "web", "import time\ntime.sleep(60)\n")
    children = [Supervised("web server", web, restart=False), Supervised("Celery worker", worker, restart=True)]
    monkeypatch.setattr(devstack, "MAX_RESTARTS", 3)
    # The worker keeps dying: after MAX_RESTARTS restarts within the window, everything stops.
    status = supervise(children, dict(os.environ))
    assert status == 1
    assert starts.read_text().count("x") == 1 + 3
    assert children[0].process is not None
    assert children[0].process.poll() is not None


def test_the_web_server_dying_stops_everything_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    web = _script(tmp_path, "web", "raise SystemExit(3)\n")
    worker = _script(tmp_path, "worker", "import time\ntime.sleep(60)\n")
    children = [Supervised("web server", web, restart=False), Supervised("Celery worker", worker, restart=True)]
    status = supervise(children, dict(os.environ))
    assert status == 1
    assert "web server exited with status 3 and will not be restarted: stopping everything." in capsys.readouterr().out
    assert children[1].process is not None
    assert children[1].process.poll() is not None


def test_ctrl_c_stops_every_child(tmp_path: Path) -> None:
    sleeper = _script(tmp_path, "sleeper", "import time\ntime.sleep(60)\n")
    children = [Supervised("web server", sleeper, restart=False), Supervised("Celery beat", sleeper, restart=True)]
    threading.Timer(1.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    started = time.monotonic()
    status = supervise(children, dict(os.environ))
    assert status == 0
    assert time.monotonic() - started < 30
    assert all(child.process is not None and child.process.poll() is not None for child in children)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# A web server that starts listening only after a delay and answers /healthz with 503, as the
# app does before the dispatcher's first heartbeat: answering at all is what counts.
SLOW_WEB = """
import http.server, sys, time
time.sleep(float(sys.argv[2]))

class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(503 if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass

http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
"""


def test_the_sign_ins_are_printed_only_once_the_web_server_answers(tmp_path: Path) -> None:
    port = _free_port()
    web = [*_script(tmp_path, "web", SLOW_WEB), str(port), "2"]
    events: list[str] = []

    def ready() -> bool:
        answered = answers("127.0.0.1", port)
        events.append("answers" if answered else "silent")
        return answered

    announcement = Announcement(ready=ready, announce=lambda: events.append("announced"), waiting="late")
    threading.Timer(8, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    status = supervise([Supervised("web server", web, restart=False)], dict(os.environ), announcement=announcement)
    assert status == 0
    # Asked while the server was still starting, announced right after its first answer, once.
    assert events[0] == "silent"
    assert events[-2:] == ["answers", "announced"]
    assert events.count("announced") == 1
    assert set(events[:-2]) == {"silent"}


def test_a_web_server_that_never_answers_is_reported_and_the_stack_keeps_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    silent = _script(tmp_path, "web", "import time\ntime.sleep(60)\n")
    announced: list[bool] = []
    announcement = Announcement(
        ready=lambda: answers("127.0.0.1", _free_port()),
        announce=lambda: announced.append(True),
        waiting="the web server has not answered yet",
        timeout=1,
    )
    threading.Timer(3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    children = [Supervised("web server", silent, restart=False)]
    status = supervise(children, dict(os.environ), announcement=announcement)
    assert status == 0  # stopped by Ctrl-C, not by the wait
    assert announced == []
    out = capsys.readouterr().out
    assert out.count("the web server has not answered yet") == 1
    assert children[0].process is not None
    assert children[0].process.poll() is not None


def test_a_second_command_leaves_the_embedded_redis_it_found_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `make run` in one terminal, `make test` (or a manage.py command) in another: the second
    # must not stop the first one's services when it ends. A real embedded redis-server.
    monkeypatch.setattr(devstack, "VAR_DIR", tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgres://unused@127.0.0.1/unused")
    monkeypatch.delenv("REDIS_URL", raising=False)
    first = devstack.start_embedded_redis()
    try:
        assert first.running()
        with devstack.services() as env:
            assert env["REDIS_URL"] == first.url
        assert first.running()  # still serving `make run`
        with devstack.services():
            pass
        assert first.running()
    finally:
        first.stop()
    assert not first.running()
    # Started by the call itself, it is stopped by it.
    with devstack.services() as env:
        assert first.running()
    assert not first.running()


def test_a_second_command_leaves_the_embedded_postgres_it_found_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stopped: list[object] = []
    handle = object()
    monkeypatch.setattr(devstack, "VAR_DIR", tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setattr(devstack, "start_embedded_postgres", lambda: ("postgresql://app@/clinic", "owner", handle))
    monkeypatch.setattr(devstack, "stop_embedded_postgres", stopped.append)
    # A live postmaster.pid (this test's own pid): the server belongs to another command.
    (tmp_path / "pgdata").mkdir()
    (tmp_path / "pgdata" / "postmaster.pid").write_text(f"{os.getpid()}\n{tmp_path / 'pgdata'}\n")
    assert devstack.embedded_postgres_running()
    with devstack.services():
        pass
    assert stopped == []
    # No server before the call: the call started it and stops it.
    (tmp_path / "pgdata" / "postmaster.pid").unlink()
    assert not devstack.embedded_postgres_running()
    with devstack.services():
        pass
    assert stopped == [handle]
