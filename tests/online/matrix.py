"""The online app's URLs in the permission matrix: public booking pages, patients' signed
links (open to anyone holding the link) and the front desk's page."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from django.utils import timezone

from online import links
from online.models import DuplicateCandidate, OnlineHold, WaitlistEntry, WaitlistOffer
from tests.factories import PatientFactory
from tests.matrix import OK, REDIRECT, Row, everyone, only

PUBLIC = dict.fromkeys(("front_desk", "specialist", "aesthetician", "manager", "outsider", "anonymous"), OK)
PUBLIC_REDIRECT = dict.fromkeys(PUBLIC, REDIRECT)


def online_world(world: dict[str, Any]) -> dict[str, Any]:
    """A hold, a waitlist offer and a duplicate candidate for the online URLs."""
    appointment = world["appointment"]
    hold = OnlineHold.objects.create(
        appointment=appointment, email=world["patient"].email, expires_at=timezone.now() + timedelta(minutes=15)
    )
    today = timezone.localdate()
    entry = WaitlistEntry.objects.create(
        patient=world["patient"],
        appointment_type=appointment.appointment_type,
        location=appointment.location,
        earliest_time=time(8),
        latest_time=time(20),
        earliest_date=today,
        latest_date=today + timedelta(days=30),
    )
    offer = WaitlistOffer.objects.create(
        entry=entry,
        slot_key="matrix",
        appointment_type=appointment.appointment_type,
        practitioner=appointment.practitioner,
        room=appointment.room,
        start=appointment.start + timedelta(days=2),
        end=appointment.end + timedelta(days=2),
        expires_at=timezone.now() + timedelta(hours=2),
    )
    duplicate = DuplicateCandidate.objects.create(patient=PatientFactory(), similar_to=world["patient"], reason="test")
    return {
        "hold_token": links.hold_path(hold.pk),
        "manage_path": links.manage_path(appointment_id=appointment.pk, patient_id=appointment.patient_id),
        "offer_path": links.offer_path(offer.pk),
        "duplicate": duplicate,
    }


ROWS: dict[str, Row] = {
    "online:book": Row("get", lambda w: "/book/central/", PUBLIC),
    "online:book_details": Row("get", lambda w: "/book/central/time/", PUBLIC_REDIRECT),
    "online:book_sent": Row("get", lambda w: "/book/central/sent/", PUBLIC),
    "online:waitlist_join": Row("get", lambda w: "/book/central/waitlist/", PUBLIC),
    "online:confirm": Row("get", lambda w: w["hold_token"], PUBLIC),
    "online:manage": Row("get", lambda w: w["manage_path"], PUBLIC),
    # Less than the cut-off before the appointment: the move page sends back to the manage page.
    "online:manage_move": Row("get", lambda w: w["manage_path"] + "move/", PUBLIC_REDIRECT),
    "online:offer": Row("get", lambda w: w["offer_path"], PUBLIC),
    "online:front_desk": Row("get", lambda w: "/front-desk/online/", only("front_desk")),
    "online:waitlist_add": Row("get", lambda w: f"/front-desk/online/waitlist/{w['patient'].pk}/", only("front_desk")),
    "online:duplicate_resolve": Row(
        "post",
        lambda w: f"/front-desk/online/duplicates/{w['duplicate'].pk}/resolve/",
        only("front_desk", status=REDIRECT),
    ),
}

__all__ = ["ROWS", "everyone", "online_world"]
