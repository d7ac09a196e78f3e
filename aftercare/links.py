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


def _signed_fields(token: str, *, salt: str, max_age: timedelta, keys: tuple[str, ...]) -> dict[str, str] | None:
    """The payload's ``keys`` as strings, or None for a bad, expired or wrongly shaped token.

    A valid signature says who made the token, not that its payload has today's shape (an
    older version, or a token of ours signed with a reused salt): each field is checked.
    """
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
    except (signing.BadSignature, ValueError):
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(key), str) for key in keys):
        return None
    return {key: data[key] for key in keys}


def _message_token(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def read_checkin_token(token: str) -> CheckInLink | None:
    data = _signed_fields(token, salt=CHECKIN_SALT, max_age=CHECKIN_MAX_AGE, keys=("m", "a"))
    message_token = _message_token(data["m"]) if data else None
    if data is None or message_token is None or data["a"] not in CheckInAnswer.values:
        return None
    return CheckInLink(message_token=message_token, answer=CheckInAnswer(data["a"]))


def unsubscribe_token(message_token: uuid.UUID) -> str:
    return signing.dumps({"m": str(message_token)}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_path(message_token: uuid.UUID) -> str:
    return reverse("aftercare:unsubscribe", args=[unsubscribe_token(message_token)])


def read_unsubscribe_token(token: str) -> uuid.UUID | None:
    data = _signed_fields(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE, keys=("m",))
    return _message_token(data["m"]) if data else None


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
    data = _signed_fields(token, salt=BOOKING_SALT, max_age=BOOKING_MAX_AGE, keys=("m", "a"))
    message_token = _message_token(data["m"]) if data else None
    if data is None or message_token is None or data["a"] not in AppointmentReplyAnswer.values:
        return None
    return BookingLink(message_token=message_token, answer=AppointmentReplyAnswer(data["a"]))
