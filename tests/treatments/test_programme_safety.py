"""A stop pauses the programme; the specialist's written re-assessment resumes it; the log's safety."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pgtrigger
import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from aftercare.models import Message, MessageKind
from clinic.models import AppointmentStatus, User
from clinic.selectors import SESSION_LOCATION_KEY
from consultations.eligibility import patient_cleared_for_extraction
from consultations.models import Consultation, PlanSession, TreatmentPlan
from consultations.selectors import held_sessions_to_call
from tests.factories import AppointmentFactory, ExtractionTypeFactory, UserFactory
from tests.treatments.conftest import CLEAR, NOW, TreatmentScene
from treatments.forms import ExtractedLesionsForm
from treatments.models import SessionStatus, SpecialistAlert
from treatments.services import SessionRefused, programme_resume, session_log_save, session_rescreen, session_start

pytestmark = pytest.mark.django_db

NEW_ISOTRETINOIN = replace(CLEAR, isotretinoin_since_consultation=True)


def _stop(scene: TreatmentScene) -> SpecialistAlert:
    session = scene.start()
    session_rescreen(acting_user=scene.aesthetician, session=session, answers=NEW_ISOTRETINOIN)
    return SpecialistAlert.objects.get(session=session)


def _next_booked_session(scene: TreatmentScene) -> PlanSession:
    appointment = AppointmentFactory(
        appointment_type=ExtractionTypeFactory(),
        patient=scene.patient,
        practitioner=scene.aesthetician,
        start=NOW + timedelta(days=21),
        status=AppointmentStatus.BOOKED,
    )
    return PlanSession.objects.create(plan=scene.plan, number=2, appointment=appointment)


def test_a_stop_puts_the_programme_on_hold_and_the_patient_is_no_longer_cleared(scene: TreatmentScene) -> None:
    assert patient_cleared_for_extraction(scene.patient)
    _stop(scene)
    plan = TreatmentPlan.objects.get(pk=scene.plan.pk)
    assert plan.is_on_hold
    assert "isotretinoin" in plan.held_reason.lower()
    assert not patient_cleared_for_extraction(scene.patient)


def test_a_held_programmes_booked_session_cannot_start(scene: TreatmentScene, frozen_now: object) -> None:
    _stop(scene)
    later = _next_booked_session(scene)
    later.appointment.status = AppointmentStatus.CHECKED_IN
    later.appointment.save(update_fields=["status"])
    with pytest.raises(SessionRefused, match="on hold"):
        session_start(acting_user=scene.aesthetician, appointment=later.appointment)


def test_a_held_programmes_booked_sessions_are_on_the_front_desks_worklist(scene: TreatmentScene) -> None:
    later = _next_booked_session(scene)
    assert held_sessions_to_call(later.appointment.location) == []
    _stop(scene)
    calls = held_sessions_to_call(later.appointment.location)
    assert [call.appointment_id for call in calls] == [later.appointment_id]
    assert calls[0].patient_name == scene.patient.full_name


def test_a_patient_with_several_held_sessions_is_on_the_worklist_once(scene: TreatmentScene) -> None:
    second = _next_booked_session(scene)
    third = AppointmentFactory(
        appointment_type=ExtractionTypeFactory(),
        patient=scene.patient,
        practitioner=scene.aesthetician,
        room=second.appointment.room,
        start=NOW + timedelta(days=42),
        status=AppointmentStatus.BOOKED,
    )
    PlanSession.objects.create(plan=scene.plan, number=3, appointment=third)
    _stop(scene)
    calls = held_sessions_to_call(second.appointment.location)
    # One row for the patient, on the earliest held session, saying how many are held.
    assert [(call.patient_id, call.appointment_id) for call in calls] == [(scene.patient.pk, second.appointment_id)]
    assert "2 booked sessions, from session 2" in calls[0].reason


def test_the_front_desk_home_lists_the_patients_to_call(scene: TreatmentScene, front_desk: User) -> None:
    later = _next_booked_session(scene)
    _stop(scene)
    client = Client()
    client.force_login(front_desk)
    session = client.session
    session[SESSION_LOCATION_KEY] = later.appointment.location_id
    session.save()
    page = client.get(reverse("clinic:front_desk_home")).content.decode()
    assert "Patients to call" in page
    assert scene.patient.full_name in page


def test_a_stop_emails_the_patients_specialist(scene: TreatmentScene) -> None:
    alert = _stop(scene)
    emails = Message.objects.filter(kind=MessageKind.SPECIALIST_ALERT, source=f"rescreen_stop:{alert.session_id}")
    assert [m.to_user_id for m in emails] == [scene.specialist.pk]
    assert "re-screen" in emails[0].body_text
    assert reverse("treatments:alert_resume", args=[alert.pk]) in emails[0].body_text


def test_the_specialists_written_reassessment_resumes_the_programme_and_clears_the_patient(
    scene: TreatmentScene,
) -> None:
    alert = _stop(scene)
    programme_resume(acting_user=scene.specialist, alert=alert, note="Isotretinoin stopped after 2 days; skin intact.")
    plan = TreatmentPlan.objects.get(pk=scene.plan.pk)
    assert not plan.is_on_hold
    assert plan.resume_note.startswith("Isotretinoin stopped")
    assert plan.resumed_by == scene.specialist
    assert SpecialistAlert.objects.get(pk=alert.pk).resolved_at is not None
    assert patient_cleared_for_extraction(scene.patient)


def test_resuming_a_programme_needs_a_written_note(scene: TreatmentScene) -> None:
    alert = _stop(scene)
    with pytest.raises(ValidationError):
        programme_resume(acting_user=scene.specialist, alert=alert, note="  ")
    assert TreatmentPlan.objects.get(pk=scene.plan.pk).is_on_hold


def test_only_a_specialist_can_resume_a_programme(scene: TreatmentScene) -> None:
    alert = _stop(scene)
    with pytest.raises(ValidationError, match="specialist"):
        programme_resume(acting_user=scene.aesthetician, alert=alert, note="Looks fine to me.")
    assert not patient_cleared_for_extraction(scene.patient)


def test_the_resume_page_resumes_with_the_note(scene: TreatmentScene) -> None:
    alert = _stop(scene)
    client = Client()
    client.force_login(scene.specialist)
    url = reverse("treatments:alert_resume", args=[alert.pk])
    assert client.post(url, {"note": ""}).status_code == 400
    response = client.post(url, {"note": "Seen today: stopped isotretinoin, skin calm."})
    assert response.status_code == 302
    assert patient_cleared_for_extraction(scene.patient)


def test_the_plans_own_retinoid_does_not_stop_the_session(scene: TreatmentScene) -> None:
    TreatmentPlan.objects.filter(pk=scene.plan.pk).update(prescribes_retinoid=True)
    session = scene.start()
    answers = replace(CLEAR, topical_retinoid_since_consultation=True, retinoid_pause_kept=True)
    result = session_rescreen(acting_user=scene.aesthetician, session=session, answers=answers)
    assert not result.stopped
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS
    assert session.retinoid_pause_kept is True


def test_an_unplanned_retinoid_stops_the_session(scene: TreatmentScene) -> None:
    session = scene.start()
    answers = replace(CLEAR, topical_retinoid_since_consultation=True)
    result = session_rescreen(acting_user=scene.aesthetician, session=session, answers=answers)
    assert result.reasons == ("RS_TOPICAL_RETINOID_STARTED",)


def test_the_plans_retinoid_not_paused_stops_the_session(scene: TreatmentScene) -> None:
    TreatmentPlan.objects.filter(pk=scene.plan.pk).update(prescribes_retinoid=True)
    session = scene.start()
    answers = replace(CLEAR, retinoid_pause_kept=False)
    result = session_rescreen(acting_user=scene.aesthetician, session=session, answers=answers)
    assert result.reasons == ("RS_RETINOID_PAUSE_NOT_KEPT",)


def test_a_new_medication_is_recorded_and_stops_the_session(scene: TreatmentScene) -> None:
    session = scene.start()
    answers = replace(CLEAR, new_medication="warfarin 5 mg since Monday")
    result = session_rescreen(acting_user=scene.aesthetician, session=session, answers=answers)
    session.refresh_from_db()
    assert result.reasons == ("RS_NEW_MEDICATION",)
    assert session.new_medication == "warfarin 5 mg since Monday"


# --- The log: what can be extracted, and the lancet --------------------------------------


def test_the_log_offers_only_comedones_and_pustules() -> None:
    form = ExtractedLesionsForm(prefix="extracted")
    offered = {name.split("__")[1] for name in form.fields}
    assert offered == {"open_comedones", "closed_comedones", "pustules"}


def test_a_nodule_cannot_be_logged_as_extracted(scene: TreatmentScene) -> None:
    session = scene.started_and_cleared()
    with pytest.raises(SessionRefused, match="comedones and pustules"):
        session_log_save(
            acting_user=scene.aesthetician, session=session, log=scene.log(lesions_extracted={"chin": {"nodules": 1}})
        )


def _grant_lancet(user: User) -> User:
    user.user_permissions.add(Permission.objects.get(codename="use_lancet", content_type__app_label="treatments"))
    return User.objects.get(pk=user.pk)  # a fresh instance: permissions are cached per object


def test_the_lancet_needs_the_managers_grant(scene: TreatmentScene) -> None:
    session = scene.started_and_cleared()
    with pytest.raises(SessionRefused, match="not authorised"):
        session_log_save(acting_user=scene.aesthetician, session=session, log=scene.log(extraction_method="lancet"))
    granted = _grant_lancet(scene.aesthetician)
    saved = session_log_save(acting_user=granted, session=session, log=scene.log(extraction_method="lancet"))
    assert saved.extraction_method == "lancet"


def test_the_lancet_needs_the_consultation_to_allow_it(scene: TreatmentScene) -> None:
    # Signed records are final in the database; the test writes past that guard on purpose.
    with pgtrigger.ignore("consultations.Consultation:signed_is_final"):
        Consultation.objects.filter(pk=scene.plan.consultation_id).update(
            lancet_allowed=False, cautions=["CA_KELOID_HISTORY"]
        )
    session = scene.started_and_cleared()
    granted = _grant_lancet(scene.aesthetician)
    with pytest.raises(SessionRefused, match="rules the lancet out"):
        session_log_save(acting_user=granted, session=session, log=scene.log(extraction_method="lancet"))


def test_another_aesthetician_without_the_grant_may_not_use_the_lancet(scene: TreatmentScene) -> None:
    other = UserFactory(username="aes3", role="aesthetician")
    assert not other.has_perm("treatments.use_lancet")


def test_the_aesthetician_day_shows_a_held_session_without_a_start_button(
    scene: TreatmentScene, frozen_now: object
) -> None:
    from treatments.selectors import sessions_today

    _stop(scene)
    later = _next_booked_session(scene)
    later.appointment.start = NOW + timedelta(hours=3)
    later.appointment.end = later.appointment.start + timedelta(hours=1)
    later.appointment.status = AppointmentStatus.CHECKED_IN
    later.appointment.save(update_fields=["start", "end", "status"])
    items = {item.appointment.pk: item for item in sessions_today(later.appointment.location)}
    held = items[later.appointment_id]
    assert held.on_hold
    assert not held.may_start


def test_the_log_form_offers_no_lancet_to_someone_who_may_not_use_it() -> None:
    from treatments.forms import SessionLogForm

    refused = SessionLogForm(today=NOW.date(), lancet_refusal="not granted")
    allowed = SessionLogForm(today=NOW.date())
    refused_field, allowed_field = refused.fields["extraction_method"], allowed.fields["extraction_method"]
    assert "lancet" not in [value for value, _label in refused_field.choices]  # type: ignore[attr-defined]
    assert "lancet" in [value for value, _label in allowed_field.choices]  # type: ignore[attr-defined]
