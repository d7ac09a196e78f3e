"""The patient's record: upcoming and past by the appointment's end and status; one timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aftercare.models import CheckIn, LinkAction, LinkClick, MessageKind, SpecialistQueueEntry
from clinic.hooks import TimelineKind
from clinic.models import AppointmentStatus, AppointmentStatusChange, Patient, User
from clinic.roles import Role
from tests.factories import (
    AppointmentFactory,
    ConsultationFactory,
    ExtractionTypeFactory,
    MessageFactory,
    PatientFactory,
    TreatmentPlanFactory,
    UserFactory,
)
from treatments.models import SessionAddendum, SessionStatus, TreatmentSession

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


# --- The timeline --------------------------------------------------------------------------


def _story(patient: Patient, n: int) -> None:
    """``n`` of each kind of entry, so a query count can be compared between sizes."""
    plan = TreatmentPlanFactory(
        patient=patient,
        consultation=ConsultationFactory(
            appointment=AppointmentFactory(patient=patient, status=AppointmentStatus.COMPLETED, start=_ago(40)),
            recommended=True,
            override_outcome="defer",
            override_reason="Wedding next week; calm first.",
        ),
    )
    worker = UserFactory(role=Role.AESTHETICIAN)
    extraction = ExtractionTypeFactory()
    for i in range(n):
        appointment = AppointmentFactory(
            patient=patient,
            appointment_type=extraction,
            practitioner=worker,
            start=_ago(30 - i),
            status=AppointmentStatus.IN_PROGRESS,
        )
        AppointmentStatusChange.objects.create(
            appointment=appointment, from_status="booked", to_status="checked_in", by=worker
        )
        session = TreatmentSession.objects.create(
            appointment=appointment,
            patient=patient,
            aesthetician=worker,
            plan=plan,
            session_number=i + 1,
            status=SessionStatus.STOPPED,
            rescreened_at=_ago(30 - i),
            stopped_at=_ago(30 - i),
            rescreen_reasons=["RS_SUNBURN"],
        )
        SessionAddendum.objects.create(session=session, author=worker, text=f"Called the patient back {i}.")
        message = MessageFactory(
            patient=patient,
            kind=MessageKind.CHECKIN_DAY1,
            subject="How is your skin today?",
            body_text=f"Hello Zoe,\n\nHow is your skin today, day {i}?",
            due_at=_ago(29 - i),
        )
        click = LinkClick.objects.create(
            message=message, patient=patient, action=LinkAction.CHECKIN, answer="worried", outcome="recorded"
        )
        checkin = CheckIn.objects.create(message=message, patient=patient, answer="worried")
        SpecialistQueueEntry.objects.create(
            checkin=checkin,
            patient=patient,
            resolved_at=click.at,
            resolved_by=worker,
            resolution=f"Rang her; fine now {i}.",
        )


def _ago(days: int) -> datetime:
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def specialist_client(client: Client, specialist: User) -> Client:
    client.force_login(specialist)
    return client


def test_the_timeline_tells_the_whole_story_newest_first_to_the_specialist(specialist_client: Client) -> None:
    patient = PatientFactory(first_name="Zoe", last_name="Walker")
    _story(patient, 2)
    response = specialist_client.get(f"/patients/{patient.pk}/")
    entries = response.context["timeline"]
    kinds = {entry.kind for entry in entries}
    assert kinds == {
        TimelineKind.APPOINTMENT,
        TimelineKind.CONSULTATION,
        TimelineKind.PLAN,
        TimelineKind.SESSION,
        TimelineKind.MESSAGE,
        TimelineKind.CHECKIN,
        TimelineKind.QUEUE,
    }
    assert [entry.at for entry in entries] == sorted((entry.at for entry in entries), reverse=True)
    body = response.content.decode()
    assert "Overridden to “Defer: calm and repair first”: Wedding next week; calm first." in body
    assert "Consent to the plan given" in body
    assert "Re-screen stopped the session." in body
    assert "RS_SUNBURN" not in body.split("data-timeline", 1)[1]
    assert "Called the patient back 1." in body
    assert "How is your skin today, day 1?" in body  # the message opens to its text
    assert "Rang her; fine now 0." in body
    assert "Checked in" in body


def test_the_front_desk_sees_appointments_and_messages_but_no_clinical_entry(desk: Client) -> None:
    patient = PatientFactory()
    _story(patient, 1)
    response = desk.get(f"/patients/{patient.pk}/")
    kinds = {entry.kind for entry in response.context["timeline"]}
    assert kinds == {TimelineKind.APPOINTMENT, TimelineKind.MESSAGE}
    offered = [value for value, _label in response.context["timeline_kinds"]]
    assert "sessions" not in offered
    assert "consultations" not in offered
    body = response.content.decode()
    assert "Wedding next week" not in body
    assert "Called the patient back" not in body
    assert "Rang her" not in body
    # Asking for a kind the role may not see shows everything it may, nothing more.
    asked = desk.get(f"/patients/{patient.pk}/?kind=sessions")
    assert {entry.kind for entry in asked.context["timeline"]} == kinds


def test_the_timeline_filters_by_kind_and_htmx_gets_only_the_timeline(specialist_client: Client) -> None:
    patient = PatientFactory()
    _story(patient, 1)
    response = specialist_client.get(f"/patients/{patient.pk}/?kind=sessions")
    assert {entry.kind for entry in response.context["timeline"]} == {TimelineKind.SESSION}
    fragment = specialist_client.get(f"/patients/{patient.pk}/?kind=messages", headers={"HX-Request": "true"})
    text = fragment.content.decode()
    assert text.lstrip().startswith('<section class="card mt-4" id="timeline"')
    assert 'data-timeline-kind="messages"' in text
    assert 'data-timeline-kind="sessions"' not in text


def test_the_timeline_keeps_a_fixed_number_of_queries_however_long_the_story(specialist_client: Client) -> None:
    short, long = PatientFactory(), PatientFactory()
    _story(short, 1)
    _story(long, 6)
    counts = []
    for patient in (short, long):
        with CaptureQueriesContext(connection) as queries:
            assert specialist_client.get(f"/patients/{patient.pk}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
