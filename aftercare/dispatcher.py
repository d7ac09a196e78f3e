"""The dispatcher: claim a small batch of due rows, then send each and record it at once.

Why it cannot lose or double a message:

* Rows are claimed in one short transaction: ``SELECT … FOR UPDATE SKIP LOCKED`` picks
  due rows no other dispatcher holds, and an UPDATE marks them ``sending`` with a lease
  (``next_attempt_at`` = now + AFTERCARE_SENDING_LEASE_SECONDS). Two dispatchers never
  claim the same row.
* Each message is then handed to the SMTP server and, the moment it is accepted, marked
  ``sent`` by one single-row UPDATE (autocommit). A dispatcher that dies leaves its
  unsent claims ``sending``; when the lease runs out they are due again and another
  dispatcher sends them. Nothing is lost; it is only late by the lease.
* The only unguarded instant is after the SMTP server said "250 accepted" and before that
  one UPDATE commits (one round trip on an open connection, well under a millisecond
  of work). A crash exactly there resends that one message with the same Message-ID,
  which receiving servers and clients use to drop the duplicate.
* Consent is read just before sending, after the claim.
"""

from __future__ import annotations

import contextlib
import email.policy
import logging
import smtplib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone

from aftercare.links import unsubscribe_path
from aftercare.models import Message, MessageStatus
from aftercare.rendering import absolute
from clinic.audit import acting_as
from clinic.health import DISPATCHER_HEARTBEAT, heartbeat_beat

logger = logging.getLogger(__name__)


@dataclass
class DispatchResult:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    skipped: int = 0
    # True when the run stopped with due rows possibly left (batch limit, time budget, SMTP down).
    more: bool = False

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.retrying + self.skipped


class OutboxEmail(EmailMultiAlternatives):
    def message(self, *, policy: email.policy.Policy[Any] | None = email.policy.default) -> Any:
        # Python's folding at 78 characters turns a long List-Unsubscribe URL (no spaces
        # to fold at) into RFC 2047 encoded words that mail clients cannot use. RFC 5322's
        # hard limit is 998, so fold there instead.
        return super().message(policy=(policy or email.policy.default).clone(max_line_length=998))


def build_email(message: Message) -> EmailMultiAlternatives:
    recipient = message.to_user.email if message.to_user is not None else message.patient.email
    headers = {"Message-ID": message.message_id, "Auto-Submitted": "auto-generated"}
    if message.to_user_id is None:
        # RFC 8058 one-click unsubscribe, for mail clients that offer it.
        headers["List-Unsubscribe"] = f"<{absolute(unsubscribe_path(message.token))}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    outgoing = OutboxEmail(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient],
        headers=headers,
    )
    outgoing.attach_alternative(message.body_html, "text/html")
    if message.attachment_ics:
        outgoing.attach("appointment.ics", message.attachment_ics, "text/calendar")
    return outgoing


def _is_permanent(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return isinstance(error, ValueError)  # an address Django refuses to send to


def _connection_lost(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return True
    # smtplib's errors are OSErrors too; a bare OSError is the network (refused, reset, timeout).
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)


def claim(*, now: datetime, limit: int) -> list[Message]:
    """Claim up to ``limit`` due rows for this dispatcher (committed before anything is sent)."""
    lease_until = now + timedelta(seconds=settings.AFTERCARE_SENDING_LEASE_SECONDS)
    with transaction.atomic():
        ids = list(
            Message.objects.due(now)
            .select_for_update(skip_locked=True)
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return []
        Message.objects.filter(id__in=ids).update(status=MessageStatus.SENDING, next_attempt_at=lease_until)
    return list(
        Message.objects.filter(id__in=ids).select_related("patient", "to_user").order_by("next_attempt_at", "id")
    )


def release(messages: list[Message]) -> None:
    """Hand claimed but unattempted rows back, due now, for the next dispatcher."""
    Message.objects.filter(id__in=[m.pk for m in messages], status=MessageStatus.SENDING).update(
        status=MessageStatus.SCHEDULED, next_attempt_at=timezone.now()
    )


def send_one(connection: BaseEmailBackend, message: Message) -> tuple[str, bool]:
    """Send one claimed message and record the outcome; return it and whether the server was unreachable."""
    patient = message.patient
    if message.to_user_id is None and not (patient.email_consent and patient.email):
        message.mark_skipped_no_consent()
        return "skipped", False
    try:
        outgoing = build_email(message)
        connection.open()  # reuses the open SMTP session across the run
        connection.send_messages([outgoing])
    except (smtplib.SMTPException, OSError, ValueError) as error:
        message.record_failure(
            error=f"{type(error).__name__}: {error}",
            permanent=_is_permanent(error),
            at=timezone.now(),
            retry_base_seconds=settings.AFTERCARE_RETRY_BASE_SECONDS,
        )
        outcome = "failed" if message.status == MessageStatus.FAILED else "retrying"
        return outcome, _connection_lost(error)
    # The unguarded instant: SMTP accepted, and this single UPDATE has not committed yet.
    message.mark_sent(at=timezone.now())
    return "sent", False


def dispatch_due(*, limit: int | None = None, budget_seconds: float | None = None) -> DispatchResult:
    """Send due messages until none is left, ``limit`` is reached or the time budget is spent."""
    with acting_as(None):  # no person acts: the outbox's status changes are the system's
        return _dispatch(limit=limit, budget_seconds=budget_seconds)


def _dispatch(*, limit: int | None, budget_seconds: float | None) -> DispatchResult:
    limit = limit or settings.AFTERCARE_DISPATCH_BATCH
    budget = budget_seconds if budget_seconds is not None else settings.AFTERCARE_DISPATCH_BUDGET_SECONDS
    started = time.monotonic()
    result = DispatchResult()
    heartbeat_beat(name=DISPATCHER_HEARTBEAT)
    connection = mailers.default
    claimed: list[Message] = []
    try:
        with db_connection.cursor() as cursor:
            # Relaxes only the durability of the "sent" marks against a PostgreSQL crash (by
            # at most ~3 x wal_writer_delay): such a crash makes those rows due again and they
            # are resent with the same Message-ID. A worker crash is unaffected. It saves a
            # disk flush per message, which is most of the dispatcher's time.
            cursor.execute("SET synchronous_commit TO OFF")
        while True:
            if result.handled >= limit or time.monotonic() - started > budget:
                result.more = True
                break
            claimed = claim(now=timezone.now(), limit=min(settings.AFTERCARE_CLAIM_BATCH, limit - result.handled))
            if not claimed:
                break
            stop = False
            while claimed:
                message = claimed.pop(0)
                outcome, unreachable = send_one(connection, message)
                setattr(result, outcome, getattr(result, outcome) + 1)
                if unreachable:
                    # Stop this run: the other claimed rows keep their attempts for when it is back.
                    logger.warning("mail server unreachable; due messages wait for the next run")
                    stop = True
                    break
                if outcome != "sent":
                    # A refused message may leave the SMTP session in a bad state; start afresh.
                    with contextlib.suppress(Exception):
                        connection.close()
            if stop:
                break
    finally:
        if claimed:
            release(claimed)
        with contextlib.suppress(Exception):
            connection.close()
        with contextlib.suppress(Exception), db_connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")
    heartbeat_beat(name=DISPATCHER_HEARTBEAT)
    if result.handled:
        logger.info(
            "dispatched: %s sent, %s retrying, %s failed, %s skipped",
            result.sent,
            result.retrying,
            result.failed,
            result.skipped,
        )
    return result
