"""The permission matrix: every URL the project defines, for every persona.

Rows live in ``tests/<app>/matrix.py``. A new URL pattern fails
``test_every_url_pattern_is_in_the_matrix`` until it is listed there.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from clinic.models import AppointmentKind, RoleGrant, TimeOff
from clinic.roles import Role
from consultations.questionnaire import questionnaire_token
from tests.aftercare.matrix import ROWS as AFTERCARE
from tests.clinic.matrix import ROWS as CLINIC
from tests.consultations.matrix import ROWS as CONSULTATIONS
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    ConsultationFactory,
    LocationFactory,
    PatientFactory,
    RoomFactory,
    TreatmentPlanFactory,
    UserFactory,
)
from tests.matrix import LOGIN, PERSONAS, Row
from tests.online.matrix import ROWS as ONLINE
from tests.online.matrix import online_world
from tests.photos.matrix import ROWS as PHOTOS
from tests.photos.matrix import photos_world
from tests.reports.matrix import ROWS as REPORTS
from tests.treatments.matrix import ROWS as TREATMENTS
from tests.treatments.matrix import treatments_world

MATRIX: dict[str, Row] = {**CLINIC, **CONSULTATIONS, **TREATMENTS, **AFTERCARE, **REPORTS, **PHOTOS, **ONLINE}

# Django's admin has its own staff check (is_staff); none of the personas is staff.
EXEMPT_NAMESPACES = ("admin",)


def _named_patterns(resolver: URLResolver, namespace: str = "") -> Iterator[str]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in EXEMPT_NAMESPACES:
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _named_patterns(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}"


def test_every_url_pattern_is_in_the_matrix() -> None:
    defined = set(_named_patterns(get_resolver()))
    assert defined - set(MATRIX) == set(), "list each new URL in tests/<app>/matrix.py"
    assert set(MATRIX) - defined == set(), "the matrix lists URLs that no longer exist"


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    """The records the matrix's URLs point at. Apps that need more add keys here."""
    location = LocationFactory(name="Central")
    patient = PatientFactory()
    appointment = AppointmentFactory(patient=patient, room=RoomFactory(location=location))
    world: dict[str, Any] = {
        "location": location,
        "patient": patient,
        "appointment": appointment,
        "time_off": TimeOff.objects.create(
            staff=appointment.practitioner,
            start=appointment.start + timedelta(days=1),
            end=appointment.start + timedelta(days=2),
        ),
    }
    # Consultations: a draft, a signed recommendation without a plan, a consented plan.
    world["consultation"] = ConsultationFactory()
    world["recommended"] = ConsultationFactory(recommended=True)
    world["plan"] = TreatmentPlanFactory()
    world["extraction_type"] = AppointmentTypeFactory(
        name="Extraction session", kind=AppointmentKind.EXTRACTION, duration_minutes=60, performed_by=Role.AESTHETICIAN
    )
    world["questionnaire_token"] = questionnaire_token(appointment_id=world["consultation"].appointment_id)
    world["staff"] = UserFactory()
    world["role_grant"] = RoleGrant.objects.create(
        staff=world["staff"], role=Role.AESTHETICIAN.value, requested_by=UserFactory(role=Role.MANAGER)
    )
    world.update(treatments_world(world))
    world.update(photos_world(world))
    world.update(online_world(world))
    return world


CASES = [(name, persona) for name in MATRIX for persona in PERSONAS]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "persona_client"), CASES, indirect=["persona_client"])
def test_each_persona_gets_exactly_what_its_job_needs(
    name: str, persona_client: Client, world: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    row = MATRIX[name]
    persona = request.node.callspec.params["persona_client"]
    response = getattr(persona_client, row.method)(row.path(world), data=row.data(world))
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
