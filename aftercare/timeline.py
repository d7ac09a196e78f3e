"""Aftercare's entries on the patient's timeline (clinic.hooks.patient_timeline): every
message with its full text, every click on a patient's link, the specialist queue's outcomes."""

from __future__ import annotations

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from aftercare.models import LinkAction, LinkClick, Message, MessageKind, SpecialistQueueEntry
from clinic.field_groups import FieldGroup
from clinic.hooks import TimelineEntry, TimelineKind
from clinic.models import Patient

LIMIT = 200

_CLICK_KIND = {
    LinkAction.CHECKIN: (TimelineKind.CHECKIN, FieldGroup.CHECKIN_ANSWERS),
    LinkAction.CHECKIN_NOTE: (TimelineKind.CHECKIN, FieldGroup.CHECKIN_ANSWERS),
    LinkAction.APPOINTMENT_REPLY: (TimelineKind.REPLY, FieldGroup.SCHEDULING),
    LinkAction.UNSUBSCRIBE: (TimelineKind.MESSAGE, FieldGroup.MESSAGE_CONTENTS),
}


def _messages(patient: Patient) -> list[TimelineEntry]:
    rows = (
        Message.objects.for_patient(patient.pk)
        .real()
        .exclude(kind=MessageKind.SPECIALIST_ALERT)
        .only("kind", "status", "due_at", "sent_at", "subject", "body_text", "last_error", "cancelled_reason")
        .order_by("-due_at", "-id")[:LIMIT]
    )
    entries = []
    for message in rows:
        if message.sent_at is not None:
            detail = _("Sent %(at)s") % {"at": date_format(message.sent_at, "j M Y, H:i")}
        else:
            detail = str(message.get_status_display())
        why = message.cancelled_reason or message.last_error
        entries.append(
            TimelineEntry(
                at=message.sent_at or message.due_at,
                kind=TimelineKind.MESSAGE,
                group=FieldGroup.MESSAGE_CONTENTS,
                title=str(message.get_kind_display()),
                detail=detail,
                lines=(why,) if why else (),
                content=f"{message.subject}\n\n{message.body_text}",
            )
        )
    return entries


def _clicks(patient: Patient, kinds: frozenset[TimelineKind], groups: frozenset[str]) -> list[TimelineEntry]:
    actions = [action for action, (kind, group) in _CLICK_KIND.items() if kind in kinds and group in groups]
    if not actions:
        return []
    rows = (
        LinkClick.objects.filter(patient=patient, action__in=actions)
        .select_related("message")
        .only("action", "answer", "note", "outcome", "at", "message__kind")
        .order_by("-at", "-id")[:LIMIT]
    )
    entries = []
    for click in rows:
        kind, group = _CLICK_KIND[LinkAction(click.action)]
        lines = tuple(line for line in (click.note,) if line)
        entries.append(
            TimelineEntry(
                at=click.at,
                kind=kind,
                group=group,
                title=f"{click.get_action_display()}: {click.answer.replace('_', ' ')}"
                if click.answer
                else str(click.get_action_display()),
                detail=_("%(outcome)s · from “%(message)s”")
                % {"outcome": click.get_outcome_display(), "message": click.message.get_kind_display()},
                lines=lines,
            )
        )
    return entries


def _queue(patient: Patient) -> list[TimelineEntry]:
    rows = SpecialistQueueEntry.objects.filter(patient=patient).select_related("resolved_by").order_by("-created_at")
    entries = []
    for entry in rows[:LIMIT]:
        if entry.resolved_at is not None:
            by = entry.resolved_by.display_name if entry.resolved_by else ""
            entries.append(
                TimelineEntry(
                    at=entry.resolved_at,
                    kind=TimelineKind.QUEUE,
                    group=FieldGroup.CHECKIN_ANSWERS,
                    title=_("Specialist queue: resolved"),
                    detail=by,
                    lines=(entry.resolution,) if entry.resolution else (),
                )
            )
        entries.append(
            TimelineEntry(
                at=entry.created_at,
                kind=TimelineKind.QUEUE,
                group=FieldGroup.CHECKIN_ANSWERS,
                title=_("On the specialist's queue (worried check-in)"),
            )
        )
    return entries


def entries(*, patient: Patient, kinds: frozenset[TimelineKind], groups: frozenset[str]) -> list[TimelineEntry]:
    found: list[TimelineEntry] = []
    if TimelineKind.MESSAGE in kinds and FieldGroup.MESSAGE_CONTENTS in groups:
        found += _messages(patient)
    found += _clicks(patient, kinds, groups)
    if TimelineKind.QUEUE in kinds and FieldGroup.CHECKIN_ANSWERS in groups:
        found += _queue(patient)
    return found
