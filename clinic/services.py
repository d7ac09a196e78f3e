"""Workflows of the clinic core. Each owns its transaction and takes the acting user."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinic.models import AccessEvent, Heartbeat, Patient, User


def patient_record_access(*, acting_user: User, patient: Patient, request: HttpRequest, page: str) -> AccessEvent:
    """Record that ``acting_user`` read ``patient``'s record on ``page``.

    Every view that shows a patient's record calls this, so the clinic can answer
    "who looked at this record, and when" (the access audit).
    """
    return AccessEvent.objects.create(
        user_id=acting_user.pk,
        patient_id=patient.pk,
        page=page[:200],
        path=request.get_full_path()[:500],
    )


def heartbeat_beat(*, name: str) -> None:
    """Record that the background process ``name`` is alive now."""
    with transaction.atomic():
        Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})
