"""The consultation pages over HTTP: what each form does with good and bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.utils import timezone

from clinic.models import AccessEvent, AppointmentKind, AppointmentStatus
from clinic.roles import Role
from consultations.models import Consultation, TreatmentPlan
from consultations.questionnaire import MAX_AGE, questionnaire_token
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    ConsultationFactory,
    LocationFactory,
    PatientFactory,
    StaffScheduleFactory,
    TreatmentPlanFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ANALYSIS = {
    "fitzpatrick": "3",
    "skin_type": "oily",
    "barrier": "intact",
    "sensitivity": "normal",
    "congestion": "widespread",
    "iga": "2",
    "weeks_consistent_skincare": "9",
    "routine": "Cleanser",
}
# Widespread congestion is an indication only with its comedones counted (ruleset 2026.2).
COUNTED = {"lesions-forehead__closed_comedones": "25"}


@pytest.fixture
def consultation() -> Consultation:
    LocationFactory(name="Central")
    return ConsultationFactory(appointment__start=timezone.now())


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_specialist_home_lists_todays_consultation_and_older_drafts(consultation: Consultation) -> None:
    old = ConsultationFactory(appointment__start=timezone.now() - timedelta(days=3))
    response = client_for(consultation.specialist).get("/consultations/")
    page = response.content.decode()
    assert consultation.patient.full_name in page
    assert "Awaiting a decision" in page
    assert old.patient.full_name in page


def test_opening_the_form_records_who_read_the_record(consultation: Consultation) -> None:
    response = client_for(consultation.specialist).get(f"/consultations/{consultation.pk}/edit/")
    assert response.status_code == 200
    assert AccessEvent.objects.filter(patient=consultation.patient, page="consultation").exists()


def test_a_bad_count_is_refused_beside_its_field_and_nothing_is_saved(consultation: Consultation) -> None:
    data = {**ANALYSIS, "lesions-forehead__papules": "-3", "save": "1"}
    response = client_for(consultation.specialist).post(f"/consultations/{consultation.pk}/edit/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_lesions-forehead__papules_error"' in page
    assert "Counts cannot be negative." in page
    consultation.refresh_from_db()
    assert consultation.routine == ""


def test_saving_a_draft_keeps_counts_and_the_decision_so_far(consultation: Consultation) -> None:
    data = {**ANALYSIS, "lesions-forehead__closed_comedones": "25", "save": "1"}
    response = client_for(consultation.specialist).post(f"/consultations/{consultation.pk}/edit/", data)
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.status == "draft"
    assert consultation.lesion_counts == {"forehead": {"closed_comedones": 25}}
    assert consultation.rules_outcome == "recommended"


def test_signing_an_incomplete_analysis_shows_what_is_missing(consultation: Consultation) -> None:
    response = client_for(consultation.specialist).post(
        f"/consultations/{consultation.pk}/edit/", {"routine": "x", "sign": "1"}
    )
    assert response.status_code == 400
    assert response.content.decode().count("Record this before signing.") == 6
    consultation.refresh_from_db()
    assert consultation.status == "draft"


def test_an_override_without_a_reason_is_refused_beside_the_reason(consultation: Consultation) -> None:
    data = {**ANALYSIS, "override_outcome": "defer", "sign": "1"}
    response = client_for(consultation.specialist).post(f"/consultations/{consultation.pk}/edit/", data)
    assert response.status_code == 400
    assert "Write why you override" in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.status == "draft"


def test_the_live_preview_grades_and_decides_without_saving(consultation: Consultation) -> None:
    # Counted whiteheads back the widespread congestion; the pustules alone would be inflammatory acne.
    data = {
        **ANALYSIS,
        "barrier": "inflamed",
        "lesions-left_cheek__pustules": "2",
        "lesions-left_cheek__closed_comedones": "20",
    }
    response = client_for(consultation.specialist).post(
        f"/consultations/{consultation.pk}/preview/", data, headers={"HX-Request": "true"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert 'data-testid="gags-score">6<' in page
    assert "Defer: calm and repair first" in page
    assert "CI_BARRIER_COMPROMISED" in page
    consultation.refresh_from_db()
    assert consultation.barrier == ""


def test_a_signed_consultation_opens_read_only_with_addenda(consultation: Consultation) -> None:
    client = client_for(consultation.specialist)
    client.post(f"/consultations/{consultation.pk}/edit/", {**ANALYSIS, **COUNTED, "sign": "1"})
    assert client.get(f"/consultations/{consultation.pk}/edit/").status_code == 302
    client.post(f"/consultations/{consultation.pk}/addenda/", {"text": "Phoned: no allergies."})
    page = client.get(f"/consultations/{consultation.pk}/").content.decode()
    assert "Phoned: no allergies." in page
    assert "Write treatment plan" in page


def test_the_plan_form_refuses_a_review_outside_8_to_10_weeks(consultation: Consultation) -> None:
    client = client_for(consultation.specialist)
    client.post(f"/consultations/{consultation.pk}/edit/", {**ANALYSIS, **COUNTED, "sign": "1"})
    data = {
        "sessions_planned": "4",
        "interval_days": "21",
        "focus_zones": ["forehead"],
        "home_care": "SPF",
        "goals": "Clear",
        "review_on": (timezone.localdate() + timedelta(days=30)).isoformat(),
    }
    response = client.post(f"/consultations/{consultation.pk}/plan/", data)
    assert response.status_code == 400
    assert "8 to 10 weeks" in response.content.decode()
    assert not TreatmentPlan.objects.exists()


def test_the_front_desk_sees_plans_with_sessions_to_book() -> None:
    plan = TreatmentPlanFactory()
    unconsented = TreatmentPlanFactory(consent_version="", consent_name="", consented_at=None)
    desk = UserFactory(username="desk", role=Role.FRONT_DESK)
    page = client_for(desk).get("/consultations/plans/to-book/").content.decode()
    assert plan.patient.full_name in page
    assert unconsented.patient.full_name not in page


def test_a_refused_booking_shows_its_reason_on_the_form() -> None:
    plan = TreatmentPlanFactory()
    location = plan.consultation.appointment.location
    AppointmentTypeFactory(
        name="Extraction session", kind=AppointmentKind.EXTRACTION, duration_minutes=60, performed_by=Role.AESTHETICIAN
    )
    aesthetician = UserFactory(username="amira", role=Role.AESTHETICIAN)
    StaffScheduleFactory.every_day(staff=aesthetician, location=location)
    desk = UserFactory(username="desk", role=Role.FRONT_DESK, home_location=location)
    start = (timezone.localtime(timezone.now(), location.zone) + timedelta(days=1)).replace(hour=22, minute=0)
    response = client_for(desk).post(
        f"/consultations/plans/{plan.pk}/book/",
        {
            "start": start.strftime("%Y-%m-%dT%H:%M"),
            "practitioner": aesthetician.pk,
            "room": plan.consultation.appointment.room_id,
        },
    )
    assert response.status_code == 400
    assert "does not work" in response.content.decode()
    assert not plan.sessions.exists()


# --- The pre-visit questionnaire ----------------------------------------------------------


def test_the_questionnaire_link_opens_without_sign_in_and_its_answers_arrive_as_a_draft() -> None:
    appointment = AppointmentFactory(patient=PatientFactory(first_name="Chloé"))
    url = f"/consultations/questionnaire/{questionnaire_token(appointment_id=appointment.pk)}/"
    client = Client()
    page = client.get(url).content.decode()
    assert "Before your consultation" in page
    assert "Chloé" not in page  # the page names no one
    response = client.post(url, {"routine": "Cleanser", "weeks_on_routine": "4", "isotretinoin": "on"})
    assert "Thank you" in response.content.decode()
    consultation = Consultation.objects.get(appointment=appointment)
    assert consultation.questionnaire_answers["routine"] == "Cleanser"
    assert consultation.isotretinoin_within_6_months is True
    assert "already reached" in client.get(url).content.decode()


@pytest.mark.parametrize("kind", ["nonsense", "altered", "other_salt"])
def test_a_tampered_link_shows_a_plain_page_that_reveals_nothing(kind: str) -> None:
    appointment = AppointmentFactory()
    token = {
        "nonsense": "nonsense",
        "altered": questionnaire_token(appointment_id=appointment.pk)[:-2] + "xx",
        "other_salt": signing.dumps({"appointment": appointment.pk}, salt="another.purpose"),
    }[kind]
    response = Client().get(f"/consultations/questionnaire/{token}/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "This link cannot be used" in page
    assert "consultation is on" not in page


def test_an_expired_link_shows_the_same_plain_page() -> None:
    appointment = AppointmentFactory()
    token = questionnaire_token(appointment_id=appointment.pk)
    with time_machine.travel(timezone.now() + MAX_AGE + timedelta(minutes=1)):
        response = Client().get(f"/consultations/questionnaire/{token}/")
    assert response.status_code == 404
    assert "This link cannot be used" in response.content.decode()


def test_staff_see_the_link_on_the_appointment_page() -> None:
    appointment = AppointmentFactory(status=AppointmentStatus.CONFIRMED)
    desk = UserFactory(username="desk", role=Role.FRONT_DESK)
    page = client_for(desk).get(f"/appointments/{appointment.pk}/").content.decode()
    assert "/consultations/questionnaire/" in page


def _queries_for(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_specialist_home_costs_the_same_queries_however_many_consultations() -> None:
    location = LocationFactory(name="Central")
    specialist = UserFactory(username="spec", role=Role.SPECIALIST, home_location=location)
    client = client_for(specialist)
    ConsultationFactory(appointment__start=timezone.now())
    ConsultationFactory(appointment__start=timezone.now() - timedelta(days=2))
    few = _queries_for(client, "/consultations/")
    for days in range(1, 6):
        ConsultationFactory(appointment__start=timezone.now() + timedelta(minutes=days))
        ConsultationFactory(appointment__start=timezone.now() - timedelta(days=2 + days))
    assert _queries_for(client, "/consultations/") == few


def test_the_plans_to_book_list_costs_the_same_queries_however_many_plans() -> None:
    desk = UserFactory(username="desk", role=Role.FRONT_DESK)
    client = client_for(desk)
    TreatmentPlanFactory()
    few = _queries_for(client, "/consultations/plans/to-book/")
    for _ in range(5):
        TreatmentPlanFactory()
    assert _queries_for(client, "/consultations/plans/to-book/") == few
