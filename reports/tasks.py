"""Celery tasks: thin, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from reports import summaries


@shared_task(name="reports.tasks.refresh_summaries", ignore_result=True)
def refresh_summaries() -> None:
    """Beat runs this every REPORTS_SUMMARY_REFRESH_SECONDS (the overdue worklist's summary)."""
    summaries.refresh_summaries()
