"""Writes for clinical photos: consent and its withdrawal, storing photos, markers, thumbnails."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import IO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic.audit import acting_as
from clinic.models import Patient, User
from photos import images, tasks
from photos.models import CONSENT_TEXT_VERSIONS, Photo, PhotoConsent, PhotoMarker, Scope, photo_storage

log = logging.getLogger(__name__)


class PhotoRefused(ValidationError):
    """A refusal to show beside ``field`` (or at the top of the form when it is None)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- Consent ---------------------------------------------------------------------------------


def holding_scopes(patient_id: int) -> list[str]:
    """The photo-consent scopes that hold for the patient now, in Scope order."""
    held = set(PhotoConsent.objects.holding().filter(patient_id=patient_id).values_list("scope", flat=True))
    return [scope for scope in Scope.values if scope in held]


def photo_consent_record(*, acting_user: User, patient: Patient, scope: str) -> PhotoConsent:
    """Record the patient's consent for ``scope`` with today's text version (a no-op while one holds)."""
    with transaction.atomic(), acting_as(acting_user):
        Patient.objects.select_for_update().get(pk=patient.pk)
        holding = PhotoConsent.objects.holding().filter(patient=patient, scope=scope).first()
        if holding is not None:
            return holding
        return PhotoConsent.objects.create(
            patient=patient, scope=scope, text_version=CONSENT_TEXT_VERSIONS[scope], recorded_by=acting_user
        )


def photo_consent_withdraw(*, acting_user: User, consent: PhotoConsent) -> PhotoConsent:
    """Withdraw the consent: no new photo under it, and (teaching) no photo used for it from now on."""
    with transaction.atomic(), acting_as(acting_user):
        locked = PhotoConsent.objects.select_for_update().get(pk=consent.pk)
        if locked.withdrawn_at is not None:
            return locked
        locked.withdrawn_at = timezone.now()
        locked.withdrawn_by = acting_user
        locked.save(update_fields=["withdrawn_at", "withdrawn_by"])
        return locked


# --- Storing photos --------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """One file from the capture form, with the view it was taken for."""

    view: str
    file: IO[bytes]
    size: int


def _storage_name(kind: str) -> str:
    # 128 random bits, nothing of the patient, the view or the date in it.
    return f"{kind}/{secrets.token_hex(2)}/{secrets.token_urlsafe(24)}.jpg"


def photo_store(
    *,
    acting_user: User,
    patient: Patient,
    uploads: Sequence[Upload],
    context: str,
    taken_on: date,
    zone: ZoneInfo,
) -> list[Photo]:
    """Store the photos taken at one visit, all or none.

    Refused without the patient's clinical photo consent. Each file is checked by its content
    and re-encoded (``photos.images.prepare``) before anything is written; a refusal names the
    view whose file was refused. Thumbnails are made after commit, by a Celery task.
    """
    if not uploads:
        raise PhotoRefused(_("Take or choose at least one photo."))
    scopes = holding_scopes(patient.pk)
    if Scope.CLINICAL not in scopes:
        raise PhotoRefused(
            _(
                "%(name)s has not consented to clinical photos, so no photo can be stored. Read the photo "
                "consent to the patient and record it under “Photo consent” on this page first."
            )
            % {"name": patient.full_name}
        )
    prepared: list[tuple[Upload, images.Prepared]] = []
    for upload in uploads:
        try:
            prepared.append((upload, images.prepare(upload.file, size=upload.size, zone=zone)))
        except images.ImageRefused as refused:
            raise PhotoRefused(refused.message, field=upload.view) from refused
    storage = photo_storage()
    written: list[str] = []
    try:
        with transaction.atomic(), acting_as(acting_user):
            # The consent is read again under the patient's lock: a withdrawal that commits
            # first stops this upload; one that waits finds the photos taken under consent.
            Patient.objects.select_for_update().get(pk=patient.pk)
            scopes = holding_scopes(patient.pk)
            if Scope.CLINICAL not in scopes:
                raise PhotoRefused(_("The patient's clinical photo consent was withdrawn just now."))
            now = timezone.now()
            photos = []
            for upload, image in prepared:
                name = storage.save(_storage_name("photos"), ContentFile(image.data))
                written.append(name)
                photos.append(
                    Photo(
                        patient=patient,
                        view=upload.view,
                        context=context,
                        taken_at=image.taken_at or now,
                        taken_on=taken_on,
                        uploaded_at=now,
                        uploaded_by=acting_user,
                        scopes=scopes,
                        image=name,
                        width=image.width,
                        height=image.height,
                    )
                )
            Photo.objects.bulk_create(photos)
            for photo in photos:
                tasks.make_thumbnail.delay_on_commit(photo.pk)
    except BaseException:
        for name in written:
            storage.delete(name)
        raise
    return photos


# --- Thumbnails ------------------------------------------------------------------------------


def photo_thumbnail_make(*, photo_id: int) -> bool:
    """Make the photo's thumbnail once. Returns False when it already had one (a second run)."""
    photo = Photo.objects.filter(pk=photo_id).first()
    if photo is None or photo.thumbnail:
        return False
    storage = photo_storage()
    with storage.open(str(photo.image.name), "rb") as source:
        data = images.thumbnail(source)
    name = storage.save(_storage_name("thumbs"), ContentFile(data))
    with transaction.atomic(), acting_as(None, task="photos.make_thumbnail"):
        claimed = Photo.objects.filter(pk=photo_id, thumbnail="").update(thumbnail=name)
    if not claimed:  # another run made it meanwhile: keep theirs
        storage.delete(name)
        return False
    return True


def photos_missing_thumbnails(*, older_than: timedelta | None = None) -> list[int]:
    """Photos uploaded more than the grace period ago whose thumbnail task was lost."""
    grace = older_than if older_than is not None else timedelta(seconds=settings.PHOTO_SWEEP_GRACE_SECONDS)
    cutoff = timezone.now() - grace
    return list(Photo.objects.without_thumbnail().filter(uploaded_at__lt=cutoff).values_list("pk", flat=True)[:500])


# --- Markers ---------------------------------------------------------------------------------


def photo_marker_add(
    *, acting_user: User, photo: Photo, zone: str, lesion: str, x: int, y: int, note: str = ""
) -> PhotoMarker:
    with transaction.atomic(), acting_as(acting_user):
        return PhotoMarker.objects.create(
            photo=photo, zone=zone, lesion=lesion, x=x, y=y, note=note, added_by=acting_user
        )


def photo_marker_remove(*, acting_user: User, marker: PhotoMarker) -> None:
    with transaction.atomic(), acting_as(acting_user):
        PhotoMarker.objects.filter(pk=marker.pk).delete()
