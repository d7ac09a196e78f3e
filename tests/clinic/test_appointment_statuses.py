"""Statuses follow time (check-in on the day, no-show after the start), and a status set by
mistake is undone within the window or reverted with a reason, both in the history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client, override_settings

from clinic.booking.services import appointment_set_status, appointment_status_revert
from clinic.models import Appointment, AppointmentStatus, Location, StatusChangeRefused, User
from clinic.roles import Role
from tests.factories import AppointmentFactory, LocationFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db

# Tuesday 3 March 2026, 14:00 in London (GMT).
START = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)


@pytest.fixture
def central() -> Location:
    return LocationFactory(name="Central", time_zone="Europe/London")


@pytest.fixture
def desk(central: Location) -> User:
    return UserFactory(username="desk", role=Role.FRONT_DESK, locations=[central])


@pytest.fixture
def appointment(central: Location) -> Appointment:
    with time_machine.travel(START - timedelta(days=2)):
        return AppointmentFactory(room=RoomFactory(location=central), start=START)


def set_status(desk: User, appointment: Appointment, status: str, at: datetime) -> Appointment:
    with time_machine.travel(at, tick=False):
        return appointment_set_status(acting_user=desk, appointment=appointment, status=status)


def test_check_in_is_refused_the_day_before_with_the_time_it_opens(desk: User, appointment: Appointment) -> None:
    with pytest.raises(StatusChangeRefused, match="Check-in opens on the appointment's day") as refused:
        set_status(desk, appointment, AppointmentStatus.CHECKED_IN, START - timedelta(hours=20))
    assert "Tue 3 Mar, 02:00" in refused.value.messages[0]
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    assert not appointment.status_changes.exists()


def test_check_in_is_possible_on_the_day_before_and_after_the_start(desk: User, appointment: Appointment) -> None:
    done = set_status(desk, appointment, AppointmentStatus.CHECKED_IN, START - timedelta(hours=3))
    assert done.status == AppointmentStatus.CHECKED_IN


def test_check_in_is_refused_once_the_appointments_day_is_over(desk: User, appointment: Appointment) -> None:
    with pytest.raises(StatusChangeRefused, match="day is over"):
        set_status(desk, appointment, AppointmentStatus.CHECKED_IN, START + timedelta(hours=10, minutes=1))


@override_settings(APPOINTMENT_CHECK_IN_OPENS_MINUTES=30)
def test_the_check_in_window_is_a_setting(desk: User, appointment: Appointment) -> None:
    with pytest.raises(StatusChangeRefused, match="from Tue 3 Mar, 13:30"):
        set_status(desk, appointment, AppointmentStatus.CHECKED_IN, START - timedelta(minutes=31))
    assert set_status(desk, appointment, AppointmentStatus.CHECKED_IN, START - timedelta(minutes=30)).status == (
        AppointmentStatus.CHECKED_IN
    )


def test_no_show_is_refused_before_the_start(desk: User, appointment: Appointment) -> None:
    with pytest.raises(StatusChangeRefused, match="only after the appointment has started"):
        set_status(desk, appointment, AppointmentStatus.NO_SHOW, START - timedelta(minutes=1))
    assert set_status(desk, appointment, AppointmentStatus.NO_SHOW, START).status == AppointmentStatus.NO_SHOW


@override_settings(APPOINTMENT_NO_SHOW_AFTER_MINUTES=15)
def test_the_no_show_grace_is_a_setting(desk: User, appointment: Appointment) -> None:
    with pytest.raises(StatusChangeRefused, match="from Tue 3 Mar, 14:15"):
        set_status(desk, appointment, AppointmentStatus.NO_SHOW, START + timedelta(minutes=14))


def test_the_status_button_says_why_it_was_refused(client: Client, desk: User, appointment: Appointment) -> None:
    client.force_login(desk)
    with time_machine.travel(START - timedelta(minutes=5), tick=False):
        response = client.post(f"/appointments/{appointment.pk}/status/", {"status": "no_show"}, follow=True)
    assert response.status_code == 200
    assert "only after the appointment has started" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


@pytest.fixture
def no_show(desk: User, appointment: Appointment) -> Appointment:
    return set_status(desk, appointment, AppointmentStatus.NO_SHOW, START + timedelta(minutes=10))


def test_a_no_show_is_undone_within_the_window_and_the_history_shows_both(desk: User, no_show: Appointment) -> None:
    with time_machine.travel(START + timedelta(minutes=14), tick=False):
        appointment_status_revert(acting_user=desk, appointment=no_show, undo=True)
    no_show.refresh_from_db()
    assert no_show.status == AppointmentStatus.BOOKED
    rows = list(no_show.status_changes.order_by("at", "id"))
    assert [(r.from_status, r.to_status, r.by_id) for r in rows] == [
        ("booked", "no_show", desk.pk),
        ("no_show", "booked", desk.pk),
    ]
    assert rows[1].reverts_id == rows[0].pk
    assert rows[1].is_undo


def test_undo_is_refused_once_the_window_has_passed(desk: User, no_show: Appointment) -> None:
    with (
        time_machine.travel(START + timedelta(minutes=16), tick=False),
        pytest.raises(StatusChangeRefused, match="revert it with a reason"),
    ):
        appointment_status_revert(acting_user=desk, appointment=no_show, undo=True)
    no_show.refresh_from_db()
    assert no_show.status == AppointmentStatus.NO_SHOW


def test_a_revert_later_needs_a_reason_and_keeps_it(desk: User, no_show: Appointment) -> None:
    later = START + timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        with pytest.raises(StatusChangeRefused, match="Say why"):
            appointment_status_revert(acting_user=desk, appointment=no_show, reason="  ")
        change = appointment_status_revert(acting_user=desk, appointment=no_show, reason="She was in the waiting room")
    assert (change.from_status, change.to_status, change.reason) == ("no_show", "booked", "She was in the waiting room")
    assert not change.is_undo
    with pytest.raises(StatusChangeRefused, match="no status change here"):
        appointment_status_revert(acting_user=desk, appointment=no_show, reason="Again")


def test_a_no_show_whose_time_was_rebooked_cannot_be_taken_back(
    desk: User, no_show: Appointment, central: Location
) -> None:
    AppointmentFactory(practitioner=no_show.practitioner, room=RoomFactory(location=central), start=START)
    with (
        time_machine.travel(START + timedelta(minutes=12), tick=False),
        pytest.raises(StatusChangeRefused, match="book a new appointment"),
    ):
        appointment_status_revert(acting_user=desk, appointment=no_show, undo=True)
    no_show.refresh_from_db()
    assert no_show.status == AppointmentStatus.NO_SHOW
    assert no_show.status_changes.count() == 1


def test_a_status_set_by_a_session_is_not_undone_here(desk: User, appointment: Appointment) -> None:
    specialist = appointment.practitioner
    checked_in = set_status(desk, appointment, AppointmentStatus.CHECKED_IN, START - timedelta(minutes=5))
    with time_machine.travel(START, tick=False):
        checked_in.begin(by=specialist)
        with pytest.raises(StatusChangeRefused, match="no status change here"):
            appointment_status_revert(acting_user=desk, appointment=checked_in, undo=True)


def test_the_appointment_page_offers_undo_then_revert(client: Client, desk: User, no_show: Appointment) -> None:
    client.force_login(desk)
    with time_machine.travel(START + timedelta(minutes=11), tick=False):
        page = client.get(f"/appointments/{no_show.pk}/").content.decode()
    assert 'name="undo"' in page
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        page = client.get(f"/appointments/{no_show.pk}/").content.decode()
        assert 'name="undo"' not in page
        assert 'id="revert-reason"' in page
        response = client.post(f"/appointments/{no_show.pk}/revert/", {"reason": ""})
        assert response.status_code == 400
        assert "Say why the status is reverted." in response.content.decode()
        response = client.post(f"/appointments/{no_show.pk}/revert/", {"reason": "Wrong patient"}, follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Reverted" in body
    assert "Wrong patient" in body
    no_show.refresh_from_db()
    assert no_show.status == AppointmentStatus.BOOKED
