"""Render a message once, when it is scheduled: what is stored is exactly what is sent."""

from __future__ import annotations

import string
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from aftercare import links
from aftercare.models import CHECKIN_KINDS, REMINDER_KINDS, AppointmentReplyAnswer, CheckInAnswer, MessageKind


@dataclass(frozen=True)
class Rendered:
    subject: str
    body_text: str
    body_html: str


@dataclass(frozen=True)
class Action:
    label: str
    url: str


@dataclass(frozen=True)
class Content:
    subject: str
    paragraphs: list[str]
    actions: list[Action] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)
    unsubscribe_url: str | None = None
    # How to reach the clinic, in hours and out of hours: the foot of every patient email.
    contact: list[str] = field(default_factory=list)


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def fill(text: str, values: dict[str, str]) -> str:
    # string.Template, not the Django template engine: manager-edited text can only
    # substitute the named values, never reach objects or tags.
    return string.Template(text).safe_substitute(values)


def unknown_placeholders(text: str, allowed: set[str]) -> set[str]:
    found = set()
    for match in string.Template.pattern.finditer(text):
        name = match.group("named") or match.group("braced")
        if name and name not in allowed:
            found.add(name)
        if match.group("invalid") is not None:
            found.add("$")
    return found


def checkin_actions(token: uuid.UUID) -> list[Action]:
    return [Action(str(answer.label), absolute(links.checkin_path(token, answer))) for answer in CheckInAnswer]


def booking_actions(token: uuid.UUID) -> list[Action]:
    return [
        Action(_("Yes, I will be there"), absolute(links.booking_path(token, AppointmentReplyAnswer.CONFIRM))),
        Action(_("I need another time"), absolute(links.booking_path(token, AppointmentReplyAnswer.RESCHEDULE))),
    ]


def render(content: Content) -> Rendered:
    text_parts = [*content.paragraphs]
    if content.advice:
        text_parts.append("\n".join(f"- {line}" for line in content.advice))
    for action in content.actions:
        text_parts.append(f"{action.label}: {action.url}")
    text_parts.append(_("With best wishes,\n%(clinic)s") % {"clinic": settings.CLINIC_NAME})
    if content.contact:
        text_parts.append("\n".join(content.contact))
    if content.unsubscribe_url:
        text_parts.append(_("To stop these emails: %(url)s") % {"url": content.unsubscribe_url})
    html = render_to_string(
        "aftercare/email/message.html",
        {
            "subject": one_line(content.subject),
            "paragraphs": content.paragraphs,
            "advice": content.advice,
            "actions": content.actions,
            "unsubscribe_url": content.unsubscribe_url,
            "contact": content.contact,
            "clinic_name": settings.CLINIC_NAME,
        },
    )
    return Rendered(subject=one_line(content.subject)[:200], body_text="\n\n".join(text_parts), body_html=html)


def one_line(text: str) -> str:
    """``text`` with every run of whitespace and control characters made one space.

    A subject filled from a template or a patient's name must never carry CR or LF into the
    mail headers, whatever was stored before the form refused them.
    """
    printable = "".join(char if char.isprintable() else " " for char in text)
    return " ".join(printable.split())


def paragraphs(text: str) -> list[str]:
    return [block.strip() for block in text.replace("\r\n", "\n").split("\n\n") if block.strip()]


def sequence_content(
    *,
    kind: MessageKind,
    subject: str,
    body_text: str,
    values: dict[str, str],
    token: uuid.UUID,
    advice: list[str],
    contact: list[str] | None = None,
    extra_actions: Sequence[Action] = (),
) -> Content:
    actions: list[Action] = []
    if kind in CHECKIN_KINDS:
        actions = checkin_actions(token)
    elif kind in REMINDER_KINDS:
        actions = booking_actions(token)
    return Content(
        subject=fill(subject, values),
        paragraphs=paragraphs(fill(body_text, values)),
        actions=[*actions, *extra_actions],
        advice=advice,
        unsubscribe_url=absolute(links.unsubscribe_path(token)),
        contact=contact or [],
    )
