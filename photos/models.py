"""Clinical photos: the patient's photo consent (with its scopes), the photos and their markers.

A photo records the scopes that held when it was taken (``scopes``). Whether it may be used
for teaching or marketing *now* is that, and the patient's teaching-and-marketing consent
still holding: withdrawing the consent takes every photo out of that use at once, without
touching a photo row (``PhotoQuerySet.usable_for_teaching``).
"""

from __future__ import annotations

import uuid
from typing import Any

import pghistory
import pgtrigger
from django.contrib.postgres.fields import ArrayField
from django.core.files.storage import Storage, storages
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.models import Patient, User
from consultations.grading import Lesion, Zone


def photo_storage() -> Storage:
    """The private storage (``STORAGES["photos"]``): no public URL, served by a view only."""
    return storages["photos"]


class Scope(models.TextChoices):
    CLINICAL = "clinical", _("Clinical record")
    TEACHING = "teaching", _("Teaching and marketing")


# The versions of the consent texts the clinic reads to the patient (shown on the consent form).
CONSENT_TEXT_VERSIONS: dict[str, str] = {
    Scope.CLINICAL: "photo-clinical-2026-1",
    Scope.TEACHING: "photo-teaching-2026-1",
}


class View(models.TextChoices):
    """The standard views: the same angle each time, so photos months apart compare."""

    FRONT = "front", _("Front")
    LEFT_45 = "left_45", _("Left 45°")
    RIGHT_45 = "right_45", _("Right 45°")
    LEFT_PROFILE = "left_profile", _("Left profile")
    RIGHT_PROFILE = "right_profile", _("Right profile")
    CHEST = "chest", _("Chest")
    BACK = "back", _("Back")


FACE_VIEWS: tuple[View, ...] = (View.FRONT, View.LEFT_45, View.RIGHT_45, View.LEFT_PROFILE, View.RIGHT_PROFILE)

# Which zones of the face map each view shows (its counts sit beside the photo).
VIEW_ZONES: dict[str, tuple[Zone, ...]] = {
    View.FRONT: (Zone.FOREHEAD, Zone.NOSE, Zone.LEFT_CHEEK, Zone.RIGHT_CHEEK, Zone.CHIN, Zone.JAWLINE),
    View.LEFT_45: (Zone.FOREHEAD, Zone.NOSE, Zone.LEFT_CHEEK, Zone.CHIN, Zone.JAWLINE),
    View.RIGHT_45: (Zone.FOREHEAD, Zone.NOSE, Zone.RIGHT_CHEEK, Zone.CHIN, Zone.JAWLINE),
    View.LEFT_PROFILE: (Zone.LEFT_CHEEK, Zone.JAWLINE),
    View.RIGHT_PROFILE: (Zone.RIGHT_CHEEK, Zone.JAWLINE),
    View.CHEST: (Zone.CHEST,),
    View.BACK: (Zone.BACK,),
}


class Context(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")
    SESSION_BEFORE = "session_before", _("Session, before")
    SESSION_AFTER = "session_after", _("Session, after")
    REVIEW = "review", _("Progress review")


class PhotoConsentQuerySet(models.QuerySet["PhotoConsent"]):
    def holding(self) -> PhotoConsentQuerySet:
        return self.filter(withdrawn_at__isnull=True)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class PhotoConsent(models.Model):
    """The patient's consent to photos for one scope: when, which text, and its withdrawal."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="photo_consents")
    scope = models.CharField(_("scope"), max_length=20, choices=Scope.choices)
    text_version = models.CharField(_("consent text version"), max_length=40)
    given_at = models.DateTimeField(_("given at"), default=timezone.now)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True, blank=True)

    objects = PhotoConsentQuerySet.as_manager()

    class Meta:
        ordering = ["-given_at", "-id"]
        verbose_name = _("photo consent")
        verbose_name_plural = _("photo consents")
        constraints = [
            # At most one holding consent per scope: recording it again while it holds is a no-op.
            models.UniqueConstraint(
                fields=["patient", "scope"], condition=Q(withdrawn_at__isnull=True), name="photo_consent_one_holding"
            ),
            models.CheckConstraint(condition=~Q(text_version=""), name="photo_consent_has_text_version"),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True, withdrawn_by__isnull=True)
                | Q(withdrawn_at__isnull=False, withdrawn_by__isnull=False),
                name="photo_consent_withdrawal_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope} photo consent of patient {self.patient_id}"

    @property
    def holds(self) -> bool:
        return self.withdrawn_at is None


class PhotoQuerySet(models.QuerySet["Photo"]):
    def for_patient(self, patient_id: int) -> PhotoQuerySet:
        return self.filter(patient_id=patient_id)

    def clinical(self) -> PhotoQuerySet:
        return self.filter(scopes__contains=[Scope.CLINICAL])

    def usable_for_teaching(self) -> PhotoQuerySet:
        """Taken with teaching-and-marketing consent, and that consent still holds today."""
        holding = PhotoConsent.objects.holding().filter(patient_id=OuterRef("patient_id"), scope=Scope.TEACHING)
        return self.filter(scopes__contains=[Scope.TEACHING]).filter(Exists(holding))

    def without_thumbnail(self) -> PhotoQuerySet:
        return self.filter(thumbnail="")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Photo(models.Model):
    """One clinical photo: re-encoded without EXIF, under a name nobody can guess."""

    # The id in every URL: a random UUID, so one photo's address does not lead to the next.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="photos")
    view = models.CharField(_("view"), max_length=20, choices=View.choices)
    context = models.CharField(_("taken at"), max_length=20, choices=Context.choices)
    # The camera's capture time (EXIF DateTimeOriginal) when it had one, else the upload time.
    taken_at = models.DateTimeField(_("taken at"))
    taken_on = models.DateField(_("day taken"), help_text=_("The clinic's local day of the visit."))
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    scopes = ArrayField(models.CharField(max_length=20, choices=Scope.choices), verbose_name=_("consent scopes"))
    image = models.FileField(storage=photo_storage, max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    thumbnail = models.FileField(storage=photo_storage, max_length=200, blank=True)

    objects = PhotoQuerySet.as_manager()

    class Meta:
        ordering = ["taken_on", "taken_at", "id"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        indexes = [models.Index(fields=["patient", "view", "taken_on"], name="photo_patient_view_day")]
        constraints = [
            # The app never stores a photo without clinical consent (photos.services.photo_store).
            models.CheckConstraint(condition=Q(scopes__contains=[Scope.CLINICAL]), name="photo_needs_clinical_scope"),
            models.CheckConstraint(condition=Q(width__gt=0, height__gt=0), name="photo_has_size"),
        ]
        triggers = [pgtrigger.Protect(name="no_delete", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.get_view_display()} photo of patient {self.patient_id} on {self.taken_on}"

    def get_absolute_url(self) -> str:
        return reverse("photos:photo_detail", args=[self.public_id])

    @property
    def image_url(self) -> str:
        return reverse("photos:photo_image", args=[self.public_id])

    @property
    def thumbnail_url(self) -> str:
        return reverse("photos:photo_thumbnail", args=[self.public_id])

    @property
    def zones(self) -> tuple[Zone, ...]:
        return VIEW_ZONES[self.view]


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class PhotoMarker(models.Model):
    """A point on a photo tied to a zone of the face map (and a lesion type): "forehead, closed
    comedones" points at the photo. x and y are per mille of the width and height."""

    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="markers")
    zone = models.CharField(_("zone"), max_length=20, choices=Zone.choices)
    lesion = models.CharField(_("lesion"), max_length=20, choices=Lesion.choices, blank=True)
    x = models.PositiveSmallIntegerField(_("across (‰)"))
    y = models.PositiveSmallIntegerField(_("down (‰)"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    added_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "id"]
        verbose_name = _("photo marker")
        verbose_name_plural = _("photo markers")
        constraints = [
            models.CheckConstraint(condition=Q(x__lte=1000, y__lte=1000), name="photo_marker_on_photo"),
        ]

    def __str__(self) -> str:
        return f"{self.zone} marker on photo {self.photo_id}"

    @property
    def label(self) -> str:
        parts: list[Any] = [Zone(self.zone).label]
        if self.lesion:
            parts.append(Lesion(self.lesion).label)
        return ", ".join(str(part) for part in parts)
