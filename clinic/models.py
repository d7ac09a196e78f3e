from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from typing import ClassVar

import pghistory
import pgtrigger
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.roles import ROLE_BY_GROUP, RoleSpec


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("“%(value)s” is not a known time zone."), params={"value": value}) from None


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), exclude=["password", "last_login"])
class User(AbstractUser):
    """A member of staff. Patients never sign in; they act through signed email links."""

    home_location = models.ForeignKey(
        "clinic.Location",
        verbose_name=_("home location"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("staff member")  # type: ignore[assignment]
        verbose_name_plural = _("staff")  # type: ignore[assignment]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def role_specs(self) -> list[RoleSpec]:
        """The roles this person holds, in the fixed order of ROLES (cached per request)."""
        cached: list[RoleSpec] | None = getattr(self, "_role_specs", None)
        if cached is None:
            names = {group.name for group in self.groups.all()}
            cached = [spec for name, spec in ROLE_BY_GROUP.items() if name in names]
            self._role_specs = cached
        return cached

    @property
    def primary_role(self) -> RoleSpec | None:
        specs = self.role_specs
        return specs[0] if specs else None


class LocationQuerySet(models.QuerySet["Location"]):
    def active(self) -> LocationQuerySet:
        return self.filter(is_active=True)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Location(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="Europe/London",
        validators=[validate_time_zone],
        help_text=_("Appointments and message times at this location use this zone."),
    )
    address = models.TextField(_("address"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects: ClassVar[LocationQuerySet] = LocationQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["name"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def today(self) -> date:
        return timezone.localdate(timezone=self.zone)

    def local(self, moment: datetime) -> datetime:
        return timezone.localtime(moment, self.zone)


class PreferredContact(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    SMS = "sms", _("Text message")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Patient(models.Model):
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"))
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    preferred_contact = models.CharField(
        _("preferred contact"), max_length=10, choices=PreferredContact.choices, default=PreferredContact.EMAIL
    )
    email_consent = models.BooleanField(_("consents to email"), default=False)
    email_consent_at = models.DateTimeField(_("email consent changed at"), null=True, blank=True)
    front_desk_notes = models.TextField(_("notes for the front desk"), blank=True)
    created_at = models.DateTimeField(_("registered at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        permissions = [
            ("work_front_desk", "Can run the front desk"),
            ("work_consultations", "Can run consultations"),
            ("work_treatments", "Can perform treatment sessions"),
            ("manage_clinic", "Can configure the clinic and read its reports"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(email_consent=True) | ~models.Q(email=""),
                name="patient_email_consent_needs_email",
                violation_error_message=_("Consent to email needs an email address."),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse("clinic:patient_detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class AccessEventQuerySet(models.QuerySet["AccessEvent"]):
    def for_patient(self, patient_id: int) -> AccessEventQuerySet:
        return self.filter(patient_id=patient_id)


class AccessEvent(models.Model):
    """A member of staff read a patient's record. Append-only, like the change audit."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="access_events")
    page = models.CharField(max_length=200)
    path = models.CharField(max_length=500)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    objects: ClassVar[AccessEventQuerySet] = AccessEventQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["-at"]
        verbose_name = _("record access")
        verbose_name_plural = _("record accesses")
        indexes = [models.Index(fields=["patient", "-at"], name="access_patient_at")]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} read patient {self.patient_id} at {self.at:%Y-%m-%d %H:%M}"


class Heartbeat(models.Model):
    """The last time a background process proved it was alive (read by /healthz)."""

    name = models.CharField(max_length=64, primary_key=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("heartbeat")

    def __str__(self) -> str:
        return f"{self.name} @ {self.at.isoformat()}"
