"""The day grid's issue-13 points: stable columns, click-to-book, drag-to-move, counters out of
band, the manager reading the schedule, the day sheet's alerts, the demo's working today."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from aftercare.models import AppointmentReply
from aftercare.services import reschedule_request_handle
from clinic import demo
from clinic.booking.day_grid import render_cards
from clinic.booking.services import appointment_cancel, appointment_reschedule
from clinic.models import Appointment, AppointmentStatus, Location, StaffSchedule, User
from clinic.roles import Role
from consultations.models import recorded_allergies
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    ConsultationFactory,
    LocationFactory,
    MessageFactory,
    PatientFactory,
    RoomFactory,
    StaffScheduleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 08:00 in London
TUESDAY = date(2026, 3, 3)
WEDNESDAY = date(2026, 3, 4)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def central() -> Location:
    return LocationFactory(name="Central", time_zone="Europe/London")


def person(username: str, first: str, last: str, central: Location) -> User:
    user = UserFactory(username=username, first_name=first, last_name=last, role=Role.SPECIALIST)
    StaffScheduleFactory.every_day(staff=user, location=central)
    return user


@pytest.fixture
def desk(client: Client, front_desk: User) -> Client:
    client.force_login(front_desk)
    return client


def at(hour: int, minute: int = 0, day: date = TUESDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LocationFactory(name="Central").zone)


def labels(desk: Client, day: date, by: str = "practitioner") -> list[str]:
    response = desk.get("/front-desk/", {"date": day.isoformat(), "by": by})
    assert response.status_code == 200
    return [column.label for column in response.context["grid"].columns]


# --- Columns ---------------------------------------------------------------------------------


def test_practitioner_columns_keep_their_name_order_whoever_has_appointments(desk: Client, central: Location) -> None:
    zara = person("zara", "Zara", "Young", central)
    person("anna", "Anna", "Abbott", central)
    room = RoomFactory(location=central)
    AppointmentFactory(practitioner=zara, room=room, start=at(9))
    # Someone not working here that day, with an appointment: placed by name, not appended.
    visitor = UserFactory(username="mia", first_name="Mia", last_name="Moss", role=Role.SPECIALIST)
    AppointmentFactory(practitioner=visitor, room=room, start=at(11, day=WEDNESDAY))
    assert labels(desk, TUESDAY) == ["Anna Abbott", "Zara Young"]
    assert labels(desk, WEDNESDAY) == ["Anna Abbott", "Mia Moss", "Zara Young"]


def test_room_columns_keep_their_name_order(desk: Client, central: Location) -> None:
    person("anna", "Anna", "Abbott", central)
    room_b = RoomFactory(location=central, name="Room B")
    RoomFactory(location=central, name="Room A")
    AppointmentFactory(room=room_b, start=at(9))
    assert labels(desk, TUESDAY, "room") == ["Room A", "Room B"]
    assert labels(desk, WEDNESDAY, "room") == ["Room A", "Room B"]


# --- Click a free slot to book it --------------------------------------------------------------


def test_a_free_slot_carries_its_column_and_row_its_time(desk: Client, central: Location) -> None:
    anna = person("anna", "Anna", "Abbott", central)
    body = desk.get("/front-desk/", {"date": TUESDAY.isoformat()}).content.decode()
    assert f'data-col="{anna.pk}"' in body
    assert 'data-time="10:15"' in body
    assert 'data-book-url="/front-desk/book/"' in body


def test_the_clicked_slot_page_links_each_patient_to_a_prefilled_booking(desk: Client, central: Location) -> None:
    anna = person("anna", "Anna", "Abbott", central)
    consultation = AppointmentTypeFactory()
    patient = PatientFactory(first_name="Zoe", last_name="Walker")
    response = desk.get(
        "/front-desk/book/", {"date": TUESDAY.isoformat(), "time": "10:00", "practitioner": anna.pk, "q": "zoe"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    link = (
        f"/patients/{patient.pk}/book/?appointment_type={consultation.pk}&amp;practitioner={anna.pk}"
        f"&amp;day={TUESDAY.isoformat()}&amp;at=10%3A00&amp;room="
    )
    assert link in body
    assert not Appointment.objects.exists()  # a GET only prefills


def test_the_booking_page_offers_the_clicked_time_first(desk: Client, central: Location) -> None:
    anna = person("anna", "Anna", "Abbott", central)
    room = RoomFactory(location=central, name="Room 1")
    consultation = AppointmentTypeFactory()
    patient = PatientFactory()
    response = desk.get(
        f"/patients/{patient.pk}/book/",
        {
            "appointment_type": consultation.pk,
            "practitioner": anna.pk,
            "day": TUESDAY.isoformat(),
            "at": "10:00",
            "room": "",
        },
    )
    clicked = response.context["clicked"]
    assert [(s.start, s.practitioner, s.room) for s in clicked] == [(at(10), anna, room)]
    assert 'data-testid="clicked-slots"' in response.content.decode()


def test_a_slot_clicked_in_a_rooms_column_books_that_room(desk: Client, central: Location) -> None:
    anna = person("anna", "Anna", "Abbott", central)
    RoomFactory(location=central, name="Room 1")
    room_2 = RoomFactory(location=central, name="Room 2")
    consultation = AppointmentTypeFactory()
    patient = PatientFactory(first_name="Zoe", last_name="Walker")
    body = desk.get(
        "/front-desk/book/", {"date": TUESDAY.isoformat(), "time": "11:30", "room": room_2.pk, "q": "zoe"}
    ).content.decode()
    assert f"&amp;at=11%3A30&amp;room={room_2.pk}" in body
    response = desk.get(
        f"/patients/{patient.pk}/book/",
        {"appointment_type": consultation.pk, "day": TUESDAY.isoformat(), "at": "11:30", "room": room_2.pk},
    )
    assert [(s.start, s.practitioner, s.room) for s in response.context["clicked"]] == [(at(11, 30), anna, room_2)]


def test_a_slot_not_on_the_schedule_sends_the_desk_back(desk: Client, central: Location) -> None:
    response = desk.get("/front-desk/book/", {"date": "junk", "time": "25:99"})
    assert response.status_code == 302
    assert response["Location"] == "/front-desk/"


# --- Drag to move ------------------------------------------------------------------------------


def drop(desk: Client, appointment: Appointment, **slot: str | int) -> str:
    data = {"date": TUESDAY.isoformat(), "by": "practitioner", "next": "/front-desk/?date=2026-03-03", **slot}
    response = desk.post(f"/appointments/{appointment.pk}/drop/", data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.content.decode()


def test_dropping_a_card_on_a_free_slot_moves_it_with_the_move_pages_checks(desk: Client, central: Location) -> None:
    anna = person("anna", "Anna", "Abbott", central)
    zara = person("zara", "Zara", "Young", central)
    appointment = AppointmentFactory(practitioner=anna, room=RoomFactory(location=central), start=at(9))
    body = drop(desk, appointment, time="14:00", practitioner=zara.pk)
    appointment.refresh_from_db()
    assert (appointment.start, appointment.practitioner) == (at(14), zara)
    assert appointment.status_changes.get().old_start == at(9)
    assert 'id="schedule-grid"' in body
    assert 'id="status-counts"' in body
    assert 'hx-swap-oob="true"' in body
    assert "moved to" in body


def test_a_refused_drop_leaves_the_appointment_and_says_why(desk: Client, central: Location) -> None:
    anna = person("anna", "Anna", "Abbott", central)
    room = RoomFactory(location=central)
    appointment = AppointmentFactory(practitioner=anna, room=room, start=at(9))
    AppointmentFactory(practitioner=anna, room=room, start=at(14))
    body = drop(desk, appointment, time="14:15", practitioner=anna.pk)
    appointment.refresh_from_db()
    assert appointment.start == at(9)
    assert "Not moved:" in body
    assert 'role="alert"' in body


def test_a_drop_without_a_slot_is_a_message_not_a_500(desk: Client, central: Location) -> None:
    appointment = AppointmentFactory(room=RoomFactory(location=central), start=at(9))
    body = drop(desk, appointment, time="nonsense")
    assert "Drop the appointment on a free slot" in body
    appointment.refresh_from_db()
    assert appointment.start == at(9)


# --- Counters ----------------------------------------------------------------------------------


def test_checking_in_sends_the_days_counters_out_of_band(desk: Client, central: Location) -> None:
    # Today's appointments: check-in opens only on the appointment's day.
    appointment = AppointmentFactory(room=RoomFactory(location=central), start=at(10, day=NOW.date()))
    AppointmentFactory(room=RoomFactory(location=central), start=at(11, day=NOW.date()))
    response = desk.post(
        f"/appointments/{appointment.pk}/status/", {"status": "checked_in"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    counts = body[body.index('id="status-counts"') :]
    assert 'hx-swap-oob="true"' in counts
    assert "Booked: 1" in counts
    assert "Checked in: 1" in counts


# --- The manager reads the schedule -----------------------------------------------------------


@pytest.mark.parametrize("page", ["/front-desk/", "/front-desk/week/", "/front-desk/day-sheet/"])
def test_the_manager_reads_the_schedule_without_the_desks_buttons(
    client: Client, manager: User, central: Location, page: str
) -> None:
    anna = person("anna", "Anna", "Abbott", central)
    AppointmentFactory(practitioner=anna, room=RoomFactory(location=central), start=at(10))
    client.force_login(manager)
    response = client.get(page, {"date": TUESDAY.isoformat()})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Anna Abbott" in body
    assert "Check in" not in body
    assert 'draggable="true"' not in body
    assert "data-col=" not in body


# --- The day sheet -----------------------------------------------------------------------------


def test_the_day_sheet_carries_phone_allergy_cautions_and_reschedule_requests(desk: Client, central: Location) -> None:
    anna = person("anna", "Anna", "Abbott", central)
    room = RoomFactory(location=central)
    allergic = PatientFactory(first_name="Ada", phone="+44 7700 900123")
    ConsultationFactory(
        recommended=True,
        patient=allergic,
        appointment__patient=allergic,
        appointment__room=room,
        appointment__start=at(9, day=date(2026, 2, 1)),
        allergies="Penicillin",
        cautions=["CA_BLEEDING_RISK"],
    )
    calm = PatientFactory(first_name="Cal")
    ConsultationFactory(
        recommended=True,
        patient=calm,
        appointment__patient=calm,
        appointment__room=room,
        appointment__start=at(9, day=date(2026, 2, 2)),
        allergies="None known.",
    )
    first = AppointmentFactory(patient=allergic, practitioner=anna, room=room, start=at(10))
    second = AppointmentFactory(patient=calm, practitioner=anna, room=room, start=at(11))
    AppointmentReply.objects.create(message=MessageFactory(patient=calm), appointment=second, answer="reschedule")
    body = desk.get("/front-desk/day-sheet/", {"date": TUESDAY.isoformat()}).content.decode()
    assert "+44 7700 900123" in body
    assert "Allergy: Penicillin" in body
    assert "An anticoagulant or a bleeding disorder" in body
    assert "CA_BLEEDING_RISK" not in body
    assert "Allergy: None known" not in body
    assert body.count("Asked to reschedule") == 1
    assert body.index(first.patient.full_name) < body.index("Allergy: Penicillin")


def test_the_day_sheet_needs_the_same_queries_for_few_or_many_patients(desk: Client, central: Location) -> None:
    anna = person("anna", "Anna", "Abbott", central)
    room = RoomFactory(location=central)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert desk.get("/front-desk/day-sheet/", {"date": TUESDAY.isoformat()}).status_code == 200
        return len(captured)

    def patient_seen_at(hour: int) -> None:
        patient = PatientFactory()
        ConsultationFactory(
            recommended=True,
            patient=patient,
            appointment__patient=patient,
            appointment__room=room,
            appointment__start=at(hour, day=date(2026, 2, 1)),
            allergies="Latex",
        )
        AppointmentFactory(patient=patient, practitioner=anna, room=room, start=at(hour))

    patient_seen_at(9)
    few = queries()
    for hour in range(10, 16):
        patient_seen_at(hour)
    assert queries() == few


@pytest.mark.parametrize(
    ("text", "real"),
    [("None known.", False), ("NKDA", False), ("no known allergies", False), ("", False), ("Penicillin", True)],
)
def test_a_none_known_answer_is_not_an_allergy(text: str, real: bool) -> None:
    assert bool(recorded_allergies(text)) is real


# --- Demo data: today is a working day at Central -----------------------------------------------


@pytest.mark.parametrize("offset", range(7))
def test_the_demo_day_is_a_working_day_at_the_default_location_on_any_weekday(offset: int) -> None:
    with time_machine.travel(NOW + timedelta(days=offset), tick=False):
        demo.seed()
        central = Location.objects.order_by("id").first()
        assert central is not None
        today = central.today()
        assert StaffSchedule.objects.filter(location=central, weekday=today.weekday()).count() >= 2
        todays = Appointment.objects.on_local_day(central, today)
        assert todays.count() >= 8
        hours = {central.local(a.start).hour for a in todays}
        assert min(hours) <= 10
        assert max(hours) >= 14
        assert todays.exclude(status=AppointmentStatus.CANCELLED).exists()


def test_the_day_sheet_flags_only_unanswered_reschedule_requests(
    desk: Client, central: Location, front_desk: User
) -> None:
    anna = person("anna", "Anna", "Abbott", central)
    room = RoomFactory(location=central)

    def asked(first_name: str, hour: int) -> tuple[Appointment, AppointmentReply]:
        patient = PatientFactory(first_name=first_name)
        appointment = AppointmentFactory(patient=patient, practitioner=anna, room=room, start=at(hour))
        reply = AppointmentReply.objects.create(
            message=MessageFactory(patient=patient), appointment=appointment, answer="reschedule"
        )
        return appointment, reply

    waiting, _ = asked("Wanda", 9)
    hal, handled = asked("Hal", 10)
    handled_name = hal.patient.full_name
    moved, _ = asked("Mo", 11)
    cancelled, _ = asked("Cass", 12)
    reschedule_request_handle(acting_user=front_desk, reply=handled)
    appointment_reschedule(acting_user=front_desk, appointment=moved, start=at(15))
    appointment_cancel(acting_user=front_desk, appointment=cancelled, reason="Patient asked")

    body = desk.get("/front-desk/day-sheet/", {"date": TUESDAY.isoformat()}).content.decode()
    assert body.count("Asked to reschedule") == 1
    # Under Wanda (09:00), before the next patient (Hal, 10:00).
    assert body.index(waiting.patient.full_name) < body.index("Asked to reschedule") < body.index(handled_name)
    grid = desk.get("/front-desk/", {"date": TUESDAY.isoformat()}).content.decode()
    assert grid.count("Asks to reschedule") == 1


# --- The card's buttons follow the appointment's time --------------------------------------------


def card_buttons(appointment: Appointment, now: datetime) -> tuple[bool, bool]:
    appointment = Appointment.objects.select_related(
        "patient", "practitioner", "room", "appointment_type", "location"
    ).get(pk=appointment.pk)
    with time_machine.travel(now, tick=False):
        card = render_cards([appointment], zone=appointment.location.zone, csrf="x", here="/")[0]
    assert "appointment-actions" in card
    return 'value="checked_in"' in card, 'value="no_show"' in card


def london(hour: int, minute: int = 0, day: date = TUESDAY) -> datetime:
    # at() reads the zone from the database; parameters are built before it is open.
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo("Europe/London"))


@pytest.mark.parametrize(
    ("now", "check_in", "no_show"),
    [
        pytest.param(london(9, day=date(2026, 3, 2)), False, False, id="the-day-before"),
        pytest.param(london(0, 30), True, False, id="early-on-its-day"),
        pytest.param(london(9, 59), True, False, id="just-before-the-start"),
        pytest.param(london(10), True, True, id="at-the-start"),
        pytest.param(london(23, 30), True, True, id="late-on-its-day"),
        pytest.param(london(0, 30, day=WEDNESDAY), False, True, id="the-day-after"),
    ],
)
def test_a_card_offers_check_in_and_no_show_only_when_they_can_succeed(
    central: Location, now: datetime, check_in: bool, no_show: bool
) -> None:
    appointment = AppointmentFactory(room=RoomFactory(location=central), start=at(10))
    assert appointment.check_in_open(now) is check_in
    assert appointment.no_show_open(now) is no_show
    assert card_buttons(appointment, now) == (check_in, no_show)
