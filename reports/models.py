"""What the reports keep besides the raw rows: when each summary was last refreshed."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SummaryRefresh(models.Model):
    """One row per summary (a materialized view, see reports/summaries.py): its last refresh."""

    name = models.CharField(_("summary"), max_length=64, unique=True)
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        verbose_name = _("summary refresh")
        verbose_name_plural = _("summary refreshes")

    def __str__(self) -> str:
        return f"{self.name} at {self.refreshed_at:%Y-%m-%d %H:%M}"
