"""The clinic's periodic jobs. Each task calls a function that owns the work."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task

from clinic.backups import database_backup, newest_backup_age

logger = logging.getLogger(__name__)

# A redelivered or doubled nightly run finds a fresh dump and does nothing more.
RECENT_ENOUGH = timedelta(hours=1)


@shared_task(name="clinic.tasks.backup_nightly", ignore_result=True)
def backup_nightly() -> str | None:
    age = newest_backup_age()
    if age is not None and age < RECENT_ENOUGH:
        logger.info("backup skipped: the newest dump is only %s old", age)
        return None
    backup = database_backup()
    logger.info(
        "backup written: %s (%d bytes, %.1f s, %d old dumps pruned)",
        backup.path,
        backup.size,
        backup.seconds,
        len(backup.pruned),
    )
    return str(backup.path)
