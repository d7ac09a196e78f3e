"""The field-group matrix, field by field: each page renders a group's marker only for the
roles ``clinic.field_groups.MATRIX`` allows, and a whole-page group refuses the others."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aftercare.models import CheckIn, MessageStatus
from clinic.field_groups import MATRIX, FieldGroup
from clinic.models import AppointmentKind, AppointmentStatus, User
from clinic.roles import Role
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    ConsultationFactory,
    LocationFactory,
    MessageFactory,
    PatientFactory,
    RoomFactory,
    TreatmentPlanFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROLES = (Role.FRONT_DESK, Role.SPECIALIST, Role.AESTHETICIAN, Role.MANAGER)


@pytest.fixture
def world() -> dict[str, Any]:
    location = LocationFactory(name="Central")
    room = RoomFactory(location=location)
    patient = PatientFactory(front_desk_notes="Prefers mornings")
    consult_type = AppointmentTypeFactory(kind=AppointmentKind.CONSULTATION)
    signed = ConsultationFactory(
        recommended=True,
        appointment=AppointmentFactory(
            patient=patient, room=room, appointment_type=consult_type, status=AppointmentStatus.COMPLETED
        ),
    )
    plan = TreatmentPlanFactory(consultation=signed, home_care="Salicylic wash nightly")
    upcoming = AppointmentFactory(
        patient=patient,
        room=room,
        appointment_type=consult_type,
        start=timezone.now() + timezone.timedelta(days=3),
    )
    sent = MessageFactory(patient=patient, kind="aftercare_checkin", status=MessageStatus.SENT, sent_at=timezone.now())
    CheckIn.objects.create(message=sent, patient=patient, answer="worried")
    MessageFactory(patient=patient, status=MessageStatus.FAILED, last_error="550 no such user")
    return {"patient": patient, "plan": plan, "upcoming": upcoming, "location": location}


# page name → (url from the world, the field groups whose markers the page can carry)
PAGES: dict[str, tuple[Any, tuple[FieldGroup, ...]]] = {
    "patient": (
        lambda w: reverse("clinic:patient_detail", args=[w["patient"].pk]),
        (
            FieldGroup.IDENTITY,
            FieldGroup.FRONT_DESK_NOTES,
            FieldGroup.SCHEDULING,
            FieldGroup.CLINICAL_DECISION,
            FieldGroup.MESSAGE_CONTENTS,
            FieldGroup.CHECKIN_ANSWERS,
        ),
    ),
    "plan": (lambda w: reverse("consultations:plan_detail", args=[w["plan"].pk]), (FieldGroup.PLAN,)),
    "appointment": (
        lambda w: reverse("clinic:appointment_detail", args=[w["upcoming"].pk]),
        (FieldGroup.QUESTIONNAIRE_LINK,),
    ),
}


def _client(role: Role, location: Any) -> Client:
    user: User = UserFactory(username=f"u-{role}", role=role)
    user.locations.add(location)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_each_field_group_renders_only_for_the_roles_allowed_to_see_it(
    world: dict[str, Any], role: Role, page: str
) -> None:
    url, groups = PAGES[page]
    response = _client(role, world["location"]).get(url(world))
    assert response.status_code == 200
    html = response.content.decode()
    for group in groups:
        marker = f'data-field-group="{group}"'
        if role in MATRIX[group]:
            assert marker in html, f"{role} should see {group} on {page}"
        else:
            assert marker not in html, f"{role} must not see {group} on {page}"


@pytest.mark.parametrize("role", ROLES)
def test_plan_regimen_reaches_only_the_clinical_roles(world: dict[str, Any], role: Role) -> None:
    response = _client(role, world["location"]).get(reverse("consultations:plan_detail", args=[world["plan"].pk]))
    assert ("Salicylic wash nightly" in response.content.decode()) == (role in MATRIX[FieldGroup.PLAN])


def test_the_manager_sees_failed_messages_without_patient_names(world: dict[str, Any]) -> None:
    response = _client(Role.MANAGER, world["location"]).get(reverse("aftercare:dashboard"))
    html = response.content.decode()
    assert "550 no such user" in html
    assert world["patient"].full_name not in html
    assert 'data-field-group="message-contents"' not in html


@pytest.mark.parametrize("role", ROLES)
def test_the_questionnaire_link_page_is_only_for_the_roles_that_send_it(world: dict[str, Any], role: Role) -> None:
    url = reverse("consultations:questionnaire_link", args=[world["upcoming"].pk])
    response = _client(role, world["location"]).get(url)
    assert response.status_code == (200 if role in MATRIX[FieldGroup.QUESTIONNAIRE_LINK] else 403)
