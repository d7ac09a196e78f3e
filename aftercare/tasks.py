"""Celery tasks: thin, id-free (the outbox is the state), safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from aftercare import dispatcher


@shared_task(name="aftercare.tasks.dispatch_due", ignore_result=True)
def dispatch_due() -> int:
    """Send what is due. Beat runs this every minute; services kick it after a commit."""
    result = dispatcher.dispatch_due()
    if result.more:
        # A backlog: continue in fresh tasks (more than one, so every pool process helps
        # drain it; skip-locked claims keep them apart). Bounded: only a task that found a
        # full batch spawns more, so the number of tasks follows the backlog.
        for _ in range(settings.AFTERCARE_DISPATCH_FANOUT):
            dispatch_due.delay()
    return result.sent
