"""`make run` supervises its processes: a dying worker is restarted, a dying web server stops everything."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from clinic import devstack
from clinic.devstack import Supervised, supervise


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
