"""What other apps call when something happens that has messages attached.

A cancellation cancels pending messages inside the caller's transaction. A booking or a
move schedules its messages right after the caller's commit: doing it inside would hold
the booking's transaction open while messages are rendered, and concurrent overlapping
bookings then deadlock in the exclusion-constraint check instead of being refused
cleanly (tests/clinic/test_booking_concurrency.py). A crash between the booking's commit
and the messages' commit leaves a new booking without its confirmation and reminder for
a few minutes: the sweeper (``services.booking_messages_sweep``, in the beat schedule)
finds it and writes them. A move caught by such a crash keeps its old messages.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction

from aftercare import services
from clinic import hooks as clinic_hooks
from clinic.models import Appointment, Location, Patient


def appointment_booked(*, appointment: Appointment) -> None:
    def write() -> None:
        # A slot held from the public booking page gets its messages when the patient confirms
        # (online.services.online_hold_confirm); released unconfirmed, it never gets any. Asked
        # after the commit: the hold is written in the booking's transaction, after this call.
        if clinic_hooks.appointment_awaits_confirmation(appointment):
            return
        services.booking_messages_schedule(appointment=appointment, new=True)

    transaction.on_commit(write, robust=True)


def appointment_rescheduled(*, appointment: Appointment) -> None:
    transaction.on_commit(lambda: services.booking_messages_schedule(appointment=appointment), robust=True)


def appointment_cancelled(*, appointment: Appointment) -> None:
    services.booking_messages_cancel(appointment=appointment)


def appointment_status_changed(*, appointment: Appointment) -> None:
    services.booking_reminders_withdraw(appointment=appointment)


def patient_deferred(
    *, patient: Patient, location: Location, recheck_on: date | None, meanwhile: list[str], source: str
) -> None:
    """A signed consultation deferred the patient: the "meanwhile" advice, written with the signing."""
    services.deferral_advice_send(
        patient=patient, location=location, recheck_on=recheck_on, meanwhile=meanwhile, source=source
    )
