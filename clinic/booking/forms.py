"""The front desk's booking forms: what to look for, the slot clicked, a cancellation."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.booking.preload import PreloadedChoiceField, preload_choices
from clinic.forms import PERFORMER_ROLES, StaffChoiceField
from clinic.models import AppointmentKind, AppointmentType, Location, Room, User
from clinic.roles import ROLE_BY_GROUP
from clinic.validators import validate_day_in_range


class SlotSearchForm(forms.Form):
    """What the desk is looking for: a type, optionally a practitioner, on a day.

    Only the types this patient may have are offered (no extraction session before a
    consultation has cleared them), and only the staff who perform the chosen type.
    """

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

    def __init__(self, *args: Any, extraction_allowed: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        types = AppointmentType.objects.active()
        if not extraction_allowed:
            types = types.exclude(kind=AppointmentKind.EXTRACTION)
        type_field = cast(forms.ModelChoiceField[AppointmentType], self.fields["appointment_type"])
        type_field.queryset = types
        chosen = self.chosen_type = self._chosen_type(types)
        practitioner_field = cast(StaffChoiceField, self.fields["practitioner"])
        practitioner_field.queryset = (
            User.objects.in_roles(chosen.performer_role).order_by("last_name", "first_name")
            if chosen is not None
            else User.objects.none()
        )
        # The type changed under a practitioner who does not perform it: look for anyone.
        if self.is_bound and self.data.get("practitioner"):
            allowed = {str(pk) for pk in practitioner_field.queryset.values_list("pk", flat=True)}
            if self.data["practitioner"] not in allowed:
                self.data = {**{key: self.data.get(key) for key in self.data}, "practitioner": ""}

    def _chosen_type(self, types: QuerySet[AppointmentType]) -> AppointmentType | None:
        raw = self.data.get("appointment_type") if self.is_bound else None
        picked = types.filter(pk=str(raw)).first() if _is_id(raw) else None
        initial = self.initial.get("appointment_type")
        return picked or (initial if isinstance(initial, AppointmentType) else None)


def _is_id(value: object) -> bool:
    return isinstance(value, str) and value.isdigit() and len(value) < 19


def default_type(*, extraction_allowed: bool) -> AppointmentType | None:
    """The type a new booking starts at: a consultation, never an extraction session."""
    types = AppointmentType.objects.active().exclude(kind=AppointmentKind.EXTRACTION)
    return (
        types.filter(kind=AppointmentKind.CONSULTATION).order_by("name").first()
        or types.order_by("name").first()
        or (AppointmentType.objects.active().order_by("name").first() if extraction_allowed else None)
    )


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
        label=_("Reason for cancelling"),
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": _("Say why the appointment is cancelled.")},
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the appointment is cancelled."))
        return reason


class SlotPickForm(forms.Form):
    """An empty slot clicked on the day grid: its day and time, and its column (a
    practitioner, or a room). Only read from the query string: it prefills, never books."""

    date = forms.DateField(validators=[validate_day_in_range])
    time = forms.TimeField()
    practitioner = forms.ModelChoiceField(queryset=User.objects.in_roles(*PERFORMER_ROLES), required=False)
    room = forms.ModelChoiceField(queryset=Room.objects.none(), required=False)

    def __init__(self, *args: Any, location: Location, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        room_field = cast("forms.ModelChoiceField[Room]", self.fields["room"])
        room_field.queryset = Room.objects.active().filter(location=location)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if bool(cleaned.get("practitioner")) == bool(cleaned.get("room")):
            raise forms.ValidationError(_("A slot is in one practitioner's or one room's column."))
        return cleaned

    def appointment_type(self) -> AppointmentType | None:
        """The first active type the column's practitioner performs (any type, for a room)."""
        types = AppointmentType.objects.active().order_by("name", "id")
        practitioner: User | None = self.cleaned_data["practitioner"]
        if practitioner is not None:
            groups = set(practitioner.groups.values_list("name", flat=True))
            performed = [ROLE_BY_GROUP[name].role.value for name in groups if name in ROLE_BY_GROUP]
            types = types.filter(performed_by__in=performed)
        return types.first()

    def booking_query(self) -> str:
        """The booking page's query string: type, practitioner, day, and the clicked time and room."""
        practitioner: User | None = self.cleaned_data["practitioner"]
        room: Room | None = self.cleaned_data["room"]
        appointment_type = self.appointment_type()
        return urlencode(
            {
                "appointment_type": appointment_type.pk if appointment_type else "",
                "practitioner": practitioner.pk if practitioner else "",
                "day": self.cleaned_data["date"].isoformat(),
                "at": self.cleaned_data["time"].strftime("%H:%M"),
                "room": room.pk if room else "",
            }
        )


class RevertForm(forms.Form):
    """Take back the last status after the undo window: the reason goes into the history."""

    reason = forms.CharField(
        label=_("Why is it reverted?"),
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": _("Say why the status is reverted.")},
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the status is reverted."))
        return reason
