"""The booking form's choices: a consultation by default, only staff who perform the chosen
type (never the manager), and no extraction session for a patient not yet cleared."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.test import Client

from clinic.models import AppointmentKind, AppointmentType, Location, Patient, User
from clinic.roles import Role
from tests.factories import (
    AppointmentTypeFactory,
    ExtractionTypeFactory,
    LocationFactory,
    PatientFactory,
    RoomFactory,
    StaffScheduleFactory,
    TreatmentPlanFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 08:00 in London
TUESDAY = date(2026, 3, 3)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def central() -> Location:
    location = LocationFactory(name="Central", time_zone="Europe/London")
    RoomFactory(location=location, name="Room 1")
    return location


@pytest.fixture
def staff(central: Location) -> dict[str, User]:
    people = {
        "sara": UserFactory(username="sara", first_name="Sara", last_name="Lind", role=Role.SPECIALIST),
        "amira": UserFactory(username="amira", first_name="Amira", last_name="Haddad", role=Role.AESTHETICIAN),
        "maya": UserFactory(username="maya", first_name="Maya", last_name="Boss", role=Role.MANAGER),
    }
    for person in people.values():
        StaffScheduleFactory.every_day(staff=person, location=central)
    return people


@pytest.fixture
def types() -> dict[str, AppointmentType]:
    # "Extraction session" sorts before "Free consultation": the old default.
    return {
        "extraction": ExtractionTypeFactory(),
        "consultation": AppointmentTypeFactory(name="Free consultation", kind=AppointmentKind.CONSULTATION),
        "review": AppointmentTypeFactory(
            name="Progress review", kind=AppointmentKind.REVIEW, duration_minutes=20, performed_by=Role.SPECIALIST
        ),
    }


@pytest.fixture
def desk(client: Client, front_desk: User) -> Client:
    client.force_login(front_desk)
    return client


def choices(page: object, field: str) -> list[str]:
    form = page.context["search"]  # type: ignore[attr-defined]
    return [label for value, label in form.fields[field].choices if value != ""]


def test_the_booking_form_starts_at_a_consultation_not_an_extraction_session(
    desk: Client, types: dict[str, AppointmentType], staff: dict[str, User]
) -> None:
    page = desk.get(f"/patients/{PatientFactory().pk}/book/")
    assert page.status_code == 200
    assert page.context["search"]["appointment_type"].value() == types["consultation"].pk
    assert choices(page, "practitioner") == ["Sara Lind"]


def test_only_staff_who_perform_the_type_are_offered_never_the_manager(
    desk: Client, types: dict[str, AppointmentType], staff: dict[str, User]
) -> None:
    patient = PatientFactory()
    TreatmentPlanFactory(
        consultation__appointment__patient=patient, consultation__appointment__practitioner=staff["sara"]
    )
    for kind, expected in (
        ("consultation", ["Sara Lind"]),
        ("review", ["Sara Lind"]),
        ("extraction", ["Amira Haddad"]),
    ):
        page = desk.get(
            f"/patients/{patient.pk}/book/",
            {"appointment_type": types[kind].pk, "day": TUESDAY.isoformat()},
        )
        assert choices(page, "practitioner") == expected, kind
        assert {s.practitioner.username for s in page.context["slots"]} == {expected[0].split()[0].lower()}


def test_a_practitioner_who_does_not_perform_the_new_type_falls_back_to_anyone(
    desk: Client, types: dict[str, AppointmentType], staff: dict[str, User]
) -> None:
    patient = PatientFactory()
    TreatmentPlanFactory(
        consultation__appointment__patient=patient, consultation__appointment__practitioner=staff["sara"]
    )
    page = desk.get(
        f"/patients/{patient.pk}/book/",
        {"appointment_type": types["extraction"].pk, "practitioner": staff["sara"].pk, "day": TUESDAY.isoformat()},
        headers={"HX-Request": "true"},
    )
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="find-practitioner-wrap"' in body  # the select, sent again for the new type
    assert {s.practitioner.username for s in page.context["slots"]} == {"amira"}


def test_an_uncleared_patient_is_not_offered_extraction_and_is_told_what_to_book(
    desk: Client, types: dict[str, AppointmentType], staff: dict[str, User]
) -> None:
    patient: Patient = PatientFactory(first_name="Zoe", last_name="Walker")
    page = desk.get(f"/patients/{patient.pk}/book/")
    assert choices(page, "appointment_type") == ["Free consultation", "Progress review"]
    body = page.content.decode()
    assert "Zoe Walker has not been cleared for extraction" in body
    assert "Book a free consultation first" in body
    asked = desk.get(
        f"/patients/{patient.pk}/book/", {"appointment_type": types["extraction"].pk, "day": TUESDAY.isoformat()}
    )
    assert asked.status_code == 200
    assert asked.context["slots"] == []


def test_a_cleared_patient_is_offered_extraction(
    desk: Client, types: dict[str, AppointmentType], staff: dict[str, User]
) -> None:
    patient = PatientFactory()
    TreatmentPlanFactory(
        consultation__appointment__patient=patient, consultation__appointment__practitioner=staff["sara"]
    )
    page = desk.get(f"/patients/{patient.pk}/book/")
    assert "Extraction session" in choices(page, "appointment_type")
    assert "has not been cleared" not in page.content.decode()
