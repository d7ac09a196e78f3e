"""What other apps call when something happens that has messages attached.

A cancellation cancels pending messages inside the caller's transaction. A booking or a
move schedules its messages right after the caller's commit: doing it inside would hold
the booking's transaction open while messages are rendered, and concurrent overlapping
bookings then deadlock in the exclusion-constraint check instead of being refused
cleanly (tests/clinic/test_booking_concurrency.py). The cost is one instant, between the
booking's commit and the messages' commit, in which a crash leaves a booking without its
confirmation and reminder; staff see it on the patient's messages.
"""

from __future__ import annotations

from django.db import transaction

from aftercare import services
from clinic.models import Appointment


def appointment_booked(*, appointment: Appointment) -> None:
    transaction.on_commit(lambda: services.booking_messages_schedule(appointment=appointment, new=True), robust=True)


def appointment_rescheduled(*, appointment: Appointment) -> None:
    transaction.on_commit(lambda: services.booking_messages_schedule(appointment=appointment), robust=True)


def appointment_cancelled(*, appointment: Appointment) -> None:
    services.booking_messages_cancel(appointment=appointment)
