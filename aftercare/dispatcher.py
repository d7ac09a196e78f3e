"""The dispatcher: claim one due row, send it, record the outcome, commit; repeat.

Why it cannot lose or double a message:

* A row is claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` inside a transaction that
  stays open while that one message is handed to the SMTP server. A second dispatcher
  skips the locked row. A worker killed mid-send drops its database connection, so
  PostgreSQL rolls the transaction back and the row is simply due again: nothing is
  stuck in a "sending" state waiting for a lease to expire.
* The only unguarded instant is after the SMTP server said "250 accepted" and before
  the ``UPDATE … status='sent'`` commits: one UPDATE and one COMMIT on a connection that
  is already open, about a millisecond. A crash exactly there resends the message with
  the same Message-ID, which receiving servers and clients use to drop the duplicate.
* Consent is read in the same transaction, under the row lock, just before sending.
"""

from __future__ import annotations

import contextlib
import email.policy
import logging
import smtplib
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils import timezone

from aftercare.links import unsubscribe_path
from aftercare.models import Message, MessageStatus
from aftercare.rendering import absolute
from clinic.health import DISPATCHER_HEARTBEAT
from clinic.services import heartbeat_beat

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


def dispatch_one(connection: BaseEmailBackend) -> tuple[str, bool] | None:
    """Send the next due message; return (outcome, mail server unreachable), or ``None`` when nothing is due."""
    with transaction.atomic():
        message = (
            Message.objects.due(timezone.now())
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("patient", "to_user")
            .order_by("next_attempt_at", "id")
            .first()
        )
        if message is None:
            return None
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
        # The unguarded instant starts here (SMTP accepted) and ends at this block's COMMIT.
        message.mark_sent(at=timezone.now())
        return "sent", False


def dispatch_due(*, limit: int | None = None, budget_seconds: float | None = None) -> DispatchResult:
    """Send due messages until none is left, ``limit`` is reached or the time budget is spent."""
    limit = limit or settings.AFTERCARE_DISPATCH_BATCH
    budget = budget_seconds if budget_seconds is not None else settings.AFTERCARE_DISPATCH_BUDGET_SECONDS
    started = time.monotonic()
    result = DispatchResult()
    heartbeat_beat(name=DISPATCHER_HEARTBEAT)
    connection = mailers.default
    try:
        while True:
            if result.handled >= limit or time.monotonic() - started > budget:
                result.more = True
                break
            step = dispatch_one(connection)
            if step is None:
                break
            outcome, unreachable = step
            setattr(result, outcome, getattr(result, outcome) + 1)
            if unreachable:
                # Stop this run: the other due rows keep their attempts for when it is back.
                logger.warning("mail server unreachable; due messages wait for the next run")
                break
            if outcome != "sent":
                # A refused message may leave the SMTP session in a bad state; start afresh.
                with contextlib.suppress(Exception):
                    connection.close()
    finally:
        with contextlib.suppress(Exception):
            connection.close()
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
