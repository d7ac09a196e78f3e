"""The pre-visit questionnaire link: signed, expiring, and naming nothing but an appointment id.

``django.core.signing`` with its own salt, so a token made for anything else never opens it,
and ``max_age`` so an old link stops working. A tampered or expired token reads as ``None``:
the page then says only that the link cannot be used.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "consultations.questionnaire.v1"
MAX_AGE = timedelta(days=21)


def questionnaire_token(*, appointment_id: int) -> str:
    return signing.dumps({"appointment": appointment_id}, salt=SALT, compress=True)


def questionnaire_appointment_id(token: str) -> int | None:
    """The appointment id the token was made for, or None when tampered with or expired."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except (signing.BadSignature, ValueError):  # SignatureExpired is a BadSignature
        return None
    appointment_id = payload.get("appointment") if isinstance(payload, dict) else None
    # A validly signed payload of another shape (a bool is an int to Python; a number past
    # bigint fails in the query) reads as a link that cannot be used, never a server error.
    if type(appointment_id) is not int or not 0 < appointment_id < 2**63:
        return None
    return appointment_id


def questionnaire_url(*, appointment_id: int) -> str:
    path = reverse("consultations:questionnaire", args=[questionnaire_token(appointment_id=appointment_id)])
    return f"{settings.SITE_URL}{path}"
