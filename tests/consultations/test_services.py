"""Consultation workflows: drafts, signing, addenda, plans, clearance, booking from the plan."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction

from clinic.booking.services import BookingRefused, appointment_book
from clinic.models import AppointmentKind, AppointmentStatus
from clinic.roles import Role
from consultations import rules, services
from consultations.consent import CURRENT_CONSENT_VERSION
from consultations.eligibility import patient_cleared_for_extraction
from consultations.models import Consultation, ConsultationAddendum, TreatmentPlan
from consultations.selectors import plan_next_session_suggestion
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    ConsultationFactory,
    LocationFactory,
    RoomFactory,
    StaffScheduleFactory,
    TreatmentPlanFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/London"))

COMPLETE = {
    "fitzpatrick": 3,
    "skin_type": "combination",
    "barrier": "intact",
    "sensitivity": "normal",
    "congestion": "widespread",
    "iga": 2,
    "weeks_consistent_skincare": 10,
}
COUNTS = {"forehead": {"closed_comedones": 25, "papules": 2}, "nose": {"open_comedones": 30}}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def consultation() -> Consultation:
    location = LocationFactory(name="Central")
    return ConsultationFactory(appointment__room=RoomFactory(location=location), appointment__start=NOW)


def sign(consultation: Consultation, **values: object) -> Consultation:
    return services.consultation_sign(
        acting_user=consultation.specialist,
        consultation=consultation,
        values={**COMPLETE, **values},
        lesion_counts=COUNTS,
    )


def test_starting_a_consultation_twice_opens_the_same_draft() -> None:
    appointment = AppointmentFactory(status=AppointmentStatus.CHECKED_IN)
    first = services.consultation_start(acting_user=appointment.practitioner, appointment=appointment)
    second = services.consultation_start(acting_user=appointment.practitioner, appointment=appointment)
    assert first.pk == second.pk
    assert first.patient_id == appointment.patient_id


def test_only_a_consultation_appointment_has_a_consultation() -> None:
    extraction = AppointmentTypeFactory(name="Extraction", kind=AppointmentKind.EXTRACTION, duration_minutes=60)
    appointment = AppointmentFactory(appointment_type=extraction)
    with pytest.raises(ValidationError, match="Only a consultation appointment"):
        services.consultation_start(acting_user=appointment.practitioner, appointment=appointment)


def test_a_cancelled_appointment_has_no_consultation() -> None:
    appointment = AppointmentFactory(status=AppointmentStatus.CANCELLED, cancel_reason="Ill")
    with pytest.raises(ValidationError, match="cancelled"):
        services.consultation_start(acting_user=appointment.practitioner, appointment=appointment)


def test_a_draft_keeps_what_was_entered_with_the_grade_and_the_rules_so_far(consultation: Consultation) -> None:
    saved = services.consultation_save_draft(
        acting_user=consultation.specialist,
        consultation=consultation,
        values={"barrier": "irritated", "routine": "Cleanser, SPF"},
        lesion_counts=COUNTS,
    )
    saved.refresh_from_db()
    assert saved.status == "draft"
    assert saved.routine == "Cleanser, SPF"
    assert saved.lesion_counts == COUNTS
    assert (saved.gags_score, saved.gags_band) == (5, "mild")  # forehead 2x2 + nose 1x1
    assert saved.rules_outcome == "defer"
    assert saved.rules_reasons == ["CI_BARRIER_COMPROMISED"]
    assert saved.recheck_on == date(2026, 3, 30)


def test_signing_needs_the_whole_analysis_and_saves_nothing_otherwise(consultation: Consultation) -> None:
    with pytest.raises(ValidationError) as refused:
        services.consultation_sign(
            acting_user=consultation.specialist,
            consultation=consultation,
            values={"barrier": "intact", "routine": "typed"},
            lesion_counts=COUNTS,
        )
    assert set(refused.value.error_dict) == {"fitzpatrick", "skin_type", "sensitivity", "congestion", "iga"}
    consultation.refresh_from_db()
    assert consultation.status == "draft"
    assert consultation.routine == ""


def test_signing_records_the_rules_outcome_reasons_and_version(consultation: Consultation) -> None:
    signed = sign(consultation)
    signed.refresh_from_db()
    assert signed.status == "signed"
    assert signed.signed_at == NOW
    assert signed.rules_outcome == "recommended"
    # No treatment has stalled, so the blackheads are not "clogged pores hindering progress" (2026.2).
    assert signed.rules_reasons == ["IND_PERSISTENT_WHITEHEADS", "IND_WIDESPREAD_CONGESTION"]
    assert signed.ruleset_version == rules.RULESET_VERSION
    assert signed.final_outcome == "recommended"


def test_an_override_needs_a_written_reason_and_is_kept_beside_the_rules_outcome(consultation: Consultation) -> None:
    with pytest.raises(ValidationError) as refused:
        services.consultation_sign(
            acting_user=consultation.specialist,
            consultation=consultation,
            values=COMPLETE,
            lesion_counts=COUNTS,
            override_outcome="defer",
        )
    assert "override_reason" in refused.value.error_dict
    signed = services.consultation_sign(
        acting_user=consultation.specialist,
        consultation=consultation,
        values=COMPLETE,
        lesion_counts=COUNTS,
        override_outcome="defer",
        override_reason="Wedding in 5 days; start after it.",
    )
    assert (signed.rules_outcome, signed.override_outcome, signed.final_outcome) == ("recommended", "defer", "defer")
    assert signed.override_reason == "Wedding in 5 days; start after it."


def test_the_database_refuses_an_override_without_a_reason(consultation: Consultation) -> None:
    consultation.override_outcome = "recommended"
    with pytest.raises(IntegrityError), transaction.atomic():
        consultation.save()


def test_a_signed_consultation_cannot_be_edited_even_in_the_database(consultation: Consultation) -> None:
    signed = sign(consultation)
    with pytest.raises(ValidationError, match="addendum"):
        services.consultation_save_draft(
            acting_user=signed.specialist, consultation=signed, values={"routine": "changed"}, lesion_counts={}
        )
    signed.routine = "silently changed"
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        signed.save()


def test_an_addendum_is_dated_and_only_by_the_specialist_who_signed(consultation: Consultation) -> None:
    with pytest.raises(ValidationError, match="draft"):
        services.consultation_add_addendum(acting_user=consultation.specialist, consultation=consultation, text="x")
    signed = sign(consultation)
    colleague = UserFactory(username="colleague", role=Role.SPECIALIST)
    with pytest.raises(ValidationError, match="Only the specialist"):
        services.consultation_add_addendum(acting_user=colleague, consultation=signed, text="Not mine")
    addendum = services.consultation_add_addendum(
        acting_user=signed.specialist, consultation=signed, text="  Patient recalled a nut allergy.  "
    )
    assert (addendum.text, addendum.created_at, addendum.author_id) == (
        "Patient recalled a nut allergy.",
        NOW,
        signed.specialist_id,
    )
    addendum.text = "edited"
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        addendum.save()
    assert ConsultationAddendum.objects.get().text == "Patient recalled a nut allergy."


# --- Plans and clearance ------------------------------------------------------------------


def plan_for(consultation: Consultation, **overrides: object) -> TreatmentPlan:
    fields: dict[str, object] = {
        "sessions_planned": 4,
        "interval_days": 21,
        "focus_zones": ["forehead", "nose"],
        "home_care": "Adapalene at night; SPF 50.",
        "pause_before": "Adapalene 3 days before.",
        "resume_after": "Adapalene 3 days after.",
        "goals": "Smoother forehead.",
        "review_on": NOW.date() + timedelta(days=63),
        "consent_name": consultation.patient.full_name,
    }
    fields.update(overrides)
    return services.plan_create(acting_user=consultation.specialist, consultation=consultation, **fields)  # type: ignore[arg-type]


def test_a_plan_needs_a_signed_recommended_consultation(consultation: Consultation) -> None:
    with pytest.raises(ValidationError, match="signed consultation that recommends"):
        plan_for(consultation)
    deferred = sign(consultation, barrier="inflamed")
    with pytest.raises(ValidationError, match="signed consultation that recommends"):
        plan_for(deferred)


@pytest.mark.parametrize(("days", "ok"), [(55, False), (56, True), (70, True), (71, False)])
def test_the_progress_review_falls_8_to_10_weeks_out(consultation: Consultation, days: int, ok: bool) -> None:
    signed = sign(consultation)
    if ok:
        assert plan_for(signed, review_on=NOW.date() + timedelta(days=days)).pk
    else:
        with pytest.raises(ValidationError) as refused:
            plan_for(signed, review_on=NOW.date() + timedelta(days=days))
        assert "review_on" in refused.value.error_dict
        assert not TreatmentPlan.objects.exists()


def test_the_database_refuses_a_review_outside_8_to_10_weeks() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        TreatmentPlanFactory(review_on=NOW.date() + timedelta(days=90), starts_on=NOW.date())


def test_consent_records_version_typed_name_and_time(consultation: Consultation) -> None:
    plan = plan_for(sign(consultation))
    assert (plan.consent_version, plan.consent_name, plan.consented_at) == (
        CURRENT_CONSENT_VERSION,
        consultation.patient.full_name,
        NOW,
    )
    assert plan.starts_on == NOW.date()


def test_clearance_follows_the_latest_signed_consultation_and_a_consented_plan(consultation: Consultation) -> None:
    patient = consultation.patient
    assert not patient_cleared_for_extraction(patient)
    signed = sign(consultation)
    assert not patient_cleared_for_extraction(patient)  # recommended, but no plan yet
    plan = plan_for(signed, consent_name="")
    assert not patient_cleared_for_extraction(patient)  # plan not consented
    services.plan_record_consent(acting_user=signed.specialist, plan=plan, consent_name=patient.full_name)
    assert patient_cleared_for_extraction(patient)
    # A later consultation that defers withdraws clearance.
    later = ConsultationFactory(appointment__patient=patient, appointment__start=NOW + timedelta(days=30))
    with time_machine.travel(NOW + timedelta(days=30), tick=False):
        sign(later, barrier="irritated")
    assert not patient_cleared_for_extraction(patient)


def test_an_override_to_recommended_clears_the_patient_once_planned(consultation: Consultation) -> None:
    signed = services.consultation_sign(
        acting_user=consultation.specialist,
        consultation=consultation,
        values={**COMPLETE, "congestion": "none", "weeks_consistent_skincare": None},
        lesion_counts={"forehead": {"closed_comedones": 5}},
        override_outcome="recommended",
        override_reason="Event in 3 weeks; patient understands topical care is the main route.",
    )
    assert signed.rules_outcome == "not_recommended"
    plan_for(signed)
    assert patient_cleared_for_extraction(signed.patient)


# --- Booking sessions from the plan ------------------------------------------------------------


@pytest.fixture
def booking(consultation: Consultation) -> dict[str, object]:
    location = consultation.appointment.location
    aesthetician = UserFactory(username="amira", role=Role.AESTHETICIAN)
    StaffScheduleFactory.every_day(staff=aesthetician, location=location)
    return {
        "plan": plan_for(sign(consultation)),
        "appointment_type": AppointmentTypeFactory(
            name="Extraction session",
            kind=AppointmentKind.EXTRACTION,
            duration_minutes=60,
            performed_by=Role.AESTHETICIAN,
        ),
        "practitioner": aesthetician,
        "room": consultation.appointment.room,
        "desk": UserFactory(username="desk", role=Role.FRONT_DESK),
    }


def at(day: int, hour: int) -> datetime:
    return datetime.combine(NOW.date() + timedelta(days=day), time(hour), tzinfo=NOW.tzinfo)


def book(booking: dict[str, object], start: datetime) -> object:
    return services.plan_book_session(
        acting_user=booking["desk"],  # type: ignore[arg-type]
        plan=booking["plan"],  # type: ignore[arg-type]
        appointment_type=booking["appointment_type"],  # type: ignore[arg-type]
        practitioner=booking["practitioner"],  # type: ignore[arg-type]
        room=booking["room"],  # type: ignore[arg-type]
        start=start,
    )


def test_the_front_desk_books_the_plans_sessions_in_order(booking: dict[str, object]) -> None:
    first = book(booking, at(7, 10))
    second = book(booking, at(28, 10))
    assert (first.number, second.number) == (1, 2)  # type: ignore[attr-defined]
    assert first.appointment.notes == "Session 1 of 4"  # type: ignore[attr-defined]
    plan = TreatmentPlan.objects.with_sessions_booked().get()
    assert plan.sessions_booked == 2
    assert TreatmentPlan.objects.with_sessions_to_book().count() == 1


def test_a_cancelled_session_can_be_booked_again_and_a_full_plan_cannot(booking: dict[str, object]) -> None:
    first = book(booking, at(7, 10))
    first.appointment.cancel(by=booking["desk"], reason="Patient ill")  # type: ignore[attr-defined]
    again = book(booking, at(8, 10))
    assert again.number == 1  # type: ignore[attr-defined]
    for day in (29, 50, 71):
        book(booking, at(day, 10))
    assert not TreatmentPlan.objects.with_sessions_to_book().exists()
    with pytest.raises(ValidationError, match="Every session"):
        book(booking, at(90, 10))


def test_the_next_session_is_suggested_one_interval_later_with_the_same_aesthetician_and_room(
    booking: dict[str, object],
) -> None:
    plan: TreatmentPlan = booking["plan"]  # type: ignore[assignment]
    location = plan.consultation.appointment.location
    first = plan_next_session_suggestion(plan, location)
    assert first.as_initial() == {"start": datetime.combine(NOW.date() + timedelta(days=1), time(10))}
    book(booking, at(7, 11))
    after = plan_next_session_suggestion(plan, location)
    assert after.start == location.local(at(7 + plan.interval_days, 11))
    assert (after.practitioner_id, after.room_id) == (booking["practitioner"].pk, booking["room"].pk)  # type: ignore[attr-defined]


def test_an_extraction_for_a_patient_without_clearance_is_refused(booking: dict[str, object]) -> None:
    other = AppointmentFactory().patient
    with pytest.raises(BookingRefused, match="cleared"):
        appointment_book(
            acting_user=booking["desk"],  # type: ignore[arg-type]
            patient=other,
            appointment_type=booking["appointment_type"],  # type: ignore[arg-type]
            practitioner=booking["practitioner"],  # type: ignore[arg-type]
            room=booking["room"],  # type: ignore[arg-type]
            start=at(7, 10),
        )


def test_a_booking_refused_by_the_calendar_leaves_no_session(booking: dict[str, object]) -> None:
    with pytest.raises(BookingRefused):
        book(booking, at(7, 22))  # outside working hours
    assert not TreatmentPlan.objects.get().sessions.exists()


# --- The pre-visit questionnaire -----------------------------------------------------------


def test_questionnaire_answers_arrive_as_a_draft_and_keep_the_patients_words() -> None:
    appointment = AppointmentFactory()
    answers = {"routine": "Foam cleanser", "weeks_on_routine": 6, "isotretinoin": True, "goals": "Fewer spots"}
    consultation = services.questionnaire_submit(appointment=appointment, answers=answers)
    assert consultation.status == "draft"
    assert consultation.questionnaire_answers == answers
    assert consultation.questionnaire_received_at == NOW
    assert (consultation.routine, consultation.weeks_consistent_skincare) == ("Foam cleanser", 6)
    assert consultation.isotretinoin_within_6_months is True
    with pytest.raises(ValidationError, match="already"):
        services.questionnaire_submit(appointment=appointment, answers={"routine": "again"})


def test_questionnaire_answers_never_overwrite_what_the_specialist_wrote() -> None:
    consultation = ConsultationFactory(routine="Specialist's note")
    services.questionnaire_submit(appointment=consultation.appointment, answers={"routine": "Patient's words"})
    consultation.refresh_from_db()
    assert consultation.routine == "Specialist's note"
    assert consultation.questionnaire_answers == {"routine": "Patient's words"}


def test_every_saved_version_of_a_consultation_is_in_the_audit_trail(consultation: Consultation) -> None:
    services.consultation_save_draft(
        acting_user=consultation.specialist, consultation=consultation, values={"routine": "v1"}, lesion_counts={}
    )
    sign(consultation, routine="v2")
    routines = list(consultation.events.order_by("pgh_id").values_list("routine", flat=True))  # type: ignore[attr-defined]
    assert routines[-2:] == ["v1", "v2"]


def test_a_consultation_signed_outside_a_request_names_the_specialist_in_the_audit_trail(
    consultation: Consultation,
) -> None:
    # No request and so no HistoryMiddleware, as from a Celery task, a command or the demo loader.
    specialist = consultation.specialist
    sign(consultation)
    signed = consultation.events.order_by("pgh_id").last()  # type: ignore[attr-defined]
    assert signed.status == "signed"
    assert signed.pgh_context is not None
    assert signed.pgh_context.metadata["user"] == specialist.pk


@pytest.mark.parametrize(
    "risk",
    [
        "redness and sensitivity",
        "pigment marks",
        "scarring",
        "broken capillaries",
        "infection",
        "lancet",
        "come back",
        "no result is guaranteed",
    ],
)
def test_the_current_consent_text_names_each_risk(risk: str) -> None:
    from consultations.consent import consent_text

    assert risk in str(consent_text())


def test_a_plan_consented_under_the_old_text_keeps_its_version() -> None:
    from consultations.consent import CONSENT_TEXTS

    assert "2026-1" in CONSENT_TEXTS
    assert CURRENT_CONSENT_VERSION == "2026-2"
