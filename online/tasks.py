"""Celery tasks: thin, take ids, safe to run twice."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.db import transaction

from online import services


class OnlineTask(DjangoTask[[int, str], int]):
    def delay_on_commit(self, *args: Any, **kwargs: Any) -> Any:
        # robust: a broker that is down must not undo the cancellation the desk just saved.
        transaction.on_commit(functools.partial(self.delay, *args, **kwargs), robust=True)


@shared_task(name="online.tasks.offer_freed_slot", ignore_result=True, base=OnlineTask)
def offer_freed_slot(appointment_id: int, start: str) -> int:
    """Offer a freed time to the waitlist. A second run offers nothing new (one offer per
    entry and slot, held by a unique constraint)."""
    return len(services.waitlist_offer_slot(appointment_id=appointment_id, start=datetime.fromisoformat(start)))


@shared_task(name="online.tasks.sweep", ignore_result=True)
def sweep() -> int:
    """Release unconfirmed holds and expire unanswered offers. Beat runs this every minute."""
    released, expired = services.online_sweep()
    return released + expired
