"""The filter every report shares: a date range (a preset or custom) and a location."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.models import Location, User

# A custom range longer than this is refused: the reports are built for up to a few years.
MAX_RANGE_DAYS = 3 * 366
# The most hours before the start a late cancellation may be chosen by (two weeks): the
# appointment-day summary (reports.summaries.APPOINTMENT_DAY_SQL) keeps a cancellation's
# notice only up to this, so a larger maximum needs that summary remade.
LATE_HOURS_MAX = 24 * 14


class Preset:
    WEEK = "week"
    LAST_30 = "30d"
    QUARTER = "quarter"
    CUSTOM = "custom"


PRESETS = (
    (Preset.WEEK, _("This week")),
    (Preset.LAST_30, _("Last 30 days")),
    (Preset.QUARTER, _("This quarter")),
    (Preset.CUSTOM, _("Custom range")),
)


@dataclass(frozen=True)
class Filters:
    """What a report reads: [start, end) as aware datetimes, and the location ids to include."""

    first_day: date
    last_day: date
    start: datetime
    end: datetime
    location_ids: tuple[int, ...]
    zone: str
    late_hours: int
    by: str

    def query(self) -> dict[str, str]:
        """The GET parameters that give the same filters (for drill-down and export links)."""
        return {
            "preset": Preset.CUSTOM,
            "start": self.first_day.isoformat(),
            "end": self.last_day.isoformat(),
            "location": str(self.location_ids[0]) if len(self.location_ids) == 1 else "",
            "late_hours": str(self.late_hours),
            "by": self.by,
        }


def preset_range(preset: str, today: date) -> tuple[date, date]:
    if preset == Preset.WEEK:
        monday = today - timedelta(days=today.weekday())
        return monday, monday + timedelta(days=6)
    if preset == Preset.QUARTER:
        first_month = 3 * ((today.month - 1) // 3) + 1
        first = date(today.year, first_month, 1)
        next_quarter = date(today.year + (first_month + 3 > 12), (first_month + 3 - 1) % 12 + 1, 1)
        return first, next_quarter - timedelta(days=1)
    return today - timedelta(days=29), today


class ReportFilterForm(forms.Form):
    # The select shows the period the report uses when none is chosen (the last 30 days).
    preset = forms.ChoiceField(label=_("Period"), choices=PRESETS, required=False, initial=Preset.LAST_30)
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Until (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    location = forms.ModelChoiceField(
        label=_("Location"), queryset=Location.objects.none(), required=False, empty_label=_("All my locations")
    )
    late_hours = forms.IntegerField(
        label=_("Late cancellation: hours before the start"), min_value=1, max_value=LATE_HOURS_MAX, required=False
    )
    by = forms.ChoiceField(label=_("Break down by"), choices=(), required=False)

    def __init__(self, data: Any, *, user: User, breakdowns: tuple[tuple[str, Any], ...] = (), **kwargs: Any) -> None:
        if data is not None and not data.get("preset"):
            data = data.copy()
            data["preset"] = Preset.LAST_30
        super().__init__(data, **kwargs)
        self.user = user
        self.fields["location"].queryset = Location.objects.active().filter(pk__in=user.location_ids())  # type: ignore[attr-defined]
        if breakdowns:
            self.fields["by"].choices = breakdowns  # type: ignore[attr-defined]
        else:
            del self.fields["by"]
        self.breakdowns = breakdowns

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        preset = cleaned.get("preset") or Preset.LAST_30
        cleaned["preset"] = preset
        if preset == Preset.CUSTOM:
            start, end = cleaned.get("start"), cleaned.get("end")
            if start is None:
                self.add_error("start", _("Enter the first day of the range."))
            if end is None:
                self.add_error("end", _("Enter the last day of the range."))
            if start and end and end < start:
                self.add_error("end", _("The range ends before it starts."))
            elif start and end and (end - start).days > MAX_RANGE_DAYS:
                self.add_error("end", _("Choose a range of at most three years."))
        return cleaned

    def filters(self, *, zone: zoneinfo.ZoneInfo | None = None) -> Filters:
        """The chosen filters (the defaults when the form is unbound or invalid)."""
        zone = zone or zoneinfo.ZoneInfo(settings.TIME_ZONE)
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        today = timezone.localdate(timezone=zone)
        preset = data.get("preset") or Preset.LAST_30
        if preset == Preset.CUSTOM:
            first, last = data["start"], data["end"]
        else:
            first, last = preset_range(preset, today)
        location = data.get("location")
        location_ids = (location.pk,) if location else tuple(sorted(self.user.location_ids()))
        by = data.get("by") or (self.breakdowns[0][0] if self.breakdowns else "")
        return Filters(
            first_day=first,
            last_day=last,
            start=datetime.combine(first, time.min, tzinfo=zone),
            end=datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone),
            location_ids=location_ids,
            zone=str(zone),
            late_hours=data.get("late_hours") or settings.REPORTS_LATE_CANCEL_HOURS,
            by=by,
        )


class LotChoiceForm(forms.Form):
    lot: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Product lot"), queryset=None, empty_label=_("Choose a lot")
    )

    def __init__(self, data: Any, *, lots: Any, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.fields["lot"].queryset = lots  # type: ignore[attr-defined]
