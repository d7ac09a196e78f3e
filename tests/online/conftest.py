from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.core import mail

from aftercare.dispatcher import dispatch_due
from clinic.models import AppointmentType, Location, Room, User
from clinic.roles import Role
from tests.aftercare.conftest import smtp, smtp_sink  # noqa: F401  (the real SMTP server fixtures)
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


@dataclass(frozen=True)
class Sent:
    """An email as the patient receives it (the outbox's stored bytes, parsed)."""

    to: list[str]
    subject: str
    body: str
    attachments: dict[str, str]


def sent_emails() -> list[Sent]:
    """Run the outbox's dispatcher (as beat would), then every email sent so far in the test."""
    dispatch_due()
    found = []
    for outgoing in mail.outbox:
        parsed = outgoing.message()
        found.append(
            Sent(
                to=list(outgoing.to),
                subject=str(parsed["Subject"]),
                body=parsed.get_body(preferencelist=("plain",)).get_content(),
                attachments={
                    part.get_filename(): part.get_content() for part in parsed.iter_attachments() if part.get_filename()
                },
            )
        )
    return found


def link_in(email: Sent, containing: str) -> str:
    """The site-relative path of the first link in ``email`` that contains ``containing``."""
    for word in email.body.split():
        if containing in word:
            return word.split("http://127.0.0.1:8000", 1)[-1]
    raise AssertionError(f"no link with {containing} in {email.subject!r}")


__all__ = ["AppointmentType", "Room", "booking_post", "local_at"]
