from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from clinic.models import Location, User
from clinic.roles import Role
from tests.factories import LocationFactory, UserFactory, authenticator_for

_plain_client_login = Client._login


def _login_past_second_factor(self: Client, user: Any, backend: str | None = None) -> None:
    """Client.force_login / login, and the session has passed a real second factor.

    Production requires the second factor on every account (CLINIC_REQUIRE_2FA). A test that
    signs someone in directly means "a signed-in member of staff", so the session gets what
    the verify page would give it: the id of a confirmed TOTP device of that user. Tests of
    the sign-in itself go through the sign-in and verify pages instead.
    """
    _plain_client_login(self, user, backend)
    session = self.session
    session[DEVICE_ID_SESSION_KEY] = authenticator_for(user).persistent_id
    session.save()


@pytest.fixture(autouse=True)
def signed_in_clients_pass_the_second_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Client, "_login", _login_past_second_factor)


@pytest.fixture(autouse=True)
def private_photo_storage(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Clinical photos go to a fresh private directory per test, never into var/ of the checkout."""
    location = tmp_path_factory.mktemp("photos")
    settings.STORAGES = {
        **settings.STORAGES,
        "photos": {
            **settings.STORAGES["photos"],
            "OPTIONS": {**settings.STORAGES["photos"]["OPTIONS"], "location": str(location)},
        },
    }
    return location


@pytest.fixture
def location(db: None) -> Location:
    return LocationFactory(name="Central")


@pytest.fixture
def front_desk(db: None) -> User:
    return UserFactory(username="fd", role=Role.FRONT_DESK)


@pytest.fixture
def specialist(db: None) -> User:
    return UserFactory(username="spec", role=Role.SPECIALIST)


@pytest.fixture
def aesthetician(db: None) -> User:
    return UserFactory(username="aes", role=Role.AESTHETICIAN)


@pytest.fixture
def manager(db: None) -> User:
    return UserFactory(username="mgr", role=Role.MANAGER)


@pytest.fixture
def outsider(db: None) -> User:
    """A staff account with no role: signed in, but entitled to nothing."""
    return UserFactory(username="outsider")


@pytest.fixture
def persona_client(request: pytest.FixtureRequest, db: None) -> Client:
    """A client signed in as the persona named by the test's ``persona`` parameter."""
    persona: str = request.param
    client = Client()
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    return client
