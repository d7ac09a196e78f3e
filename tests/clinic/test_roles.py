from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from clinic import demo
from clinic.models import Location, Patient, User
from clinic.roles import ROLES
from tests.factories import TEST_PASSWORD, authenticator_for, next_totp_code

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("persona", "home"),
    [
        ("front_desk", "/front-desk/"),
        ("specialist", "/consultations/"),
        ("aesthetician", "/treatments/"),
        ("manager", "/clinic/"),
    ],
)
def test_each_role_lands_on_its_own_home_page_after_sign_in(
    persona: str, home: str, client: Client, request: pytest.FixtureRequest
) -> None:
    user: User = request.getfixturevalue(persona)
    device = authenticator_for(user)
    client.post("/sign-in/", {"username": user.username, "password": TEST_PASSWORD})
    response = client.post("/sign-in/verify/", {"token": next_totp_code(device), "next": "/"}, follow=True)
    assert response.redirect_chain[-1][0] == home
    assert response.status_code == 200


def test_a_wrong_password_is_refused_on_the_form(front_desk: User, client: Client) -> None:
    response = client.post("/sign-in/", {"username": front_desk.username, "password": "wrong"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_passwords_are_hashed_with_argon2_in_production() -> None:
    from django.conf import settings

    assert "Argon2PasswordHasher" in [h for h in settings.PASSWORD_HASHERS if "MD5" not in h][0]


def test_role_groups_hold_exactly_their_permissions() -> None:
    for spec in ROLES.values():
        group = Group.objects.get(name=spec.group_name)
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert granted == set(spec.permissions)


def test_demo_data_loads_once() -> None:
    first = demo.seed()
    counts = (User.objects.count(), Location.objects.count(), Patient.objects.count())
    second = demo.seed()
    assert any(first.values())
    assert not any(second.values())
    assert (User.objects.count(), Location.objects.count(), Patient.objects.count()) == counts


def test_a_signed_in_pages_permission_checks_cost_one_query(front_desk: User) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from clinic import roles

    fresh = User.objects.get(pk=front_desk.pk)
    with CaptureQueriesContext(connection) as queries:
        assert fresh.has_perm(roles.WORK_FRONT_DESK)
        assert fresh.has_perm(roles.VIEW_PATIENT)
        assert not fresh.has_perm(roles.MANAGE_CLINIC)
    assert len(queries) == 1


def test_a_permission_granted_to_the_user_directly_counts_too(outsider: User) -> None:
    from django.contrib.auth.models import Permission

    outsider.user_permissions.add(Permission.objects.get(codename="view_patient"))
    fresh = User.objects.get(pk=outsider.pk)
    assert fresh.has_perm("clinic.view_patient")
    assert not fresh.has_perm("clinic.work_front_desk")
