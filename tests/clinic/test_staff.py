from __future__ import annotations

import pytest
from django.test import Client

from clinic.models import User
from clinic.roles import ROLES, Role
from tests.factories import LocationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _form(**overrides: str) -> dict[str, str]:
    data = {
        "first_name": "Nora",
        "last_name": "Quinn",
        "username": "nquinn",
        "email": "nora@clinic.test",
        "role": Role.FRONT_DESK.value,
        "home_location": str(LocationFactory(name="Central").pk),
        "is_active": "on",
        "password1": "a-long-and-unusual-passphrase",
        "password2": "a-long-and-unusual-passphrase",
    }
    data.update(overrides)
    return data


def test_a_manager_adds_a_staff_member_who_can_then_sign_in(manager: User, client: Client) -> None:
    client.force_login(manager)
    response = client.post("/clinic/staff/new/", _form())
    assert response.status_code == 302
    nora = User.objects.get(username="nquinn")
    assert [spec.role for spec in nora.role_specs] == [Role.FRONT_DESK]
    assert nora.check_password("a-long-and-unusual-passphrase")
    fresh = Client()
    signed_in = fresh.post("/sign-in/", {"username": "nquinn", "password": "a-long-and-unusual-passphrase"})
    assert signed_in["Location"] == "/"


def test_a_weak_password_is_refused_beside_its_field_and_nothing_is_saved(manager: User, client: Client) -> None:
    client.force_login(manager)
    response = client.post("/clinic/staff/new/", _form(password1="nquinn", password2="nquinn"))
    assert response.status_code == 200
    assert response.context["form"].errors["password2"]
    assert not User.objects.filter(username="nquinn").exists()


def test_changing_a_role_replaces_the_old_one(manager: User, client: Client) -> None:
    person = UserFactory(username="swap", role=Role.FRONT_DESK)
    client.force_login(manager)
    data = _form(username="swap", role=Role.MANAGER.value)
    response = client.post(f"/clinic/staff/{person.pk}/", data)
    assert response.status_code == 302
    person.refresh_from_db()
    groups = set(person.groups.values_list("name", flat=True))
    assert groups == {ROLES[Role.MANAGER].group_name}


def test_a_manager_cannot_lock_themselves_out(manager: User, client: Client) -> None:
    client.force_login(manager)
    data = _form(username=manager.username, role=Role.MANAGER.value)
    data.pop("is_active")
    response = client.post(f"/clinic/staff/{manager.pk}/", data)
    assert response.status_code == 200
    assert "cannot stop yourself" in str(response.context["form"].errors["is_active"])
    manager.refresh_from_db()
    assert manager.is_active
