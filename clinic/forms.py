from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordMixin
from django.utils.translation import gettext_lazy as _

from clinic.models import Location, User
from clinic.roles import ROLES, Role


class SignInForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Username"),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class StaffForm(forms.ModelForm[User]):
    """A member of staff as the manager sees them: who, which role, where they usually work."""

    role = forms.TypedChoiceField(
        label=_("Role"),
        choices=[(role.value, spec.label) for role, spec in ROLES.items()],
        coerce=Role,
        help_text=_("What this person does decides what they can see."),
    )

    class Meta:
        model = User
        fields = ["first_name", "last_name", "username", "email", "home_location", "is_active"]
        labels = {"is_active": _("Can sign in")}
        help_texts = {"username": _("What they type to sign in. Letters, digits and @ . + - _ only.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["first_name"].required = True
        self.fields["last_name"].required = True
        home_location = self.fields["home_location"]
        if isinstance(home_location, forms.ModelChoiceField):
            home_location.queryset = Location.objects.active()
        if self.instance.pk and self.instance.primary_role:
            self.initial["role"] = self.instance.primary_role.role.value


class NewStaffForm(SetPasswordMixin[User], StaffForm):
    """Adding someone: the same fields plus a first password, checked by the password validators."""

    password1, password2 = SetPasswordMixin.create_password_fields(
        label1=_("First password"), label2=_("First password again")
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.validate_passwords()
        return cleaned

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]
        # After the instance holds the names, so "too similar to the username" is caught.
        self.validate_password_for_user(self.instance)
