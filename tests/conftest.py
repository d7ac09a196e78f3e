from __future__ import annotations

import pytest
from django.test import Client

from clinic.models import Location, User
from clinic.roles import Role
from tests.factories import LocationFactory, UserFactory


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
