"""The iCalendar (RFC 5545) event attached to a booking confirmation."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.utils import timezone


def appointment_event(*, uid: str, start: datetime, end: datetime, summary: str, location: str, sequence: int) -> str:
    """One VEVENT in a PUBLISH calendar, its times in UTC.

    The UID stays the same for the life of the appointment and SEQUENCE counts its moves, so a
    calendar that imported the first confirmation updates that event instead of adding another.
    The library escapes the text values and folds lines at 75 octets without splitting a character.
    """
    host = urlsplit(settings.SITE_URL).hostname or "clinic.invalid"
    calendar = icalendar.Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Clinic//EN")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"{uid}@{host}")
    event.add("sequence", sequence)
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("dtstart", start.astimezone(UTC))
    event.add("dtend", end.astimezone(UTC))
    event.add("summary", summary)
    event.add("location", location)
    calendar.add_component(event)
    # sorted=False keeps the properties in the order written above (the order the hand-written
    # version used), so a stored attachment and a new one differ only in their values.
    return calendar.to_ical(sorted=False).decode()
