"""The thumbnail through the real queue: the upload commits, its on-commit hook enqueues the task
on a real Redis, and a real Celery worker (a subprocess) makes the thumbnail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from clinic.celery import app
from clinic.models import Patient
from photos.models import Photo
from tests.aftercare.test_reliability import (  # the same worker stack the outbox tests run
    PrivateRedis,
    Stack,
    private_redis,  # noqa: F401  (fixture)
    sink,  # noqa: F401  (fixture)
    stack,  # noqa: F401  (fixture)
    wait_until,
)
from tests.photos import pictures
from tests.photos.test_thumbnails import Store

pytestmark = [pytest.mark.worker, pytest.mark.timeout(120)]


@pytest.fixture
def producer_on(private_redis: PrivateRedis) -> Iterator[None]:  # noqa: F811
    # This process enqueues on the test's private Redis too, where its worker listens.
    def fresh_pools() -> None:
        # Celery caches its connection and producer pools per broker URL: drop both.
        app._pool = None
        app.amqp._producer_pool = None

    before = app.conf.broker_url
    app.conf.broker_url = private_redis.url
    fresh_pools()
    yield
    app.conf.broker_url = before
    fresh_pools()


def test_a_real_worker_makes_the_thumbnail_after_the_upload_commits(
    stack: Stack,  # noqa: F811
    producer_on: None,
    consented: Patient,
    store: Store,
) -> None:
    stack.extra_env["PHOTO_STORAGE_DIR"] = str(settings.STORAGES["photos"]["OPTIONS"]["location"])
    stack.worker(concurrency=1)
    [photo] = store(consented, front=pictures.jpeg(1600, 2000))  # commits: no test transaction here

    def made() -> bool:
        return bool(Photo.objects.get(pk=photo.pk).thumbnail)

    wait_until(made, timeout=60, what="the worker to make the thumbnail")
    thumbnail = Photo.objects.get(pk=photo.pk).thumbnail
    assert Path(settings.STORAGES["photos"]["OPTIONS"]["location"], thumbnail.name).exists()
