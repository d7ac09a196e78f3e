"""Demo data: an appointment booked online, a waiting list, and a near-duplicate to check."""

from __future__ import annotations

from datetime import date, time, timedelta

from django.utils import timezone

from clinic.audit import acting_as
from clinic.booking.availability import free_slots
from clinic.booking.services import BookingRefused, appointment_book
from clinic.models import Location, Patient
from online import services
from online.models import DuplicateCandidate, HoldState, OnlineHold, WaitlistEntry


def seed() -> dict[str, int]:
    created = {"online_bookings": 0, "waitlist_entries": 0, "duplicates": 0}
    location = Location.objects.active().order_by("id").first()
    appointment_type = services.consultation_type()
    if location is None or appointment_type is None or WaitlistEntry.objects.exists():
        return created
    acting = services.online_user()
    today = location.today()
    with acting_as(acting):
        # Maya booked herself in for a consultation in three days, and confirmed from the email.
        maya = Patient.objects.create(
            first_name="Maya",
            last_name="Okafor",
            date_of_birth=date(1994, 3, 12),
            email="maya.okafor@example.com",
            phone="+447700900777",
            email_consent=True,
            email_consent_at=timezone.now(),
        )
        slots = free_slots(appointment_type=appointment_type, location=location, day=today + timedelta(days=3))
        if slots:
            try:
                appointment = appointment_book(
                    acting_user=acting,
                    patient=maya,
                    appointment_type=appointment_type,
                    practitioner=slots[0].practitioner,
                    room=slots[0].room,
                    start=slots[0].start,
                    notes=services.BOOKED_ONLINE,
                )
            except BookingRefused:
                pass
            else:
                OnlineHold.objects.create(
                    appointment=appointment,
                    email=maya.email,
                    state=HoldState.CONFIRMED,
                    expires_at=timezone.now() + timedelta(minutes=15),
                    confirmed_at=timezone.now(),
                )
                created["online_bookings"] += 1
        # Three patients wait for an earlier consultation.
        for patient in Patient.objects.exclude(pk=maya.pk).order_by("id")[:3]:
            services.waitlist_join(
                acting_user=None,
                patient=patient,
                appointment_type=appointment_type,
                location=location,
                weekdays=[],
                earliest_time=time(9),
                latest_time=time(18),
                earliest_date=today,
                latest_date=today + timedelta(days=30),
                note="Any time in the next month",
            )
            created["waitlist_entries"] += 1
        # Someone booked online as "Maya Okafor" with another email: the desk checks.
        twin = Patient.objects.create(
            first_name="Maya",
            last_name="Okafor",
            date_of_birth=date(1994, 3, 12),
            email="maya.o@example.net",
        )
        DuplicateCandidate.objects.create(
            patient=twin, similar_to=maya, reason="Same name and date of birth, different email"
        )
        created["duplicates"] += 1
    return created
