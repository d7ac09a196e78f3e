"""Read-only queries for aftercare pages (a fixed number of queries however much data there is)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, Count, Exists, F, OuterRef, Prefetch, Q, Subquery, Value, When
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from aftercare.models import (
    AppointmentReply,
    AppointmentReplyAnswer,
    CheckIn,
    CheckInAnswer,
    LinkClick,
    MailServerState,
    Message,
    MessageKind,
    MessageStatus,
    SpecialistQueueEntry,
)
from clinic.hooks import PatientToCall
from clinic.models import OPEN_STATUSES, AppointmentStatusChange, Location


def latest_appointment_reply() -> Subquery:
    """The patient's latest answer to an appointment's reminder ("confirm" / "reschedule"),
    for the appointment at ``OuterRef("pk")``: the front desk's day grid shows it."""
    # "reschedule" shows only while unanswered, by the same rule as the desk's worklist
    # (open_reschedule_requests): not marked handled, the appointment neither moved since the
    # answer nor cancelled. An answered request reads as no reply at all.
    moved_since = AppointmentStatusChange.objects.filter(
        appointment=OuterRef("appointment"), old_start__isnull=False, at__gte=OuterRef("answered_at")
    )
    answered = Q(answer=AppointmentReplyAnswer.RESCHEDULE) & (
        Q(handled_at__isnull=False) | Q(Exists(moved_since)) | ~Q(appointment__status__in=OPEN_STATUSES)
    )
    return Subquery(
        AppointmentReply.objects.filter(appointment=OuterRef("pk"))
        .order_by("-answered_at")
        .annotate(shown=Case(When(answered, then=Value(None)), default=F("answer")))
        .values("shown")[:1]
    )


@dataclass(frozen=True)
class DeliveryFigures:
    since: datetime
    sent: int
    failed: int
    skipped: int
    scheduled: int
    cancelled: int
    answers: dict[str, int]
    open_queue: int


def delivery_figures(*, since: datetime) -> DeliveryFigures:
    # A manager's test send of a template is no patient message: it is never counted.
    counts = (
        Message.objects.real()
        .filter(due_at__gte=since)
        .aggregate(**{status.value: Count("id", filter=Q(status=status)) for status in MessageStatus})
    )
    answer_counts = dict(
        CheckIn.objects.filter(answered_at__gte=since).values_list("answer").annotate(n=Count("id")).order_by()
    )
    # "failed" counts every failed message, however old: each one is still waiting for a decision.
    return DeliveryFigures(
        since=since,
        sent=counts[MessageStatus.SENT],
        failed=Message.objects.real().filter(status=MessageStatus.FAILED).count(),
        skipped=counts[MessageStatus.SKIPPED_NO_CONSENT],
        scheduled=counts[MessageStatus.SCHEDULED],
        cancelled=counts[MessageStatus.CANCELLED],
        answers={answer.value: answer_counts.get(answer.value, 0) for answer in CheckInAnswer},
        open_queue=SpecialistQueueEntry.objects.open().count(),
    )


def mail_server_refusing() -> MailServerState | None:
    """The mail server's breaker while it is refusing (the outbox waits; no attempt is spent)."""
    return MailServerState.objects.filter(refusals__gt=0).order_by("-open_until").first()


def failed_messages(limit: int = 100) -> list[Message]:
    return list(
        Message.objects.real()
        .filter(status=MessageStatus.FAILED)
        .select_related("patient", "to_user")
        .order_by("-next_attempt_at", "-id")[:limit]
    )


def patient_messages(patient_id: int, limit: int = 200) -> list[Message]:
    return list(
        Message.objects.for_patient(patient_id)
        .exclude(kind=MessageKind.SPECIALIST_ALERT)
        .select_related("checkin", "appointment_reply")
        # Every click on the message's links, so staff see a later "fine" after a "worried".
        .prefetch_related(Prefetch("clicks", queryset=LinkClick.objects.order_by("at", "pk")))
        .order_by("-due_at", "-id")[:limit]
    )


def open_queue() -> list[SpecialistQueueEntry]:
    return list(SpecialistQueueEntry.objects.open().select_related("patient", "checkin", "location"))


def open_reschedule_requests(location: Location) -> list[AppointmentReply]:
    """Patients who answered a reminder with "I need another time" and whom nobody has acted on
    yet: the appointment is still open, not moved since the answer, and not marked handled."""
    moved_since = AppointmentStatusChange.objects.filter(
        appointment=OuterRef("appointment"), old_start__isnull=False, at__gte=OuterRef("answered_at")
    )
    return list(
        AppointmentReply.objects.filter(
            answer=AppointmentReplyAnswer.RESCHEDULE,
            handled_at__isnull=True,
            appointment__location=location,
            appointment__status__in=OPEN_STATUSES,
        )
        .exclude(Exists(moved_since))
        .select_related("appointment__patient", "appointment__location")
        .order_by("appointment__start", "pk")
    )


def reschedule_requests_to_call(location: Location) -> list[PatientToCall]:
    """The front desk's worklist rows for the open reschedule requests (clinic.hooks.calls_to_make)."""
    rows = []
    for reply in open_reschedule_requests(location):
        appointment = reply.appointment
        answered = date_format(location.local(reply.answered_at), "D j M, H:i")
        rows.append(
            PatientToCall(
                patient_id=appointment.patient_id,
                patient_name=appointment.patient.full_name,
                phone=appointment.patient.phone,
                reason=_(
                    "Asked for another time (answered the reminder %(when)s). Move or cancel it, or mark it handled."
                )
                % {"when": answered},
                appointment_id=appointment.pk,
                start=location.local(appointment.start),
                handle_url=reverse("aftercare:reschedule_request_handled", args=[reply.pk]),
            )
        )
    return rows
