from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest

from clinic.models import AppointmentType, Location, Room, User
from clinic.roles import Role
from tests.factories import AppointmentTypeFactory, RoomFactory, StaffScheduleFactory, UserFactory


@pytest.fixture
def clinic_open(location: Location) -> dict[str, Any]:
    """Central with one specialist working 09:00–17:00 every day, one room, the free consultation."""
    specialist = UserFactory(username="online-spec", role=Role.SPECIALIST, locations=[location])
    StaffScheduleFactory.every_day(staff=specialist, location=location, start_time=time(9), end_time=time(17))
    room = RoomFactory(location=location, name="Room 1")
    consultation = AppointmentTypeFactory()
    return {"location": location, "specialist": specialist, "room": room, "type": consultation}


def local_at(location: Location, days: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(location.today() + timedelta(days=days), time(hour, minute), tzinfo=location.zone)


def booking_post(
    start: datetime, practitioner: User, *, email: str = "ada@example.com", **overrides: str
) -> dict[str, str]:
    data = {
        "start": start.isoformat(),
        "practitioner": str(practitioner.pk),
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": "1990-05-17",
        "email": email,
        "phone": "07700 900123",
        "email_consent": "on",
        "website": "",
    }
    data.update(overrides)
    return data


__all__ = ["AppointmentType", "Room", "booking_post", "local_at"]
