"""Each cause of the server errors seen in the junk requests, pinned by its own test.

(tests/clinic/test_junk_input.py generates junk for every form; these are the cases found
by hand first, kept as plain examples.)
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.core import signing
from django.db import IntegrityError, transaction
from django.test import Client

from aftercare import links
from aftercare.forms import MessageTemplateForm
from aftercare.models import CheckInAnswer
from aftercare.rendering import Content, render
from aftercare.services import message_templates_ensure_defaults
from clinic.models import Appointment, AppointmentStatus, Location, Patient, User
from consultations.questionnaire import SALT, questionnaire_appointment_id
from tests.factories import AppointmentFactory, AppointmentTypeFactory, PatientFactory, RoomFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk_client(front_desk: User, location: Location) -> Client:
    client = Client()
    client.force_login(front_desk)
    return client


@pytest.fixture
def appointment(location: Location) -> Appointment:
    return AppointmentFactory(room=RoomFactory(location=location))


# --- next ----------------------------------------------------------------------------------


@pytest.mark.parametrize("next_value", ["-1", "patients", "https://evil.example/", "//evil.example/", "/a\r\nb"])
def test_a_status_change_with_a_next_that_is_not_a_path_here_goes_back_to_the_appointment(
    desk_client: Client, appointment: Appointment, next_value: str
) -> None:
    response = desk_client.post(f"/appointments/{appointment.pk}/status/", {"status": "confirmed", "next": next_value})
    assert response.status_code == 302
    assert response["Location"] == appointment.get_absolute_url()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED


def test_a_cancellation_with_next_patients_goes_back_to_the_appointment(
    desk_client: Client, appointment: Appointment
) -> None:
    response = desk_client.post(
        f"/appointments/{appointment.pk}/cancel/", {"reason": "Patient asked", "next": "patients"}
    )
    assert response.status_code == 302
    assert response["Location"] == appointment.get_absolute_url()


def test_a_next_that_is_a_path_on_this_site_is_followed(desk_client: Client, appointment: Appointment) -> None:
    response = desk_client.post(
        f"/appointments/{appointment.pk}/status/", {"status": "confirmed", "next": "/front-desk/?date=2026-03-03"}
    )
    assert response["Location"] == "/front-desk/?date=2026-03-03"


def test_a_status_change_is_not_kept_when_the_page_after_it_fails(
    desk_client: Client, appointment: Appointment
) -> None:
    # The change and its page are one transaction: a failure after the change undoes it.
    with (
        mock.patch("clinic.booking.views.safe_next", side_effect=RuntimeError("the page failed")),
        pytest.raises(RuntimeError),
    ):
        desk_client.post(f"/appointments/{appointment.pk}/status/", {"status": "confirmed"})
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


# --- location=abc --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "", "1e3", "99999999999999999999999", "-1"])
def test_switching_to_a_location_that_is_not_a_number_is_not_found(
    desk_client: Client, location: Location, value: str
) -> None:
    assert desk_client.post("/location/", {"location": value, "next": "/"}).status_code == 404


def test_switching_location_with_a_bad_next_goes_home(desk_client: Client, location: Location) -> None:
    response = desk_client.post("/location/", {"location": str(location.pk), "next": "-1"})
    assert response.status_code == 302
    assert response["Location"] == "/"


# --- the years 0001 and 9999 ---------------------------------------------------------------


@pytest.mark.parametrize("page", ["/front-desk/", "/front-desk/week/", "/front-desk/day-sheet/"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_schedule_for_a_day_at_the_calendars_end_shows_today_and_says_so(
    desk_client: Client, location: Location, page: str, day: str
) -> None:
    response = desk_client.get(page, {"date": day})
    assert response.status_code == 200
    assert "is not a day the schedule can show" in response.content.decode()


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_slot_search_at_the_calendars_end_asks_for_a_day_in_range(
    desk_client: Client, location: Location, day: str
) -> None:
    kind = AppointmentTypeFactory()
    patient = PatientFactory()
    response = desk_client.get(f"/patients/{patient.pk}/book/", {"appointment_type": kind.pk, "day": day})
    assert response.status_code == 200
    assert "Choose a day between 1900-01-01 and 2999-12-31." in response.content.decode()


@pytest.mark.parametrize("start", ["9999-12-31T23:30:00+00:00", "0001-01-01T00:00:00+00:00"])
def test_moving_an_appointment_to_the_calendars_end_is_refused(
    desk_client: Client, appointment: Appointment, start: str
) -> None:
    response = desk_client.post(
        f"/appointments/{appointment.pk}/move/",
        {
            "appointment_type": appointment.appointment_type_id,
            "practitioner": appointment.practitioner_id,
            "room": appointment.room_id,
            "start": start,
        },
    )
    assert response.status_code == 400
    moved = Appointment.objects.get(pk=appointment.pk)
    assert moved.start == appointment.start


def test_time_off_in_the_year_9999_is_refused_by_the_form(manager: User, location: Location) -> None:
    client = Client()
    client.force_login(manager)
    response = client.post(
        "/clinic/setup/time-off/new/",
        {"staff": manager.pk, "start": "9999-12-31T22:00", "end": "9999-12-31T23:59", "reason": "Away"},
    )
    assert response.status_code == 400
    assert "Choose a day between" in response.content.decode()


# --- signed payloads of the wrong shape ----------------------------------------------------

WRONG_SHAPES: list[Any] = [
    [1, 2],
    "a string",
    7,
    None,
    {},
    {"appointment": True},
    {"appointment": "1"},
    {"appointment": 2**70},
    {"appointment": -1},
    {"appointment": [1]},
]


@pytest.mark.parametrize("payload", WRONG_SHAPES)
def test_a_validly_signed_questionnaire_token_of_another_shape_cannot_be_used(payload: Any) -> None:
    assert questionnaire_appointment_id(signing.dumps(payload, salt=SALT, compress=True)) is None


@pytest.mark.parametrize("payload", WRONG_SHAPES)
def test_the_questionnaire_page_for_a_wrongly_shaped_token_is_not_a_server_error(payload: Any) -> None:
    token = signing.dumps(payload, salt=SALT, compress=True)
    assert Client().get(f"/consultations/questionnaire/{token}/").status_code < 500


UUID = "8a4c1c1e-2f4e-4d6e-9c61-3c1a0c3f5b2a"
# Wrong for every link; the last two are wrong only where an answer is part of the link.
LINK_SHAPES: list[Any] = [
    [1, 2],
    "m",
    None,
    {"m": 123, "a": "worried"},
    {"m": ["x"], "a": "worried"},
    {"m": {"x": 1}},
    {"m": "not-a-uuid", "a": "worried"},
]
ANSWER_SHAPES: list[Any] = [{"m": UUID, "a": 5}, {"m": UUID, "a": "nonsense"}, {"m": UUID}]
CHECKIN = (links.CHECKIN_SALT, links.read_checkin_token, "/aftercare/c/")
BOOKING = (links.BOOKING_SALT, links.read_booking_token, "/aftercare/a/")
UNSUBSCRIBE = (links.UNSUBSCRIBE_SALT, links.read_unsubscribe_token, "/aftercare/u/")
LINK_CASES = [
    *[(*link, payload) for link in (CHECKIN, BOOKING, UNSUBSCRIBE) for payload in LINK_SHAPES],
    *[(*link, payload) for link in (CHECKIN, BOOKING) for payload in ANSWER_SHAPES],
]


@pytest.mark.parametrize(("salt", "read", "prefix", "payload"), LINK_CASES)
def test_a_validly_signed_patient_link_of_another_shape_shows_the_invalid_link_page(
    salt: str, read: Any, prefix: str, payload: Any
) -> None:
    token = signing.dumps(payload, salt=salt, compress=True)
    assert read(token) is None
    assert Client().get(f"{prefix}{token}/").status_code == 400


def test_a_well_formed_checkin_token_still_reads() -> None:
    token = links.checkin_token(message_token=links.uuid.uuid4(), answer=CheckInAnswer.WORRIED)
    link = links.read_checkin_token(token)
    assert link is not None
    assert link.answer == CheckInAnswer.WORRIED


# --- 100,000-character notes ---------------------------------------------------------------


def test_a_100000_character_booking_note_is_refused_and_nothing_is_booked(
    desk_client: Client, location: Location, specialist: User
) -> None:
    kind = AppointmentTypeFactory()
    patient = PatientFactory()
    room = RoomFactory(location=location)
    response = desk_client.post(
        f"/patients/{patient.pk}/book/",
        {
            "appointment_type": kind.pk,
            "practitioner": specialist.pk,
            "room": room.pk,
            "start": "2030-01-01T10:00:00+00:00",
            "notes": "x" * 100_000,
        },
    )
    assert response.status_code == 400
    assert not Appointment.objects.exists()


def test_a_100000_character_patient_note_is_refused_by_the_form(desk_client: Client) -> None:
    patient = PatientFactory()
    response = desk_client.post(
        f"/patients/{patient.pk}/edit/",
        {
            "first_name": "Ann",
            "last_name": "Lee",
            "preferred_contact": "email",
            "email": "ann@example.com",
            "front_desk_notes": "x" * 100_000,
        },
    )
    assert response.status_code == 400
    assert "Ensure this value has at most 2000 characters" in response.content.decode()
    patient.refresh_from_db()
    assert patient.front_desk_notes == ""


@pytest.mark.parametrize(
    ("model", "field"),
    [(Appointment, "notes"), (Appointment, "cancel_reason"), (Patient, "front_desk_notes")],
)
def test_the_database_refuses_an_overlong_note_whoever_writes_it(
    appointment: Appointment, model: Any, field: str
) -> None:
    record = appointment if model is Appointment else appointment.patient
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.filter(pk=record.pk).update(**{field: "x" * 100_000})


def test_every_free_text_field_has_a_maximum_length() -> None:
    from django.apps import apps
    from django.db import models
    from pghistory.models import Event

    unbounded = [
        f"{model._meta.label}.{field.name}"
        for app in ("clinic", "consultations", "treatments", "aftercare")
        for model in apps.get_app_config(app).get_models()
        if not issubclass(model, Event)  # history rows copy what was written
        for field in model._meta.get_fields()
        if isinstance(field, models.TextField) and field.max_length is None and field.editable
    ]
    # What the app itself writes (rendered messages, errors from the mail server) is not typed
    # by a person, and no form takes it.
    system_written = {"aftercare.Message.last_error", "aftercare.Message.body_text", "aftercare.Message.body_html"}
    system_written |= {"aftercare.Message.attachment_ics", "aftercare.MailServerState.last_error"}
    assert set(unbounded) - system_written == set()


# --- CR/LF in template subjects ------------------------------------------------------------


@pytest.mark.parametrize("subject", ["Your skin\r\nBcc: all@example.com", "Line\nbreak", "Tab\there", "Nul\x00"])
def test_a_template_subject_with_a_line_break_or_control_character_is_refused(subject: str) -> None:
    template = message_templates_ensure_defaults()["checkin_day1"]
    form = MessageTemplateForm(
        {
            "is_active": "on",
            "offset_days": template.offset_days,
            "send_time": "10:00",
            "subject": subject,
            "body_text": template.body_text,
        },
        instance=template,
    )
    assert not form.is_valid()
    assert "subject" in form.errors


def test_a_subject_is_rendered_on_one_line_whatever_was_stored() -> None:
    rendered = render(Content(subject="Your skin\r\nBcc: all@example.com\x00", paragraphs=["Hello"]))
    assert rendered.subject == "Your skin Bcc: all@example.com"
