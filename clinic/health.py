"""The health of what the app depends on, for /healthz and for start-up checks."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from clinic.accounts.events import is_direct_loopback
from clinic.models import Heartbeat

DISPATCHER_HEARTBEAT = "aftercare.dispatcher"


def heartbeat_beat(*, name: str) -> None:
    """Record that the background process ``name`` is alive now (no person acts)."""
    with transaction.atomic():
        Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})


@dataclass(frozen=True)
class Health:
    database: bool
    broker: bool
    dispatcher_age_seconds: float | None

    @property
    def dispatcher_ok(self) -> bool:
        # No heartbeat yet (a new install) is not a failure; a stale one is.
        age = self.dispatcher_age_seconds
        return age is None or age <= settings.HEARTBEAT_STALE_SECONDS

    @property
    def ok(self) -> bool:
        return self.database and self.broker and self.dispatcher_ok


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def broker_ok() -> bool:
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


def dispatcher_age_seconds() -> float | None:
    try:
        beat = Heartbeat.objects.filter(name=DISPATCHER_HEARTBEAT).values_list("at", flat=True).first()
    except DatabaseError:
        return None
    if beat is None:
        return None
    return max(0.0, (timezone.now() - beat).total_seconds())


def check() -> Health:
    database = database_ok()
    return Health(
        database=database,
        broker=broker_ok(),
        dispatcher_age_seconds=dispatcher_age_seconds() if database else None,
    )


def may_see_details(request: HttpRequest) -> bool:
    """The bearer token (``HEALTHZ_TOKEN``), or a caller on this machine that no proxy forwarded."""
    token = settings.HEALTHZ_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and constant_time_compare(header.removeprefix("Bearer "), token):
        return True
    return is_direct_loopback(request)
