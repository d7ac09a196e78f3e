"""The dispatcher in-process, against a real SMTP server on loopback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from aftercare.dispatcher import dispatch_due
from aftercare.models import Message, MessageKind, MessageStatus
from aftercare.services import messages_cancel_for_source
from clinic.health import DISPATCHER_HEARTBEAT
from clinic.models import Heartbeat
from tests.aftercare.conftest import smtp_mailers
from tests.aftercare.smtp_sink import Sink, free_port
from tests.factories import MessageFactory, PatientFactory

pytestmark = pytest.mark.django_db


def test_it_sends_a_due_message_as_html_and_text_with_a_stable_message_id(smtp: Sink) -> None:
    message = MessageFactory()
    result = dispatch_due()
    assert result.sent == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.attempts == 1
    assert message.sent_at is not None
    [received] = smtp.received
    assert received["Message-ID"] == message.message_id
    assert received["To"] == message.patient.email
    assert received["List-Unsubscribe"].startswith("<http")
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    types = {part.get_content_type() for part in received.walk()}
    assert {"text/plain", "text/html"} <= types


def test_it_leaves_messages_that_are_not_yet_due(smtp: Sink) -> None:
    later = MessageFactory(due_at=timezone.now() + timedelta(minutes=5))
    assert dispatch_due().sent == 0
    later.refresh_from_db()
    assert later.status == MessageStatus.SCHEDULED
    assert smtp.received == []


def test_a_patient_without_consent_is_skipped_never_sent(smtp: Sink) -> None:
    message = MessageFactory(patient=PatientFactory(email_consent=False))
    result = dispatch_due()
    assert result.skipped == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SKIPPED_NO_CONSENT
    assert smtp.received == []


def test_consent_withdrawn_after_scheduling_is_honoured_at_send_time(smtp: Sink) -> None:
    message = MessageFactory()
    message.patient.email_consent = False
    message.patient.save()
    dispatch_due()
    message.refresh_from_db()
    assert message.status == MessageStatus.SKIPPED_NO_CONSENT
    assert smtp.received == []


def test_a_cancelled_source_cancels_its_pending_messages_only(smtp: Sink) -> None:
    sent = MessageFactory(
        source="appointment:9", idempotency_key="a", status=MessageStatus.SENT, sent_at=timezone.now()
    )
    pending = MessageFactory(source="appointment:9", idempotency_key="b", due_at=timezone.now() + timedelta(days=1))
    assert messages_cancel_for_source(source="appointment:9", reason="Appointment cancelled") == 1
    pending.refresh_from_db()
    sent.refresh_from_db()
    assert pending.status == MessageStatus.CANCELLED
    assert sent.status == MessageStatus.SENT


@override_settings(MAILERS=smtp_mailers(free_port()), AFTERCARE_RETRY_BASE_SECONDS=60)
def test_an_unreachable_mail_server_counts_an_attempt_and_backs_off() -> None:
    first, second = MessageFactory(), MessageFactory()
    before = timezone.now()
    result = dispatch_due()
    assert result.retrying == 1  # the run stops at the first refused connection
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == MessageStatus.SCHEDULED
    assert first.attempts == 1
    assert "Connection refused" in first.last_error or "Errno" in first.last_error
    assert first.next_attempt_at >= before + timedelta(seconds=60)
    assert second.attempts == 0  # untouched: its attempts are kept for when the server is back


@override_settings(MAILERS=smtp_mailers(free_port()), AFTERCARE_RETRY_BASE_SECONDS=1)
def test_it_gives_up_at_the_attempt_limit_and_marks_the_message_failed() -> None:
    message = MessageFactory(attempt_limit=3)
    for _ in range(3):
        Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
        dispatch_due()
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == 3


def test_a_permanent_refusal_fails_at_once(smtp: Sink) -> None:
    patient = PatientFactory(email="nobody@example.com")
    smtp.handler.refuse.add("nobody@example.com")
    message = MessageFactory(patient=patient)
    other = MessageFactory()
    result = dispatch_due()
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == 1
    assert "550" in message.last_error
    assert result.sent == 1  # the next message still goes out on a fresh connection
    other.refresh_from_db()
    assert other.status == MessageStatus.SENT


def test_a_staff_alert_goes_to_the_staff_member_whatever_the_patients_consent(smtp: Sink, specialist: object) -> None:
    MessageFactory(patient=PatientFactory(email_consent=False), to_user=specialist, kind=MessageKind.SPECIALIST_ALERT)
    assert dispatch_due().sent == 1
    assert smtp.received[0]["To"] == specialist.email  # type: ignore[attr-defined]
    assert smtp.received[0]["List-Unsubscribe"] is None


def test_each_run_writes_the_dispatcher_heartbeat(smtp: Sink) -> None:
    dispatch_due()
    assert Heartbeat.objects.get(name=DISPATCHER_HEARTBEAT).at >= timezone.now() - timedelta(seconds=5)


def test_a_batch_limit_leaves_the_rest_for_the_next_task(smtp: Sink) -> None:
    MessageFactory.create_batch(5)
    result = dispatch_due(limit=3)
    assert (result.sent, result.more) == (3, True)
    assert dispatch_due().sent == 2
