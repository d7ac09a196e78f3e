"""Signed links in patients' emails: check-in answers and unsubscribe.

Each kind of link has its own salt, so a token made for one purpose is useless for
another; each expires. A bad, tampered or expired token yields ``None`` and the view
shows one plain page that says nothing about why.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.urls import reverse

from aftercare.models import AppointmentReplyAnswer, CheckInAnswer

CHECKIN_SALT = "aftercare.checkin.v1"
BOOKING_SALT = "aftercare.booking.v1"
UNSUBSCRIBE_SALT = "aftercare.unsubscribe.v1"

# Counted from when the message was rendered (the session), so a day-1 check-in stays
# answerable for about two weeks.
CHECKIN_MAX_AGE = timedelta(days=14)
# Unsubscribe must keep working for as long as any message we sent might be read; the
# progress review invitation goes out ~9 weeks after it is rendered.
UNSUBSCRIBE_MAX_AGE = timedelta(days=400)


@dataclass(frozen=True)
class CheckInLink:
    message_token: uuid.UUID
    answer: CheckInAnswer


def checkin_token(message_token: uuid.UUID, answer: CheckInAnswer) -> str:
    return signing.dumps({"m": str(message_token), "a": answer.value}, salt=CHECKIN_SALT, compress=True)


def checkin_path(message_token: uuid.UUID, answer: CheckInAnswer) -> str:
    return reverse("aftercare:checkin", args=[checkin_token(message_token, answer)])


def read_checkin_token(token: str) -> CheckInLink | None:
    try:
        data = signing.loads(token, salt=CHECKIN_SALT, max_age=CHECKIN_MAX_AGE)
        return CheckInLink(message_token=uuid.UUID(data["m"]), answer=CheckInAnswer(data["a"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def unsubscribe_token(message_token: uuid.UUID) -> str:
    return signing.dumps({"m": str(message_token)}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_path(message_token: uuid.UUID) -> str:
    return reverse("aftercare:unsubscribe", args=[unsubscribe_token(message_token)])


def read_unsubscribe_token(token: str) -> uuid.UUID | None:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE)
        return uuid.UUID(data["m"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


# A reminder goes out a day or so before; the answer is useful until the appointment.
BOOKING_MAX_AGE = timedelta(days=30)


@dataclass(frozen=True)
class BookingLink:
    message_token: uuid.UUID
    answer: AppointmentReplyAnswer


def booking_path(message_token: uuid.UUID, answer: AppointmentReplyAnswer) -> str:
    token = signing.dumps({"m": str(message_token), "a": answer.value}, salt=BOOKING_SALT, compress=True)
    return reverse("aftercare:appointment_reply", args=[token])


def read_booking_token(token: str) -> BookingLink | None:
    try:
        data = signing.loads(token, salt=BOOKING_SALT, max_age=BOOKING_MAX_AGE)
        return BookingLink(message_token=uuid.UUID(data["m"]), answer=AppointmentReplyAnswer(data["a"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
