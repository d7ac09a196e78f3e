"""The dispatcher: claim a small batch of due rows, then send each and record it at once.

Why it cannot lose or double a message:

* Rows are claimed in one short transaction: ``SELECT … FOR UPDATE SKIP LOCKED`` picks
  due rows no other dispatcher holds, and an UPDATE marks them ``sending`` with a lease
  (``next_attempt_at`` = now + AFTERCARE_SENDING_LEASE_SECONDS) and a fresh claim id, the
  fencing token. Two dispatchers never claim the same row.
* Just before each send, one fenced UPDATE checks that this claim still holds the row,
  renews its lease and reads the patient's consent and address from the database
  (``CONFIRM_SQL``). A claim that was taken over sends nothing; a patient who withdrew
  consent after the claim gets nothing. The rest of the claim's lease is renewed as the
  batch goes, so a slow server cannot outlive it while its holder is alive.
* The stored bytes (built when the message was scheduled) go to the SMTP server; the
  moment it accepts them, one single-row UPDATE, again fenced by the claim id, marks the
  row ``sent`` (autocommit). A dispatcher that dies leaves its unsent claims ``sending``;
  when the lease runs out they are due again and another dispatcher sends them.
* A lost database connection (failover, restarted pooler, idle timeout) is reconnected
  and the statement retried: the mark is idempotent (a repeat finds the row ``sent`` by
  this claim), and unsent claims are handed back on a fresh connection.
* The only unguarded instant is after the SMTP server said "250 accepted" and before the
  mark commits. A crash exactly there resends that one message after the lease with the
  same Message-ID, which receiving servers and clients use to drop the duplicate.
* A temporary refusal of the server itself (421, a refused or timed-out connection) is
  the server's state: the run stops, hands its claims back without counting an attempt,
  and opens the circuit breaker (``MailServerState``) so no dispatcher tries again before
  it closes.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import smtplib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import mailers
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import InterfaceError, OperationalError, transaction
from django.db import connection as db_connection
from django.utils import timezone

from aftercare import outgoing
from aftercare.models import MailServerState, Message, MessageStatus
from clinic.health import DISPATCHER_HEARTBEAT
from clinic.models import Patient, User
from clinic.services import heartbeat_beat

logger = logging.getLogger(__name__)

MAILER = "default"
# What the stored bytes make unnecessary to load; read only to build bytes a row lacks.
BODY_FIELDS = ("subject", "body_text", "body_html", "attachment_ics")
DB_ERRORS = (OperationalError, InterfaceError)
# A lost connection is retried this many times, waiting 0.2 s, 0.4 s, … in between. The
# mark after an accepted send tries longest: giving up there means a resend after the lease.
DB_TRIES, MARK_TRIES = 3, 6

# The fenced check before each send: still ours, lease renewed, consent and address as
# the database has them now (not as they were when the batch was claimed).
CONFIRM_SQL = f"""
UPDATE {Message._meta.db_table} AS m
SET next_attempt_at = now() + make_interval(secs => %s)
FROM {Patient._meta.db_table} AS p
WHERE m.id = %s AND m.claim_id = %s AND m.status = 'sending' AND p.id = m.patient_id
RETURNING p.email_consent, p.email, (SELECT u.email FROM {User._meta.db_table} AS u WHERE u.id = m.to_user_id)
"""  # noqa: S608  (table names from the models, values as parameters)


@dataclass
class DispatchResult:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    skipped: int = 0
    # Rows whose claim another dispatcher took over (its lease ran out): not ours to send.
    lost: int = 0
    # True when the run stopped with due rows possibly left (batch limit, time budget).
    more: bool = False
    # True when the mail server refused itself (or its breaker was open): nothing was tried.
    refused: bool = False

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.retrying + self.skipped + self.lost


@dataclass
class Claim:
    id: uuid.UUID
    messages: list[Message]
    renewed_at: float = field(default_factory=time.monotonic)
    # Accepted by the SMTP server but not marked sent (the database was gone): never handed
    # back early, they wait for the lease like a crashed dispatcher's.
    unconfirmed: set[int] = field(default_factory=set)


def lease() -> timedelta:
    return timedelta(seconds=settings.AFTERCARE_SENDING_LEASE_SECONDS)


# --- The database, surviving a lost connection ------------------------------------------


def _session_setup() -> None:
    with db_connection.cursor() as cursor:
        # Relaxes only the durability of the "sent" marks against a PostgreSQL crash (by
        # at most ~3 x wal_writer_delay): such a crash makes those rows due again and they
        # are resent with the same Message-ID. A worker crash is unaffected. It saves a
        # disk flush per message, which is most of the dispatcher's time.
        cursor.execute("SET synchronous_commit TO OFF")


def _reconnect(wait: float) -> None:
    with contextlib.suppress(Exception):
        db_connection.close()
    time.sleep(wait)
    with contextlib.suppress(*DB_ERRORS):
        _session_setup()


def _db[T](operation: Callable[[], T], *, what: str, tries: int = DB_TRIES) -> T:
    """Run ``operation``; on a lost connection, reconnect and run it again (it must be safe to repeat)."""
    for attempt in range(1, tries + 1):
        try:
            return operation()
        except DB_ERRORS:
            if attempt == tries:
                raise
            logger.warning("database connection lost while %s; reconnecting (try %s)", what, attempt + 1)
            _reconnect(0.2 * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


# --- Claims -----------------------------------------------------------------------------


def claim(*, now: datetime, limit: int) -> Claim | None:
    """Claim up to ``limit`` due rows for this dispatcher (committed before anything is sent)."""
    claim_id = uuid.uuid4()
    lease_until = now + lease()

    def take() -> int:
        with transaction.atomic():
            ids = list(
                Message.objects.due(now)
                .select_for_update(skip_locked=True)
                .order_by("next_attempt_at", "id")
                .values_list("id", flat=True)[:limit]
            )
            if not ids:
                return 0
            return Message.objects.filter(id__in=ids).update(
                status=MessageStatus.SENDING, next_attempt_at=lease_until, claim_id=claim_id
            )

    # A repeat after an uncertain commit may claim a few more rows under the same id: they
    # are all read back below by that id, so none is left behind.
    if not _db(take, what="claiming"):
        return None
    messages = _db(
        lambda: list(
            Message.objects.filter(claim_id=claim_id, status=MessageStatus.SENDING).defer(*BODY_FIELDS).order_by("id")
        ),
        what="reading a claim",
    )
    return Claim(id=claim_id, messages=messages)


def renew(claim: Claim) -> None:
    """Extend the lease of every row this claim still holds."""
    Message.objects.filter(claim_id=claim.id, status=MessageStatus.SENDING).update(
        next_attempt_at=timezone.now() + lease()
    )
    claim.renewed_at = time.monotonic()


def release(claim: Claim) -> int:
    """Hand this claim's unattempted rows back, due now, for the next dispatcher."""
    return (
        Message.objects.filter(claim_id=claim.id, status=MessageStatus.SENDING)
        .exclude(pk__in=claim.unconfirmed)
        .update(status=MessageStatus.SCHEDULED, next_attempt_at=timezone.now(), claim_id=None)
    )


def confirm(message: Message, claim_id: uuid.UUID) -> tuple[bool, str, str | None] | None:
    """The fenced pre-send check; ``None`` when the claim no longer holds the row."""
    with db_connection.cursor() as cursor:
        cursor.execute(CONFIRM_SQL, [settings.AFTERCARE_SENDING_LEASE_SECONDS, message.pk, claim_id])
        row = cursor.fetchone()
    return (bool(row[0]), str(row[1]), row[2]) if row else None


# --- The mail server and its circuit breaker --------------------------------------------


def server_refused(error: Exception) -> bool:
    """Whether ``error`` is the server's state (try later, for every message), not this message's."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return any(code == 421 for code, _msg in error.recipients.values())
    if isinstance(
        error,
        smtplib.SMTPServerDisconnected
        | smtplib.SMTPConnectError
        | smtplib.SMTPHeloError
        | smtplib.SMTPAuthenticationError
        | smtplib.SMTPNotSupportedError
        # Our sender is the same on every message: refusing it refuses them all.
        | smtplib.SMTPSenderRefused,
    ):
        return True
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == 421
    # smtplib's errors are OSErrors too; a bare OSError is the network (refused, reset, timeout).
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)


def is_permanent(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return isinstance(error, ValueError)  # an address Django refuses to send to


def breaker_state() -> MailServerState | None:
    return MailServerState.objects.filter(mailer=MAILER).first()


def breaker_open(*, error: str) -> datetime:
    """The server refused itself: no dispatcher tries it before the returned time."""
    with transaction.atomic():
        state, _created = MailServerState.objects.select_for_update().get_or_create(mailer=MAILER)
        now = timezone.now()
        if state.open_until is not None and state.open_until > now:
            return state.open_until  # another dispatcher met the same refusal
        state.refusals += 1
        wait = settings.AFTERCARE_BREAKER_BASE_SECONDS * 2 ** min(state.refusals - 1, 20)
        state.open_until = now + timedelta(seconds=min(wait, settings.AFTERCARE_BREAKER_MAX_SECONDS))
        state.last_error = error[:2000]
        state.save()
        return state.open_until


def breaker_close() -> None:
    MailServerState.objects.filter(mailer=MAILER, refusals__gt=0).update(refusals=0, open_until=None, last_error="")


class Mailer:
    """One SMTP session for the run, fed the stored bytes; other backends (files, tests) get a wrapper."""

    def __init__(self) -> None:
        self.backend = mailers.default

    def send(self, message: Message) -> None:
        raw = outgoing.with_date(bytes(message.raw))
        if isinstance(self.backend, SmtpBackend):
            self.backend.open()  # reuses the open SMTP session across the run
            if self.backend.connection is None:
                raise smtplib.SMTPServerDisconnected("could not connect")
            self.backend.connection.sendmail(message.envelope_from, [message.envelope_to], raw)
        else:
            stored = outgoing.StoredEmail(raw=raw, envelope_from=message.envelope_from, envelope_to=message.envelope_to)
            self.backend.send_messages([stored])

    def reset(self) -> None:
        with contextlib.suppress(Exception):
            self.backend.close()


# --- Sending ----------------------------------------------------------------------------


def _ensure_bytes(message: Message, *, recipient: str, claim_id: uuid.UUID) -> None:
    """Build the wire bytes of a row stored without them, or whose recipient changed since."""
    if message.raw and (
        message.envelope_to == recipient or message.envelope_to == outgoing.envelope_address(recipient)
    ):
        return
    _db(lambda: message.refresh_from_db(fields=list(BODY_FIELDS)), what="reading a message to build")
    outgoing.build_raw(message, recipient=recipient)
    _db(
        lambda: Message.objects.filter(pk=message.pk, claim_id=claim_id).update(
            raw=message.raw, envelope_from=message.envelope_from, envelope_to=message.envelope_to
        ),
        what="storing a message's bytes",
    )


def _mark_sent(message: Message, claim: Claim) -> None:
    at = timezone.now()

    def mark() -> bool:
        if message.mark_sent(at=at, claim_id=claim.id):
            return True
        # A repeat after a lost connection: the first try may have committed.
        return Message.objects.filter(pk=message.pk, claim_id=claim.id, status=MessageStatus.SENT).exists()

    claim.unconfirmed.add(message.pk)
    if not _db(mark, what="marking a message sent", tries=MARK_TRIES):
        # The send took longer than the lease and another dispatcher took the row over.
        logger.error("message %s was sent after its claim was taken over; raise the lease", message.pk)
    claim.unconfirmed.discard(message.pk)


def send_one(mailer: Mailer, message: Message, claim: Claim) -> tuple[str, Exception | None]:
    """Send one claimed message and record the outcome; return it, and the error when the server refused itself."""
    decided = _db(lambda: confirm(message, claim.id), what="confirming a claim")
    if decided is None:
        return "lost", None
    consent, patient_email, staff_email = decided
    if message.to_user_id is None:
        if not (consent and patient_email):
            _db(lambda: message.mark_skipped_no_consent(claim_id=claim.id), what="recording no consent")
            return "skipped", None
        recipient = patient_email
    else:
        recipient = staff_email or ""
    try:
        _ensure_bytes(message, recipient=recipient, claim_id=claim.id)
        mailer.send(message)
    except (smtplib.SMTPException, OSError, ValueError) as error:
        if server_refused(error):
            return "refused", error
        reason, permanent = f"{type(error).__name__}: {error}", is_permanent(error)
        _db(
            lambda: message.record_failure(
                error=reason,
                permanent=permanent,
                at=timezone.now(),
                retry_base_seconds=settings.AFTERCARE_RETRY_BASE_SECONDS,
                claim_id=claim.id,
            ),
            what="recording a failed attempt",
        )
        return ("failed" if message.status == MessageStatus.FAILED else "retrying"), None
    # The unguarded instant: SMTP accepted, and this single UPDATE has not committed yet.
    _mark_sent(message, claim)
    return "sent", None


def _stand_down(message: Message, claim: Claim, error: Exception) -> None:
    """The server refused itself: keep the reason on the row, count no attempt, open the breaker."""
    reason = f"{type(error).__name__}: {error}"
    until = _db(lambda: breaker_open(error=reason), what="opening the breaker")
    _db(
        lambda: Message.objects.filter(pk=message.pk, claim_id=claim.id, status=MessageStatus.SENDING).update(
            last_error=reason[:2000]
        ),
        what="recording the server's refusal",
    )
    logger.warning("mail server refused (%s); no dispatcher tries it before %s", reason, until.isoformat())


def dispatch_due(*, limit: int | None = None, budget_seconds: float | None = None) -> DispatchResult:
    """Send due messages until none is left, ``limit`` is reached or the time budget is spent."""
    limit = limit or settings.AFTERCARE_DISPATCH_BATCH
    budget = budget_seconds if budget_seconds is not None else settings.AFTERCARE_DISPATCH_BUDGET_SECONDS
    started = time.monotonic()
    result = DispatchResult()
    heartbeat_beat(name=DISPATCHER_HEARTBEAT)
    state = _db(breaker_state, what="reading the breaker")
    if state is not None and state.open_until is not None and state.open_until > timezone.now():
        result.refused = True
        return result
    recovering = state is not None and state.refusals > 0
    renew_every = settings.AFTERCARE_SENDING_LEASE_SECONDS / 3
    mailer = Mailer()
    current: Claim | None = None
    try:
        _db(_session_setup, what="setting up the session")
        while not result.refused:
            if result.handled >= limit or time.monotonic() - started > budget:
                result.more = True
                break
            current = claim(now=timezone.now(), limit=min(settings.AFTERCARE_CLAIM_BATCH, limit - result.handled))
            if current is None:
                break
            for message in current.messages:
                if time.monotonic() - current.renewed_at > renew_every:
                    _db(functools.partial(renew, current), what="renewing a lease")
                outcome, error = send_one(mailer, message, current)
                if error is not None:
                    # Stop this run; every claimed row keeps its attempts for when the server is back.
                    _stand_down(message, current, error)
                    result.refused = True
                    break
                setattr(result, outcome, getattr(result, outcome) + 1)
                if outcome == "sent" and recovering:
                    _db(breaker_close, what="closing the breaker")
                    recovering = False
                if outcome in ("failed", "retrying"):
                    # A refused message may leave the SMTP session in a bad state; start afresh.
                    mailer.reset()
            if not result.refused:
                current = None  # every row of it is decided
    finally:
        if current is not None:
            held = current
            try:
                # On a fresh connection when the last statement lost this one.
                _db(lambda: release(held), what="handing claims back")
            except DB_ERRORS:
                logger.exception("could not hand claims back; they are due again when their lease runs out")
        mailer.reset()
        with contextlib.suppress(Exception), db_connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")
    heartbeat_beat(name=DISPATCHER_HEARTBEAT)
    if result.handled:
        logger.info(
            "dispatched: %s sent, %s retrying, %s failed, %s skipped, %s taken over",
            result.sent,
            result.retrying,
            result.failed,
            result.skipped,
            result.lost,
        )
    return result
