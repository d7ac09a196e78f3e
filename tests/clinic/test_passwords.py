"""Password self-service: change your own, replace the manager's at first sign-in, reset by
email without revealing who has an account, throttled."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client, override_settings

from clinic.models import SecurityEvent, SecurityEventKind, User
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-and-unusual-passphrase"


def _change(client: Client, old: str = TEST_PASSWORD) -> object:
    return client.post(
        "/account/password/",
        {"old_password": old, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )


def test_staff_change_their_own_password(front_desk: User) -> None:
    client = Client()
    client.force_login(front_desk)
    response = _change(client)
    assert response.status_code == 302  # type: ignore[attr-defined]
    front_desk.refresh_from_db()
    assert front_desk.check_password(NEW_PASSWORD)
    assert client.get("/patients/").status_code == 200  # still signed in here
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.PASSWORD_CHANGED, user=front_desk).exists()


def test_a_password_change_needs_the_current_password(front_desk: User) -> None:
    client = Client()
    client.force_login(front_desk)
    assert _change(client, old="not-it").status_code == 200  # type: ignore[attr-defined]
    front_desk.refresh_from_db()
    assert front_desk.check_password(TEST_PASSWORD)


def test_a_password_the_manager_set_must_be_changed_at_first_sign_in(manager: User) -> None:
    mgr = Client()
    mgr.force_login(manager)
    person = UserFactory(username="newbie")
    mgr.post(
        f"/clinic/staff/{person.pk}/security/",
        {"action": "set_password", "password1": "manager-typed-this-1", "password2": "manager-typed-this-1"},
    )
    person.refresh_from_db()
    assert person.must_change_password
    assert SecurityEvent.objects.get(kind=SecurityEventKind.PASSWORD_SET_BY_MANAGER).actor_id == manager.pk
    client = Client()
    client.force_login(person)
    response = client.get("/patients/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/password/")
    _change(client, old="manager-typed-this-1")
    person.refresh_from_db()
    assert not person.must_change_password


def test_a_new_staff_members_first_password_must_be_changed(manager: User) -> None:
    from tests.clinic.test_staff import _form

    mgr = Client()
    mgr.force_login(manager)
    mgr.post("/clinic/staff/new/", _form())
    assert User.objects.get(username="nquinn").must_change_password


def test_a_reset_link_is_emailed_and_sets_a_new_password(front_desk: User) -> None:
    response = Client().post("/password-reset/", {"email": front_desk.email})
    assert response["Location"] == "/password-reset/sent/"
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/password-reset/\S+/\S+/", mail.outbox[0].body)
    assert link is not None
    path = "/" + link.group(0).split("/", 3)[3]
    client = Client()
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done["Location"] == "/password-reset/done/"
    front_desk.refresh_from_db()
    assert front_desk.check_password(NEW_PASSWORD)


def test_a_reset_never_reveals_whether_an_account_exists(front_desk: User) -> None:
    known = Client().post("/password-reset/", {"email": front_desk.email})
    unknown = Client().post("/password-reset/", {"email": "nobody@example.com"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1


@override_settings(CLINIC_PASSWORD_RESET_PER_EMAIL_PER_HOUR=3)
def test_reset_emails_for_one_address_are_throttled(front_desk: User) -> None:
    for n in range(5):
        response = Client(REMOTE_ADDR=f"192.0.2.{n + 1}").post("/password-reset/", {"email": front_desk.email})
        assert response["Location"] == "/password-reset/sent/"  # the same answer every time
    assert len(mail.outbox) == 3
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.PASSWORD_RESET_THROTTLED).count() == 2


@override_settings(CLINIC_PASSWORD_RESET_PER_IP_PER_HOUR=10)
def test_reset_emails_from_one_client_are_throttled(db: None) -> None:
    people = [UserFactory(username=f"person{n}") for n in range(12)]
    client = Client(REMOTE_ADDR="203.0.113.50")
    for person in people:
        client.post("/password-reset/", {"email": person.email})
    assert len(mail.outbox) == 10
