"""The public booking page reads a fixed number of SQL queries, whatever the data (issue 16).

The page is counted on a quiet clinic, then again after adding much more of everything it
reads: a page whose queries grow with the staff, rooms, bookings or days fails here before
it is slow at ten times the data (bench/online.py measures the time).
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clinic.models import TimeOff
from clinic.roles import Role
from tests.factories import (
    AppointmentFactory,
    LocationFactory,
    PatientFactory,
    RoomFactory,
    StaffScheduleFactory,
    UserFactory,
)
from tests.online.conftest import local_at

pytestmark = pytest.mark.django_db

# The location (by its slug), the consultation type, and the free-time finder's six: the
# performers, rooms, working hours, bookings of the performers, bookings of the rooms, time off.
PUBLIC_PAGE_QUERIES = 8


def _count(client: Client, path: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_the_public_page_needs_the_same_few_queries_for_a_quiet_or_a_busy_fortnight(
    client: Client, clinic_open: dict[str, Any]
) -> None:
    location = clinic_open["location"]
    few, quiet_page = _count(client, "/book/central/")

    patient = PatientFactory()
    branch = LocationFactory(name="Branch")
    for n in range(4):
        staff = UserFactory(username=f"busy-spec-{n}", role=Role.SPECIALIST, locations=[location, branch])
        StaffScheduleFactory.every_day(staff=staff, location=location, start_time=time(8), end_time=time(18))
        room = RoomFactory(location=location, name=f"Busy room {n}")
        for day in range(14):
            for hour in (9, 12, 15):
                AppointmentFactory(
                    appointment_type=clinic_open["type"],
                    patient=patient,
                    practitioner=staff,
                    room=room,
                    start=local_at(location, day, hour),
                )
        AppointmentFactory(
            appointment_type=clinic_open["type"],
            patient=patient,
            practitioner=staff,
            room=RoomFactory(location=branch, name=f"Branch room {n}"),
            start=local_at(branch, 3, 10),
        )
        start = local_at(location, 2 + n, 13)
        TimeOff.objects.create(staff=staff, start=start, end=start + timedelta(days=1))
    for day in range(14):
        AppointmentFactory(
            appointment_type=clinic_open["type"],
            patient=patient,
            practitioner=clinic_open["specialist"],
            room=clinic_open["room"],
            start=local_at(location, day, 10),
        )
    many, busy_page = _count(client, "/book/central/")

    # The page read the new data: the new specialists start at 08:00.
    assert ">08:00<" not in quiet_page
    assert ">08:00<" in busy_page
    assert many == few
    assert few <= PUBLIC_PAGE_QUERIES
