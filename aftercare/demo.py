"""Demo data for `make run`: a reminder the patient answered with "I need another time".

Patients partway through their aftercare come from the treatments demo (``treatments.demo``):
their messages are written by signing a session there, as in the clinic, so that every
aftercare message has a signed session behind it. Aftercare only reads clinic records, so it
cannot write that story itself. Idempotent: a second run adds nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from aftercare.models import AppointmentReply, AppointmentReplyAnswer, Message, MessageKind, MessageStatus
from aftercare.services import message_templates_ensure_defaults, step_due
from clinic.models import Appointment, AppointmentKind, AppointmentStatus, Location


@transaction.atomic
def seed() -> dict[str, int]:
    created = {"reschedule_requests": 0}
    location = Location.objects.active().first()
    if location is None:
        return created
    created["reschedule_requests"] = _seed_reschedule_request(location, timezone.now())
    return created


def _reminder_sent_at(appointment: Appointment, now: datetime) -> datetime | None:
    """When the appointment's reminder went out, if it has by ``now`` (the day before, at the
    template's time); None while it is still to come."""
    kind = (
        MessageKind.SESSION_REMINDER
        if appointment.appointment_type.kind == AppointmentKind.EXTRACTION
        else MessageKind.BOOKING_REMINDER
    )
    template = message_templates_ensure_defaults().get(kind)
    if template is None:
        return None
    due = step_due(template=template, location=appointment.location, anchor=appointment.start)
    return due if due <= now - timedelta(hours=1) else None


def _seed_reschedule_request(location: Location, now: datetime) -> int:
    """The next booked appointment whose reminder has gone out: the patient answered "I need
    another time", so it waits on the front desk's worklist. In the clinic's demo that is
    today's 14:00 (reminded yesterday) before 13:00, and the next working day's first booking
    (reminded today at 10:00) when that is tomorrow, from 11:00. None otherwise: a reply to a
    reminder that has not gone out would be a story with nothing behind it. Written as the
    booking messages write a reminder (source ``appointment:<id>``), so the reply follows the
    appointment."""
    if AppointmentReply.objects.filter(appointment__location=location).exists():
        return 0
    candidates = (
        Appointment.objects.filter(
            location=location,
            status=AppointmentStatus.BOOKED,
            start__gt=now + timedelta(hours=1),
            patient__email_consent=True,
        )
        .select_related("patient", "appointment_type", "location")
        .order_by("start")
    )
    chosen = next(
        ((appointment, sent) for appointment in candidates[:20] if (sent := _reminder_sent_at(appointment, now))),
        None,
    )
    if chosen is None:
        return 0
    appointment, sent = chosen
    local = location.local(appointment.start)
    when = appointment.start.astimezone(UTC).isoformat()
    kind = (
        MessageKind.SESSION_REMINDER
        if appointment.appointment_type.kind == AppointmentKind.EXTRACTION
        else MessageKind.BOOKING_REMINDER
    )
    reminder = Message.objects.create(
        patient=appointment.patient,
        location=location,
        kind=kind,
        status=MessageStatus.SENT,
        due_at=sent,
        next_attempt_at=sent,
        sent_at=sent,
        attempts=1,
        attempt_limit=1,
        subject=f"Reminder: your appointment on {local:%A %d %B at %H:%M}",
        body_text=f"Hello {appointment.patient.first_name}, see you on {local:%A %d %B at %H:%M}.",
        body_html="",
        source=f"appointment:{appointment.pk}",
        idempotency_key=f"reminder@{when}",
    )
    AppointmentReply.objects.create(
        message=reminder,
        appointment=appointment,
        answer=AppointmentReplyAnswer.RESCHEDULE,
        answered_at=min(sent + timedelta(hours=1), now),
    )
    return 1
