"""Demo data for `make run`: patients partway through their aftercare.

Idempotent: each demo sequence has a fixed source, so a second run adds nothing. Runs
after clinic.demo.seed (it looks the demo patients up by name and skips any missing).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from aftercare.models import (
    AppointmentReply,
    AppointmentReplyAnswer,
    CheckIn,
    CheckInAnswer,
    Message,
    MessageKind,
    MessageStatus,
    SpecialistQueueEntry,
)
from aftercare.services import SessionFacts, actives_follow_checkin, aftercare_sequence_start
from clinic.models import Appointment, AppointmentStatus, Location, Patient

# Cautions shown in use: Chloé is pregnant (no ibuprofen, no retinoid) and still red on
# day 1 (her "bring actives back" is held back for "give it two more days"); Farah is
# Fitzpatrick V (pigment-mark advice); Eva is diabetic (a day-3 check-in).
CHLOE = SessionFacts("comedone_extractor", {"open_comedones": 22}, no_ibuprofen=True, no_retinoid=True)
FARAH = SessionFacts("manual_gauze", {"pustules": 4}, pigment_risk=True)
EVA = SessionFacts("manual_cotton", {"closed_comedones": 10}, slow_healing=True)

# (first name, last name, days since the session, facts, check-in answer, note)
DEMO_SESSIONS = (
    ("Anna", "Smith", 3, SessionFacts("manual_gauze", {"closed_comedones": 18, "open_comedones": 9}), "fine", ""),
    ("Ben", "Okafor", 1, SessionFacts("lancet", {"pustules": 12, "closed_comedones": 6}), "", ""),
    ("Chloé", "Martin", 2, CHLOE, "red_or_sensitive", ""),
    ("Farah", "Haddad", 2, FARAH, "worried", "My chin is still swollen."),
    ("Eva", "Rossi", 5, EVA, "", ""),
    ("Daniel", "Nguyen", 70, SessionFacts("manual_gauze", {"open_comedones": 15}), "", ""),
)


def _completed_at(location: Location, days_ago: int) -> datetime:
    day = location.today() - timedelta(days=days_ago)
    return datetime.combine(day, time(15, 0), tzinfo=location.zone)


@transaction.atomic
def seed() -> dict[str, int]:
    created = {"aftercare_messages": 0, "checkins": 0, "queue_entries": 0}
    location = Location.objects.active().first()
    if location is None:
        return created
    now = timezone.now()
    for first, last, days_ago, facts, answer, note in DEMO_SESSIONS:
        patient = Patient.objects.filter(first_name=first, last_name=last).first()
        if patient is None:
            continue
        completed = _completed_at(location, days_ago)
        planned = [completed + timedelta(weeks=4), completed + timedelta(weeks=8)]
        messages = aftercare_sequence_start(
            acting_user=None,
            patient=patient,
            location=location,
            completed_at=completed,
            facts=facts,
            planned_sessions=planned,
            source=f"demo:{first}-{last}",
        )
        if not messages:
            continue
        created["aftercare_messages"] += len(messages)
        # What was due before today has been through the dispatcher: record it as it would be.
        past = Message.objects.filter(source=f"demo:{first}-{last}", due_at__lte=now)
        if patient.email_consent:
            past.update(status=MessageStatus.SENT, sent_at=F("due_at"), attempts=1)
        else:
            past.update(status=MessageStatus.SKIPPED_NO_CONSENT)
        if first == "Ben":
            # A bounced address, for the manager's failed list.
            Message.objects.filter(source=f"demo:{first}-{last}", kind=MessageKind.AFTERCARE_RIGHT_AFTER).update(
                status=MessageStatus.FAILED,
                sent_at=None,
                attempts=1,
                last_error="SMTPRecipientsRefused: 550 5.1.1 mailbox unavailable",
            )
        if answer:
            message = Message.objects.get(source=f"demo:{first}-{last}", kind=MessageKind.CHECKIN_DAY1)
            checkin = CheckIn.objects.create(message=message, patient=patient, answer=CheckInAnswer(answer), note=note)
            created["checkins"] += 1
            actives_follow_checkin(checkin_message=message, answer=CheckInAnswer(answer))
            if answer == CheckInAnswer.WORRIED:
                SpecialistQueueEntry.objects.create(checkin=checkin, patient=patient, location=location)
                created["queue_entries"] += 1
    _seed_reschedule_request(location, now)
    return created


RESCHEDULE_SOURCE = "demo:reschedule-request"


def _seed_reschedule_request(location: Location, now: datetime) -> None:
    """The progress review in two days: its reminder went out and the patient answered "I
    need another time", so it waits on the front desk's worklist."""
    if Message.objects.filter(source=RESCHEDULE_SOURCE).exists():
        return
    appointment = (
        Appointment.objects.filter(
            location=location,
            status=AppointmentStatus.BOOKED,
            start__gt=now + timedelta(days=1),
            patient__email_consent=True,
        )
        .select_related("patient")
        .order_by("start")
        .first()
    )
    if appointment is None:
        return
    local = location.local(appointment.start)
    sent = now - timedelta(hours=2)
    reminder = Message.objects.create(
        patient=appointment.patient,
        location=location,
        kind=MessageKind.BOOKING_REMINDER,
        status=MessageStatus.SENT,
        due_at=sent,
        next_attempt_at=sent,
        sent_at=sent,
        attempts=1,
        attempt_limit=1,
        subject=f"Reminder: your appointment on {local:%A %d %B at %H:%M}",
        body_text=f"Hello {appointment.patient.first_name}, see you on {local:%A %d %B at %H:%M}.",
        body_html="",
        source=RESCHEDULE_SOURCE,
        idempotency_key=RESCHEDULE_SOURCE,
    )
    AppointmentReply.objects.create(
        message=reminder,
        appointment=appointment,
        answer=AppointmentReplyAnswer.RESCHEDULE,
        answered_at=now - timedelta(hours=1),
    )
