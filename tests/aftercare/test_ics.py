"""The calendar file of a booking confirmation, read back as a calendar application would."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.test import override_settings

from aftercare.ics import appointment_event

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def event(
    *,
    summary: str = "Appointment at Clearwater Skin Clinic",
    location: str = "Central, 12 Harbour Street, London",
    sequence: int = 0,
) -> str:
    with time_machine.travel(NOW, tick=False):
        return appointment_event(
            uid="appointment-7",
            start=datetime(2026, 7, 6, 14, 0, tzinfo=LONDON),  # summer time: UTC+1
            end=datetime(2026, 7, 6, 15, 0, tzinfo=LONDON),
            summary=summary,
            location=location,
            sequence=sequence,
        )


def parse(text: str) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(text)
    [only] = calendar.events
    return calendar, only


@override_settings(SITE_URL="https://clinic.example.com")
def test_it_publishes_one_event_named_by_the_appointment_and_the_site_host() -> None:
    calendar, found = parse(event(sequence=3))
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(found["UID"]) == "appointment-7@clinic.example.com"
    assert found["SEQUENCE"] == 3
    assert found.decoded("DTSTAMP") == NOW


def test_it_writes_the_times_in_utc() -> None:
    text = event()
    _, found = parse(text)
    assert found.decoded("DTSTART") == datetime(2026, 7, 6, 13, 0, tzinfo=UTC)
    assert found.decoded("DTEND") == datetime(2026, 7, 6, 14, 0, tzinfo=UTC)
    assert found.decoded("DTSTART").utcoffset().total_seconds() == 0
    # Floating local times would show at the wrong hour in another zone: UTC ("Z") it is.
    assert "DTSTART:20260706T130000Z\r\n" in text
    assert "DTEND:20260706T140000Z\r\n" in text


def test_it_escapes_text_so_the_values_read_back_unchanged() -> None:
    location = "Central; 2nd floor, Harbour St\\Quay\nLondon"
    _, found = parse(event(location=location, summary="Séance, d'extraction; 60 min"))
    assert str(found["LOCATION"]) == location
    assert str(found["SUMMARY"]) == "Séance, d'extraction; 60 min"
    assert "LOCATION:Central\\; 2nd floor\\, Harbour St\\\\Quay\\nLondon" in event(location=location)


@pytest.mark.parametrize("summary", ["Appointment at the clinic " * 8, "Rendez-vous à la clinique ésthétique " * 6])
def test_it_folds_long_lines_at_75_octets_without_splitting_a_character(summary: str) -> None:
    text = event(summary=summary)
    assert text.endswith("\r\n")
    physical = text.encode().split(b"\r\n")[:-1]
    assert any(line.startswith(b" ") for line in physical), "a long SUMMARY must be folded"
    for line in physical:
        assert len(line) <= 75
        line.decode()  # each folded piece is whole UTF-8: no character was cut in two
    _, found = parse(text)
    assert str(found["SUMMARY"]) == summary
