"""Fifty desks press "Book" for overlapping times at the same moment: exactly one wins.

Each thread has its own database connection (Django opens one per thread), so the
exclusion constraints are exercised by truly concurrent PostgreSQL transactions.
"""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction

from clinic.booking.services import BookingRefused, appointment_book, appointment_reschedule
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


SWAP_ROUNDS = 10


def _swap(moves: list[tuple[Appointment, datetime]], desk: User) -> list[BaseException]:
    """Both desks move at once; each transaction has already written its own appointment.

    That is the interleaving a busy server produces now and then (each UPDATE has taken its
    row before the exclusion check reads the other's): each check then waits on the other
    transaction, and PostgreSQL breaks the deadlock by aborting one (40P01). Writing the
    row first, behind a barrier, makes every round take that path.
    """
    barrier = threading.Barrier(len(moves))
    lock = threading.Lock()
    unexpected: list[BaseException] = []

    def move(appointment: Appointment, start: datetime) -> None:
        try:
            with transaction.atomic():
                Appointment.objects.filter(pk=appointment.pk).update(notes=f"Moving to {start:%H:%M}")
                barrier.wait(timeout=30)
                appointment_reschedule(acting_user=desk, appointment=appointment, start=start, reason="Swap")
        except BookingRefused:
            pass
        except BaseException as error:  # noqa: BLE001  (reported by the test below)
            with lock:
                unexpected.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=pair) for pair in moves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return unexpected


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("role_groups")
def test_two_desks_swapping_two_appointments_at_once_get_a_refusal_never_a_server_error() -> None:
    """Each desk moves one of two appointments into the other's time at the same moment."""
    location = LocationFactory(name="Central")
    desk = UserFactory(username="desk", role=Role.FRONT_DESK)
    consultation = AppointmentTypeFactory()
    specialist = UserFactory(username="spec", role=Role.SPECIALIST)
    StaffScheduleFactory.every_day(staff=specialist, location=location, start_time=time(0, 0), end_time=time(23, 59))
    rooms = [RoomFactory(location=location, name=f"Room {n}") for n in range(2)]
    tomorrow = location.today() + timedelta(days=1)
    early = datetime.combine(tomorrow, time(10), tzinfo=location.zone)
    late = datetime.combine(tomorrow, time(11), tzinfo=location.zone)
    first, second = (
        appointment_book(
            acting_user=desk,
            patient=PatientFactory(),
            appointment_type=consultation,
            practitioner=specialist,
            room=room,
            start=start,
        )
        for room, start in zip(rooms, (early, late), strict=True)
    )
    duration = first.end - first.start

    for round_number in range(SWAP_ROUNDS):
        # Put both back where they started (written straight to the table: a scene, not a move).
        Appointment.objects.filter(pk=first.pk).update(start=early, end=early + duration)
        Appointment.objects.filter(pk=second.pk).update(start=late, end=late + duration)
        unexpected = _swap(
            [(Appointment.objects.get(pk=first.pk), late), (Appointment.objects.get(pk=second.pk), early)], desk
        )
        assert unexpected == [], f"round {round_number}"
        starts = sorted(Appointment.objects.filter(pk__in=[first.pk, second.pk]).values_list("start", flat=True))
        assert starts[1] - starts[0] >= duration, f"round {round_number}: the two overlap"
