"""The dispatcher in-process, against a real SMTP server on loopback."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from aftercare.checks import check_sending_lease
from aftercare.dispatcher import Mailer, claim, dispatch_due, mark_sent, send_one
from aftercare.models import MailServerState, Message, MessageKind, MessageStatus
from aftercare.services import (
    SessionFacts,
    aftercare_sequence_start,
    messages_cancel_for_source,
    patient_email_unsubscribe,
)
from clinic.health import DISPATCHER_HEARTBEAT
from clinic.models import Heartbeat
from tests.aftercare.conftest import smtp_mailers
from tests.aftercare.smtp_sink import Sink, free_port
from tests.factories import LocationFactory, MessageFactory, PatientFactory

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


@override_settings(MAILERS=smtp_mailers(free_port()), AFTERCARE_BREAKER_BASE_SECONDS=60)
def test_an_unreachable_mail_server_opens_the_breaker_and_costs_no_attempt() -> None:
    first, second = MessageFactory(), MessageFactory()
    before = timezone.now()
    result = dispatch_due()
    assert result.refused
    assert result.handled == 0  # the run stops at the first refused connection
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.attempts) == (MessageStatus.SCHEDULED, 0)
    assert "Connection refused" in first.last_error or "Errno" in first.last_error
    assert (second.status, second.attempts) == (MessageStatus.SCHEDULED, 0)
    breaker = MailServerState.objects.get()
    assert breaker.refusals == 1
    assert breaker.open_until is not None
    assert breaker.open_until >= before + timedelta(seconds=60)


@override_settings(MAILERS=smtp_mailers(free_port()), AFTERCARE_BREAKER_BASE_SECONDS=60)
def test_no_dispatcher_tries_the_mail_server_while_its_breaker_is_open(smtp: Sink) -> None:
    MailServerState.objects.create(mailer="default", refusals=1, open_until=timezone.now() + timedelta(minutes=1))
    message = MessageFactory()
    with override_settings(MAILERS=smtp_mailers(smtp.port)):
        assert dispatch_due().refused
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SCHEDULED, 0)
    assert smtp.received == []


def test_the_first_accepted_message_closes_the_breaker(smtp: Sink) -> None:
    MailServerState.objects.create(mailer="default", refusals=3, open_until=timezone.now() - timedelta(seconds=1))
    MessageFactory()
    assert dispatch_due().sent == 1
    breaker = MailServerState.objects.get()
    assert (breaker.refusals, breaker.open_until) == (0, None)


def test_a_421_from_the_server_stops_the_run_and_costs_no_attempt(smtp: Sink) -> None:
    smtp.handler.unavailable = True
    messages = MessageFactory.create_batch(3)
    result = dispatch_due()
    assert result.refused
    assert [m.attempts for m in Message.objects.filter(pk__in=[m.pk for m in messages])] == [0, 0, 0]
    assert Message.objects.filter(last_error__contains="421").count() == 1
    assert MailServerState.objects.get().refusals == 1


def test_a_recipient_deferred_with_451_spends_one_attempt_and_others_still_go(smtp: Sink) -> None:
    smtp.handler.defer.add("later@example.com")
    deferred = MessageFactory(patient=PatientFactory(email="later@example.com"))
    other = MessageFactory()
    result = dispatch_due()
    assert (result.retrying, result.sent, result.refused) == (1, 1, False)
    deferred.refresh_from_db()
    assert (deferred.status, deferred.attempts) == (MessageStatus.SCHEDULED, 1)
    assert "451" in deferred.last_error
    assert Message.objects.get(pk=other.pk).status == MessageStatus.SENT
    assert not MailServerState.objects.filter(refusals__gt=0).exists()


@override_settings(AFTERCARE_RETRY_BASE_SECONDS=1)
def test_it_gives_up_at_the_attempt_limit_and_marks_the_message_failed(smtp: Sink) -> None:
    smtp.handler.defer.add("later@example.com")
    message = MessageFactory(attempt_limit=3, patient=PatientFactory(email="later@example.com"))
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


def test_a_scheduled_message_carries_its_wire_bytes_and_exactly_those_are_sent(smtp: Sink) -> None:
    patient = PatientFactory()
    [first, *_rest] = aftercare_sequence_start(
        acting_user=None,
        patient=patient,
        location=LocationFactory(),
        completed_at=timezone.now(),
        facts=SessionFacts(extraction_method="manual_gauze"),
    )
    raw = bytes(first.raw)
    assert first.envelope_to == patient.email
    assert b"Message-ID: " + first.message_id.encode() in raw
    assert b"\r\nDate:" not in raw  # added when sent, so a late message is not dated in the past
    dispatch_due()
    [received] = [m for m in smtp.received if m["Message-ID"] == first.message_id]
    assert received["Date"]
    assert received.as_bytes().count(b"Date:") == 1


def test_a_message_stored_without_bytes_is_built_on_first_send(smtp: Sink) -> None:
    message = MessageFactory()
    assert bytes(message.raw) == b""
    assert dispatch_due().sent == 1
    message.refresh_from_db()
    assert message.envelope_to == message.patient.email
    assert b"Message-ID: " + message.message_id.encode() in bytes(message.raw)


def test_a_changed_email_address_is_used_even_when_the_bytes_were_built_for_the_old_one(smtp: Sink) -> None:
    message = MessageFactory()
    Message.objects.filter(pk=message.pk).update(raw=b"stale", envelope_to="old@example.com")
    message.patient.email = "new@example.com"
    message.patient.save()
    assert dispatch_due().sent == 1
    assert smtp.received[0]["To"] == "new@example.com"


def test_a_claim_taken_over_after_its_lease_sends_nothing(smtp: Sink) -> None:
    message = MessageFactory()
    ours = claim(now=timezone.now(), limit=10)
    assert ours is not None
    # Our lease ran out and another dispatcher claimed the row.
    theirs = claim(now=timezone.now() + timedelta(hours=1), limit=10)
    assert theirs is not None
    assert theirs.id != ours.id
    outcome, _error, _next = send_one(Mailer(), ours.messages[0], ours)
    assert outcome == "lost"
    assert smtp.received == []
    message.refresh_from_db()
    assert (message.status, message.claim_id) == (MessageStatus.SENDING, theirs.id)


def test_consent_withdrawn_after_the_claim_is_read_from_the_database_at_send_time(smtp: Sink) -> None:
    message = MessageFactory()
    held = claim(now=timezone.now(), limit=10)
    assert held is not None
    patient_email_unsubscribe(message_token=message.token)
    outcome, _error, _next = send_one(Mailer(), held.messages[0], held)
    assert outcome == "skipped"
    assert smtp.received == []
    message.refresh_from_db()
    assert message.status == MessageStatus.SKIPPED_NO_CONSENT


def test_a_lease_a_slow_send_could_outlast_is_flagged_by_the_system_checks() -> None:
    with override_settings(MAILERS=smtp_mailers(free_port()), AFTERCARE_SENDING_LEASE_SECONDS=30):
        assert [w.id for w in check_sending_lease(None)] == ["aftercare.W001"]  # timeout 5 s: needs 50 s
    with override_settings(MAILERS=smtp_mailers(free_port()), AFTERCARE_SENDING_LEASE_SECONDS=300):
        assert check_sending_lease(None) == []


def test_the_sent_mark_is_fenced_by_the_claim_and_safe_to_repeat(smtp: Sink) -> None:
    message, following = MessageFactory(), MessageFactory()
    ours = claim(now=timezone.now(), limit=10)
    assert ours is not None
    at = timezone.now()
    marked, confirmed = mark_sent(ours.messages[0], ours.id, at=at, following=ours.messages[1])
    assert marked
    assert confirmed is not None
    assert (confirmed.message_id, confirmed.consent) == (following.pk, True)
    # A repeat, as after a lost connection whose first try had committed: no second attempt counted.
    assert mark_sent(ours.messages[0], ours.id, at=at, following=None) == (True, None)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 1)
    # Another claim's mark changes nothing.
    assert mark_sent(ours.messages[1], uuid.uuid4(), at=at, following=None) == (False, None)
    assert Message.objects.get(pk=following.pk).status == MessageStatus.SENDING
