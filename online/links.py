"""Signed links in online-booking emails: confirm a hold, manage an appointment, accept an offer.

Each kind has its own salt (a token made for one purpose opens nothing else) and its own
age limit. One use is enforced by the state the link acts on: a confirmed hold stays
confirmed, an answered offer stays answered. A bad, tampered or expired token reads as
``None`` and the page says only that the link cannot be used.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

HOLD_SALT = "online.hold.v1"
MANAGE_SALT = "online.manage.v1"
OFFER_SALT = "online.offer.v1"

# A patient manages an appointment from its emails until it happens; bookings are made at
# most a few months ahead.
MANAGE_MAX_AGE = timedelta(days=180)


def _dumps(salt: str, **ids: int) -> str:
    return signing.dumps(ids, salt=salt, compress=True)


def _loads(token: str, *, salt: str, max_age: timedelta, keys: tuple[str, ...]) -> dict[str, int] | None:
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
    except (signing.BadSignature, ValueError):  # SignatureExpired is a BadSignature
        return None
    if not isinstance(data, dict):
        return None
    values = {key: data.get(key) for key in keys}
    # A bool is an int to Python; a number past bigint fails in the query: neither opens anything.
    if not all(type(value) is int and 0 < value < 2**63 for value in values.values()):
        return None
    return values  # type: ignore[return-value]


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def hold_path(hold_id: int) -> str:
    return reverse("online:confirm", args=[_dumps(HOLD_SALT, h=hold_id)])


def read_hold_token(token: str) -> int | None:
    # The hold expires on its own clock (expires_at); the link lives a little longer so a late
    # click says "expired" rather than "cannot be used".
    data = _loads(token, salt=HOLD_SALT, max_age=timedelta(minutes=settings.ONLINE_HOLD_MINUTES + 60), keys=("h",))
    return data["h"] if data else None


def manage_path(*, appointment_id: int, patient_id: int) -> str:
    return reverse("online:manage", args=[_dumps(MANAGE_SALT, a=appointment_id, p=patient_id)])


def read_manage_token(token: str) -> tuple[int, int] | None:
    data = _loads(token, salt=MANAGE_SALT, max_age=MANAGE_MAX_AGE, keys=("a", "p"))
    return (data["a"], data["p"]) if data else None


def offer_path(offer_id: int) -> str:
    return reverse("online:offer", args=[_dumps(OFFER_SALT, o=offer_id)])


def read_offer_token(token: str) -> int | None:
    data = _loads(token, salt=OFFER_SALT, max_age=timedelta(minutes=settings.ONLINE_OFFER_MINUTES + 60), keys=("o",))
    return data["o"] if data else None
