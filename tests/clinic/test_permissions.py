"""The permission matrix: every URL the project defines, for every persona.

A new URL pattern fails ``test_every_url_pattern_is_in_the_matrix`` until it is
listed here with what each persona gets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from clinic.models import Patient
from tests.conftest import PERSONAS
from tests.factories import PatientFactory

OK, REDIRECT, FORBIDDEN, LOGIN = 200, 302, 403, "login"


@dataclass(frozen=True)
class Row:
    method: str
    path: Callable[[Patient], str]
    expect: dict[str, int | str]

    def data(self, location_id: int) -> dict[str, str]:
        return {"location": str(location_id), "next": "/"} if self.method == "post" else {}


def _everyone(status: int | str, **overrides: int | str) -> dict[str, int | str]:
    expect: dict[str, int | str] = dict.fromkeys(PERSONAS, status)
    expect["anonymous"] = LOGIN
    expect.update(overrides)
    return expect


def _only(*allowed: str) -> dict[str, int | str]:
    return _everyone(FORBIDDEN, **dict.fromkeys(allowed, OK))


ALL_STAFF_VIEWERS = ("front_desk", "specialist", "aesthetician", "manager")

MATRIX: dict[str, Row] = {
    "home": Row("get", lambda p: "/", _everyone(REDIRECT, outsider=FORBIDDEN)),
    "login": Row("get", lambda p: "/sign-in/", _everyone(REDIRECT, anonymous=OK)),
    "logout": Row("post", lambda p: "/sign-out/", _everyone(REDIRECT, anonymous=REDIRECT)),
    "healthz": Row("get", lambda p: "/healthz", _everyone(OK, anonymous=OK)),
    "clinic:front_desk_home": Row("get", lambda p: "/front-desk/", _only("front_desk")),
    "clinic:patient_list": Row("get", lambda p: "/patients/", _only(*ALL_STAFF_VIEWERS)),
    "clinic:patient_detail": Row("get", lambda p: f"/patients/{p.pk}/", _only(*ALL_STAFF_VIEWERS)),
    "clinic:manager_home": Row("get", lambda p: "/clinic/", _only("manager")),
    "clinic:switch_location": Row("post", lambda p: "/location/", _everyone(REDIRECT)),
    "consultations:home": Row("get", lambda p: "/consultations/", _only("specialist")),
    "treatments:home": Row("get", lambda p: "/treatments/", _only("aesthetician")),
}

# Django's admin has its own staff check (is_staff); none of the personas is staff.
EXEMPT_NAMESPACES = ("admin",)


def _named_patterns(resolver: URLResolver, namespace: str = "") -> Iterator[str]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            if entry.namespace in EXEMPT_NAMESPACES:
                continue
            yield from _named_patterns(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}"


def test_every_url_pattern_is_in_the_matrix() -> None:
    defined = set(_named_patterns(get_resolver()))
    assert defined - set(MATRIX) == set(), "list each new URL in MATRIX with what every persona gets"
    assert set(MATRIX) - defined == set(), "MATRIX lists URLs that no longer exist"


CASES = [(name, persona) for name in MATRIX for persona in PERSONAS]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "persona_client"), CASES, indirect=["persona_client"])
def test_each_persona_gets_exactly_what_its_job_needs(
    name: str, persona_client: Client, request: pytest.FixtureRequest
) -> None:
    row = MATRIX[name]
    persona = request.node.callspec.params["persona_client"]
    location = request.getfixturevalue("location")
    patient = PatientFactory()
    response = getattr(persona_client, row.method)(row.path(patient), data=row.data(location.pk))
    expected = row.expect[persona]
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith("/sign-in/")
    else:
        assert response.status_code == expected


@pytest.mark.django_db
def test_forbidden_page_says_the_role_lacks_permission(outsider: object, client: Client) -> None:
    client.force_login(outsider)  # type: ignore[arg-type]
    response = client.get("/consultations/")
    assert response.status_code == 403
    assert "not available to your role" in response.content.decode()
