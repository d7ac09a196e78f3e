from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import SetPasswordMixin
from django.utils.translation import gettext_lazy as _

from clinic.models import SecurityEventKind, User


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=16,
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "autocapitalize": "none"}
        ),
    )

    def clean_token(self) -> str:
        return "".join(str(self.cleaned_data["token"]).split())


class EnrolForm(forms.Form):
    token = forms.CharField(
        label=_("Code from the app"),
        max_length=6,
        min_length=6,
        help_text=_("Scan the code, then type the 6 digits the app shows."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def clean_token(self) -> str:
        token = "".join(str(self.cleaned_data["token"]).split())
        if not token.isdigit():
            raise forms.ValidationError(_("Type the 6 digits the app shows."))
        return token


class StaffPasswordForm(SetPasswordMixin[User], forms.Form):
    """The manager types a first password for someone (who must change it at sign-in)."""

    password1, password2 = SetPasswordMixin.create_password_fields(
        label1=_("New password"), label2=_("New password again")
    )

    def __init__(self, *args: Any, staff: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.staff = staff

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.validate_passwords()
        self.validate_password_for_user(self.staff)
        return cleaned


class SecurityEventFilterForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Account"), queryset=User.objects.order_by("username"), required=False)
    kind = forms.ChoiceField(label=_("What"), choices=[("", _("Any")), *SecurityEventKind.choices], required=False)
    day = forms.DateField(label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
