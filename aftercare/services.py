"""Aftercare workflows. Each owns its transaction; a message is stored in the same
transaction as what caused it, and the dispatcher is kicked only after the commit."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _

from aftercare import ics, links, rendering
from aftercare.defaults import DEFAULT_BOOKING, DEFAULT_SEQUENCE, SPECIALIST_ALERT_SUBJECT
from aftercare.models import (
    AppointmentReply,
    AppointmentReplyAnswer,
    CheckIn,
    CheckInAnswer,
    EmailWithdrawal,
    Message,
    MessageKind,
    MessageStatus,
    MessageTemplate,
    SpecialistQueueEntry,
)
from aftercare.tasks import dispatch_due
from clinic.audit import acting_as
from clinic.models import OPEN_STATUSES, Appointment, Location, Patient, User
from clinic.roles import ROLES, Role

logger = logging.getLogger(__name__)

LANCET = "lancet"
# From this many pustules extracted in one session, the aftercare says the treated
# areas may stay tender longer (clinic's aftercare guidance).
MANY_PUSTULES = 10


@dataclass(frozen=True)
class SessionFacts:
    """What was done in the session, as far as the aftercare advice needs it.

    ``extraction_method``: "manual_gauze", "manual_cotton", "comedone_extractor" or "lancet".
    ``lesions_extracted``: counts by lesion type ("open_comedones", "closed_comedones",
    "papules", "pustules", ...).
    """

    extraction_method: str
    lesions_extracted: Mapping[str, int] = field(default_factory=dict)

    @property
    def lancet_used(self) -> bool:
        return self.extraction_method == LANCET

    @property
    def many_pustules(self) -> bool:
        return self.lesions_extracted.get("pustules", 0) >= MANY_PUSTULES


def session_advice(facts: SessionFacts) -> list[str]:
    advice = []
    if facts.lancet_used:
        advice.append(
            _(
                "A sterile lancet was used today: the tiny marks it leaves are normal and fade within a few days. "
                "Keep them clean and leave make-up off them until tomorrow."
            )
        )
    if facts.many_pustules:
        advice.append(
            _(
                "Several inflamed spots were cleared today, so those areas may stay tender a little longer. "
                "A cool, clean compress helps; keep your hands away from them."
            )
        )
    return advice


def kick_dispatcher() -> None:
    """After the commit, ask a worker to send what is due now (beat would, within a minute).

    A broker that is down changes nothing for the caller (see ``aftercare.tasks.OutboxTask``).
    """
    dispatch_due.delay_on_commit()


def message_templates_ensure_defaults() -> dict[str, MessageTemplate]:
    """The sequence's templates, creating any missing one from the defaults."""
    existing = {t.kind: t for t in MessageTemplate.objects.all()}
    missing = [
        MessageTemplate(
            kind=step.kind,
            offset_days=step.offset_days,
            send_time=step.send_time,
            subject=str(step.subject),
            body_text=str(step.body_text),
        )
        for step in (*DEFAULT_SEQUENCE, *DEFAULT_BOOKING)
        if step.kind not in existing
    ]
    if missing:
        MessageTemplate.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.kind: t for t in MessageTemplate.objects.all()}
    return existing


def local_due(*, location: Location, day: date, send_time: time) -> datetime:
    """``send_time`` on ``day`` in the location's zone: 10:00 stays 10:00 across DST changes."""
    return datetime.combine(day, send_time).replace(tzinfo=location.zone)


def step_due(*, template: MessageTemplate, location: Location, anchor: datetime) -> datetime:
    if template.send_time is None:
        return anchor + timedelta(days=template.offset_days)
    day = location.local(anchor).date() + timedelta(days=template.offset_days)
    return local_due(location=location, day=day, send_time=template.send_time)


def _values(patient: Patient, location: Location) -> dict[str, str]:
    return {
        "first_name": patient.first_name,
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": location.phone or _("the clinic"),
    }


def _build(
    *,
    patient: Patient,
    location: Location,
    template: MessageTemplate,
    due_at: datetime,
    source: str,
    key: str,
    values: dict[str, str],
    advice: list[str] | None = None,
) -> Message:
    token = uuid.uuid4()
    content = rendering.sequence_content(
        kind=MessageKind(template.kind),
        subject=template.subject,
        body_text=template.body_text,
        values=values,
        token=token,
        advice=advice or [],
    )
    rendered = rendering.render(content)
    return Message(
        patient=patient,
        location=location,
        kind=template.kind,
        due_at=due_at,
        next_attempt_at=due_at,
        attempt_limit=settings.AFTERCARE_MAX_ATTEMPTS,
        subject=rendered.subject,
        body_text=rendered.body_text,
        body_html=rendered.body_html,
        token=token,
        source=source,
        idempotency_key=key,
    )


def aftercare_sequence_start(
    *,
    acting_user: User | None,
    patient: Patient,
    location: Location,
    completed_at: datetime,
    facts: SessionFacts,
    planned_sessions: Sequence[datetime] = (),
    review_date: date | None = None,
    source: str | None = None,
) -> list[Message]:
    """Schedule the aftercare sequence for a completed session; return the messages created.

    Call it after the session's commit (or inside its transaction). ``source`` names what
    caused it ("treatment_session:42"); a second call for the same source creates nothing.
    ``planned_sessions`` (aware datetimes) each get a reminder; the progress review
    invitation is due a week before ``review_date`` when given, else at the template's day.
    """
    if timezone.is_naive(completed_at):
        raise ValueError("completed_at must be an aware datetime")
    source = source or f"session:{patient.pk}:{completed_at.isoformat()}"
    values = _values(patient, location)
    with acting_as(acting_user), transaction.atomic():
        if Message.objects.filter(patient=patient, source=source).exists():
            return []
        templates = message_templates_ensure_defaults()
        build: list[Message] = []

        def add(kind: MessageKind, due_at: datetime, key: str, extra: dict[str, str] | None = None) -> None:
            template = templates.get(kind)
            if template is None or not template.is_active:
                return
            advice = session_advice(facts) if kind == MessageKind.AFTERCARE_RIGHT_AFTER else None
            build.append(
                _build(
                    patient=patient,
                    location=location,
                    template=template,
                    due_at=due_at,
                    source=source,
                    key=key,
                    values={**values, **(extra or {})},
                    advice=advice,
                )
            )

        for kind in (MessageKind.AFTERCARE_RIGHT_AFTER, MessageKind.CHECKIN_DAY1, MessageKind.ACTIVES_RETURN):
            if kind in templates:
                add(kind, step_due(template=templates[kind], location=location, anchor=completed_at), source)
        reminder = templates.get(MessageKind.SESSION_REMINDER)
        if reminder is not None:
            for planned in sorted(planned_sessions):
                if planned <= completed_at:
                    continue
                due_at = max(step_due(template=reminder, location=location, anchor=planned), completed_at)
                local = location.local(planned)
                add(
                    MessageKind.SESSION_REMINDER,
                    due_at,
                    f"{source}#session:{planned.isoformat()}",
                    {"session_date": date_format(local.date(), "l j F"), "session_time": time_format(local, "H:i")},
                )
        review = templates.get(MessageKind.PROGRESS_REVIEW)
        if review is not None:
            if review_date is not None and review.send_time is not None:
                due_at = local_due(location=location, day=review_date - timedelta(days=7), send_time=review.send_time)
                due_at = max(due_at, completed_at)
            else:
                due_at = step_due(template=review, location=location, anchor=completed_at)
            add(MessageKind.PROGRESS_REVIEW, due_at, source)
        # ON CONFLICT DO NOTHING: a concurrent call for the same source adds nothing twice.
        Message.objects.bulk_create(build, ignore_conflicts=True)
        created = list(Message.objects.filter(patient=patient, source=source).order_by("due_at", "id"))
        if any(m.due_at <= timezone.now() for m in created):
            kick_dispatcher()
    return created


def _on_duty_specialists(location: Location | None) -> list[User]:
    """The specialists to alert: those based at the location, else every active specialist.

    (The clinic has no duty rota yet; when it does, this is the one place to change.)
    """
    specialists = User.objects.filter(is_active=True, groups__name=ROLES[Role.SPECIALIST].group_name).exclude(email="")
    if location is not None:
        local = list(specialists.filter(home_location=location).order_by("id"))
        if local:
            return local
    return list(specialists.order_by("id"))


def _alert_specialists(*, entry: SpecialistQueueEntry) -> None:
    now = timezone.now()
    queue_url = rendering.absolute(reverse("aftercare:specialist_queue"))
    source = f"checkin:{entry.checkin_id}"
    alerts = []
    for specialist in _on_duty_specialists(entry.location):
        content = rendering.Content(
            subject=str(SPECIALIST_ALERT_SUBJECT),
            paragraphs=[
                _("A patient answered “worried” to their next-day check-in and is on the specialist queue."),
                _("Please contact them today."),
            ],
            actions=[rendering.Action(_("Open the specialist queue"), queue_url)],
        )
        rendered = rendering.render(content)
        alerts.append(
            Message(
                patient_id=entry.patient_id,
                location=entry.location,
                to_user=specialist,
                kind=MessageKind.SPECIALIST_ALERT,
                due_at=now,
                next_attempt_at=now,
                attempt_limit=settings.AFTERCARE_MAX_ATTEMPTS,
                subject=rendered.subject,
                body_text=rendered.body_text,
                body_html=rendered.body_html,
                source=source,
                idempotency_key=f"{source}:user:{specialist.pk}",
            )
        )
    Message.objects.bulk_create(alerts, ignore_conflicts=True)
    kick_dispatcher()


def checkin_answer(*, message_token: uuid.UUID, answer: CheckInAnswer) -> CheckIn | None:
    """Record the patient's one-click answer (a later click changes it). ``None``: no such check-in.

    "Worried" puts the patient on the specialist queue once and alerts the on-duty specialist.
    """
    with transaction.atomic():
        message = (
            Message.objects.filter(token=message_token, kind=MessageKind.CHECKIN_DAY1, to_user__isnull=True)
            .select_related("location")
            .first()
        )
        if message is None:
            return None
        checkin, created = CheckIn.objects.select_for_update().get_or_create(
            message=message, defaults={"patient_id": message.patient_id, "answer": answer}
        )
        if not created and checkin.answer != answer:
            checkin.answer = answer
            checkin.answered_at = timezone.now()
            checkin.save(update_fields=["answer", "answered_at"])
        if answer == CheckInAnswer.WORRIED and not SpecialistQueueEntry.objects.filter(checkin=checkin).exists():
            entry = SpecialistQueueEntry.objects.create(
                checkin=checkin, patient_id=message.patient_id, location=message.location
            )
            _alert_specialists(entry=entry)
    return checkin


def checkin_note_add(*, checkin: CheckIn, note: str) -> CheckIn:
    """The patient adds a note to their check-in answer (the patient acts; no staff user)."""
    with transaction.atomic():
        checkin = CheckIn.objects.select_for_update().get(pk=checkin.pk)
        checkin.note = note.strip()[:2000]
        checkin.save(update_fields=["note"])
    return checkin


def patient_email_unsubscribe(*, message_token: uuid.UUID) -> Patient | None:
    """Withdraw the patient's consent to email at once (the patient acts; no staff user).

    Pending messages stay in the outbox and are recorded as skipped when due, so staff
    can see what the patient did not receive. ``None``: no such message.
    """
    with transaction.atomic():
        message = Message.objects.filter(token=message_token, to_user__isnull=True).first()
        if message is None:
            return None
        patient = Patient.objects.select_for_update().get(pk=message.patient_id)
        if patient.email_consent:
            patient.email_consent = False
            patient.email_consent_at = timezone.now()
            patient.save(update_fields=["email_consent", "email_consent_at", "updated_at"])
            EmailWithdrawal.objects.create(patient=patient, message=message)
    return patient


def message_retry(*, acting_user: User, message: Message) -> bool:
    """Give a failed message a fresh set of attempts, starting now."""
    with acting_as(acting_user), transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message.pk)
        if message.status != MessageStatus.FAILED:
            return False
        message.status = MessageStatus.SCHEDULED
        message.next_attempt_at = timezone.now()
        message.attempt_limit = message.attempts + settings.AFTERCARE_MAX_ATTEMPTS
        message.save(update_fields=["status", "next_attempt_at", "attempt_limit"])
        kick_dispatcher()
    return True


def messages_cancel_for_source(*, source: str, reason: str) -> int:
    """Cancel every pending message caused by ``source`` (a cancelled appointment, an ended plan).

    A step of the caller's workflow: it runs in the caller's transaction and audit context
    (the person who cancelled), so it sets neither.
    """
    with transaction.atomic():
        return (
            Message.objects.filter(source=source)
            .pending()
            .update(status=MessageStatus.CANCELLED, cancelled_reason=reason[:200])
        )


def queue_entry_resolve(*, acting_user: User, entry: SpecialistQueueEntry, resolution: str) -> bool:
    with acting_as(acting_user), transaction.atomic():
        entry = SpecialistQueueEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.resolved_at is not None:
            return False
        entry.resolve(by=acting_user, resolution=resolution.strip(), at=timezone.now())
    return True


def message_template_update(
    *,
    acting_user: User,
    template: MessageTemplate,
    is_active: bool,
    offset_days: int,
    send_time: time | None,
    subject: str,
    body_text: str,
) -> MessageTemplate:
    """Change one step of the sequence. Messages already scheduled keep the text they were rendered with."""
    with acting_as(acting_user), transaction.atomic():
        template.is_active = is_active
        template.offset_days = offset_days
        template.send_time = send_time
        template.subject = subject
        template.body_text = body_text
        template.updated_by = acting_user
        template.save()
    return template


# --- Booking messages ----------------------------------------------------------------------


SWEEP_BATCH = 200


def _appointment_source(appointment: Appointment) -> str:
    return f"appointment:{appointment.pk}"


def booking_messages_schedule(*, appointment: Appointment, new: bool = False) -> list[Message]:
    """Confirmation (with an .ics) now and a reminder before the appointment, for its current time.

    Called when an appointment is booked or moved: pending messages for an earlier time are
    cancelled. A second call for the same time creates nothing. ``new``: the appointment
    was just booked, so it has no messages yet: nothing to cancel, count or read back (the
    booking POST is the front desk's busiest request; ON CONFLICT still guards a repeat).
    """
    source = _appointment_source(appointment)
    # In UTC, so the key is the same whether the caller's instance or a fresh read from the
    # database is passed (the sweeper's): ON CONFLICT then guards the two paths against each other.
    when = appointment.start.astimezone(UTC).isoformat()
    location = appointment.location
    patient = appointment.patient
    now = timezone.now()
    # A new booking's messages are one INSERT, atomic on its own; a move also cancels.
    with transaction.atomic() if not new else contextlib.nullcontext():
        if not new:
            Message.objects.filter(source=source).pending().exclude(idempotency_key__endswith=f"@{when}").update(
                status=MessageStatus.CANCELLED, cancelled_reason=_("The appointment was moved.")[:200]
            )
            if Message.objects.filter(source=source, idempotency_key__endswith=f"@{when}").exists():
                return []
        templates = message_templates_ensure_defaults()
        local = location.local(appointment.start)
        values = {
            **_values(patient, location),
            "session_date": date_format(local.date(), "l j F"),
            "session_time": time_format(local, "H:i"),
        }
        build: list[Message] = []
        confirmation = templates.get(MessageKind.BOOKING_CONFIRMATION)
        if confirmation is not None and confirmation.is_active:
            message = _build(
                patient=patient,
                location=location,
                template=confirmation,
                due_at=now,
                source=source,
                key=f"confirmation@{when}",
                values=values,
            )
            moves = 0 if new else Message.objects.filter(source=source, kind=MessageKind.BOOKING_CONFIRMATION).count()
            message.attachment_ics = ics.appointment_event(
                uid=f"appointment-{appointment.pk}",
                start=appointment.start,
                end=appointment.end,
                summary=_("Appointment at %(clinic)s") % {"clinic": settings.CLINIC_NAME},
                location=", ".join(part for part in (location.name, location.address.replace("\n", ", ")) if part),
                sequence=moves,
            )
            build.append(message)
        reminder = templates.get(MessageKind.BOOKING_REMINDER)
        if reminder is not None and reminder.is_active:
            due_at = step_due(template=reminder, location=location, anchor=appointment.start)
            # Booked for tomorrow morning after today's reminder time: the confirmation is enough.
            if now < due_at < appointment.start:
                build.append(
                    _build(
                        patient=patient,
                        location=location,
                        template=reminder,
                        due_at=due_at,
                        source=source,
                        key=f"reminder@{when}",
                        values=values,
                    )
                )
        Message.objects.bulk_create(build, ignore_conflicts=True)
        created = build if new else list(Message.objects.filter(source=source, idempotency_key__endswith=f"@{when}"))
        kick_dispatcher()
    return created


def booking_messages_cancel(*, appointment: Appointment) -> int:
    """A cancelled appointment cancels its pending messages."""
    return messages_cancel_for_source(
        source=_appointment_source(appointment), reason=_("The appointment was cancelled.")
    )


def booking_messages_sweep(*, now: datetime | None = None) -> int:
    """Write the messages of open future bookings that have none; return how many got them.

    A booking's messages are written just after its commit (aftercare/hooks.py), so a crash
    in between leaves it without them. Beat runs this every AFTERCARE_SWEEP_INTERVAL_SECONDS.
    Bookings younger than AFTERCARE_SWEEP_GRACE_SECONDS are left to their own after-commit
    step; older than AFTERCARE_SWEEP_LOOKBACK_DAYS, to the staff who see them on the
    patient's messages (a sweeper that was down longer than that is a bigger problem).

    Cheap at any size: the candidates are one query per batch over the partial index
    ``appointment_open_created`` with a NOT EXISTS probe of ``message_source`` each; a
    booking that already has messages (the normal case) is never loaded. Safe to run twice:
    the second run finds no candidates, and ON CONFLICT guards a race with the hook.
    """
    now = now or timezone.now()
    has_messages = Message.objects.filter(
        source=Concat(Value("appointment:"), Cast(OuterRef("pk"), models.CharField()), output_field=models.CharField())
    )
    candidates = (
        Appointment.objects.filter(
            status__in=OPEN_STATUSES,
            created_at__gte=now - timedelta(days=settings.AFTERCARE_SWEEP_LOOKBACK_DAYS),
            created_at__lte=now - timedelta(seconds=settings.AFTERCARE_SWEEP_GRACE_SECONDS),
            start__gt=now,
        )
        .filter(~Exists(has_messages))
        .select_related("patient", "location")
        .order_by("pk")
    )
    mended = 0
    after = 0
    with acting_as(None):  # no person acts: a scheduled job
        while batch := list(candidates.filter(pk__gt=after)[:SWEEP_BATCH]):
            for appointment in batch:
                try:
                    written = booking_messages_schedule(appointment=appointment, new=True)
                except Exception:
                    # One broken booking must not keep the others from their messages.
                    logger.exception("booking messages for appointment %s could not be written", appointment.pk)
                    continue
                if written:
                    mended += 1
                    logger.warning("wrote the missing booking messages of appointment %s", appointment.pk)
            after = batch[-1].pk
    return mended


def appointment_reply_record(*, message_token: uuid.UUID, answer: AppointmentReplyAnswer) -> AppointmentReply | None:
    """Record the patient's answer to a reminder (a later click changes it). ``None``: no such reminder."""
    with transaction.atomic():
        message = Message.objects.filter(token=message_token, kind=MessageKind.BOOKING_REMINDER).first()
        if message is None:
            return None
        appointment_id = int(message.source.split(":", 1)[1])
        appointment = Appointment.objects.filter(pk=appointment_id, patient_id=message.patient_id).first()
        if appointment is None:
            return None
        reply, created = AppointmentReply.objects.select_for_update().get_or_create(
            message=message, defaults={"appointment": appointment, "answer": answer}
        )
        if not created and reply.answer != answer:
            reply.answer = answer
            reply.answered_at = timezone.now()
            reply.save(update_fields=["answer", "answered_at"])
    return reply


def specialist_email_send(
    *,
    specialist_id: int | None,
    patient_id: int,
    location: Location | None,
    paragraphs: Sequence[str],
    action_label: str,
    action_url: str,
    source: str,
) -> list[Message]:
    """Email a specialist about a patient (an outbox row, sent by the dispatcher), once per ``source``.

    Without a specialist with an email address, the on-duty specialists are written to
    (as for a "worried" check-in). Call inside the caller's transaction: the row commits
    with what it reports, or not at all.
    """
    recipients = list(
        User.objects.filter(id__in=[specialist_id] if specialist_id else [], is_active=True).exclude(email="")
    )
    if not recipients:
        recipients = _on_duty_specialists(location)
    now = timezone.now()
    url = rendering.absolute(action_url)
    rows = []
    for specialist in recipients:
        rendered = rendering.render(
            rendering.Content(
                subject=str(SPECIALIST_ALERT_SUBJECT),
                paragraphs=list(paragraphs),
                actions=[rendering.Action(action_label, url)],
            )
        )
        rows.append(
            Message(
                patient_id=patient_id,
                location=location,
                to_user=specialist,
                kind=MessageKind.SPECIALIST_ALERT,
                due_at=now,
                next_attempt_at=now,
                attempt_limit=settings.AFTERCARE_MAX_ATTEMPTS,
                subject=rendered.subject,
                body_text=rendered.body_text,
                body_html=rendered.body_html,
                source=source,
                idempotency_key=f"{source}:user:{specialist.pk}",
            )
        )
    Message.objects.bulk_create(rows, ignore_conflicts=True)
    kick_dispatcher()
    return rows


def deferral_advice_send(
    *, patient: Patient, location: Location, recheck_on: date | None, meanwhile: Sequence[str], source: str
) -> Message | None:
    """Email a deferred patient what to do meanwhile and how to book the re-check (once per ``source``).

    The way to book is the location's phone: the re-check is a consultation the specialist
    fits to the patient, not a slot the patient picks. The dispatcher checks email consent.
    """
    now = timezone.now()
    token = uuid.uuid4()
    phone = location.phone or settings.CLINIC_NAME
    paragraphs = [
        _("Hello %(name)s,") % {"name": patient.first_name},
        _("At your consultation we agreed to wait before any extraction. Meanwhile:"),
        *[str(text) for text in meanwhile],
    ]
    if recheck_on is not None:
        paragraphs.append(
            _("Your re-check is due from %(date)s. Call us on %(phone)s to book it.")
            % {"date": date_format(recheck_on, "l j F"), "phone": phone}
        )
    else:
        paragraphs.append(_("Call us on %(phone)s when you would like to book your re-check.") % {"phone": phone})
    rendered = rendering.render(
        rendering.Content(
            subject=_("While we wait: your skin-care plan from %(clinic)s") % {"clinic": settings.CLINIC_NAME},
            paragraphs=paragraphs,
            unsubscribe_url=rendering.absolute(links.unsubscribe_path(token)),
        )
    )
    message = Message(
        patient=patient,
        location=location,
        kind=MessageKind.DEFERRAL_ADVICE,
        due_at=now,
        next_attempt_at=now,
        attempt_limit=settings.AFTERCARE_MAX_ATTEMPTS,
        subject=rendered.subject,
        body_text=rendered.body_text,
        body_html=rendered.body_html,
        token=token,
        source=source,
        idempotency_key=source,
    )
    created = Message.objects.bulk_create([message], ignore_conflicts=True)
    kick_dispatcher()
    return created[0] if created else None
