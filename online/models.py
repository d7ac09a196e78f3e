"""Online booking: holds awaiting the patient's confirmation, the abuse log, near-duplicate
patients for the front desk, and the waitlist with its offers.

A hold is a real appointment (so the appointment table's exclusion constraints cover it,
and the front desk sees the time as taken) plus an ``OnlineHold`` row saying it still
waits for the patient to confirm from the emailed link.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.constraints import REASON, text_fits
from clinic.models import Appointment, AppointmentType, Location, Patient, Room, User


class HoldState(models.TextChoices):
    HELD = "held", _("Waiting for the patient to confirm")
    CONFIRMED = "confirmed", _("Confirmed by the patient")
    RELEASED = "released", _("Released (not confirmed in time)")


class OnlineHold(models.Model):
    appointment = models.OneToOneField(Appointment, on_delete=models.PROTECT, related_name="online_hold")
    email = models.EmailField(_("email"))
    ip_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=HoldState.choices, default=HoldState.HELD)
    created_at = models.DateTimeField(_("held at"), default=timezone.now)
    expires_at = models.DateTimeField(_("held until"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    # The patient record was made for this hold (no patient matched the email and date of
    # birth). Released unconfirmed, it is removed with the hold when nothing else refers to it.
    new_patient = models.BooleanField(_("new patient record"), default=False, db_default=False)

    class Meta:
        verbose_name = _("online hold")
        indexes = [
            # The sweeper's candidates and the per-address bound: a small slice (holds waiting).
            models.Index(fields=["expires_at"], name="online_hold_waiting", condition=Q(state="held")),
            models.Index(fields=["email", "state"], name="online_hold_email"),
            models.Index(fields=["ip_address", "state"], name="online_hold_ip"),
        ]

    def __str__(self) -> str:
        return f"Hold {self.pk} ({self.state}) of appointment {self.appointment_id}"


class OnlineRequest(models.Model):
    """One booking or waitlist request from the public pages: what the rate limits count."""

    ip_address = models.GenericIPAddressField(null=True, blank=True)
    email = models.CharField(max_length=254, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["ip_address", "at"], name="online_request_ip_at"),
            models.Index(fields=["email", "at"], name="online_request_email_at"),
        ]

    def __str__(self) -> str:
        return f"Online request at {self.at.isoformat()}"


class DuplicateCandidate(models.Model):
    """A patient who booked online and looks like another record: the front desk decides."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+", verbose_name=_("booked as"))
    similar_to = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+", verbose_name=_("looks like"))
    reason = models.CharField(_("why"), max_length=200)
    created_at = models.DateTimeField(_("found"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "similar_to"], name="duplicate_candidate_once"),
        ]

    def __str__(self) -> str:
        return f"Patient {self.patient_id} may be {self.similar_to_id}"


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    BOOKED = "booked", _("Booked from an offer")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class WaitlistEntry(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+", verbose_name=_("patient"))
    appointment_type = models.ForeignKey(
        AppointmentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("appointment type")
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+", verbose_name=_("location"))
    # ISO-less Python weekdays (Monday 0) that suit; empty means any day.
    weekdays = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True, verbose_name=_("days"))
    earliest_time = models.TimeField(_("from (time of day)"))
    latest_time = models.TimeField(_("until (time of day)"))
    earliest_date = models.DateField(_("earliest date"))
    latest_date = models.DateField(_("latest date"))
    status = models.CharField(
        _("status"), max_length=12, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    note = models.TextField(_("note"), blank=True, max_length=REASON)
    created_at = models.DateTimeField(_("waiting since"), default=timezone.now)
    added_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("waitlist entry")
        verbose_name_plural = _("waitlist")
        constraints = [
            text_fits("waitlistentry", "note", REASON),
            models.CheckConstraint(
                condition=Q(latest_date__gte=models.F("earliest_date")),
                name="waitlist_dates_in_order",
                violation_error_message=_("The latest date is on or after the earliest."),
            ),
            models.CheckConstraint(
                condition=Q(latest_time__gt=models.F("earliest_time")),
                name="waitlist_times_in_order",
                violation_error_message=_("The latest time is after the earliest."),
            ),
        ]
        indexes = [
            # The matcher: waiting entries for one type and location, oldest first.
            models.Index(
                fields=["appointment_type", "location", "created_at"],
                name="waitlist_matcher",
                condition=Q(status="waiting"),
            ),
        ]

    def __str__(self) -> str:
        return f"Waitlist {self.pk} for patient {self.patient_id}"


class OfferStatus(models.TextChoices):
    OFFERED = "offered", _("Offered")
    ACCEPTED = "accepted", _("Accepted")
    GONE = "gone", _("Taken by someone else")
    EXPIRED = "expired", _("Expired")
    # Accepted, but the patient may not have this extraction slot now (clearance, plan,
    # interval): the page sends them to the front desk, and the slot goes to the next patients.
    REFUSED = "refused", _("Not possible online: sent to the front desk")


class WaitlistOffer(models.Model):
    """A freed slot offered to one waiting patient. ``slot_key`` names the slot (practitioner,
    start): one offer per entry and slot (a job running twice offers nothing new), and at
    most one accepted offer per slot (the database picks the winner)."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.PROTECT, related_name="offers")
    slot_key = models.CharField(max_length=120)
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField(_("starts at"))
    end = models.DateTimeField(_("ends at"))
    status = models.CharField(_("status"), max_length=12, choices=OfferStatus.choices, default=OfferStatus.OFFERED)
    created_at = models.DateTimeField(_("offered at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="+", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "slot_key"], name="waitlist_offer_once_per_slot"),
            models.UniqueConstraint(
                fields=["slot_key"], condition=Q(status="accepted"), name="waitlist_offer_one_winner"
            ),
        ]
        indexes = [
            models.Index(fields=["expires_at"], name="waitlist_offer_open", condition=Q(status="offered")),
        ]

    def __str__(self) -> str:
        return f"Offer {self.pk} ({self.status}) of {self.slot_key}"
