"""The front desk's booking forms: what to look for, the slot clicked, a cancellation."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.booking.preload import PreloadedChoiceField, preload_choices
from clinic.forms import PERFORMER_ROLES, StaffChoiceField
from clinic.models import AppointmentType, Room, User
from clinic.validators import validate_day_in_range


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
        validators=[validate_day_in_range],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        practitioner_field = cast(StaffChoiceField, self.fields["practitioner"])
        practitioner_field.queryset = User.objects.in_roles(*PERFORMER_ROLES).order_by("last_name", "first_name")


class SlotChoiceForm(forms.Form):
    """One free slot the desk clicked: the hidden fields of its "Book" button."""

    appointment_type = PreloadedChoiceField(queryset=AppointmentType.objects.active(), widget=forms.HiddenInput)
    practitioner = PreloadedChoiceField(queryset=User.objects.filter(is_active=True), widget=forms.HiddenInput)
    room = PreloadedChoiceField(queryset=Room.objects.active().select_related("location"), widget=forms.HiddenInput)
    start = forms.DateTimeField(widget=forms.HiddenInput)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000)

    def full_clean(self) -> None:
        if self.is_bound:
            # The room, the type and the practitioner in one query (clinic.booking.preload).
            preload_choices(self, anchor="room", others=("appointment_type", "practitioner"))
        super().full_clean()

    def clean_start(self) -> datetime:
        start: datetime = self.cleaned_data["start"]
        if timezone.is_naive(start):
            raise forms.ValidationError(_("Choose a time from the list."))
        validate_day_in_range(start)
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
