"""The demo tells consistent stories: loaded whole, as `make run` loads it, its records agree."""

from __future__ import annotations

import pytest

from aftercare.models import Message, MessageKind
from clinic import demo, hooks
from clinic.models import Appointment, AppointmentKind, AppointmentStatus
from treatments.models import SessionStatus, TreatmentSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded() -> None:
    for seed in (demo.seed, *hooks.demo_seeds()):
        seed()


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
    assert {s.patient.first_name for s in signed} >= {"Grace", "Hassan"}
    for session in signed:
        assert session.appointment.status == AppointmentStatus.COMPLETED
        messages = Message.objects.filter(source=f"treatment_session:{session.pk}")
        assert messages.filter(kind=MessageKind.AFTERCARE_RIGHT_AFTER).exists(), session
        # What fell due before now went out: nothing is left "scheduled" in the past.
        assert not messages.filter(status="scheduled", due_at__lt=session.signed_at).exists()


def test_every_message_from_a_session_points_at_a_signed_session(loaded: None) -> None:
    from_sessions = Message.objects.filter(source__startswith="treatment_session:")
    assert from_sessions.exists()
    ids = {int(source.split(":", 1)[1]) for source in from_sessions.values_list("source", flat=True)}
    signed = set(TreatmentSession.objects.filter(pk__in=ids, status=SessionStatus.SIGNED).values_list("pk", flat=True))
    assert ids == signed


def test_graces_completed_sessions_have_their_messages(loaded: None) -> None:
    graces = TreatmentSession.objects.filter(patient__first_name="Grace", status=SessionStatus.SIGNED)
    assert graces.count() == 2
    for session in graces:
        assert Message.objects.filter(source=f"treatment_session:{session.pk}", status="sent").exists()
