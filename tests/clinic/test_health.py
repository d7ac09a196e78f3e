from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from clinic.health import DISPATCHER_HEARTBEAT
from clinic.models import Heartbeat

pytestmark = pytest.mark.django_db


def test_healthz_reports_ok_with_no_heartbeat_yet(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "dispatcher_heartbeat_age_seconds": None,
    }


def test_healthz_reports_the_dispatcher_heartbeat_age(client: Client) -> None:
    Heartbeat.objects.create(name=DISPATCHER_HEARTBEAT, at=timezone.now() - timedelta(seconds=42))
    body = client.get("/healthz").json()
    assert 42 <= body["dispatcher_heartbeat_age_seconds"] < 60


def test_healthz_is_unavailable_when_the_dispatcher_heartbeat_is_stale(client: Client) -> None:
    Heartbeat.objects.create(name=DISPATCHER_HEARTBEAT, at=timezone.now() - timedelta(hours=1))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_healthz_is_unavailable_when_the_broker_is_unreachable(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "unavailable"
    assert response.json()["database"] == "ok"


def test_healthz_reveals_nothing_else(client: Client) -> None:
    body = client.get("/healthz").json()
    assert set(body) == {"status", "database", "broker", "dispatcher_heartbeat_age_seconds"}


def test_healthz_tells_a_remote_caller_only_ok_or_not(client: Client) -> None:
    response = client.get("/healthz", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_healthz_tells_a_remote_caller_not_ok_by_status_code_alone(client: Client) -> None:
    response = client.get("/healthz", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


def test_healthz_treats_a_request_forwarded_by_a_local_proxy_as_remote(client: Client) -> None:
    response = client.get("/healthz", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert response.json() == {"status": "ok"}


@override_settings(HEALTHZ_TOKEN="s3cret-health-token")
def test_healthz_gives_details_to_a_remote_caller_with_the_token(client: Client) -> None:
    response = client.get("/healthz", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-health-token")
    assert set(response.json()) == {"status", "database", "broker", "dispatcher_heartbeat_age_seconds"}
    wrong = client.get("/healthz", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer guess")
    assert wrong.json() == {"status": "ok"}
