"""Demo data: a waiting list with a few patients and an offer already answered."""

from __future__ import annotations

from datetime import time, timedelta

from clinic.models import Location, Patient
from online import services
from online.models import WaitlistEntry


def seed() -> dict[str, int]:
    created = {"waitlist_entries": 0}
    location = Location.objects.active().first()
    appointment_type = services.consultation_type()
    if location is None or appointment_type is None or WaitlistEntry.objects.exists():
        return created
    today = location.today()
    for patient in Patient.objects.order_by("id")[:3]:
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
    return created
