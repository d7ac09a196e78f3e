from __future__ import annotations

from datetime import date
from typing import Any

import phonenumbers
from django import forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordMixin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic import phones
from clinic.models import Location, Patient, User
from clinic.roles import ROLES, Role
from clinic.services import LANCET_PERMISSION, patient_likely_duplicates

# Everyone who sees patients in a room (the front desk books them, performs nothing).
PERFORMER_ROLES = tuple(role for role in ROLES if role != Role.FRONT_DESK)


class SignInForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,  # the user model's
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        # Longer than any pass phrase; a megabyte "password" would only cost a hash's time.
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class StaffForm(forms.ModelForm[User]):
    """A member of staff as the manager sees them: who, which role, where they usually work."""

    role = forms.TypedChoiceField(
        label=_("Role"),
        choices=[(role.value, spec.label) for role, spec in ROLES.items()],
        coerce=Role,
        help_text=_(
            "What this person does decides what they can see. A clinical role (specialist, aesthetician) "
            "starts only once a specialist approves it."
        ),
    )
    may_use_lancet = forms.BooleanField(
        label=_("May use a lancet"),
        required=False,
        help_text=_(
            "For trained aestheticians and specialists only. The lancet is also ruled out for patients "
            "whose consultation forbids it."
        ),
    )

    class Meta:
        model = User
        fields = ["first_name", "last_name", "username", "email", "home_location", "locations", "is_active"]
        widgets = {"locations": forms.CheckboxSelectMultiple}
        labels = {"is_active": _("Can sign in")}
        # Every field's help is ours: Django's defaults ("Designates whether this user should be
        # treated as active…", "Required. 150 characters or fewer…") speak to developers.
        help_texts = {
            "username": _("What they type to sign in. Letters, digits and @ . + - _ only."),
            "email": _("Where the app sends their password reset and alerts."),
            "home_location": _("The location their day opens at."),
            "locations": _("Every location where they work."),
            "is_active": _("Untick when someone leaves; their records stay."),
        }

    def __init__(self, *args: Any, acting_user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acting_user = acting_user
        self.fields["first_name"].required = True
        self.fields["last_name"].required = True
        home_location = self.fields["home_location"]
        if isinstance(home_location, forms.ModelChoiceField):
            home_location.queryset = Location.objects.active()
        locations = self.fields["locations"]
        if isinstance(locations, forms.ModelMultipleChoiceField):
            locations.queryset = Location.objects.active()
        if self.instance.pk and self.instance.primary_role:
            self.initial["role"] = self.instance.primary_role.role.value
        if self.instance.pk:
            self.initial["may_use_lancet"] = self.instance.user_permissions.filter(
                content_type__app_label=LANCET_PERMISSION[0], codename=LANCET_PERMISSION[1]
            ).exists()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("may_use_lancet") and cleaned.get("role") not in (Role.AESTHETICIAN, Role.SPECIALIST):
            self.add_error("may_use_lancet", _("Only an aesthetician or a specialist performs extractions."))
        return cleaned

    def clean_is_active(self) -> bool:
        is_active = bool(self.cleaned_data.get("is_active"))
        editing_self = self.acting_user is not None and self.instance.pk == self.acting_user.pk
        if editing_self and not is_active:
            raise forms.ValidationError(_("You cannot stop yourself from signing in."))
        return is_active


class NewStaffForm(SetPasswordMixin[User], StaffForm):
    """Adding someone: the same fields plus a first password, checked by the password validators."""

    password1, password2 = SetPasswordMixin.create_password_fields(
        label1=_("First password"), label2=_("First password again")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Not Django's list of validator rules nor "Enter the same password as before, for verification."
        self.fields["password1"].help_text = _(
            "At least 10 characters, not only digits, not like their name and not a common password."
        )
        self.fields["password2"].help_text = ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.validate_passwords()
        return cleaned

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # absent from the stubs; Django's UserCreationForm overrides it too
        # After the instance holds the names, so "too similar to the username" is caught.
        self.validate_password_for_user(self.instance)


def normalise_phone(value: str, region: str) -> str:
    """The number in E.164 (+447700900101), whatever spacing or national form was typed."""
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise forms.ValidationError(_("Enter a phone number, for example 07700 900123 or +44 7700 900123.")) from None
    if not phonenumbers.is_possible_number(parsed):
        raise forms.ValidationError(_("This phone number is too short or too long."))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class PatientForm(forms.ModelForm[Patient]):
    """Register or edit a patient. Creating one first shows likely duplicates to confirm past."""

    confirm_not_duplicate = forms.BooleanField(
        label=_("This is a different person: register them anyway"), required=False
    )

    class Meta:
        model = Patient
        fields = [
            "first_name",
            "last_name",
            "date_of_birth",
            "email",
            "phone",
            "preferred_contact",
            "email_consent",
            "front_desk_notes",
        ]
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
            "front_desk_notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, region: str = "GB", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region = region
        self.duplicates: list[Patient] = []
        if self.instance.pk is not None:
            del self.fields["confirm_not_duplicate"]
        if self.instance.phone and not self.is_bound:
            # Stored in E.164; the desk reads and edits it the way the region writes it.
            self.initial["phone"] = phones.display(self.instance.phone)

    def clean_phone(self) -> str:
        value: str = self.cleaned_data.get("phone", "").strip()
        return normalise_phone(value, self.region) if value else ""

    def clean_email(self) -> str:
        return str(self.cleaned_data.get("email", "")).strip()

    def clean_date_of_birth(self) -> date:
        born: date = self.cleaned_data["date_of_birth"]
        if born > timezone.localdate():
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        if born.year < 1900:
            raise forms.ValidationError(_("Check the year of birth."))
        return born

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("email_consent") and not data.get("email"):
            self.add_error("email", _("Consent to email needs an email address."))
        if self.instance.pk is None and not self.errors and not data.get("confirm_not_duplicate"):
            self.duplicates = patient_likely_duplicates(
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                date_of_birth=data.get("date_of_birth"),
                email=data.get("email", ""),
                phone=data.get("phone", ""),
            )
            if self.duplicates:
                raise forms.ValidationError(
                    _("This may be a patient already registered. Open them below, or confirm this is someone else."),
                    code="duplicate",
                )
        return data

    @property
    def details(self) -> dict[str, Any]:
        """The patient's fields, for the service."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class StaffChoiceField(forms.ModelChoiceField[User]):
    """Staff by the name people know them by (the one choice field for staff, in every app)."""

    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


AUDIT_KINDS = (
    ("read", _("Record read")),
    ("listed", _("Shown on a list")),
    ("change", _("Changed")),
)


class AuditFilterForm(forms.Form):
    """The audit page's filters; every field optional, all of them combine."""

    patient = forms.IntegerField(label=_("Patient number"), required=False, min_value=1, max_value=2**62)
    user = forms.ModelChoiceField(label=_("Staff member"), queryset=User.objects.order_by("username"), required=False)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    kinds = forms.MultipleChoiceField(
        label=_("What"), choices=AUDIT_KINDS, required=False, widget=forms.CheckboxSelectMultiple
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end is before the start."))
        return cleaned


class HandOverForm(forms.Form):
    """Give an unsigned clinical record to a colleague in the same role, saying why."""

    to_user = StaffChoiceField(label=_("Hand over to"), queryset=User.objects.none())
    reason = forms.CharField(
        label=_("Why"),
        max_length=500,
        help_text=_("Kept in the audit trail beside the change, e.g. “Off sick from 11:00”."),
    )

    def __init__(self, *args: Any, role: Role, exclude_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        colleagues = User.objects.in_roles(role).order_by("first_name", "last_name")
        if exclude_id is not None:
            colleagues = colleagues.exclude(pk=exclude_id)
        field = self.fields["to_user"]
        if isinstance(field, StaffChoiceField):
            field.queryset = colleagues
