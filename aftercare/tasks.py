"""Celery tasks: thin, id-free (the outbox is the state), safe to run twice."""

from __future__ import annotations

from celery import shared_task

from aftercare import dispatcher


@shared_task(name="aftercare.tasks.dispatch_due", ignore_result=True)
def dispatch_due() -> int:
    """Send what is due. Beat runs this every minute; services kick it after a commit."""
    result = dispatcher.dispatch_due()
    if result.more:
        # A backlog: continue in a fresh task so other work interleaves and the heartbeat stays fresh.
        dispatch_due.delay()
    return result.sent
