"""What other apps call when something happens that has messages attached.

The booking services (clinic/services.py) call these inside their own transactions, so
the outbox rows commit together with the booking.
"""

from __future__ import annotations

from aftercare import services
from clinic.models import Appointment


def appointment_booked(*, appointment: Appointment) -> None:
    services.booking_messages_schedule(appointment=appointment)


def appointment_rescheduled(*, appointment: Appointment) -> None:
    services.booking_messages_schedule(appointment=appointment)


def appointment_cancelled(*, appointment: Appointment) -> None:
    services.booking_messages_cancel(appointment=appointment)
