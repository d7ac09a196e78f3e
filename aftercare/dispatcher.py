"""The dispatcher: claim a small batch of due rows, then send each and record it at once.

Why it cannot lose or double a message:

* Rows are claimed in one short transaction: ``SELECT … FOR UPDATE SKIP LOCKED`` picks
  due rows no other dispatcher holds, and an UPDATE marks them ``sending`` with a lease
  (``next_attempt_at`` = now + AFTERCARE_SENDING_LEASE_SECONDS) and a fresh claim id, the
  fencing token. Two dispatchers never claim the same row.
* Just before each send, a query fenced by the claim id checks that this claim still
  holds the row and reads the patient's consent and address from the database
  (``CONFIRM_SQL``). A claim that was taken over sends nothing; a patient who withdrew
  consent after the claim gets nothing. The claim's lease is renewed for all its rows
  whenever a third of it has passed, so a slow server cannot outlive it while its holder
  is alive (one send must stay shorter than the lease: see aftercare/checks.py).
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
from aftercare.models import (
    REMINDER_KINDS,
    REMINDER_NEEDLESS_STATUSES,
    REMINDER_WITHDRAWN,
    REQUESTED_KINDS,
    MailServerState,
    Message,
    MessageStatus,
)
from clinic.audit import acting_as
from clinic.health import DISPATCHER_HEARTBEAT, heartbeat_beat
from clinic.models import Appointment, Patient, User

logger = logging.getLogger(__name__)

MAILER = "default"
# What the stored bytes make unnecessary to load; read only to build bytes a row lacks.
BODY_FIELDS = ("subject", "body_text", "body_html", "attachment_ics")
DB_ERRORS = (OperationalError, InterfaceError)
# A lost connection is retried this many times, waiting 0.2 s, 0.4 s, … in between. The
# mark after an accepted send tries longest: giving up there means a resend after the lease.
DB_TRIES, MARK_TRIES = 3, 6

# The fenced check before each send: still held by this claim, and consent and address as
# the database has them now (not as they were when the batch was claimed). A read, not an
# UPDATE: the claim's lease is renewed for all its rows together (``renew``), so the check
# costs no write, no index update and no audit trigger per message. For an appointment's
# reminder it also reads the appointment's status: a patient already checked in, seen or
# marked a no-show gets no reminder, whatever path changed the status.
_REMINDER_KINDS_SQL = ", ".join(f"'{kind}'" for kind in REMINDER_KINDS)
_REQUESTED_KINDS_SQL = ", ".join(f"'{kind}'" for kind in REQUESTED_KINDS)
CONFIRM_SQL = f"""
SELECT m.id, (p.email_consent OR m.kind IN ({_REQUESTED_KINDS_SQL})), p.email,
    (SELECT u.email FROM {User._meta.db_table} AS u WHERE u.id = m.to_user_id),
    CASE WHEN m.kind IN ({_REMINDER_KINDS_SQL}) AND m.source ~ '^appointment:[0-9]+$' THEN
        (SELECT a.status FROM {Appointment._meta.db_table} AS a WHERE a.id = split_part(m.source, ':', 2)::bigint)
    END
FROM {Message._meta.db_table} AS m LEFT JOIN {Patient._meta.db_table} AS p ON p.id = m.patient_id
WHERE m.id = %(next)s AND m.claim_id = %(claim)s AND m.status = 'sending'
"""  # noqa: S608  (table names and kinds from the models, values as parameters)

# The "sent" mark: one single-row UPDATE, fenced by the claim id. The same statement (one
# round trip, one commit) also runs the check above for the claim's next message, which is
# sent right after it: the database, not the network, is most of a message's time.
MARK_SENT_SQL = f"""
WITH marked AS (
    UPDATE {Message._meta.db_table}
    SET status = 'sent', sent_at = %(at)s, attempts = attempts + 1, last_error = ''
    WHERE id = %(id)s AND claim_id = %(claim)s AND status = 'sending'
    RETURNING id
)
SELECT (SELECT count(*) FROM marked), following.*
FROM (SELECT 1) AS one LEFT JOIN ({CONFIRM_SQL}) AS following ON true
"""  # noqa: S608  (table names from the models, values as parameters)


@dataclass(frozen=True)
class Confirmed:
    """What the pre-send check read for one row this claim still holds."""

    message_id: int
    consent: bool
    patient_email: str
    staff_email: str | None
    # The status of the appointment a reminder is for (None for any other message).
    appointment_status: str | None = None


def _confirmed(row: tuple[object, ...] | None) -> Confirmed | None:
    if row is None or row[0] is None:
        return None
    return Confirmed(
        int(str(row[0])),
        bool(row[1]),
        str(row[2] or ""),
        None if row[3] is None else str(row[3]),
        None if row[4] is None else str(row[4]),
    )


@dataclass
class DispatchResult:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    skipped: int = 0
    # Reminders not sent after all: the patient was already checked in, seen or a no-show.
    withdrawn: int = 0
    # Rows whose claim another dispatcher took over (its lease ran out): not ours to send.
    lost: int = 0
    # True when the run stopped with due rows possibly left (batch limit, time budget).
    more: bool = False
    # True when the mail server refused itself (or its breaker was open): nothing was tried.
    refused: bool = False

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.retrying + self.skipped + self.withdrawn + self.lost


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


def confirm(message: Message, claim_id: uuid.UUID) -> Confirmed | None:
    """The fenced pre-send check; ``None`` when the claim no longer holds the row."""
    with db_connection.cursor() as cursor:
        cursor.execute(CONFIRM_SQL, {"next": message.pk, "claim": claim_id})
        return _confirmed(cursor.fetchone())


def mark_sent(
    message: Message, claim_id: uuid.UUID, *, at: datetime, following: Message | None
) -> tuple[bool, Confirmed | None]:
    """Mark ``message`` sent if this claim holds it, and run the pre-send check for ``following``.

    Safe to repeat after a lost connection: a repeat finds the row already ``sent`` by this claim.
    """
    params: dict[str, int | uuid.UUID | datetime | None] = {
        "id": message.pk,
        "claim": claim_id,
        "at": at,
        "next": following.pk if following else None,
    }
    with db_connection.cursor() as cursor:
        cursor.execute(MARK_SENT_SQL, params)
        # Always one row (SELECT … FROM (SELECT 1)); its check columns are NULL when not held.
        row = cursor.fetchone() or (0, None, None, None, None, None)
    marked = (
        bool(row[0]) or Message.objects.filter(pk=message.pk, claim_id=claim_id, status=MessageStatus.SENT).exists()
    )
    return marked, _confirmed(row[1:])


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


def _mark_sent(message: Message, claim: Claim, following: Message | None) -> Confirmed | None:
    at = timezone.now()
    claim.unconfirmed.add(message.pk)
    marked, confirmed = _db(
        lambda: mark_sent(message, claim.id, at=at, following=following),
        what="marking a message sent",
        tries=MARK_TRIES,
    )
    claim.unconfirmed.discard(message.pk)
    if marked:
        message.status, message.sent_at, message.attempts = MessageStatus.SENT, at, message.attempts + 1
    else:
        # The send took longer than the lease and another dispatcher took the row over.
        logger.error("message %s was sent after its claim was taken over; raise the lease", message.pk)
    return confirmed


def send_one(
    mailer: Mailer,
    message: Message,
    claim: Claim,
    *,
    following: Message | None = None,
    confirmed: Confirmed | None = None,
) -> tuple[str, Exception | None, Confirmed | None]:
    """Send one claimed message and record the outcome.

    Returns the outcome; the error when the server refused itself; and, when the message
    was sent, the pre-send check of ``following`` (read in the same statement as the mark).
    ``confirmed``: this message's own check, when the previous mark already read it.
    """
    if confirmed is None or confirmed.message_id != message.pk:
        confirmed = _db(lambda: confirm(message, claim.id), what="confirming a claim")
    if confirmed is None:
        return "lost", None, None
    if confirmed.appointment_status in REMINDER_NEEDLESS_STATUSES:
        _db(
            lambda: message.mark_withdrawn(claim_id=claim.id, reason=str(REMINDER_WITHDRAWN)),
            what="withdrawing a reminder",
        )
        return "withdrawn", None, None
    if message.to_user_id is None:
        if not (confirmed.consent and confirmed.patient_email):
            _db(lambda: message.mark_skipped_no_consent(claim_id=claim.id), what="recording no consent")
            return "skipped", None, None
        recipient = confirmed.patient_email
    else:
        recipient = confirmed.staff_email or ""
    try:
        _ensure_bytes(message, recipient=recipient, claim_id=claim.id)
        mailer.send(message)
    except (smtplib.SMTPException, OSError, ValueError) as error:
        if server_refused(error):
            return "refused", error, None
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
        return ("failed" if message.status == MessageStatus.FAILED else "retrying"), None, None
    # The unguarded instant: SMTP accepted, and this single UPDATE has not committed yet.
    return "sent", None, _mark_sent(message, claim, following)


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
    with acting_as(None):  # no person acts: the outbox's status changes are the system's
        return _dispatch(limit=limit, budget_seconds=budget_seconds)


def _dispatch(*, limit: int | None, budget_seconds: float | None) -> DispatchResult:
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
            confirmed: Confirmed | None = None
            for index, message in enumerate(current.messages):
                if time.monotonic() - current.renewed_at > renew_every:
                    _db(functools.partial(renew, current), what="renewing a lease")
                following = current.messages[index + 1] if index + 1 < len(current.messages) else None
                outcome, error, confirmed = send_one(mailer, message, current, following=following, confirmed=confirmed)
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
            "dispatched: %s sent, %s retrying, %s failed, %s skipped, %s withdrawn, %s taken over",
            result.sent,
            result.retrying,
            result.failed,
            result.skipped,
            result.withdrawn,
            result.lost,
        )
    return result
