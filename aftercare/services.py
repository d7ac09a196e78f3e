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

from aftercare import ics, links, outgoing, rendering
from aftercare.defaults import (
    BOOKING_DETAILS,
    CONTACT_LINE,
    DEFAULT_BOOKING,
    DEFAULT_SEQUENCE,
    MOVED_LEAD,
    MOVED_SUBJECT,
    NO_PAUSE,
    OUT_OF_HOURS_DEFAULT,
    PREVIEW_PATIENT_FIRST_NAME,
    PREVIEW_PAUSE,
    PREVIEW_SERVICE,
    SPECIALIST_ALERT_SUBJECT,
)
from aftercare.models import (
    CHECKIN_KINDS,
    REMINDER_KINDS,
    REMINDER_NEEDLESS_STATUSES,
    REMINDER_WITHDRAWN,
    AppointmentReply,
    AppointmentReplyAnswer,
    CheckIn,
    CheckInAnswer,
    EmailWithdrawal,
    LinkAction,
    LinkClick,
    LinkOutcome,
    Message,
    MessageKind,
    MessageStatus,
    MessageTemplate,
    SpecialistQueueEntry,
    TemplateVariant,
)
from aftercare.tasks import dispatch_due
from clinic import hooks as clinic_hooks
from clinic import phones
from clinic.audit import acting_as
from clinic.models import (
    OPEN_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AppointmentStatusChange,
    Location,
    Patient,
    User,
)
from clinic.roles import Role

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

    The patient's cautions (the consultation's, read by the caller) change the content:
    ``no_ibuprofen`` (pregnancy, an anticoagulant or bleeding disorder, an NSAID sensitivity):
    acetaminophen advice instead; ``no_retinoid`` (pregnancy or breastfeeding): no "bring your
    retinoid back"; ``pigment_risk`` (Fitzpatrick IV-VI): pigment-mark and sun-protection
    advice; ``slow_healing`` (immunosuppressed or diabetic): a day-3 check-in as well.
    """

    extraction_method: str
    lesions_extracted: Mapping[str, int] = field(default_factory=dict)
    no_ibuprofen: bool = False
    no_retinoid: bool = False
    pigment_risk: bool = False
    slow_healing: bool = False

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


def caution_advice(facts: SessionFacts) -> list[str]:
    """Advice the patient's cautions add to the right-after message."""
    advice = []
    if facts.pigment_risk:
        advice.append(
            _(
                "Your skin can keep a darker mark where it was inflamed (post-inflammatory pigmentation). "
                "To prevent it: do not pick, use a broad-spectrum SPF 30 or higher every day, even when it is "
                "cloudy, and reapply when outdoors. Tell us at your next visit if you notice dark marks."
            )
        )
    return advice


def template_variant(kind: MessageKind, facts: SessionFacts) -> TemplateVariant:
    """Which version of step ``kind`` this patient gets."""
    if kind == MessageKind.AFTERCARE_RIGHT_AFTER and facts.no_ibuprofen:
        return TemplateVariant.NO_IBUPROFEN
    if kind == MessageKind.ACTIVES_RETURN and facts.no_retinoid:
        return TemplateVariant.NO_RETINOID
    return TemplateVariant.STANDARD


def kick_dispatcher() -> None:
    """After the commit, ask a worker to send what is due now (beat would, within a minute).

    A broker that is down changes nothing for the caller (see ``aftercare.tasks.OutboxTask``).
    """
    dispatch_due.delay_on_commit()


def message_template_variants() -> dict[tuple[str, str], MessageTemplate]:
    """Every template by (kind, variant), creating any missing one from the defaults."""
    existing = {(t.kind, t.variant): t for t in MessageTemplate.objects.all()}
    missing = [
        MessageTemplate(
            kind=step.kind,
            variant=step.variant,
            offset_days=step.offset_days,
            send_time=step.send_time,
            subject=str(step.subject),
            body_text=str(step.body_text),
        )
        for step in (*DEFAULT_SEQUENCE, *DEFAULT_BOOKING)
        if (step.kind, step.variant) not in existing
    ]
    if missing:
        MessageTemplate.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {(t.kind, t.variant): t for t in MessageTemplate.objects.all()}
    return existing


def message_templates_ensure_defaults() -> dict[str, MessageTemplate]:
    """The standard template of each kind, creating any missing template from the defaults."""
    return {kind: template for (kind, variant), template in message_template_variants().items() if not variant}


def local_due(*, location: Location, day: date, send_time: time) -> datetime:
    """``send_time`` on ``day`` in the location's zone: 10:00 stays 10:00 across DST changes."""
    return datetime.combine(day, send_time).replace(tzinfo=location.zone)


def step_due(*, template: MessageTemplate, location: Location, anchor: datetime) -> datetime:
    if template.send_time is None:
        return anchor + timedelta(days=template.offset_days)
    day = location.local(anchor).date() + timedelta(days=template.offset_days)
    return local_due(location=location, day=day, send_time=template.send_time)


def contact_lines(location: Location) -> list[str]:
    """The foot of every patient email: the location's phone, and what to do when it is closed."""
    return [
        CONTACT_LINE % {"phone": phones.display(location.phone) or settings.CLINIC_NAME},
        location.out_of_hours.strip() or str(OUT_OF_HOURS_DEFAULT),
    ]


def _values(patient: Patient, location: Location) -> dict[str, str]:
    return {
        "first_name": patient.first_name,
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": phones.display(location.phone) or _("the clinic"),
    }


def _outbox_row(
    *,
    patient: Patient,
    location: Location,
    kind: str,
    due_at: datetime,
    rendered: rendering.Rendered,
    token: uuid.UUID,
    source: str,
    key: str,
    attachment_ics: str = "",
) -> Message:
    """An unsaved outbox row, due at ``due_at``, with the rendered email."""
    return Message(
        patient=patient,
        location=location,
        kind=kind,
        due_at=due_at,
        next_attempt_at=due_at,
        attempt_limit=settings.AFTERCARE_MAX_ATTEMPTS,
        subject=rendered.subject,
        body_text=rendered.body_text,
        body_html=rendered.body_html,
        attachment_ics=attachment_ics,
        token=token,
        source=source,
        idempotency_key=key,
    )


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
    attachment_ics: str = "",
    subject: str | None = None,
    lead: str = "",
    wire_bytes: bool = True,
    actions: Sequence[rendering.Action] = (),
) -> Message:
    """``subject`` replaces the template's; ``lead`` is a paragraph put before its text;
    ``actions`` are links added after the template's own. ``wire_bytes=False`` leaves the
    MIME bytes to the dispatcher, which builds and stores them on the first send
    (dispatcher._ensure_bytes)."""
    token = uuid.uuid4()
    content = rendering.sequence_content(
        kind=MessageKind(template.kind),
        subject=template.subject if subject is None else subject,
        body_text=f"{lead}\n\n{template.body_text}" if lead else template.body_text,
        values=values,
        token=token,
        advice=advice or [],
        contact=contact_lines(location),
        extra_actions=actions,
    )
    message = _outbox_row(
        patient=patient,
        location=location,
        kind=template.kind,
        due_at=due_at,
        rendered=rendering.render(content),
        token=token,
        source=source,
        key=key,
        attachment_ics=attachment_ics,
    )
    # The bytes that go on the wire, built once here rather than on every send.
    return outgoing.stamp(message) if wire_bytes else message


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
    review_key: str | None = None,
) -> list[Message]:
    """Schedule the aftercare sequence for a completed session; return the messages created.

    Call it after the session's commit (or inside its transaction). ``source`` names what
    caused it ("treatment_session:42"); a second call for the same source creates nothing.
    ``planned_sessions`` (aware datetimes) each get a reminder; the progress review
    invitation is due a week before ``review_date`` when given, else at the template's day.
    ``review_key`` (e.g. "plan:7") makes the invitation one per plan however many sessions
    start a sequence: its idempotency key is the plan's, not the session's.
    The patient's cautions in ``facts`` choose each step's variant and add advice.
    """
    if timezone.is_naive(completed_at):
        raise ValueError("completed_at must be an aware datetime")
    source = source or f"session:{patient.pk}:{completed_at.isoformat()}"
    values = _values(patient, location)
    with acting_as(acting_user), transaction.atomic():
        if Message.objects.filter(patient=patient, source=source).exists():
            return []
        variants = message_template_variants()
        templates = {kind: template for (kind, variant), template in variants.items() if not variant}
        build: list[Message] = []

        def add(kind: MessageKind, due_at: datetime, key: str, extra: dict[str, str] | None = None) -> None:
            # A patient whose caution has a variant gets that variant or nothing: never the
            # standard text a caution rules out (a deactivated variant sends nothing).
            template = variants.get((kind, template_variant(kind, facts)))
            if template is None or not template.is_active:
                return
            advice = (
                [*session_advice(facts), *caution_advice(facts)] if kind == MessageKind.AFTERCARE_RIGHT_AFTER else None
            )
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

        steps = [MessageKind.AFTERCARE_RIGHT_AFTER, MessageKind.CHECKIN_DAY1, MessageKind.ACTIVES_RETURN]
        if facts.slow_healing:
            steps.insert(2, MessageKind.CHECKIN_DAY3)
        for kind in steps:
            template = variants.get((kind, template_variant(kind, facts)))
            if template is not None:
                add(kind, step_due(template=template, location=location, anchor=completed_at), source)
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
            add(MessageKind.PROGRESS_REVIEW, due_at, review_key or source)
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
    specialists = User.objects.in_roles(Role.SPECIALIST).exclude(email="")
    if location is not None:
        local = list(specialists.filter(home_location=location).order_by("id"))
        if local:
            return local
    return list(specialists.order_by("id"))


def _alert_specialists(*, entry: SpecialistQueueEntry) -> None:
    specialist_email_send(
        specialist_id=None,
        patient_id=entry.patient_id,
        location=entry.location,
        paragraphs=[
            _("A patient answered “worried” to their next-day check-in and is on the specialist queue."),
            _("Please contact them today."),
        ],
        action_label=_("Open the specialist queue"),
        action_url=reverse("aftercare:specialist_queue"),
        source=f"checkin:{entry.checkin_id}",
    )


@dataclass(frozen=True)
class LinkResult:
    """What a patient's click did: ``outcome`` (a LinkOutcome) and the record it concerns."""

    outcome: str
    message: Message
    checkin: CheckIn | None = None
    reply: AppointmentReply | None = None

    @property
    def recorded(self) -> bool:
        return self.outcome == LinkOutcome.RECORDED


def patient_message_for_link(
    *, message_token: uuid.UUID, kind: str | None = None, kinds: Sequence[str] = ()
) -> Message | None:
    """The patient's message a link points at (``None``: no such message, or a staff alert)."""
    messages = Message.objects.filter(token=message_token, to_user__isnull=True).select_related("location")
    if kind is not None:
        messages = messages.filter(kind=kind)
    if kinds:
        messages = messages.filter(kind__in=kinds)
    return messages.first()


def checkin_answer(*, message_token: uuid.UUID, answer: CheckInAnswer) -> LinkResult | None:
    """Record the patient's check-in answer; the first answer stands. ``None``: no such check-in.

    A later click is kept as a LinkClick (staff see it in the history) and changes nothing:
    a "worried" that a later "fine" overwrote would drop the patient from the specialist's
    queue. "Worried" puts the patient on the specialist queue once and alerts the on-duty
    specialist. A cancelled message's link records nothing. A recorded "still red or
    sensitive" holds back the "bring actives back" message and schedules "give it two more
    days" in its place, in this same transaction; a later check-in's "fine" (day 3) undoes
    that while neither has been sent (``actives_follow_checkin``).
    """
    with transaction.atomic():
        message = patient_message_for_link(message_token=message_token, kinds=CHECKIN_KINDS)
        if message is None:
            return None
        # Lock the message, so two clicks at once cannot both be "the first answer".
        Message.objects.select_for_update().filter(pk=message.pk).first()
        checkin = CheckIn.objects.filter(message=message).first()
        if message.status == MessageStatus.CANCELLED:
            outcome = LinkOutcome.CANCELLED
        elif checkin is not None:
            outcome = LinkOutcome.ALREADY_ANSWERED
        else:
            outcome = LinkOutcome.RECORDED
            checkin = CheckIn.objects.create(message=message, patient_id=message.patient_pk, answer=answer)
            if answer == CheckInAnswer.WORRIED:
                entry = SpecialistQueueEntry.objects.create(
                    checkin=checkin, patient_id=message.patient_pk, location=message.location
                )
                _alert_specialists(entry=entry)
            actives_follow_checkin(checkin_message=message, answer=answer)
        LinkClick.objects.create(
            message=message, patient_id=message.patient_pk, action=LinkAction.CHECKIN, answer=answer, outcome=outcome
        )
    return LinkResult(outcome=outcome, message=message, checkin=checkin)


def actives_follow_checkin(*, checkin_message: Message, answer: CheckInAnswer) -> None:
    """Hold back or restore the sequence's "bring actives back" message after a check-in answer.

    A step of ``checkin_answer`` (its transaction). Idempotent: the "two more days"
    message has a unique key per sequence, and answering twice finds the work done.
    Only pending messages change: nothing already sent is taken back.
    """
    sequence = Message.objects.select_for_update().filter(
        patient_id=checkin_message.patient_pk, source=checkin_message.source, to_user__isnull=True
    )
    if answer == CheckInAnswer.RED_OR_SENSITIVE:
        actives = sequence.filter(kind=MessageKind.ACTIVES_RETURN, status=MessageStatus.SCHEDULED).first()
        if actives is None:
            return
        actives.status = MessageStatus.CANCELLED
        actives.cancelled_reason = _("Held back: the check-in said still red or sensitive.")[:200]
        actives.save(update_fields=["status", "cancelled_reason"])
        waiting = sequence.filter(kind=MessageKind.ACTIVES_WAIT).first()
        if waiting is not None:
            if waiting.status == MessageStatus.CANCELLED:
                waiting.status = MessageStatus.SCHEDULED
                waiting.cancelled_reason = ""
                waiting.save(update_fields=["status", "cancelled_reason"])
            return
        template = message_template_variants().get((MessageKind.ACTIVES_WAIT, TemplateVariant.STANDARD))
        if template is None or not template.is_active or checkin_message.location is None:
            return
        patient = Patient.objects.get(pk=checkin_message.patient_pk)
        location = checkin_message.location
        # When "bring actives back" would have gone out: the same moment, the other message.
        due_at = max(actives.due_at, timezone.now())
        Message.objects.bulk_create(
            [
                _build(
                    patient=patient,
                    location=location,
                    template=template,
                    due_at=due_at,
                    source=checkin_message.source,
                    key=actives.idempotency_key,
                    values=_values(patient, location),
                )
            ],
            ignore_conflicts=True,
        )
    elif answer == CheckInAnswer.FINE:
        waiting = sequence.filter(kind=MessageKind.ACTIVES_WAIT, status=MessageStatus.SCHEDULED).first()
        if waiting is None:
            return
        # The message it replaced shares its key; anything else cancelled it too (a cancelled
        # appointment, an ended plan) would have cancelled the waiting one as well.
        held = sequence.filter(
            kind=MessageKind.ACTIVES_RETURN, status=MessageStatus.CANCELLED, idempotency_key=waiting.idempotency_key
        ).first()
        if held is None:
            return
        waiting.status = MessageStatus.CANCELLED
        waiting.cancelled_reason = _("The patient said their skin is fine.")[:200]
        waiting.save(update_fields=["status", "cancelled_reason"])
        held.status = MessageStatus.SCHEDULED
        held.cancelled_reason = ""
        held.save(update_fields=["status", "cancelled_reason"])


def checkin_note_add(*, checkin: CheckIn, note: str) -> LinkResult:
    """The patient adds a note to their check-in answer, once: the first note stands too."""
    note = note.strip()[:2000]
    with transaction.atomic():
        checkin = CheckIn.objects.select_for_update().select_related("message").get(pk=checkin.pk)
        outcome = LinkOutcome.ALREADY_ANSWERED if checkin.note else LinkOutcome.RECORDED
        if outcome == LinkOutcome.RECORDED:
            checkin.note = note
            checkin.save(update_fields=["note"])
        LinkClick.objects.create(
            message_id=checkin.message_id,
            patient_id=checkin.patient_id,
            action=LinkAction.CHECKIN_NOTE,
            note=note,
            outcome=outcome,
        )
    return LinkResult(outcome=outcome, message=checkin.message, checkin=checkin)


def patient_email_unsubscribe(*, message_token: uuid.UUID) -> Patient | None:
    """Withdraw the patient's consent to email at once (the patient acts; no staff user).

    Honoured from any message the patient received, even a cancelled one: stopping email
    must always work. Pending messages stay in the outbox and are recorded as skipped when
    due, so staff can see what the patient did not receive. ``None``: no such message.
    """
    with transaction.atomic():
        message = patient_message_for_link(message_token=message_token)
        if message is None:
            return None
        patient = Patient.objects.select_for_update().get(pk=message.patient_pk)
        if patient.email_consent:
            patient.email_consent = False
            patient.email_consent_at = timezone.now()
            patient.save(update_fields=["email_consent", "email_consent_at", "updated_at"])
            EmailWithdrawal.objects.create(patient=patient, message=message)
        LinkClick.objects.create(
            message=message, patient_id=patient.pk, action=LinkAction.UNSUBSCRIBE, outcome=LinkOutcome.RECORDED
        )
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


def reschedule_request_handle(*, acting_user: User, reply: AppointmentReply) -> bool:
    """The desk dealt with "I need another time" (a call, a note): it leaves the worklist."""
    with acting_as(acting_user), transaction.atomic():
        reply = AppointmentReply.objects.select_for_update().get(pk=reply.pk)
        if reply.handled_at is not None:
            return False
        reply.handled_at, reply.handled_by = timezone.now(), acting_user
        reply.save(update_fields=["handled_at", "handled_by"])
    return True


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


def _preview_values(location: Location) -> dict[str, str]:
    """A demo patient and appointment, never a real one: what the preview and a test send fill in."""
    demo = Patient(first_name=str(PREVIEW_PATIENT_FIRST_NAME), last_name="Example")
    when = location.local(timezone.now() + timedelta(days=7)).replace(hour=10, minute=0)
    return {
        **_values(demo, location),
        "session_date": date_format(when.date(), "l j F"),
        "session_time": time_format(when, "H:i"),
        "location_name": location.name,
        "location_address": ", ".join(line.strip() for line in location.address.splitlines() if line.strip()),
        "service": str(PREVIEW_SERVICE),
        "pause_instructions": str(PREVIEW_PAUSE),
    }


def _preview_content(
    *, template: MessageTemplate, location: Location, subject: str, body_text: str, token: uuid.UUID
) -> rendering.Rendered:
    content = rendering.sequence_content(
        kind=MessageKind(template.kind),
        subject=subject,
        body_text=body_text,
        values=_preview_values(location),
        token=token,
        advice=[],
        contact=contact_lines(location),
    )
    return rendering.render(content)


def message_template_preview(
    *, template: MessageTemplate, location: Location, subject: str, body_text: str
) -> rendering.Rendered:
    """The email ``subject`` and ``body_text`` would make, for a demo patient at ``location``."""
    return _preview_content(
        template=template, location=location, subject=subject, body_text=body_text, token=uuid.uuid4()
    )


def message_template_test_send(
    *, acting_user: User, template: MessageTemplate, location: Location, subject: str, body_text: str
) -> Message | None:
    """Send the previewed email to ``acting_user`` through the outbox and the mail server.

    The row is marked ``is_test`` and names no patient: it is never counted among patient
    messages, and its links lead to the "link not valid" page. ``None``: the person has no
    email address to send to.
    """
    if not acting_user.email:
        return None
    token = uuid.uuid4()
    rendered = _preview_content(template=template, location=location, subject=subject, body_text=body_text, token=token)
    now = timezone.now()
    message = Message(
        patient=None,
        is_test=True,
        to_user=acting_user,
        location=location,
        kind=template.kind,
        due_at=now,
        next_attempt_at=now,
        attempt_limit=settings.AFTERCARE_MAX_ATTEMPTS,
        subject=(_("[Test] %(subject)s") % {"subject": rendered.subject})[:200],
        body_text=rendered.body_text,
        body_html=rendered.body_html,
        token=token,
        source=f"template_test:{template.pk}",
        idempotency_key=str(token),
    )
    with acting_as(acting_user), transaction.atomic():
        outgoing.stamp(message)
        message.save()
        kick_dispatcher()
    return message


# --- Booking messages ----------------------------------------------------------------------


SWEEP_BATCH = 200


def _appointment_source(appointment: Appointment) -> str:
    return f"appointment:{appointment.pk}"


def booking_messages_schedule(
    *, appointment: Appointment, new: bool = False, confirmation_actions: Sequence[rendering.Action] = ()
) -> list[Message]:
    """Confirmation (with an .ics) now and a reminder before the appointment, for its current time.

    ``confirmation_actions``: links the confirmation carries besides the template's (an online
    booking's pre-visit questionnaire and the page where the patient moves or cancels it).

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
        service = appointment.appointment_type.name
        address = ", ".join(line.strip() for line in location.address.splitlines() if line.strip())
        values = {
            **_values(patient, location),
            "session_date": date_format(local.date(), "l j F"),
            "session_time": time_format(local, "H:i"),
            "location_name": location.name,
            "location_address": address,
            "service": service,
        }
        details = _booking_details(service=service, when=_when(location, appointment.start), location=location)
        # The MIME bytes (most of the messages' cost) are left to the dispatcher's first send:
        # the booking POST, the front desk's busiest request, waits on everything built here.
        build: list[Message] = []
        confirmation = templates.get(MessageKind.BOOKING_CONFIRMATION)
        if confirmation is not None and confirmation.is_active:
            moves = 0 if new else Message.objects.filter(source=source, kind=MessageKind.BOOKING_CONFIRMATION).count()
            moved_from = None if new else _moved_from(appointment)
            subject, lead = None, ""
            if moved_from is not None:
                new_when = _when(location, appointment.start)
                subject = str(MOVED_SUBJECT) % {"when": new_when}
                lead = str(MOVED_LEAD) % {"service": service, "old": _when(location, moved_from), "new": new_when}
            calendar_file = ics.appointment_event(
                uid=f"appointment-{appointment.pk}",
                start=appointment.start,
                end=appointment.end,
                summary=_("Appointment at %(clinic)s") % {"clinic": settings.CLINIC_NAME},
                location=", ".join(part for part in (location.name, location.address.replace("\n", ", ")) if part),
                sequence=moves,
            )
            build.append(
                _build(
                    patient=patient,
                    location=location,
                    template=confirmation,
                    due_at=now,
                    source=source,
                    key=f"confirmation@{when}",
                    values=values,
                    attachment_ics=calendar_file,
                    advice=details,
                    subject=subject,
                    lead=lead,
                    wire_bytes=False,
                    actions=confirmation_actions,
                )
            )
        # An extraction session gets the session reminder instead of the generic one (exactly
        # one reminder per session): it asks about new medication and carries the plan's pause
        # instructions; written here, it follows the appointment's moves and cancellation.
        is_session = appointment.appointment_type.kind == AppointmentKind.EXTRACTION
        reminder = templates.get(MessageKind.SESSION_REMINDER if is_session else MessageKind.BOOKING_REMINDER)
        if is_session:
            values["pause_instructions"] = clinic_hooks.session_preparation(appointment) or str(NO_PAUSE)
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
                        advice=details,
                        wire_bytes=False,
                    )
                )
        Message.objects.bulk_create(build, ignore_conflicts=True)
        created = build if new else list(Message.objects.filter(source=source, idempotency_key__endswith=f"@{when}"))
        kick_dispatcher()
    return created


def _when(location: Location, at: datetime) -> str:
    local = location.local(at)
    return f"{date_format(local.date(), 'l j F')}, {time_format(local, 'H:i')}"


def _booking_details(*, service: str, when: str, location: Location) -> list[str]:
    where = ", ".join([location.name, *(line.strip() for line in location.address.splitlines() if line.strip())])
    what, at, place = BOOKING_DETAILS
    return [str(what) % {"service": service}, str(at) % {"when": when}, str(place) % {"where": where}]


def _moved_from(appointment: Appointment) -> datetime | None:
    """The start before the latest move: the move's change row carries it (clinic's booking
    services write it inside the move's transaction, before this runs after its commit)."""
    change = (
        AppointmentStatusChange.objects.filter(appointment=appointment, old_start__isnull=False)
        .order_by("-at", "-id")
        .first()
    )
    if change is None or change.old_start == appointment.start:
        return None
    return change.old_start


def booking_messages_cancel(*, appointment: Appointment) -> int:
    """A cancelled appointment cancels its pending messages."""
    return messages_cancel_for_source(
        source=_appointment_source(appointment), reason=_("The appointment was cancelled.")
    )


def booking_reminders_withdraw(*, appointment: Appointment) -> int:
    """The patient is here (or was a no-show, or is done): the appointment's pending reminders
    are cancelled. The dispatcher checks again at send time (``REMINDER_WITHDRAWN``)."""
    if appointment.status not in REMINDER_NEEDLESS_STATUSES:
        return 0
    return (
        Message.objects.filter(source=_appointment_source(appointment), kind__in=REMINDER_KINDS)
        .pending()
        .update(status=MessageStatus.CANCELLED, cancelled_reason=str(REMINDER_WITHDRAWN)[:200])
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
        .select_related("patient", "location", "appointment_type")
        .order_by("pk")
    )
    mended = 0
    after = 0
    with acting_as(None):  # no person acts: a scheduled job
        while batch := list(candidates.filter(pk__gt=after)[:SWEEP_BATCH]):
            for appointment in batch:
                if clinic_hooks.appointment_awaits_confirmation(appointment):
                    continue  # an online hold: its messages come with the patient's confirmation
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


def reminder_link_state(*, message: Message) -> tuple[str, Appointment | None]:
    """Whether a reminder's link still speaks for its appointment: a LinkOutcome and the appointment.

    CANCELLED: the reminder or the appointment was cancelled. SUPERSEDED: the appointment
    has moved since the reminder was written (its key names the time it was for), so a
    "confirm" would confirm a time the patient was never told. RECORDED: the link is current.
    """
    appointment_id = int(message.source.split(":", 1)[1])
    appointment = Appointment.objects.filter(pk=appointment_id, patient_id=message.patient_pk).first()
    if appointment is None:
        return LinkOutcome.CANCELLED, None
    if appointment.status == AppointmentStatus.CANCELLED:
        return LinkOutcome.CANCELLED, appointment
    # A move cancels the pending reminder; a sent one stays sent. Either way its key names
    # the time it was written for.
    written_for = message.idempotency_key.rsplit("@", 1)[-1]
    if written_for != appointment.start.astimezone(UTC).isoformat():
        return LinkOutcome.SUPERSEDED, appointment
    if message.status == MessageStatus.CANCELLED:
        return LinkOutcome.CANCELLED, appointment
    return LinkOutcome.RECORDED, appointment


def appointment_reply_record(*, message_token: uuid.UUID, answer: AppointmentReplyAnswer) -> LinkResult | None:
    """Record the patient's answer to a reminder (a later click changes it). ``None``: no such reminder.

    A stale link (the appointment moved, or it or the reminder was cancelled) records no
    answer; the click is kept with what it found.
    """
    with transaction.atomic():
        message = patient_message_for_link(message_token=message_token, kinds=REMINDER_KINDS)
        if message is None:
            return None
        Message.objects.select_for_update().filter(pk=message.pk).first()
        outcome, appointment = reminder_link_state(message=message)
        reply = AppointmentReply.objects.filter(message=message).first()
        if outcome == LinkOutcome.RECORDED and appointment is not None:
            if reply is None:
                reply = AppointmentReply.objects.create(message=message, appointment=appointment, answer=answer)
            elif reply.answer != answer:
                reply.answer = answer
                reply.answered_at = timezone.now()
                reply.save(update_fields=["answer", "answered_at"])
        LinkClick.objects.create(
            message=message,
            patient_id=message.patient_pk,
            action=LinkAction.APPOINTMENT_REPLY,
            answer=answer,
            outcome=outcome,
        )
    return LinkResult(outcome=outcome, message=message, reply=reply)


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
            outgoing.stamp(
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
        )
    Message.objects.bulk_create(rows, ignore_conflicts=True)
    kick_dispatcher()
    return rows


def questionnaire_link_send(*, acting_user: User, appointment: Appointment, link: str) -> bool:
    """Email the patient their pre-visit questionnaire link, from the desk's or specialist's
    click (one message a minute at most: a double click sends one). The dispatcher checks
    the patient's email consent again at send time."""
    now = timezone.now()
    token = uuid.uuid4()
    patient, location = appointment.patient, appointment.location
    local = location.local(appointment.start)
    rendered = rendering.render(
        rendering.Content(
            subject=_("Before your consultation at %(clinic)s") % {"clinic": settings.CLINIC_NAME},
            paragraphs=[
                _("Hello %(name)s,") % {"name": patient.first_name},
                _(
                    "Before your consultation on %(date)s at %(time)s, please answer a few questions about "
                    "your skin and health. It takes about five minutes, and the specialist reads your "
                    "answers before you arrive."
                )
                % {"date": date_format(local.date(), "l j F"), "time": time_format(local, "H:i")},
                _("Answer the questions: %(link)s") % {"link": link},
                _("The link is personal and works for 21 days."),
            ],
            unsubscribe_url=rendering.absolute(links.unsubscribe_path(token)),
        )
    )
    source = f"{_appointment_source(appointment)}#questionnaire"
    message = Message(
        patient=patient,
        location=location,
        kind=MessageKind.QUESTIONNAIRE_LINK,
        due_at=now,
        next_attempt_at=now,
        attempt_limit=settings.AFTERCARE_MAX_ATTEMPTS,
        subject=rendered.subject,
        body_text=rendered.body_text,
        body_html=rendered.body_html,
        token=token,
        source=source,
        idempotency_key=f"{source}@{now:%Y%m%d%H%M}",
    )
    with acting_as(acting_user), transaction.atomic():
        if Message.objects.filter(
            patient=patient, kind=MessageKind.QUESTIONNAIRE_LINK, idempotency_key=message.idempotency_key
        ).exists():
            return False
        Message.objects.bulk_create([message], ignore_conflicts=True)
    kick_dispatcher()
    return True


def deferral_advice_send(
    *, patient: Patient, location: Location, recheck_on: date | None, meanwhile: Sequence[str], source: str
) -> Message | None:
    """Email a deferred patient what to do meanwhile and how to book the re-check (once per ``source``).

    The way to book is the location's phone: the re-check is a consultation the specialist
    fits to the patient, not a slot the patient picks. The dispatcher checks email consent.
    """
    now = timezone.now()
    token = uuid.uuid4()
    phone = phones.display(location.phone) or settings.CLINIC_NAME
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


def patient_email_send(
    *,
    patient: Patient,
    location: Location,
    kind: MessageKind,
    subject: str,
    paragraphs: Sequence[str],
    actions: Sequence[rendering.Action],
    source: str,
) -> bool:
    """Email a patient one message another app wrote (online booking: the link to confirm a
    hold, a waiting-list offer), through the outbox: the dispatcher's retries and consent
    check, the patient's timeline, the clinic's email layout and contact lines.

    Once per ``source``: a second call writes nothing and returns False. Call inside the
    caller's transaction, so the message commits with what it is about, or not at all.
    """
    now = timezone.now()
    token = uuid.uuid4()
    rendered = rendering.render(
        rendering.Content(
            subject=subject,
            paragraphs=[_("Hello %(name)s,") % {"name": patient.first_name}, *paragraphs],
            actions=list(actions),
            unsubscribe_url=rendering.absolute(links.unsubscribe_path(token)),
            contact=contact_lines(location),
        )
    )
    message = _outbox_row(
        patient=patient,
        location=location,
        kind=kind,
        due_at=now,
        rendered=rendered,
        token=token,
        source=source,
        key=source,
    )
    if Message.objects.filter(patient=patient, kind=kind, idempotency_key=source).exists():
        return False
    # ON CONFLICT as well: two callers racing past the check above write one row.
    Message.objects.bulk_create([outgoing.stamp(message)], ignore_conflicts=True)
    kick_dispatcher()
    return True
