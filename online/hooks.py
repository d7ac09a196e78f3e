"""What the clinic core calls in this app (registered in apps.OnlineConfig.ready)."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef
from django.db.models.expressions import BaseExpression

from clinic.models import Appointment, AppointmentStatusChange, User
from online import tasks
from online.models import HoldState, OnlineHold
from online.services import BOOKED_ONLINE, ONLINE_USERNAME, self_service_path


def booked_online() -> BaseExpression:
    """Whether the patient booked the appointment themselves: made by the online account
    (holds, confirmed bookings, waitlist acceptances, plan sessions taken from an offer)."""
    return Exists(User.objects.filter(pk=OuterRef("created_by_id"), username=ONLINE_USERNAME))


def awaiting_confirmation(appointment: Appointment) -> bool:
    # The desk's bookings never start with this note: no query on their path.
    if not appointment.notes.startswith(BOOKED_ONLINE):
        return False
    return OnlineHold.objects.filter(appointment_id=appointment.pk, state=HoldState.HELD).exists()


def appointment_cancelled(*, appointment: Appointment) -> None:
    """A cancelled appointment frees its time: offer it to the waitlist after the commit."""
    tasks.offer_freed_slot.delay_on_commit(appointment.pk, appointment.start.isoformat())


def appointment_moved(*, appointment: Appointment) -> None:
    """A moved appointment frees its old time (kept on the change row just written)."""
    old_start = (
        AppointmentStatusChange.objects.filter(appointment_id=appointment.pk, old_start__isnull=False)
        .exclude(old_start=F("new_start"))
        .order_by("-id")
        .values_list("old_start", flat=True)
        .first()
    )
    if old_start is not None:
        tasks.offer_freed_slot.delay_on_commit(appointment.pk, old_start.isoformat())


__all__ = [
    "appointment_cancelled",
    "appointment_moved",
    "awaiting_confirmation",
    "booked_online",
    "self_service_path",
]
