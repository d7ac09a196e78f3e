"""The outbox (every email the app sends or will send), the sequence's templates,
check-in answers, the specialist's queue and the record of email withdrawals.

Patient-side records point at clinic.Patient; nothing here changes clinic's models.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from clinic.constraints import LONG_NOTE, NOTE, REASON, text_fits
from clinic.models import AppointmentStatus, Location, Patient, User


class MessageKind(models.TextChoices):
    AFTERCARE_RIGHT_AFTER = "aftercare_right_after", _("Aftercare: right after the session")
    CHECKIN_DAY1 = "checkin_day1", _("Next-day check-in")
    # Only for patients who heal slowly (immunosuppressed or diabetic): a second look.
    CHECKIN_DAY3 = "checkin_day3", _("Day-3 check-in (slow healing)")
    ACTIVES_RETURN = "actives_return", _("Bringing actives back")
    # Sent instead of ACTIVES_RETURN when the patient answered "still red or sensitive".
    ACTIVES_WAIT = "actives_wait", _("Give it two more days (still red)")
    SESSION_REMINDER = "session_reminder", _("Reminder before a planned session")
    PROGRESS_REVIEW = "progress_review", _("Progress review invitation")
    SPECIALIST_ALERT = "specialist_alert", _("Alert to the specialist")
    BOOKING_CONFIRMATION = "booking_confirmation", _("Booking confirmation")
    BOOKING_REMINDER = "booking_reminder", _("Appointment reminder")
    DEFERRAL_ADVICE = "deferral_advice", _("Advice while extraction is deferred")
    QUESTIONNAIRE_LINK = "questionnaire_link", _("Pre-visit questionnaire link")
    # Online booking (the online app writes these through ``services.patient_email_send``).
    ONLINE_HOLD_LINK = "online_hold_link", _("Online booking: the link to confirm it")
    WAITLIST_OFFER = "waitlist_offer", _("Waiting list: a time has come free")


# Check-ins: the patient answers them with one click.
CHECKIN_KINDS = (MessageKind.CHECKIN_DAY1, MessageKind.CHECKIN_DAY3)
# Reminders with "Yes, I will be there" / "I need another time" links, written per appointment.
REMINDER_KINDS = (MessageKind.BOOKING_REMINDER, MessageKind.SESSION_REMINDER)
# Sent whatever the stored consent says: the person asked for it a moment ago, on the public
# booking page, by typing this address and ticking consent (the patient matched by email and
# date of birth may be one who never gave consent at the desk). Without it they cannot book.
REQUESTED_KINDS = (MessageKind.ONLINE_HOLD_LINK,)
# An appointment in one of these needs no reminder: the patient came (or did not), so a
# "see you tomorrow" would be wrong. The outbox drops such a reminder, also at send time.
REMINDER_NEEDLESS_STATUSES = (
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.IN_PROGRESS,
    AppointmentStatus.COMPLETED,
    AppointmentStatus.NO_SHOW,
)
REMINDER_WITHDRAWN = _("The patient has already been seen or marked a no-show.")


class TemplateVariant(models.TextChoices):
    """A version of a step for patients whose cautions change what it may say."""

    STANDARD = "", _("Standard")
    # Pregnancy, an anticoagulant or NSAID sensitivity: acetaminophen (paracetamol), never ibuprofen.
    NO_IBUPROFEN = "no_ibuprofen", _("No ibuprofen (pregnancy, anticoagulants, NSAID sensitivity)")
    # Pregnancy or breastfeeding: no "bring your retinoid back".
    NO_RETINOID = "no_retinoid", _("No retinoid (pregnancy or breastfeeding)")


# The kinds the aftercare sequence is made of, in the order a patient receives them.
SEQUENCE_KINDS = (
    MessageKind.AFTERCARE_RIGHT_AFTER,
    MessageKind.CHECKIN_DAY1,
    MessageKind.CHECKIN_DAY3,
    MessageKind.ACTIVES_RETURN,
    MessageKind.ACTIVES_WAIT,
    MessageKind.SESSION_REMINDER,
    MessageKind.PROGRESS_REVIEW,
)


class MessageStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    # Claimed by a dispatcher until next_attempt_at (its lease); a dispatcher that dies
    # leaves it to be claimed again when the lease runs out.
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    SKIPPED_NO_CONSENT = "skipped_no_consent", _("Not sent: no consent to email")


CLAIMABLE = (MessageStatus.SCHEDULED, MessageStatus.SENDING)


class MessageQuerySet(models.QuerySet["Message"]):
    def due(self, now: datetime) -> MessageQuerySet:
        """Rows the dispatcher may claim now: scheduled and due, or claimed under a lease that ran out.

        Served by the partial index ``message_due``, whose size follows the live outbox, not its history.
        """
        return self.filter(status__in=CLAIMABLE, next_attempt_at__lte=now)

    def pending(self) -> MessageQuerySet:
        return self.filter(status=MessageStatus.SCHEDULED)

    def for_patient(self, patient_id: int) -> MessageQuerySet:
        return self.filter(patient_id=patient_id)

    def real(self) -> MessageQuerySet:
        """Every message but the managers' test sends of a template."""
        return self.filter(is_test=False)


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    # The bodies are the rendered text; their changes are not events worth storing twice.
    fields=["patient", "kind", "status", "due_at", "attempts", "last_error", "sent_at"],
    model_name="MessageEvent",
)
class Message(models.Model):
    """One email the app will send, sends, or decided not to send. The outbox row."""

    # Empty only on a manager's test of a template ("send a test to me"): no patient is behind it.
    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A test send of a template to the signed-in manager: never a patient message, never counted.
    is_test = models.BooleanField(_("test"), default=False, db_default=False)
    location = models.ForeignKey(
        Location, verbose_name=_("location"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set for messages to staff about a patient (the specialist's alert); consent does not apply.
    to_user = models.ForeignKey(
        User, verbose_name=_("staff recipient"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=MessageKind.choices)
    status = models.CharField(
        _("status"), max_length=24, choices=MessageStatus.choices, default=MessageStatus.SCHEDULED
    )
    due_at = models.DateTimeField(_("due"))
    next_attempt_at = models.DateTimeField(_("next attempt"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    attempt_limit = models.PositiveIntegerField(_("attempt limit"))
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    cancelled_reason = models.CharField(_("why cancelled"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML"))
    # An iCalendar file sent as an attachment (booking confirmations).
    attachment_ics = models.TextField(_("calendar attachment"), blank=True)
    # The whole email as it goes on the wire (RFC 5322, CRLF), built once when the message
    # is scheduled, and its SMTP envelope. Only the Date header is added at send time.
    # Empty for rows stored before these existed: the dispatcher builds them on first send.
    # (Database defaults too, so raw SQL inserts such as the benchmarks' need not name them.)
    raw = models.BinaryField(_("email as sent"), blank=True, default=b"", db_default=b"", editable=False)
    envelope_from = models.CharField(
        _("envelope sender"), max_length=254, blank=True, default="", db_default="", editable=False
    )
    envelope_to = models.CharField(
        _("envelope recipient"), max_length=254, blank=True, default="", db_default="", editable=False
    )
    # The fencing token of the dispatcher claim that holds the row while it is ``sending``.
    # Every write of the outcome is conditional on it, so a dispatcher whose lease ran out
    # and was taken over can neither send nor record anything for the row.
    claim_id = models.UUIDField(null=True, blank=True, editable=False)
    # Stable identity: the Message-ID header and the signed links carry it, so a resend
    # after a crash is recognisable as the same message.
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # What caused the message ("treatment_session:42") and, within it, which one.
    source = models.CharField(_("source"), max_length=120)
    idempotency_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(fields=["patient", "kind", "idempotency_key"], name="message_idempotent"),
            # Every message is about a patient, except a test, which goes to a member of staff.
            models.CheckConstraint(
                condition=Q(patient__isnull=False, is_test=False) | Q(is_test=True, to_user__isnull=False),
                name="message_patient_or_staff_test",
            ),
            models.CheckConstraint(condition=Q(status__in=MessageStatus.values), name="message_status_valid"),
            models.CheckConstraint(
                condition=Q(status=MessageStatus.SENT, sent_at__isnull=False)
                | (~Q(status=MessageStatus.SENT) & Q(sent_at__isnull=True)),
                name="message_sent_has_sent_at",
            ),
        ]
        indexes = [
            # The dispatcher's claim query reads only this: small however many messages are stored.
            models.Index(fields=["next_attempt_at", "id"], name="message_due", condition=Q(status__in=CLAIMABLE)),
            models.Index(fields=["patient", "due_at"], name="message_patient_due"),
            models.Index(fields=["source"], name="message_source"),
            models.Index(fields=["status", "kind"], name="message_status_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → patient {self.patient_id} ({self.status})"

    @property
    def message_id(self) -> str:
        domain = urlsplit(settings.SITE_URL).hostname or "clinic.invalid"
        return f"<aftercare-{self.token}@{domain}>"

    @property
    def patient_pk(self) -> int:
        """The patient's id. Only a staff test send has none (``message_patient_or_staff_test``),
        and no patient link ever resolves to one (``services.patient_message_for_link``)."""
        if self.patient_id is None:
            raise ValueError(f"message {self.pk} is a test send, about no patient")
        return self.patient_id

    @property
    def is_pending(self) -> bool:
        return self.status == MessageStatus.SCHEDULED

    # The "sent" mark is the dispatcher's (aftercare/dispatcher.py, MARK_SENT_SQL): one
    # statement that also checks the claim's next message, fenced by the same claim id.

    def _held(self, claim_id: uuid.UUID) -> MessageQuerySet:
        return Message.objects.filter(pk=self.pk, claim_id=claim_id, status=MessageStatus.SENDING)

    def mark_skipped_no_consent(self, *, claim_id: uuid.UUID) -> bool:
        skipped = self._held(claim_id).update(status=MessageStatus.SKIPPED_NO_CONSENT)
        if skipped:
            self.status = MessageStatus.SKIPPED_NO_CONSENT
        return bool(skipped)

    def mark_withdrawn(self, *, claim_id: uuid.UUID, reason: str) -> bool:
        """Not sent after all: what it was about is over (a reminder for a patient already seen)."""
        withdrawn = self._held(claim_id).update(status=MessageStatus.CANCELLED, cancelled_reason=reason[:200])
        if withdrawn:
            self.status = MessageStatus.CANCELLED
        return bool(withdrawn)

    def record_failure(
        self, *, error: str, permanent: bool, at: datetime, retry_base_seconds: int, claim_id: uuid.UUID
    ) -> bool:
        """One attempt failed: back off and try again, or give up at the limit (or at once if permanent)."""
        attempts = self.attempts + 1
        if permanent or attempts >= self.attempt_limit:
            status, next_attempt_at = MessageStatus.FAILED, self.next_attempt_at
        else:
            backoff = retry_base_seconds * 2 ** (attempts - 1)
            status, next_attempt_at = MessageStatus.SCHEDULED, at + timedelta(seconds=min(backoff, 6 * 60 * 60))
        recorded = self._held(claim_id).update(
            attempts=attempts, last_error=error[:2000], status=status, next_attempt_at=next_attempt_at, claim_id=None
        )
        if recorded:
            self.attempts, self.last_error, self.status, self.next_attempt_at = (
                attempts,
                error[:2000],
                status,
                next_attempt_at,
            )
        return bool(recorded)


class MailServerState(models.Model):
    """The circuit breaker in front of a mail server, shared by every dispatcher.

    A temporary refusal of the server itself (421, a refused or timed-out connection) is
    the server's state, not the message's: it opens the breaker until ``open_until``, and
    no dispatcher tries that server before then. Each refusal in a row doubles the wait.
    """

    mailer = models.CharField(max_length=64, primary_key=True)
    open_until = models.DateTimeField(_("refusing until"), null=True, blank=True)
    refusals = models.PositiveIntegerField(_("refusals in a row"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("mail server state")
        verbose_name_plural = _("mail server states")

    def __str__(self) -> str:
        return f"{self.mailer}: {self.refusals} refusals"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class MessageTemplate(models.Model):
    """One step of the aftercare sequence, as the manager configured it."""

    kind = models.CharField(_("kind"), max_length=32, choices=MessageKind.choices)
    # One template per (kind, variant); the standard one has variant "".
    variant = models.CharField(
        _("variant"),
        max_length=32,
        choices=TemplateVariant.choices,
        default=TemplateVariant.STANDARD,
        db_default="",
        blank=True,
    )
    is_active = models.BooleanField(_("send this message"), default=True)
    offset_days = models.IntegerField(
        _("day"),
        help_text=_(
            "Days after the session (0 = the same day). For session reminders: days before the planned session."
        ),
    )
    send_time = models.TimeField(
        _("local send time"),
        null=True,
        blank=True,
        help_text=_("In the location's local time. Leave empty to send immediately."),
    )
    subject = models.CharField(_("subject"), max_length=200, help_text=_("Seen in the inbox: no clinical detail here."))
    body_text = models.TextField(_("text"), max_length=LONG_NOTE)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        User, verbose_name=_("updated by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["kind", "variant"]
        constraints = [
            text_fits("messagetemplate", "body_text", LONG_NOTE),
            models.CheckConstraint(
                condition=Q(offset_days__gte=-60) & Q(offset_days__lte=365), name="template_offset_in_range"
            ),
            models.UniqueConstraint(fields=["kind", "variant"], name="template_kind_variant_unique"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The kind, and the variant when it is not the standard one: what the manager reads."""
        if not self.variant:
            return str(self.get_kind_display())
        return f"{self.get_kind_display()} · {self.get_variant_display()}"

    @property
    def timing_label(self) -> str:
        """How the manager reads the timing: "day 1 at 10:00", "immediately", "1 day before …"."""
        at = self.send_time.strftime("%H:%M") if self.send_time else ""
        if self.kind == MessageKind.BOOKING_REMINDER:
            before = -self.offset_days
            return ngettext(
                "%(n)d day before the appointment at %(time)s",
                "%(n)d days before the appointment at %(time)s",
                before,
            ) % {"n": before, "time": at}
        if self.kind == MessageKind.BOOKING_CONFIRMATION:
            return gettext("immediately after booking")
        if self.kind == MessageKind.SESSION_REMINDER:
            before = -self.offset_days
            if before == 0:
                return gettext("on the day of each planned session at %(time)s") % {"time": at}
            return ngettext(
                "%(n)d day before each planned session at %(time)s",
                "%(n)d days before each planned session at %(time)s",
                before,
            ) % {"n": before, "time": at}
        if self.send_time is None:
            if self.offset_days == 0:
                return gettext("immediately")
            return gettext("day %(day)d, at the time of the session") % {"day": self.offset_days}
        return gettext("day %(day)d at %(time)s") % {"day": self.offset_days, "time": at}


class CheckInAnswer(models.TextChoices):
    FINE = "fine", _("Fine")
    RED_OR_SENSITIVE = "red_or_sensitive", _("Still red or sensitive")
    WORRIED = "worried", _("Worried")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class CheckIn(models.Model):
    """A patient's answer to the next-day check-in (one per check-in message)."""

    message = models.OneToOneField(Message, on_delete=models.PROTECT, related_name="checkin")
    patient = models.ForeignKey(Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="+")
    answer = models.CharField(_("answer"), max_length=24, choices=CheckInAnswer.choices)
    note = models.TextField(_("note from the patient"), blank=True, max_length=NOTE)
    answered_at = models.DateTimeField(_("answered"), default=timezone.now)

    class Meta:
        ordering = ["-answered_at"]
        verbose_name = _("check-in answer")
        verbose_name_plural = _("check-in answers")
        constraints = [
            text_fits("checkin", "note", NOTE),
            models.CheckConstraint(condition=Q(answer__in=CheckInAnswer.values), name="checkin_answer_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id}: {self.answer}"


class QueueEntryQuerySet(models.QuerySet["SpecialistQueueEntry"]):
    def open(self) -> QueueEntryQuerySet:
        return self.filter(resolved_at__isnull=True)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class SpecialistQueueEntry(models.Model):
    """A patient the specialist should contact (a "worried" check-in answer)."""

    checkin = models.OneToOneField(CheckIn, on_delete=models.PROTECT, related_name="queue_entry")
    patient = models.ForeignKey(Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(
        Location, verbose_name=_("location"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("added"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        User, verbose_name=_("resolved by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.TextField(_("what was done"), blank=True, max_length=REASON)

    objects = QueueEntryQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("specialist queue entry")
        verbose_name_plural = _("specialist queue")
        constraints = [
            text_fits("specialistqueueentry", "resolution", REASON),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_by__isnull=False),
                name="queue_resolved_has_resolver",
            ),
        ]

    def __str__(self) -> str:
        return f"queue: patient {self.patient_id}"

    def resolve(self, *, by: User, resolution: str, at: datetime) -> None:
        self.resolved_at = at
        self.resolved_by = by
        self.resolution = resolution
        self.save(update_fields=["resolved_at", "resolved_by", "resolution"])


class AppointmentReplyAnswer(models.TextChoices):
    CONFIRM = "confirm", _("Confirmed by the patient")
    RESCHEDULE = "reschedule", _("Asked to reschedule")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class AppointmentReply(models.Model):
    """The patient's answer to an appointment reminder (one per reminder; a later click changes it)."""

    message = models.OneToOneField(Message, on_delete=models.PROTECT, related_name="appointment_reply")
    appointment = models.ForeignKey(
        "clinic.Appointment", verbose_name=_("appointment"), on_delete=models.PROTECT, related_name="replies"
    )
    answer = models.CharField(_("answer"), max_length=16, choices=AppointmentReplyAnswer.choices)
    answered_at = models.DateTimeField(_("answered"), default=timezone.now)
    # "I need another time" stays on the front desk's worklist until someone acts on it: moves
    # or cancels the appointment (seen from its change rows), or marks it handled here.
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(
        User, verbose_name=_("handled by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-answered_at"]
        verbose_name = _("appointment reply")
        verbose_name_plural = _("appointment replies")
        constraints = [
            models.CheckConstraint(
                condition=Q(answer__in=AppointmentReplyAnswer.values), name="appointment_reply_answer_valid"
            ),
            models.CheckConstraint(
                condition=Q(handled_at__isnull=True) | Q(handled_by__isnull=False),
                name="appointment_reply_handled_has_who",
            ),
        ]

    def __str__(self) -> str:
        return f"appointment {self.appointment_id}: {self.answer}"


@pghistory.track(pghistory.InsertEvent())
class EmailWithdrawal(models.Model):
    """The patient withdrew consent to email through an unsubscribe link."""

    patient = models.ForeignKey(Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="+")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("withdrawn at"), default=timezone.now)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("email withdrawal")
        verbose_name_plural = _("email withdrawals")

    def __str__(self) -> str:
        return f"patient {self.patient_id} withdrew email at {self.at:%Y-%m-%d %H:%M}"


class LinkAction(models.TextChoices):
    CHECKIN = "checkin", _("Check-in answer")
    CHECKIN_NOTE = "checkin_note", _("Check-in note")
    APPOINTMENT_REPLY = "appointment_reply", _("Reply to a reminder")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribe")


class LinkOutcome(models.TextChoices):
    RECORDED = "recorded", _("Recorded")
    ALREADY_ANSWERED = "already_answered", _("Already answered: the first answer stands")
    SUPERSEDED = "superseded", _("Old link: the appointment has moved")
    CANCELLED = "cancelled", _("Link of a cancelled message or appointment")


class LinkClickQuerySet(models.QuerySet["LinkClick"]):
    def for_message(self, message_id: int) -> LinkClickQuerySet:
        return self.filter(message_id=message_id)


class LinkClick(models.Model):
    """Every time a patient acted through an email link (a POST; GETs only show the page).

    The check-in keeps the first answer; the clicks after it are here, so staff see that
    a patient who said "worried" later said "fine" instead of the "fine" replacing it.
    Append-only.
    """

    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="clicks")
    patient = models.ForeignKey(Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=24, choices=LinkAction.choices)
    answer = models.CharField(_("answer"), max_length=24, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    outcome = models.CharField(_("outcome"), max_length=24, choices=LinkOutcome.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)

    objects = LinkClickQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("link click")
        verbose_name_plural = _("link clicks")
        indexes = [models.Index(fields=["message", "at"], name="linkclick_message_at")]
        constraints = [
            models.CheckConstraint(condition=Q(action__in=LinkAction.values), name="linkclick_action_valid"),
            models.CheckConstraint(condition=Q(outcome__in=LinkOutcome.values), name="linkclick_outcome_valid"),
        ]
        triggers = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.message_id} {self.action} {self.answer}: {self.outcome}"
