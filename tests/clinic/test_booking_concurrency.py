"""Fifty desks press "Book" for overlapping times at the same moment: exactly one wins.

Each thread has its own database connection (Django opens one per thread), so the
exclusion constraints are exercised by truly concurrent PostgreSQL transactions.
"""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection

from clinic.booking.services import BookingRefused, appointment_book
from clinic.models import Appointment, Room, User
from clinic.roles import Role, sync_role_groups
from tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    PatientFactory,
    RoomFactory,
    StaffScheduleFactory,
    UserFactory,
)

ATTEMPTS = 50
ROUNDS = 3


def _race(jobs: list[dict[str, object]]) -> tuple[int, int, list[BaseException]]:
    barrier = threading.Barrier(len(jobs))
    lock = threading.Lock()
    outcome = {"booked": 0, "refused": 0}
    unexpected: list[BaseException] = []

    def attempt(job: dict[str, object]) -> None:
        try:
            barrier.wait(timeout=30)
            appointment_book(**job)  # type: ignore[arg-type]
            key = "booked"
        except BookingRefused:
            key = "refused"
        except BaseException as error:  # noqa: BLE001  (reported by the test below)
            with lock:
                unexpected.append(error)
            return
        finally:
            connection.close()
        with lock:
            outcome[key] += 1

    threads = [threading.Thread(target=attempt, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcome["booked"], outcome["refused"], unexpected


@pytest.fixture
def role_groups(transactional_db: None) -> None:
    """Transactional tests flush the tables the data migration filled; put the roles back."""
    sync_role_groups(Group, Permission)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("role_groups")
@pytest.mark.parametrize("contested", ["practitioner", "room"])
def test_fifty_concurrent_overlapping_bookings_let_exactly_one_through(contested: str) -> None:
    location = LocationFactory(name="Central")
    desk = UserFactory(username="desk", role=Role.FRONT_DESK)
    consultation = AppointmentTypeFactory()
    specialists: list[User] = []
    rooms: list[Room] = []
    # Contesting the practitioner: one specialist, a room each. Contesting the room: the reverse.
    for n in range(ATTEMPTS if contested == "room" else 1):
        person = UserFactory(username=f"spec{n}", role=Role.SPECIALIST)
        StaffScheduleFactory.every_day(staff=person, location=location, start_time=time(0, 0), end_time=time(23, 59))
        specialists.append(person)
    for n in range(ATTEMPTS if contested == "practitioner" else 1):
        rooms.append(RoomFactory(location=location, name=f"Room {n}"))
    patients = [PatientFactory() for _ in range(ATTEMPTS)]
    tomorrow = location.today() + timedelta(days=1)

    for round_number in range(ROUNDS):
        base = datetime.combine(tomorrow, time(9 + 3 * round_number), tzinfo=location.zone)
        jobs = [
            {
                "acting_user": desk,
                "patient": patients[i],
                "appointment_type": consultation,
                "practitioner": specialists[i % len(specialists)],
                "room": rooms[i % len(rooms)],
                # Every start lies within 45 minutes of every other: all overlap.
                "start": base + timedelta(minutes=i % 40),
            }
            for i in range(ATTEMPTS)
        ]
        booked, refused, unexpected = _race(jobs)
        assert unexpected == []
        assert (booked, refused) == (1, ATTEMPTS - 1), f"round {round_number}"
    assert Appointment.objects.count() == ROUNDS
