"""Sessions and caching (HIPAA 164.312(a)(2)(iii)): idle sign-out, browser-close, other
sessions, no-store, Permissions-Policy, and the security events of it all."""

from __future__ import annotations

import time

import pytest
import time_machine
from django.conf import settings
from django.db import DatabaseError, transaction
from django.test import Client

from clinic.accounts.middleware import LAST_ACTIVITY_KEY
from clinic.models import SecurityEvent, SecurityEventKind, User
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def test_the_idle_timeout_is_fifteen_minutes_by_default() -> None:
    assert settings.CLINIC_IDLE_TIMEOUT_SECONDS == 15 * 60


def test_sessions_end_when_the_browser_closes() -> None:
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True


def test_it_signs_out_a_session_idle_for_longer_than_the_timeout(front_desk: User) -> None:
    client = Client()
    with time_machine.travel("2026-03-02 09:00:00Z", tick=False) as traveller:
        client.force_login(front_desk)
        assert client.get("/patients/").status_code == 200
        traveller.shift(settings.CLINIC_IDLE_TIMEOUT_SECONDS + 1)
        response = client.get("/patients/")
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?next=/patients/"
    assert "_auth_user_id" not in client.session
    event = SecurityEvent.objects.get(kind=SecurityEventKind.IDLE_SIGNED_OUT)
    assert event.user_id == front_desk.pk
    assert not SecurityEvent.objects.filter(kind=SecurityEventKind.SIGNED_OUT).exists()


def test_activity_within_the_timeout_keeps_the_session(front_desk: User) -> None:
    client = Client()
    with time_machine.travel("2026-03-02 09:00:00Z", tick=False) as traveller:
        client.force_login(front_desk)
        for _ in range(4):
            traveller.shift(settings.CLINIC_IDLE_TIMEOUT_SECONDS - 60)
            assert client.get("/patients/").status_code == 200


def test_stay_signed_in_renews_the_session(front_desk: User) -> None:
    client = Client()
    with time_machine.travel("2026-03-02 09:00:00Z", tick=False) as traveller:
        client.force_login(front_desk)
        traveller.shift(settings.CLINIC_IDLE_TIMEOUT_SECONDS - 30)
        assert client.post("/account/keep-alive/").status_code == 204
        assert client.session[LAST_ACTIVITY_KEY] == pytest.approx(time.time())
        traveller.shift(settings.CLINIC_IDLE_TIMEOUT_SECONDS - 30)
        assert client.get("/patients/").status_code == 200


def test_keep_alive_is_post_only(front_desk: User) -> None:
    client = Client()
    client.force_login(front_desk)
    assert client.get("/account/keep-alive/").status_code == 405


def test_signed_in_pages_carry_the_idle_warning_settings(front_desk: User) -> None:
    client = Client()
    client.force_login(front_desk)
    page = client.get("/patients/").content.decode()
    assert f'data-idle-timeout="{settings.CLINIC_IDLE_TIMEOUT_SECONDS}"' in page
    assert 'id="idle-dialog"' in page
    assert "Stay signed in" in page
    assert "js/idle.js" in page


def test_sign_out_other_sessions_ends_them_but_not_this_one(front_desk: User) -> None:
    tablet, desk = Client(), Client()
    tablet.force_login(front_desk)
    desk.force_login(front_desk)
    assert tablet.get("/patients/").status_code == 200
    response = desk.post("/account/other-sessions/")
    assert response.status_code == 302
    assert desk.get("/patients/").status_code == 200
    assert tablet.get("/patients/").status_code == 302
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.OTHER_SESSIONS_ENDED, user=front_desk).exists()


def test_staff_pages_are_sent_no_store(front_desk: User) -> None:
    client = Client()
    client.force_login(front_desk)
    for path in ("/front-desk/", "/patients/", "/account/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path


def test_public_pages_are_sent_no_store(db: None) -> None:
    for path in ("/sign-in/", "/password-reset/", "/healthz"):
        assert "no-store" in Client().get(path)["Cache-Control"], path


def test_every_response_says_which_browser_features_pages_may_use(front_desk: User) -> None:
    client = Client()
    client.force_login(front_desk)
    policy = client.get("/patients/")["Permissions-Policy"]
    assert "camera=(self)" in policy
    for feature in ("microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in policy
    assert Client().get("/sign-in/")["Permissions-Policy"] == policy


def test_a_successful_sign_in_and_a_sign_out_are_recorded_with_address_and_browser(front_desk: User) -> None:
    client = Client(HTTP_USER_AGENT="FrontDeskTablet/1.0", REMOTE_ADDR="192.0.2.10")
    client.post("/sign-in/", {"username": front_desk.username, "password": TEST_PASSWORD})
    client.post("/sign-out/")
    signed_in = SecurityEvent.objects.get(kind=SecurityEventKind.SIGNED_IN)
    assert (signed_in.user_id, signed_in.ip_address, signed_in.user_agent) == (
        front_desk.pk,
        "192.0.2.10",
        "FrontDeskTablet/1.0",
    )
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.SIGNED_OUT, user=front_desk).exists()


def test_a_failed_sign_in_is_recorded_with_the_username_typed(db: None) -> None:
    Client(REMOTE_ADDR="192.0.2.11").post("/sign-in/", {"username": "nobody-here", "password": "guess"})
    event = SecurityEvent.objects.get(kind=SecurityEventKind.SIGN_IN_FAILED)
    assert (event.user_id, event.username, event.ip_address) == (None, "nobody-here", "192.0.2.11")


def test_a_refusal_is_recorded_as_a_security_event(front_desk: User) -> None:
    client = Client()
    client.force_login(front_desk)
    assert client.get("/clinic/").status_code == 403
    event = SecurityEvent.objects.get(kind=SecurityEventKind.FORBIDDEN)
    assert (event.user_id, event.path) == (front_desk.pk, "/clinic/")


def test_security_events_cannot_be_rewritten_or_deleted(front_desk: User) -> None:
    client = Client()
    client.force_login(front_desk)
    event = SecurityEvent.objects.filter(user=front_desk).first()
    assert event is not None
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        SecurityEvent.objects.filter(pk=event.pk).update(username="someone-else")
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        SecurityEvent.objects.filter(pk=event.pk).delete()


def test_the_manager_lists_security_events_by_account_and_kind(front_desk: User, manager: User) -> None:
    Client().post("/sign-in/", {"username": front_desk.username, "password": "wrong"})
    client = Client()
    client.force_login(manager)
    response = client.get("/clinic/security-events/", {"user": front_desk.pk, "kind": "sign_in_failed"})
    assert response.status_code == 200
    assert [e.kind for e in response.context["events"]] == [SecurityEventKind.SIGN_IN_FAILED]


def test_only_the_manager_sees_security_events(front_desk: User) -> None:
    client = Client()
    client.force_login(front_desk)
    assert client.get("/clinic/security-events/").status_code == 403
