"""Thumbnails: made once per photo by a task after the commit; a sweeper redoes lost ones."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.files.storage import storages
from django.utils import timezone
from PIL import Image

from clinic.models import Patient
from photos import services, tasks
from photos.models import Photo
from tests.photos import pictures

Store = Callable[..., list[Photo]]


def test_the_upload_enqueues_one_thumbnail_task_per_photo_after_commit(
    consented: Patient, store: Store, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[int] = []
    monkeypatch.setattr(tasks.make_thumbnail, "delay", lambda photo_id: sent.append(photo_id))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        photos = store(consented, front=pictures.jpeg(), left_45=pictures.jpeg())
        assert sent == []  # nothing leaves before the commit
    assert len(callbacks) == 2
    for callback in callbacks:
        callback()
    assert sorted(sent) == sorted(p.pk for p in photos)
    assert all(not p.thumbnail for p in Photo.objects.all())  # the upload itself made none


def test_the_task_makes_a_small_thumbnail_once(photo: Photo) -> None:
    big = pictures.jpeg(1600, 2000)
    photo = services.photo_store(
        acting_user=photo.uploaded_by,
        patient=photo.patient,
        uploads=[services.Upload(view="front", file=io.BytesIO(big), size=len(big))],
        context="review",
        taken_on=photo.taken_on,
        zone=timezone.get_current_timezone(),  # type: ignore[arg-type]
    )[0]

    assert tasks.make_thumbnail(photo.pk) is True
    photo.refresh_from_db()
    name = str(photo.thumbnail.name)
    with storages["photos"].open(name, "rb") as handle, Image.open(handle) as thumb:
        assert max(thumb.size) == settings.PHOTO_THUMBNAIL_PX
        assert thumb.size == (384, 480)

    assert tasks.make_thumbnail(photo.pk) is False  # a second run (a redelivery) changes nothing
    photo.refresh_from_db()
    assert photo.thumbnail.name == name


def test_the_task_for_a_photo_that_does_not_exist_does_nothing(db: None) -> None:
    assert tasks.make_thumbnail(987654) is False


def test_the_sweeper_enqueues_only_photos_whose_task_was_lost(
    consented: Patient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[int] = []
    monkeypatch.setattr(tasks.make_thumbnail, "delay", lambda photo_id: sent.append(photo_id))
    now = timezone.now()
    with time_machine.travel(now - timedelta(hours=1), tick=False):
        lost, done = store(consented, front=pictures.jpeg(), left_45=pictures.jpeg())
    recent = store(consented, right_45=pictures.jpeg())[0]  # its task may still be on its way
    tasks.make_thumbnail(done.pk)

    assert tasks.sweep_thumbnails() == 1
    assert sent == [lost.pk]
    assert recent.pk not in sent


def test_the_sweeper_runs_on_the_beat_schedule() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["photos-thumbnail-sweep"]
    assert entry["task"] == "photos.tasks.sweep_thumbnails"
    assert entry["schedule"] == float(settings.PHOTO_SWEEP_INTERVAL_SECONDS)


def test_the_thumbnail_view_serves_the_photo_until_the_thumbnail_exists(
    client: Any, photo: Photo, specialist: Any
) -> None:
    client.force_login(specialist)
    before = b"".join(client.get(photo.thumbnail_url).streaming_content)
    tasks.make_thumbnail(photo.pk)
    after = b"".join(client.get(photo.thumbnail_url).streaming_content)
    with storages["photos"].open(str(photo.image.name), "rb") as handle:
        assert before == handle.read()
    assert after != before
