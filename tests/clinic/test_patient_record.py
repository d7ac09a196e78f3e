"""The patient's record: upcoming and past by the appointment's end and status; one timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from clinic.models import AppointmentStatus, User
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client: Client, front_desk: User) -> Client:
    client.force_login(front_desk)
    return client


def test_upcoming_and_past_split_by_the_appointments_end_and_status_not_the_date(desk: Client) -> None:
    patient = PatientFactory()
    ten = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
    checked_in_at_ten = AppointmentFactory(patient=patient, start=ten, status=AppointmentStatus.CHECKED_IN)
    later_today = AppointmentFactory(patient=patient, start=ten.replace(hour=16))
    under_way = AppointmentFactory(
        patient=patient, start=ten.replace(hour=14, minute=45), status=AppointmentStatus.IN_PROGRESS
    )
    done_early = AppointmentFactory(
        patient=patient, start=ten.replace(hour=14, minute=45), status=AppointmentStatus.COMPLETED
    )
    cancelled_tomorrow = AppointmentFactory(
        patient=patient, start=ten + timedelta(days=1), status=AppointmentStatus.CANCELLED, cancel_reason="Ill"
    )
    with time_machine.travel(ten.replace(hour=15), tick=False):
        response = desk.get(f"/patients/{patient.pk}/")
    upcoming = [a.pk for a in response.context["upcoming"]]
    past = [a.pk for a in response.context["past"]]
    assert upcoming == [under_way.pk, later_today.pk]
    assert sorted(past) == sorted([checked_in_at_ten.pk, done_early.pk, cancelled_tomorrow.pk])
