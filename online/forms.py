"""Online booking's forms: the patient's details, the waitlist, moving and cancelling."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.constraints import REASON
from clinic.forms import normalise_phone
from clinic.models import AppointmentType, Location, Weekday
from clinic.validators import validate_day_in_range
from online.services import PatientDetails


class HoneypotMixin(forms.Form):
    # Hidden from people by CSS (and from screen readers); a bot that fills every field fills it.
    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


class SlotPickForm(forms.Form):
    """The time picked on the public page (hidden fields), checked again by the service."""

    start = forms.DateTimeField(widget=forms.HiddenInput, validators=[validate_day_in_range])
    practitioner = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)

    def clean_start(self) -> datetime:
        start: datetime = self.cleaned_data["start"]
        if timezone.is_naive(start):
            raise forms.ValidationError(_("Pick a time from the list."))
        return start


class DetailsForm(forms.Form):
    first_name = forms.CharField(
        label=_("First name"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
        validators=[validate_day_in_range],
    )
    email = forms.EmailField(label=_("Email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone = forms.CharField(
        label=_("Phone"), max_length=32, widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"})
    )
    email_consent = forms.BooleanField(
        label=_("You may email me about my appointments"),
        help_text=_("We send the link to confirm your booking by email."),
    )

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data["phone"], settings.CLINIC_PHONE_REGION)

    def clean_date_of_birth(self) -> date:
        born: date = self.cleaned_data["date_of_birth"]
        if born >= timezone.localdate():
            raise forms.ValidationError(_("Enter your date of birth."))
        return born

    def details(self) -> PatientDetails:
        data = self.cleaned_data
        return PatientDetails(
            first_name=data["first_name"],
            last_name=data["last_name"],
            date_of_birth=data["date_of_birth"],
            email=data["email"],
            phone=data["phone"],
            email_consent=data["email_consent"],
        )


class BookingForm(HoneypotMixin, SlotPickForm, DetailsForm):
    pass


class PreferencesForm(forms.Form):
    """What suits a waiting patient: days, times of day, and a date range."""

    weekdays = forms.TypedMultipleChoiceField(
        label=_("Days that suit"),
        choices=Weekday.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any day."),
    )
    earliest_time = forms.TimeField(
        label=_("From"), initial=time(9), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    latest_time = forms.TimeField(
        label=_("Until"), initial=time(18), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    earliest_date = forms.DateField(
        label=_("Earliest date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[validate_day_in_range],
    )
    latest_date = forms.DateField(
        label=_("Latest date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[validate_day_in_range],
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("earliest_time") and data.get("latest_time") and data["latest_time"] <= data["earliest_time"]:
            self.add_error("latest_time", _("Choose a time after the first one."))
        if data.get("earliest_date") and data.get("latest_date") and data["latest_date"] < data["earliest_date"]:
            self.add_error("latest_date", _("Choose a date on or after the earliest date."))
        if data.get("latest_date") and data["latest_date"] < timezone.localdate():
            self.add_error("latest_date", _("Choose a date in the future."))
        return data


class WaitlistJoinForm(HoneypotMixin, PreferencesForm, DetailsForm):
    pass


class StaffWaitlistForm(PreferencesForm):
    appointment_type = forms.ModelChoiceField(
        label=_("Appointment type"), queryset=AppointmentType.objects.active(), empty_label=None
    )
    location = forms.ModelChoiceField(label=_("Location"), queryset=Location.objects.active(), empty_label=None)
    note = forms.CharField(label=_("Note"), required=False, max_length=REASON, widget=forms.Textarea(attrs={"rows": 2}))


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why are you cancelling?"), max_length=400, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Please say why."))
        return reason
