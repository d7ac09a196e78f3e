from __future__ import annotations

import pytest
import time_machine

from aftercare import demo
from aftercare.models import AppointmentReply, Message, MessageKind, MessageStatus, SpecialistQueueEntry
from clinic import demo as clinic_demo
from treatments import demo as treatments_demo

pytestmark = pytest.mark.django_db


@time_machine.travel("2026-12-02 11:30:00+00:00", tick=True)  # a working morning: see test below
def test_the_demo_shows_aftercare_in_use_and_a_second_run_adds_nothing() -> None:
    clinic_demo.seed()
    treatments_demo.seed()
    first = demo.seed()
    assert first == {"reschedule_requests": 1}
    assert Message.objects.filter(kind=MessageKind.AFTERCARE_RIGHT_AFTER).count() >= 7
    assert SpecialistQueueEntry.objects.open().count() == 1
    statuses = set(Message.objects.values_list("status", flat=True))
    assert {
        MessageStatus.SENT,
        MessageStatus.SCHEDULED,
        MessageStatus.FAILED,
        MessageStatus.SKIPPED_NO_CONSENT,
        MessageStatus.CANCELLED,
    } <= statuses
    count = Message.objects.count()
    assert demo.seed() == {"reschedule_requests": 0}
    assert treatments_demo.seed()["sessions"] == 0
    assert Message.objects.count() == count
    assert AppointmentReply.objects.count() == 1


# A Wednesday in December (London is on UTC): today's later visits are kept, so the request is
# on Thursday's first booking (10:30), whose reminder went out this morning (a day ahead) -
# the same story before noon and in the afternoon.
@pytest.mark.parametrize(("now", "expected_day"), [("2026-12-02 11:30:00+00:00", 3), ("2026-12-02 15:00:00+00:00", 3)])
def test_the_demo_has_a_reschedule_request_on_the_front_desks_worklist(now: str, expected_day: int) -> None:
    from aftercare.selectors import open_reschedule_requests
    from clinic.models import Location

    with time_machine.travel(now, tick=False):
        clinic_demo.seed()
        demo.seed()
        demo.seed()
        location = Location.objects.active().first()
        assert location is not None
        [request] = open_reschedule_requests(location)
    assert location.local(request.appointment.start).day == expected_day
    assert request.appointment.start > request.answered_at
    # The reminder it answers is the appointment's own, as the booking messages write it.
    assert request.message.source == f"appointment:{request.appointment.pk}"
    assert request.message.sent_at is not None
    assert request.message.sent_at < request.answered_at
