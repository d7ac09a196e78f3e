"""The patient moves or cancels from the signed link, up to the cut-off; extraction sessions
keep the plan's interval and need clearance."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from aftercare.links import booking_path
from aftercare.models import AppointmentReplyAnswer, Message, MessageKind
from clinic.booking.services import appointment_book
from clinic.models import Appointment, AppointmentStatus, AppointmentStatusChange
from clinic.roles import Role
from consultations.models import PlanSession
from online import links, services
from tests.factories import (
    AppointmentFactory,
    ExtractionTypeFactory,
    PatientFactory,
    StaffScheduleFactory,
    TreatmentPlanFactory,
    UserFactory,
)
from tests.online.conftest import local_at

pytestmark = pytest.mark.django_db


def _manage(appointment: Appointment) -> str:
    return links.manage_path(appointment_id=appointment.pk, patient_id=appointment.patient_id)


@pytest.fixture
def booked(clinic_open: dict[str, Any]) -> Appointment:
    location = clinic_open["location"]
    start = local_at(location, 3, 10)
    return AppointmentFactory(
        appointment_type=clinic_open["type"],
        practitioner=clinic_open["specialist"],
        room=clinic_open["room"],
        start=start,
    )


def test_the_patient_moves_the_appointment_and_the_history_says_the_patient_did(
    client: Client, booked: Appointment, clinic_open: dict[str, Any]
) -> None:
    page = client.get(_manage(booked))
    assert "Choose another time" in page.content.decode()
    choose = client.get(_manage(booked) + "move/").content.decode()
    new_start = local_at(clinic_open["location"], 4, 14)
    assert f'data-start="{new_start.isoformat()}"' in choose
    response = client.post(
        _manage(booked) + "move/", {"start": new_start.isoformat(), "practitioner": str(clinic_open["specialist"].pk)}
    )
    assert "has been moved" in response.content.decode()
    booked.refresh_from_db()
    assert booked.start == new_start
    change = AppointmentStatusChange.objects.get(appointment=booked)
    assert change.by == services.online_user()
    assert change.by.display_name.startswith("Patient")
    assert change.reason == "Moved by the patient online"


def test_the_patient_cancels_with_a_reason(client: Client, booked: Appointment) -> None:
    refused = client.post(_manage(booked), {"reason": "  "})
    assert refused.status_code == 200
    assert "This field is required" in refused.content.decode() or "Please say why" in refused.content.decode()
    client.post(_manage(booked), {"reason": "Away that week"})
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CANCELLED
    assert "Away that week" in booked.cancel_reason
    assert AppointmentStatusChange.objects.get(appointment=booked).by == services.online_user()


def test_after_the_cutoff_the_page_gives_the_phone_and_changes_nothing(
    client: Client, booked: Appointment, settings: Any
) -> None:
    settings.ONLINE_CUTOFF_HOURS = 24
    location = booked.location
    location.phone = "+441234567890"
    location.save()
    with time_machine.travel(booked.start - timedelta(hours=23), tick=False):
        page = client.get(_manage(booked)).content.decode()
        assert "can no longer be changed online" in page
        assert "tel:+441234567890" in page
        client.post(_manage(booked), {"reason": "Late"})
        assert client.get(_manage(booked) + "move/").status_code == 302
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED
    with time_machine.travel(booked.start - timedelta(hours=25), tick=False):
        assert services.before_cutoff(booked)


def test_a_tampered_link_opens_nothing(client: Client, booked: Appointment) -> None:
    assert client.get("/o/appointment/not-a-token/").status_code == 400
    other = links.manage_path(appointment_id=booked.pk, patient_id=booked.patient_id + 1000)
    assert client.get(other).status_code == 400


@pytest.fixture
def programme(location: Any) -> dict[str, Any]:
    """A cleared patient's plan (14 days apart) with sessions 1, 2, 3 on days 10, 24, 38."""
    aesthetician = UserFactory(username="online-aes", role=Role.AESTHETICIAN, locations=[location])
    StaffScheduleFactory.every_day(staff=aesthetician, location=location, start_time=time(9), end_time=time(17))
    extraction = ExtractionTypeFactory()
    plan = TreatmentPlanFactory(interval_days=14)
    sessions = []
    for number, day in ((1, 10), (2, 24), (3, 38)):
        appointment = AppointmentFactory(
            appointment_type=extraction,
            patient=plan.patient,
            practitioner=aesthetician,
            room__location=location,
            start=local_at(location, day, 10),
        )
        PlanSession.objects.create(plan=plan, number=number, appointment=appointment)
        sessions.append(appointment)
    return {"plan": plan, "sessions": sessions, "location": location}


def test_an_extraction_session_moves_only_to_times_keeping_the_plan_interval(programme: dict[str, Any]) -> None:
    middle = programme["sessions"][1]
    location = programme["location"]
    assert not services.keeps_plan_interval(middle, local_at(location, 20, 10))
    assert not services.keeps_plan_interval(middle, local_at(location, 30, 10))
    assert services.keeps_plan_interval(middle, local_at(location, 24, 15))
    with pytest.raises(services.BookingRefused, match="too close"):
        services.patient_reschedule(
            appointment=middle, start=local_at(location, 20, 10), practitioner_id=middle.practitioner_id
        )
    offered = services.self_service_days(middle, days=40)
    assert offered, "some day must be offered"
    assert {day for day, _slots in offered} == {local_at(location, 24, 10).date()}


def test_a_patient_no_longer_cleared_or_on_hold_is_sent_to_the_front_desk(
    client: Client, programme: dict[str, Any]
) -> None:
    middle = programme["sessions"][1]
    assert services.extraction_refusal(middle) == ""
    plan = programme["plan"]
    plan.held_at = timezone.now()
    plan.held_reason = "Day-of stop"
    plan.save()
    page = client.get(_manage(middle)).content.decode()
    assert "programme is paused" in page
    assert "Choose another time" not in page
    assert client.get(_manage(middle) + "move/").status_code == 302
    plan.held_at = None
    plan.held_reason = ""
    plan.status = "closed"
    plan.save()
    assert "specialist needs to see you again" in services.extraction_refusal(middle)


def test_the_reminders_need_another_time_answer_leads_to_the_page(
    client: Client, clinic_open: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    desk = UserFactory(username="desk-online", role=Role.FRONT_DESK)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = appointment_book(
            acting_user=desk,
            patient=PatientFactory(),
            appointment_type=clinic_open["type"],
            practitioner=clinic_open["specialist"],
            room=clinic_open["room"],
            start=local_at(clinic_open["location"], 3, 10),
        )
    reminder = Message.objects.get(source=f"appointment:{appointment.pk}", kind=MessageKind.BOOKING_REMINDER)
    answered = client.post(booking_path(reminder.token, AppointmentReplyAnswer.RESCHEDULE)).content.decode()
    assert f'href="{_manage(appointment)}"' in answered
    assert "Choose another time" in client.get(_manage(appointment)).content.decode()
