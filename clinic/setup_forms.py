"""The forms of the manager's set-up pages: locations, rooms, appointment types, working
hours, time off, and SECTIONS, the registry that lets the four generic views (list, add,
edit, delete) serve every section.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from clinic.forms import PERFORMER_ROLES, StaffChoiceField, normalise_phone
from clinic.models import AppointmentType, Location, Room, StaffSchedule, TimeOff, User, Weekday, validate_time_zone
from clinic.validators import validate_day_in_range


def _staff_field() -> StaffChoiceField:
    return StaffChoiceField(
        label=_("Staff member"),
        queryset=User.objects.in_roles(*PERFORMER_ROLES).order_by("last_name", "first_name"),
    )


def time_zone_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Every IANA zone this Python knows, grouped by region (Europe, America, …), sorted.

    The legacy aliases ("GB", "US/Eastern", "Etc/GMT+3") are left out: a location picks a city.
    """
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(zoneinfo.available_timezones()):
        region, _slash, city = name.partition("/")
        if not city or region in ("Etc", "SystemV", "US", "Canada", "Brazil", "Chile", "Mexico"):
            continue
        groups.setdefault(region, []).append((name, city.replace("_", " ")))
    return sorted(groups.items())


class TimeZoneField(forms.ChoiceField):
    """A select of IANA zones; only a listed zone is accepted."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("max_length", None)
        kwargs.pop("empty_value", None)
        super().__init__(choices=time_zone_choices, **kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        validate_time_zone(value)


class LocationForm(forms.ModelForm[Location]):
    class Meta:
        model = Location
        fields = ["name", "time_zone", "address", "phone", "out_of_hours", "is_active"]
        widgets = {"address": forms.Textarea(attrs={"rows": 2})}
        field_classes = {"time_zone": TimeZoneField}

    def clean_phone(self) -> str:
        # Stored in E.164 like the patients' numbers; every patient email shows it in national form.
        value: str = self.cleaned_data.get("phone", "").strip()
        return normalise_phone(value, settings.CLINIC_PHONE_REGION) if value else ""


class RoomForm(forms.ModelForm[Room]):
    class Meta:
        model = Room
        fields = ["location", "name", "is_active"]


class AppointmentTypeForm(forms.ModelForm[AppointmentType]):
    class Meta:
        model = AppointmentType
        fields = ["name", "kind", "duration_minutes", "performed_by", "is_active"]


SHIFT_OVERLAP = "staff_schedule_no_overlap"
OVERLAPPING_HOURS = _("These hours overlap hours this person already works that day.")


class StaffScheduleForm(forms.ModelForm[StaffSchedule]):
    class Meta:
        model = StaffSchedule
        fields = ["staff", "location", "weekday", "start_time", "end_time"]
        widgets = {
            "start_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "end_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"] = _staff_field()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        staff, weekday, start, end = (data.get(k) for k in ("staff", "weekday", "start_time", "end_time"))
        if start and end and end <= start:
            self.add_error("end_time", _("Working hours end after they start."))
        elif staff and weekday is not None and start and end:
            # One person cannot work two overlapping shifts, at one location or two.
            clash = StaffSchedule.objects.filter(
                staff=staff, weekday=weekday, start_time__lt=end, end_time__gt=start
            ).exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("start_time", OVERLAPPING_HOURS)
        return data

    def save(self, commit: bool = True) -> StaffSchedule:
        """Save; a clash that a concurrent save created after ``clean`` is refused beside the field.

        The database's ``staff_schedule_no_overlap`` is what refuses it; the savepoint keeps
        the caller's transaction usable so the page can show the form again.
        """
        try:
            with transaction.atomic():
                return super().save(commit)
        except IntegrityError as error:
            if getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) != SHIFT_OVERLAP:
                raise
            raise ValidationError({"start_time": [OVERLAPPING_HOURS]}) from None


class WeekHoursForm(forms.Form):
    """One person's week at one location: a row per day, from and until (both empty: not working).

    A day with several shifts here is shown, not edited (the list edits each); saving leaves it.
    """

    def __init__(self, *args: Any, staff: User, location: Location, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.staff, self.location = staff, location
        shifts = list(StaffSchedule.objects.filter(staff=staff).select_related("location"))
        here: dict[int, list[StaffSchedule]] = {}
        for shift in shifts:
            if shift.location_id == location.pk:
                here.setdefault(shift.weekday, []).append(shift)
        self.elsewhere = [shift for shift in shifts if shift.location_id != location.pk]
        self.days: list[tuple[int, str, list[StaffSchedule]]] = []
        for weekday, label in Weekday.choices:
            today = here.get(weekday, [])
            self.days.append((weekday, str(label), today))
            if len(today) > 1:
                continue
            for name, value in (
                ("start", today[0].start_time if today else None),
                ("end", today[0].end_time if today else None),
            ):
                self.fields[f"{name}_{weekday}"] = forms.TimeField(
                    label=_("%(day)s, from") % {"day": label}
                    if name == "start"
                    else _("%(day)s, until") % {"day": label},
                    required=False,
                    initial=value,
                    widget=forms.TimeInput(attrs={"type": "time", "class": "form-control"}, format="%H:%M"),
                )

    def rows(self) -> list[dict[str, Any]]:
        """What the template draws: each day, its two cells (or its several shifts), its other-location hours."""
        drawn = []
        for weekday, label, today in self.days:
            editable = f"start_{weekday}" in self.fields
            drawn.append(
                {
                    "weekday": weekday,
                    "label": label,
                    "start": self[f"start_{weekday}"] if editable else None,
                    "end": self[f"end_{weekday}"] if editable else None,
                    "shifts": [] if editable else today,
                    "elsewhere": [s for s in self.elsewhere if s.weekday == weekday],
                }
            )
        return drawn

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for weekday, _label, _today in self.days:
            if f"start_{weekday}" not in self.fields:
                continue
            start, end = data.get(f"start_{weekday}"), data.get(f"end_{weekday}")
            if (start is None) != (end is None):
                missing = f"end_{weekday}" if end is None else f"start_{weekday}"
                if missing not in self.errors:
                    self.add_error(missing, _("Give both times, or neither for a day off."))
            elif start is not None and end is not None:
                if end <= start:
                    self.add_error(f"end_{weekday}", _("Working hours end after they start."))
                elif any(s.weekday == weekday and s.start_time < end and s.end_time > start for s in self.elsewhere):
                    self.add_error(f"start_{weekday}", OVERLAPPING_HOURS)
        return data

    def week(self) -> dict[int, tuple[time, time] | None]:
        """The edited days: weekday → (from, until), or None for a day off here."""
        week: dict[int, tuple[time, time] | None] = {}
        for weekday, _label, _today in self.days:
            if f"start_{weekday}" in self.fields:
                start, end = self.cleaned_data.get(f"start_{weekday}"), self.cleaned_data.get(f"end_{weekday}")
                week[weekday] = (start, end) if start is not None and end is not None else None
        return week


class TimeOffForm(forms.ModelForm[TimeOff]):
    class Meta:
        model = TimeOff
        fields = ["staff", "start", "end", "reason"]
        widgets = {
            "start": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "end": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"] = _staff_field()
        for name in ("start", "end"):
            self.fields[name].validators.append(validate_day_in_range)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", _("Time off ends after it starts."))
        return data


@dataclass(frozen=True)
class Section:
    slug: str
    title: Promise
    singular: Promise
    model: type[models.Model]
    form: type[forms.ModelForm[Any]]
    columns: tuple[tuple[Promise, Callable[[Any], object]], ...]
    related: tuple[str, ...] = ()
    deletable: bool = False  # the rest are switched off (inactive), never deleted: bookings point at them


def _active(record: Any) -> object:
    return _("Active") if record.is_active else _("Not in use")


SECTIONS: dict[str, Section] = {
    section.slug: section
    for section in (
        Section(
            "locations",
            _("Locations"),
            _("location"),
            Location,
            LocationForm,
            ((_("Name"), lambda r: r.name), (_("Time zone"), lambda r: r.time_zone), (_("Status"), _active)),
        ),
        Section(
            "rooms",
            _("Rooms"),
            _("room"),
            Room,
            RoomForm,
            ((_("Location"), lambda r: r.location.name), (_("Room"), lambda r: r.name), (_("Status"), _active)),
            related=("location",),
        ),
        Section(
            "appointment-types",
            _("Appointment types"),
            _("appointment type"),
            AppointmentType,
            AppointmentTypeForm,
            (
                (_("Name"), lambda r: r.name),
                (_("Kind"), lambda r: r.get_kind_display()),
                (_("Minutes"), lambda r: r.duration_minutes),
                (_("Performed by"), lambda r: r.get_performed_by_display()),
                (_("Status"), _active),
            ),
        ),
        Section(
            "working-hours",
            _("Working hours"),
            _("working hours"),
            StaffSchedule,
            StaffScheduleForm,
            (
                (_("Staff member"), lambda r: r.staff.display_name),
                (_("Location"), lambda r: r.location.name),
                (_("Day"), lambda r: r.get_weekday_display()),
                (_("Hours"), lambda r: f"{r.start_time:%H:%M}–{r.end_time:%H:%M}"),
            ),
            related=("staff", "location"),
            deletable=True,
        ),
        Section(
            "time-off",
            _("Time off"),
            _("time off"),
            TimeOff,
            TimeOffForm,
            (
                (_("Staff member"), lambda r: r.staff.display_name),
                (_("From"), lambda r: r.start),
                (_("Until"), lambda r: r.end),
                (_("Reason"), lambda r: r.reason or "—"),
            ),
            related=("staff",),
            deletable=True,
        ),
    )
}
