"""The front desk's booking forms: what to look for, the slot clicked, a cancellation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.forms import PERFORMER_ROLES, StaffChoiceField
from clinic.models import AppointmentType, Room, User

# The days the schedule can show or book. Beyond them the date arithmetic of a week or a
# "nearest slot" search would leave Python's calendar (year 1 to 9999) and fail.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)


def day_in_range(day: date) -> bool:
    return EARLIEST_DAY <= day <= LATEST_DAY


def _validate_day(day: date) -> None:
    if not day_in_range(day):
        raise forms.ValidationError(
            _("Choose a day between %(first)s and %(last)s."),
            code="out_of_range",
            params={"first": EARLIEST_DAY.isoformat(), "last": LATEST_DAY.isoformat()},
        )


class SlotSearchForm(forms.Form):
    """What the desk is looking for: a type, optionally a practitioner, on a day."""

    appointment_type = forms.ModelChoiceField(
        label=_("Appointment type"), queryset=AppointmentType.objects.active(), empty_label=None
    )
    practitioner = StaffChoiceField(
        label=_("Practitioner"), queryset=User.objects.none(), required=False, empty_label=_("Anyone available")
    )
    day = forms.DateField(
        label=_("Day"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[_validate_day],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        practitioner_field = cast(StaffChoiceField, self.fields["practitioner"])
        practitioner_field.queryset = User.objects.in_roles(*PERFORMER_ROLES).order_by("last_name", "first_name")


class SlotChoiceForm(forms.Form):
    """One free slot the desk clicked: the hidden fields of its "Book" button."""

    appointment_type = forms.ModelChoiceField(queryset=AppointmentType.objects.active(), widget=forms.HiddenInput)
    practitioner = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True), widget=forms.HiddenInput)
    room = forms.ModelChoiceField(queryset=Room.objects.active().select_related("location"), widget=forms.HiddenInput)
    start = forms.DateTimeField(widget=forms.HiddenInput)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000)

    def clean_start(self) -> datetime:
        start: datetime = self.cleaned_data["start"]
        if timezone.is_naive(start):
            raise forms.ValidationError(_("Choose a time from the list."))
        _validate_day(start.date())
        return start


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"), max_length=500, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the appointment is cancelled."))
        return reason
