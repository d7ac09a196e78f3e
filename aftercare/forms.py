from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aftercare.defaults import PLACEHOLDERS
from aftercare.models import MessageKind, MessageTemplate
from aftercare.rendering import unknown_placeholders


class MessageTemplateForm(forms.ModelForm[MessageTemplate]):
    class Meta:
        model = MessageTemplate
        fields = ["is_active", "offset_days", "send_time", "subject", "body_text"]
        widgets = {
            "send_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "body_text": forms.Textarea(attrs={"rows": 12}),
        }

    def clean_offset_days(self) -> int:
        days: int = self.cleaned_data["offset_days"]
        if self.instance.kind in (MessageKind.SESSION_REMINDER, MessageKind.BOOKING_REMINDER):
            if not -14 <= days <= 0:
                raise forms.ValidationError(_("A reminder goes out between 14 days before and the day of the session."))
        elif self.instance.kind == MessageKind.BOOKING_CONFIRMATION:
            if days != 0:
                raise forms.ValidationError(_("The booking confirmation goes out when the appointment is booked."))
        elif not 0 <= days <= 365:
            raise forms.ValidationError(_("Choose a day between 0 (the day of the session) and 365."))
        return days

    def _check_placeholders(self, field: str) -> str:
        text: str = self.cleaned_data[field]
        unknown = unknown_placeholders(text, set(PLACEHOLDERS))
        if unknown:
            raise forms.ValidationError(
                _("Unknown placeholder: %(names)s. Use one of: %(allowed)s. Write $$ for a dollar sign."),
                params={
                    "names": ", ".join(sorted(f"${name}" for name in unknown if name != "$")) or "$",
                    "allowed": ", ".join(f"${name}" for name in PLACEHOLDERS),
                },
            )
        return text

    def clean_subject(self) -> str:
        # A line break in a subject would start a new mail header (header injection); other
        # control characters have no place in a line a patient reads.
        if not self.cleaned_data["subject"].isprintable():
            raise forms.ValidationError(_("Write the subject on one line, without line breaks or control characters."))
        return self._check_placeholders("subject")

    def clean_body_text(self) -> str:
        return self._check_placeholders("body_text")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("send_time") is None and self.instance.kind in (
            MessageKind.SESSION_REMINDER,
            MessageKind.CHECKIN_DAY3,
            MessageKind.ACTIVES_WAIT,
            MessageKind.PROGRESS_REVIEW,
            MessageKind.BOOKING_REMINDER,
        ):
            self.add_error("send_time", _("This message needs a local send time."))
        return cleaned


class CheckInNoteForm(forms.Form):
    note = forms.CharField(
        label=_("Anything you would like us to know?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        required=True,
    )


class QueueResolveForm(forms.Form):
    resolution = forms.CharField(label=_("What was done"), widget=forms.TextInput(), max_length=500, required=True)
