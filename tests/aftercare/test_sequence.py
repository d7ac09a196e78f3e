from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone

from aftercare.models import Message, MessageKind, MessageStatus, MessageTemplate
from aftercare.services import SessionFacts, aftercare_sequence_start
from clinic.models import Location, Patient
from tests.factories import LocationFactory, PatientFactory

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")
MANUAL = SessionFacts(extraction_method="manual_gauze", lesions_extracted={"closed_comedones": 12})


def start(patient: Patient, location: Location, completed_at: datetime, **kwargs: object) -> list[Message]:
    return aftercare_sequence_start(
        acting_user=None,
        patient=patient,
        location=location,
        completed_at=completed_at,
        facts=kwargs.pop("facts", MANUAL),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def by_kind(messages: list[Message]) -> dict[str, Message]:
    return {m.kind: m for m in messages}


def test_it_schedules_the_default_sequence_for_a_completed_session(location: Location) -> None:
    completed = datetime(2026, 6, 10, 15, 30, tzinfo=LONDON)
    messages = start(PatientFactory(), location, completed, source="treatment_session:1")
    kinds = by_kind(messages)
    assert set(kinds) == {
        MessageKind.AFTERCARE_RIGHT_AFTER,
        MessageKind.CHECKIN_DAY1,
        MessageKind.ACTIVES_RETURN,
        MessageKind.PROGRESS_REVIEW,
    }
    assert kinds[MessageKind.AFTERCARE_RIGHT_AFTER].due_at == completed
    assert kinds[MessageKind.CHECKIN_DAY1].due_at == datetime(2026, 6, 11, 10, 0, tzinfo=LONDON)
    assert kinds[MessageKind.ACTIVES_RETURN].due_at == datetime(2026, 6, 14, 10, 0, tzinfo=LONDON)
    # The progress review invitation falls 8-10 weeks into the programme.
    review_delay = kinds[MessageKind.PROGRESS_REVIEW].due_at - completed
    assert timedelta(weeks=8) <= review_delay <= timedelta(weeks=10)
    assert all(m.status == MessageStatus.SCHEDULED and m.attempts == 0 for m in messages)


def test_a_second_call_for_the_same_source_creates_nothing(location: Location) -> None:
    patient = PatientFactory()
    completed = timezone.now()
    first = start(patient, location, completed, source="treatment_session:7")
    second = start(patient, location, completed, source="treatment_session:7")
    assert first
    assert second == []
    assert Message.objects.filter(patient=patient).count() == len(first)


def test_without_a_source_the_completion_moment_identifies_the_session(location: Location) -> None:
    patient = PatientFactory()
    completed = timezone.now()
    assert start(patient, location, completed)
    assert start(patient, location, completed) == []


@pytest.mark.parametrize(
    ("zone", "session_day", "expected_day"),
    [
        # Spring: the clocks go forward overnight between the session and the check-in.
        ("Europe/London", date(2026, 3, 28), date(2026, 3, 29)),
        # Autumn: the clocks go back overnight.
        ("Europe/London", date(2026, 10, 24), date(2026, 10, 25)),
        ("America/New_York", date(2026, 3, 7), date(2026, 3, 8)),
        ("America/New_York", date(2026, 10, 31), date(2026, 11, 1)),
        # An ordinary day, for contrast.
        ("Europe/London", date(2026, 7, 1), date(2026, 7, 2)),
    ],
)
def test_the_day_one_check_in_is_due_at_ten_local_across_daylight_saving_changes(
    zone: str, session_day: date, expected_day: date
) -> None:
    tz = zoneinfo.ZoneInfo(zone)
    location = LocationFactory(name=f"Clinic in {zone}", time_zone=zone)
    # The session ends at 16:00 local on the eve of the change.
    with time_machine.travel(datetime.combine(session_day, time(16, 0), tzinfo=tz), tick=False):
        messages = start(PatientFactory(), location, timezone.now())
    checkin = by_kind(messages)[MessageKind.CHECKIN_DAY1]
    local = checkin.due_at.astimezone(tz)
    assert (local.date(), local.time()) == (expected_day, time(10, 0))


def test_a_lancet_and_many_pustules_adjust_the_advice(location: Location) -> None:
    facts = SessionFacts(extraction_method="lancet", lesions_extracted={"pustules": 14, "closed_comedones": 5})
    right_after = by_kind(start(PatientFactory(), location, timezone.now(), facts=facts))[
        MessageKind.AFTERCARE_RIGHT_AFTER
    ]
    assert "lancet" in right_after.body_text
    assert "inflamed spots" in right_after.body_text
    plain = by_kind(start(PatientFactory(), location, timezone.now()))[MessageKind.AFTERCARE_RIGHT_AFTER]
    assert "lancet" not in plain.body_text
    assert "inflamed spots" not in plain.body_text


def test_subjects_carry_no_clinical_detail(location: Location) -> None:
    facts = SessionFacts(extraction_method="lancet", lesions_extracted={"pustules": 30})
    messages = start(PatientFactory(), location, timezone.now(), facts=facts)
    # The check below runs per message: it must see the whole sequence, not an empty list.
    assert {m.kind for m in messages} == {
        MessageKind.AFTERCARE_RIGHT_AFTER,
        MessageKind.CHECKIN_DAY1,
        MessageKind.ACTIVES_RETURN,
        MessageKind.PROGRESS_REVIEW,
    }
    for message in messages:
        subject = message.subject.lower()
        assert not any(word in subject for word in ("lancet", "pustule", "acne", "extraction", "spot"))


def test_the_aftercare_says_extractions_are_not_a_cure(location: Location) -> None:
    kinds = by_kind(start(PatientFactory(), location, timezone.now()))
    assert "not a cure" in kinds[MessageKind.AFTERCARE_RIGHT_AFTER].body_text
    assert "home-care regimen" in kinds[MessageKind.ACTIVES_RETURN].body_text


def test_each_planned_session_gets_a_reminder_the_day_before_at_ten_local(location: Location) -> None:
    completed = datetime(2026, 6, 10, 15, 0, tzinfo=LONDON)
    planned = [datetime(2026, 7, 8, 14, 0, tzinfo=LONDON), datetime(2026, 8, 5, 9, 30, tzinfo=LONDON)]
    messages = start(PatientFactory(), location, completed, planned_sessions=planned)
    reminders = [m for m in messages if m.kind == MessageKind.SESSION_REMINDER]
    assert [m.due_at for m in reminders] == [
        datetime(2026, 7, 7, 10, 0, tzinfo=LONDON),
        datetime(2026, 8, 4, 10, 0, tzinfo=LONDON),
    ]
    assert "Wednesday 8 July at 14:00" in reminders[0].body_text


def test_the_review_invitation_goes_a_week_before_the_planned_review(location: Location) -> None:
    completed = datetime(2026, 6, 10, 15, 0, tzinfo=LONDON)
    messages = start(PatientFactory(), location, completed, review_date=date(2026, 8, 19))
    review = by_kind(messages)[MessageKind.PROGRESS_REVIEW]
    assert review.due_at == datetime(2026, 8, 12, 10, 0, tzinfo=LONDON)


def test_the_managers_edits_shape_the_next_sequence(location: Location) -> None:
    start(PatientFactory(), location, timezone.now())  # creates the default templates
    MessageTemplate.objects.filter(kind=MessageKind.CHECKIN_DAY1).update(send_time=time(18, 30), offset_days=2)
    MessageTemplate.objects.filter(kind=MessageKind.ACTIVES_RETURN).update(is_active=False)
    completed = datetime(2026, 6, 10, 15, 0, tzinfo=LONDON)
    kinds = by_kind(start(PatientFactory(), location, completed))
    assert kinds[MessageKind.CHECKIN_DAY1].due_at == datetime(2026, 6, 12, 18, 30, tzinfo=LONDON)
    assert MessageKind.ACTIVES_RETURN not in kinds


def test_every_patient_email_carries_a_signed_unsubscribe_link_and_the_check_in_its_answers(
    location: Location,
) -> None:
    messages = start(PatientFactory(), location, timezone.now())
    assert len(messages) == 4  # the whole default sequence, so the loop below checks every email
    for message in messages:
        assert "/aftercare/u/" in message.body_text
        assert "/aftercare/u/" in message.body_html
    checkin = Message.objects.get(kind=MessageKind.CHECKIN_DAY1)
    assert checkin.body_text.count("/aftercare/c/") == 3
    assert "Worried" in checkin.body_html


def test_it_refuses_a_naive_completion_time(location: Location) -> None:
    with pytest.raises(ValueError, match="aware"):
        start(PatientFactory(), location, datetime(2026, 6, 10, 15, 0))  # noqa: DTZ001
