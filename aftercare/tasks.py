"""Celery tasks: thin, id-free (the outbox is the state), safe to run twice."""

from __future__ import annotations

import functools
from typing import Any

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.conf import settings
from django.db import transaction

from aftercare import dispatcher, services


class OutboxTask(DjangoTask[[], int]):
    """A task that services enqueue after their commit, with ``delay_on_commit()``."""

    def delay_on_commit(self, *args: Any, **kwargs: Any) -> Any:
        # robust: a broker that is down must not turn a saved action into an error page;
        # the rows are already stored and the beat schedule runs this task anyway.
        transaction.on_commit(functools.partial(self.delay, *args, **kwargs), robust=True)


@shared_task(name="aftercare.tasks.dispatch_due", ignore_result=True, base=OutboxTask)
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


@shared_task(name="aftercare.tasks.sweep_booking_messages", ignore_result=True)
def sweep_booking_messages() -> int:
    """Write the messages of bookings that a crash left without them. Beat runs this."""
    return services.booking_messages_sweep()
