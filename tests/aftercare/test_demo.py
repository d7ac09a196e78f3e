from __future__ import annotations

import pytest

from aftercare import demo
from aftercare.models import Message, MessageKind, MessageStatus, SpecialistQueueEntry
from clinic import demo as clinic_demo

pytestmark = pytest.mark.django_db


def test_the_demo_shows_aftercare_in_use_and_a_second_run_adds_nothing() -> None:
    clinic_demo.seed()
    first = demo.seed()
    assert first["aftercare_messages"] > 20
    assert first["queue_entries"] == 1
    statuses = set(Message.objects.values_list("status", flat=True))
    assert {
        MessageStatus.SENT,
        MessageStatus.SCHEDULED,
        MessageStatus.FAILED,
        MessageStatus.SKIPPED_NO_CONSENT,
    } <= statuses
    count = Message.objects.count()
    assert demo.seed() == {"aftercare_messages": 0, "checkins": 0, "queue_entries": 0}
    assert Message.objects.count() == count
    assert SpecialistQueueEntry.objects.open().count() == 1


def test_the_demo_shows_aftercare_adapting_to_cautions_and_answers() -> None:
    clinic_demo.seed()
    demo.seed()
    chloe = Message.objects.filter(patient__first_name="Chloé")
    assert chloe.get(kind=MessageKind.ACTIVES_RETURN).status == MessageStatus.CANCELLED
    assert chloe.get(kind=MessageKind.ACTIVES_WAIT).status == MessageStatus.SCHEDULED
    assert "ibuprofen or acetaminophen" not in chloe.get(kind=MessageKind.AFTERCARE_RIGHT_AFTER).body_text
    assert Message.objects.filter(patient__first_name="Eva", kind=MessageKind.CHECKIN_DAY3).exists()


def test_the_demo_has_a_reschedule_request_on_the_front_desks_worklist() -> None:
    from aftercare.selectors import open_reschedule_requests
    from clinic.models import Location

    clinic_demo.seed()
    demo.seed()
    demo.seed()
    location = Location.objects.active().first()
    assert location is not None
    [request] = open_reschedule_requests(location)
    assert request.appointment.start > request.answered_at
