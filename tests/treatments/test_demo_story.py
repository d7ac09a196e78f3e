"""The demo tells consistent stories: loaded whole, as `make run` loads it, its records agree.

Rules over the whole seeded demo (every app's loader), not single cases: a message, a
check-in or a timeline entry has a real story behind it, in the right order.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from pytest_django import DjangoDbBlocker

from aftercare.models import (
    REMINDER_KINDS,
    SEQUENCE_KINDS,
    CheckIn,
    Message,
    MessageKind,
    MessageStatus,
    SpecialistQueueEntry,
)
from clinic import demo, hooks
from clinic.models import Appointment, AppointmentKind, AppointmentStatus
from consultations.models import Consultation, TreatmentPlan
from treatments.models import SessionStatus, TreatmentSession

# The whole demo (photos drawn included) loads once for the module: allow for a busy machine.
pytestmark = [pytest.mark.django_db, pytest.mark.timeout(900)]

# The aftercare a signed session starts (the reminders before booked sessions come from the booking).
SESSION_KINDS = tuple(kind for kind in SEQUENCE_KINDS if kind not in REMINDER_KINDS)


@pytest.fixture(scope="module")
def loaded(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[None]:
    """The whole demo, loaded once for the module and rolled back after it."""
    # A fixed working morning (a Wednesday, 11:30 in London): the demo's reschedule request
    # answers a reminder already sent, which exists only at some hours of some days.
    with time_machine.travel("2026-12-02 11:30:00+00:00", tick=True), django_db_blocker.unblock(), transaction.atomic():
        for seed in (demo.seed, *hooks.demo_seeds()):
            seed()
        yield
        transaction.set_rollback(True)


def _session_of(message: Message) -> TreatmentSession | None:
    prefix, _, pk = message.source.partition(":")
    if prefix != "treatment_session" or not pk.isdigit():
        return None
    return TreatmentSession.objects.filter(pk=int(pk)).select_related("appointment").first()


def test_every_aftercare_message_has_a_signed_session_signed_before_it_is_due(loaded: None) -> None:
    messages = Message.objects.filter(kind__in=SESSION_KINDS)
    assert messages.count() > 100
    for message in messages:
        session = _session_of(message)
        assert session is not None, (message.kind, message.source, message.patient_id)
        assert session.status == SessionStatus.SIGNED, message.source
        assert session.patient_id == message.patient_id, message.source
        assert session.signed_at is not None
        assert session.signed_at <= message.due_at, (message.kind, message.source)


def test_every_completed_extraction_appointment_has_a_signed_session(loaded: None) -> None:
    completed = Appointment.objects.filter(
        appointment_type__kind=AppointmentKind.EXTRACTION, status=AppointmentStatus.COMPLETED
    )
    assert completed.exists()
    for appointment in completed:
        session = TreatmentSession.objects.filter(appointment=appointment).first()
        assert session is not None, appointment
        assert session.status == SessionStatus.SIGNED


def test_every_signed_session_has_its_aftercare_and_a_completed_appointment(loaded: None) -> None:
    signed = TreatmentSession.objects.filter(status=SessionStatus.SIGNED).select_related("appointment", "patient")
    assert {s.patient.first_name for s in signed} >= {"Grace", "Hassan", "Lucia", "Priya", "Noah", "Sofia", "Tom"}
    now = timezone.now()
    for session in signed:
        assert session.appointment.status == AppointmentStatus.COMPLETED
        assert session.signed_at is not None
        assert session.appointment.start <= session.signed_at <= now, session
        messages = Message.objects.filter(source=f"treatment_session:{session.pk}")
        assert messages.filter(kind=MessageKind.AFTERCARE_RIGHT_AFTER).exists(), session
        # What fell due before now went out (or was skipped): nothing is left "scheduled" in the past.
        assert not messages.filter(status=MessageStatus.SCHEDULED, due_at__lt=now).exists(), session


def test_no_session_comes_before_the_patients_consultation_and_plan_consent(loaded: None) -> None:
    sessions = TreatmentSession.objects.select_related("appointment", "plan__consultation__appointment")
    assert sessions.count() > 100
    for session in sessions:
        plan = session.plan
        assert plan is not None, session
        consultation = plan.consultation
        assert consultation.signed_at is not None
        assert plan.consented_at is not None
        assert consultation.appointment.end <= consultation.signed_at + timedelta(minutes=15)
        assert consultation.signed_at <= plan.consented_at <= session.appointment.start, session
        assert consultation.final_outcome == "recommended", session


def test_every_plan_follows_a_signed_recommending_consultation(loaded: None) -> None:
    plans = TreatmentPlan.objects.select_related("consultation")
    assert plans.exists()
    for plan in plans:
        consultation: Consultation = plan.consultation
        assert consultation.signed_at is not None
        assert consultation.final_outcome == "recommended", plan
        if plan.consented_at is not None:
            assert plan.consented_at >= consultation.signed_at, plan


def test_every_reminder_belongs_to_a_live_appointment_of_the_same_patient(loaded: None) -> None:
    reminders = Message.objects.filter(kind__in=REMINDER_KINDS)
    assert reminders.exists()
    for reminder in reminders:
        prefix, _, pk = reminder.source.partition(":")
        assert prefix == "appointment", reminder.source
        assert pk.isdigit(), reminder.source
        appointment = Appointment.objects.get(pk=int(pk))
        assert appointment.patient_id == reminder.patient_id
        assert appointment.status != AppointmentStatus.CANCELLED, appointment
        assert reminder.due_at < appointment.start
        if reminder.sent_at is not None:
            assert reminder.sent_at < appointment.start


def test_every_checkin_answer_follows_its_sent_message(loaded: None) -> None:
    answers = CheckIn.objects.select_related("message")
    assert answers.count() > 10
    now = timezone.now()
    for checkin in answers:
        assert checkin.message.status == MessageStatus.SENT, checkin
        assert checkin.message.sent_at is not None
        assert checkin.message.patient_id == checkin.patient_id
        assert checkin.message.sent_at <= checkin.answered_at <= now, checkin
    for entry in SpecialistQueueEntry.objects.select_related("checkin"):
        assert entry.created_at >= entry.checkin.answered_at
        assert entry.patient_id == entry.checkin.patient_id


def test_no_patient_is_sent_anything_before_registering_or_without_consent(loaded: None) -> None:
    sent = Message.objects.filter(status=MessageStatus.SENT, to_user__isnull=True).select_related("patient")
    assert sent.exists()
    for message in sent:
        assert message.patient.email, message
        assert message.sent_at is not None
        assert message.patient.created_at <= message.sent_at, (message.kind, message.patient)


def test_the_demo_shows_aftercare_adapting_to_cautions_and_answers(loaded: None) -> None:
    lucia = Message.objects.filter(patient__first_name="Lucia", patient__last_name="Ferreira")
    assert lucia.get(kind=MessageKind.ACTIVES_RETURN).status == MessageStatus.CANCELLED
    assert lucia.get(kind=MessageKind.ACTIVES_WAIT).status == MessageStatus.SCHEDULED
    assert "ibuprofen or acetaminophen" not in lucia.get(kind=MessageKind.AFTERCARE_RIGHT_AFTER).body_text
    assert Message.objects.filter(patient__first_name="Tom", kind=MessageKind.CHECKIN_DAY3).exists()
    assert Message.objects.filter(patient__first_name="Noah", status=MessageStatus.FAILED).exists()
    assert SpecialistQueueEntry.objects.open().filter(patient__first_name="Priya", patient__last_name="Shah").exists()


def test_graces_completed_sessions_have_their_messages(loaded: None) -> None:
    graces = TreatmentSession.objects.filter(patient__first_name="Grace", status=SessionStatus.SIGNED)
    assert graces.count() == 2
    for session in graces:
        assert Message.objects.filter(source=f"treatment_session:{session.pk}", status="sent").exists()


def test_every_extraction_booking_belongs_to_a_patient_with_a_plan_consented_before_it(loaded: None) -> None:
    extractions = Appointment.objects.filter(appointment_type__kind=AppointmentKind.EXTRACTION).select_related(
        "patient"
    )
    assert extractions.count() > 100
    for appointment in extractions:
        consented = TreatmentPlan.objects.filter(
            patient=appointment.patient, consented_at__isnull=False, consented_at__lte=appointment.start
        )
        assert consented.exists(), (appointment.patient.full_name, appointment.start, appointment.status)


def test_every_progress_review_belongs_to_a_patient_whose_plan_was_consented_before_it(loaded: None) -> None:
    reviews = Appointment.objects.filter(appointment_type__kind=AppointmentKind.REVIEW).exclude(
        status=AppointmentStatus.CANCELLED
    )
    assert reviews.exists()
    for appointment in reviews.select_related("patient"):
        consented = TreatmentPlan.objects.filter(
            patient=appointment.patient, consented_at__isnull=False, consented_at__lte=appointment.start
        )
        assert consented.exists(), (appointment.patient.full_name, appointment.start, appointment.status)


def test_no_patient_on_an_active_plan_is_booked_a_new_consultation(loaded: None) -> None:
    now = timezone.now()
    on_plan = TreatmentPlan.objects.filter(status="active", consented_at__lte=now).values("patient_id")
    ahead = Appointment.objects.filter(
        appointment_type__kind=AppointmentKind.CONSULTATION,
        patient_id__in=on_plan,
        start__gt=now,
        status__in=(AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED),
    )
    assert not ahead.exists(), [(a.patient.full_name, a.start) for a in ahead]


def test_a_plans_booked_extractions_keep_its_interval(loaded: None) -> None:
    for plan in TreatmentPlan.objects.filter(consented_at__isnull=False).select_related("patient"):
        starts = sorted(
            Appointment.objects.filter(
                patient=plan.patient,
                appointment_type__kind=AppointmentKind.EXTRACTION,
                start__gte=plan.consented_at,
            )
            .exclude(status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW])
            .values_list("start", flat=True)
        )
        for before, after in zip(starts, starts[1:], strict=False):
            assert after - before >= timedelta(days=plan.interval_days) - timedelta(hours=12), (
                plan.patient.full_name,
                before,
                after,
            )


def test_every_appointment_was_booked_before_it_started_and_after_the_patient_registered(loaded: None) -> None:
    appointments = Appointment.objects.select_related("patient", "appointment_type")
    assert appointments.count() > 100
    for appointment in appointments:
        story = (appointment.patient.created_at, appointment.created_at, appointment.start)
        assert appointment.patient.created_at <= appointment.created_at <= appointment.start, story
        if appointment.appointment_type.kind == AppointmentKind.EXTRACTION:
            consents = TreatmentPlan.objects.filter(patient=appointment.patient).values_list("consented_at", flat=True)
            assert any(c is not None and c <= appointment.created_at for c in consents), (story, list(consents))
