"""Thumbnails, made after the upload's commit so the upload answers quickly; a sweeper redoes lost ones."""

from __future__ import annotations

import functools
from typing import Any

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.db import transaction

from photos import services


class AfterCommitTask(DjangoTask[[int], bool]):
    def delay_on_commit(self, *args: Any, **kwargs: Any) -> Any:
        # robust: a broker that is down must not turn a stored photo into an error page;
        # the sweeper finds the photo without a thumbnail and enqueues it again.
        transaction.on_commit(functools.partial(self.delay, *args, **kwargs), robust=True)


@shared_task(name="photos.tasks.make_thumbnail", ignore_result=True, base=AfterCommitTask)
def make_thumbnail(photo_id: int) -> bool:
    """Make one photo's thumbnail; a second run (a redelivery, the sweeper) finds it made."""
    return services.photo_thumbnail_make(photo_id=photo_id)


@shared_task(name="photos.tasks.sweep_thumbnails", ignore_result=True)
def sweep_thumbnails() -> int:
    """Enqueue the thumbnails whose task was lost (a broker restart, a killed worker). Beat runs this."""
    missing = services.photos_missing_thumbnails()
    for photo_id in missing:
        make_thumbnail.delay(photo_id)
    return len(missing)
