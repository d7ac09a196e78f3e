"""Booking a plan's next session uses the free-time finder, starting at the plan's suggested
date: a Sunday with nobody working offers the nearest free times instead of a raw field."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.test import Client

from clinic.models import AppointmentKind, User
from clinic.roles import Role
from consultations.models import TreatmentPlan
from tests.factories import (
    AppointmentTypeFactory,
    StaffScheduleFactory,
    TreatmentPlanFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 7, 9, 0, tzinfo=UTC)  # Saturday 09:00 in London: tomorrow is a Sunday
MONDAY = date(2026, 3, 9)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def plan() -> TreatmentPlan:
    plan = TreatmentPlanFactory()
    AppointmentTypeFactory(
        name="Extraction session", kind=AppointmentKind.EXTRACTION, duration_minutes=60, performed_by=Role.AESTHETICIAN
    )
    return plan


@pytest.fixture
def amira(plan: TreatmentPlan) -> User:
    person = UserFactory(username="amira", first_name="Amira", last_name="Cole", role=Role.AESTHETICIAN)
    location = plan.consultation.appointment.location
    for weekday in range(5):  # Monday to Friday
        StaffScheduleFactory(staff=person, location=location, weekday=weekday)
    return person


@pytest.fixture
def desk(client: Client, plan: TreatmentPlan) -> Client:
    client.force_login(
        UserFactory(username="desk", role=Role.FRONT_DESK, home_location=plan.consultation.appointment.location)
    )
    return client


def test_the_finder_starts_at_the_suggested_day_and_offers_the_nearest_free_times(
    desk: Client, plan: TreatmentPlan, amira: User
) -> None:
    page = desk.get(f"/consultations/plans/{plan.pk}/book/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'type="datetime-local"' not in body
    assert page.context["day"] == date(2026, 3, 8)  # the suggestion: tomorrow, a Sunday
    assert page.context["slots"] == []
    nearest = page.context["nearest"]
    assert nearest, "the nearest free times are offered"
    assert {slot.start.date() for slot in nearest} == {MONDAY}
    assert "No free time on Sunday 8 March. The nearest free times:" in body


def test_a_day_with_free_times_lists_them_and_a_click_books_the_session(
    desk: Client, plan: TreatmentPlan, amira: User
) -> None:
    page = desk.get(f"/consultations/plans/{plan.pk}/book/", {"day": MONDAY.isoformat(), "practitioner": ""})
    slots = page.context["slots"]
    assert [s.start.astimezone(UTC).time() for s in slots[:2]] == [time(9, 0), time(9, 15)]
    first = slots[0]
    response = desk.post(
        f"/consultations/plans/{plan.pk}/book/",
        {"practitioner": first.practitioner.pk, "room": first.room.pk, "start": first.start.isoformat()},
    )
    assert response.status_code == 302
    session = plan.sessions.select_related("appointment").get()
    assert (session.number, session.appointment.start, session.appointment.practitioner_id) == (
        1,
        first.start,
        amira.pk,
    )
