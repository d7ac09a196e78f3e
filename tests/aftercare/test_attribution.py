"""Who changed what: aftercare services record their acting user, or the system, outside any request."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
from django.utils import timezone

from aftercare.dispatcher import dispatch_due
from aftercare.models import Message, MessageStatus, MessageTemplate
from aftercare.services import (
    SessionFacts,
    aftercare_sequence_start,
    message_retry,
    message_template_update,
    message_templates_ensure_defaults,
)
from clinic.models import Location, User
from tests.aftercare.smtp_sink import Sink
from tests.factories import MessageFactory, PatientFactory

pytestmark = pytest.mark.django_db


def last_event(obj: Message | MessageTemplate) -> Any:
    events = type(obj).pgh_event_models  # type: ignore[attr-defined]
    found = [e for label in ("insert", "update") for e in events[label].objects.filter(pgh_obj=obj)]
    return max(found, key=lambda e: e.pgh_id)


def test_starting_a_sequence_from_a_command_records_the_acting_user(location: Location, aesthetician: User) -> None:
    messages = aftercare_sequence_start(
        acting_user=aesthetician,
        patient=PatientFactory(),
        location=location,
        completed_at=timezone.now(),
        facts=SessionFacts(extraction_method="manual_gauze"),
        source="treatment_session:7",
    )
    assert messages
    for message in messages:
        assert last_event(message).pgh_context.metadata["user"] == aesthetician.pk


def test_a_sequence_with_no_person_behind_it_is_attributed_to_the_system(location: Location) -> None:
    [message, *_] = aftercare_sequence_start(
        acting_user=None,
        patient=PatientFactory(),
        location=location,
        completed_at=timezone.now(),
        facts=SessionFacts(extraction_method="manual_gauze"),
        source="demo:1",
    )
    assert last_event(message).pgh_context.metadata == {"user": None, "actor": "system"}


def test_changing_a_template_outside_a_request_records_the_manager(manager: User) -> None:
    template = next(iter(message_templates_ensure_defaults().values()))
    message_template_update(
        acting_user=manager,
        template=template,
        is_active=True,
        offset_days=template.offset_days,
        send_time=time(9, 0),
        subject=template.subject,
        body_text=template.body_text,
    )
    assert last_event(template).pgh_context.metadata["user"] == manager.pk


def test_retrying_a_failed_message_records_the_manager(manager: User, django_capture_on_commit_callbacks: Any) -> None:
    message = MessageFactory(source="appointment:1", idempotency_key="a", status=MessageStatus.FAILED)
    with django_capture_on_commit_callbacks(execute=False):
        assert message_retry(acting_user=manager, message=message)
    assert last_event(message).pgh_context.metadata["user"] == manager.pk


def test_the_dispatcher_attributes_what_it_records_to_the_system(smtp: Sink) -> None:
    message = MessageFactory(source="appointment:2", idempotency_key="b")
    assert dispatch_due().sent == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert last_event(message).pgh_context.metadata == {"user": None, "actor": "system"}
