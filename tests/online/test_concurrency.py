"""Fifty patients hold the same online slot at the same moment; two accept one freed slot.

Each thread has its own database connection, so the database (exclusion constraints, the
partial unique index on accepted offers) decides, not a check-then-insert.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, time, timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection

from clinic.booking.services import BookingRefused
from clinic.models import Appointment, AppointmentStatus
from clinic.roles import Role, sync_role_groups
from online import services
from online.models import OfferStatus, OnlineHold, WaitlistEntry, WaitlistOffer, WaitlistStatus
from tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    PatientFactory,
    RoomFactory,
    StaffScheduleFactory,
    UserFactory,
)
from tests.online.conftest import local_at

ATTEMPTS = 50


@pytest.fixture
def role_groups(transactional_db: None) -> None:
    """Transactional tests flush the tables the data migrations filled; put them back."""
    sync_role_groups(Group, Permission)
    services.online_user()


def _race(calls: list[Callable[[], object]]) -> tuple[list[object], list[BaseException]]:
    barrier = threading.Barrier(len(calls))
    lock = threading.Lock()
    results: list[object] = []
    unexpected: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            result = call()
        except BookingRefused as refused:
            result = refused
        except BaseException as error:  # noqa: BLE001  (reported by the test)
            with lock:
                unexpected.append(error)
            return
        finally:
            connection.close()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, unexpected


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("role_groups")
def test_fifty_concurrent_online_bookings_for_one_slot_have_exactly_one_winner() -> None:
    location = LocationFactory(name="Central")
    specialist = UserFactory(username="spec", role=Role.SPECIALIST)
    StaffScheduleFactory.every_day(staff=specialist, location=location, start_time=time(9), end_time=time(17))
    RoomFactory(location=location, name="Room 1")
    AppointmentTypeFactory()
    start = local_at(location, 2, 10)

    def book(n: int) -> Callable[[], object]:
        details = services.PatientDetails(
            first_name=f"P{n}",
            last_name="Racer",
            date_of_birth=date(1990, 1, 1) + timedelta(days=n),
            email=f"racer{n}@example.com",
            phone="+447700900123",
            email_consent=True,
        )
        return lambda: services.online_hold_create(
            location=location, start=start, practitioner_id=specialist.pk, details=details, ip_address=None
        )

    results, unexpected = _race([book(n) for n in range(ATTEMPTS)])
    assert unexpected == []
    won = [r for r in results if isinstance(r, OnlineHold)]
    lost = [r for r in results if isinstance(r, BookingRefused)]
    assert (len(won), len(lost)) == (1, ATTEMPTS - 1)
    assert Appointment.objects.holding_time().count() == 1
    assert OnlineHold.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("role_groups")
def test_two_patients_accepting_one_freed_slot_at_once_one_wins_and_the_other_keeps_their_place() -> None:
    location = LocationFactory(name="Central")
    specialist = UserFactory(username="spec", role=Role.SPECIALIST)
    StaffScheduleFactory.every_day(staff=specialist, location=location, start_time=time(9), end_time=time(17))
    room = RoomFactory(location=location, name="Room 1")
    consultation = AppointmentTypeFactory()
    start = local_at(location, 3, 10)
    freed = Appointment.objects.create(
        appointment_type=consultation,
        patient=PatientFactory(),
        practitioner=specialist,
        room=room,
        location=location,
        start=start,
        end=start + consultation.duration,
        status=AppointmentStatus.CANCELLED,
        cancel_reason="Could not come",
    )
    today = location.today()
    for n in range(2):
        WaitlistEntry.objects.create(
            patient=PatientFactory(email=f"w{n}@example.com"),
            appointment_type=consultation,
            location=location,
            earliest_time=time(9),
            latest_time=time(17),
            earliest_date=today,
            latest_date=today + timedelta(days=30),
        )
    offers = services.waitlist_offer_slot(appointment_id=freed.pk, start=start)
    assert len(offers) == 2

    results, unexpected = _race([lambda o=offer: services.waitlist_offer_accept(offer_id=o.pk) for offer in offers])
    assert unexpected == []
    statuses = sorted(WaitlistOffer.objects.values_list("status", flat=True))
    assert statuses == sorted([OfferStatus.ACCEPTED, OfferStatus.GONE])
    assert Appointment.objects.holding_time().filter(start=start).count() == 1
    winner = WaitlistOffer.objects.get(status=OfferStatus.ACCEPTED)
    loser = WaitlistOffer.objects.get(status=OfferStatus.GONE)
    assert winner.appointment is not None
    assert winner.appointment.patient_id == winner.entry.patient_id
    assert WaitlistEntry.objects.get(pk=loser.entry_id).status == WaitlistStatus.WAITING
    assert WaitlistEntry.objects.get(pk=winner.entry_id).status == WaitlistStatus.BOOKED
