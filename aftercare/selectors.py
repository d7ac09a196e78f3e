"""Read-only queries for aftercare pages (a fixed number of queries however much data there is)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery

from aftercare.models import (
    AppointmentReply,
    CheckIn,
    CheckInAnswer,
    LinkClick,
    MailServerState,
    Message,
    MessageKind,
    MessageStatus,
    SpecialistQueueEntry,
)


def latest_appointment_reply() -> Subquery:
    """The patient's latest answer to an appointment's reminder ("confirm" / "reschedule"),
    for the appointment at ``OuterRef("pk")``: the front desk's day grid shows it."""
    return Subquery(
        AppointmentReply.objects.filter(appointment=OuterRef("pk")).order_by("-answered_at").values("answer")[:1]
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
