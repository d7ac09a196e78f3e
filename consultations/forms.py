from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, cast

from django import forms
from django.core.validators import MaxValueValidator
from django.db.models import QuerySet
from django.utils import formats
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from clinic.constraints import LONG_NOTE, NOTE
from clinic.forms import StaffChoiceField
from clinic.models import Location, Room, User
from clinic.roles import Role
from clinic.validators import validate_day_in_range
from consultations.grading import (
    FACE_ZONES,
    LESION_MAX_PER_ZONE,
    LESION_SCORE,
    OPTIONAL_ZONES,
    Counts,
    Lesion,
    Zone,
)
from consultations.models import Allergen, Consultation, Outcome, recorded_allergies, review_window
from consultations.services import EDITABLE_FIELDS


def lesion_field_name(zone: str, lesion: str) -> str:
    return f"{zone}__{lesion}"


@dataclass(frozen=True)
class FaceMapRow:
    zone: Zone
    optional: bool
    fields: list[forms.BoundField]

    @property
    def label(self) -> Promise:
        return self.zone.label


class LesionCountsForm(forms.Form):
    """Lesion counts per zone and type: the real form behind the face map.

    One number input per (zone, lesion type). The SVG face map (``_partials/face_map.html``
    with ``static/js/face_map.js``) only navigates to and colours these inputs, so the
    table alone is complete for keyboard and screen-reader users. Reused by the treatment
    log (lesions extracted); pass ``prefix`` when a page holds two.
    """

    zones: tuple[Zone, ...] = (*FACE_ZONES, *OPTIONAL_ZONES)
    lesions: tuple[Lesion, ...] = tuple(Lesion)

    def __init__(self, *args: Any, counts: Counts | None = None, **kwargs: Any) -> None:
        if counts is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                lesion_field_name(zone, lesion): count
                for zone, per_lesion in counts.items()
                for lesion, count in per_lesion.items()
                if count
            }
        super().__init__(*args, **kwargs)
        for zone in self.zones:
            for lesion in self.lesions:
                maximum = LESION_MAX_PER_ZONE[lesion]
                self.fields[lesion_field_name(zone, lesion)] = forms.IntegerField(
                    label=_("%(zone)s: %(lesion)s") % {"zone": zone.label, "lesion": lesion.label},
                    required=False,
                    min_value=0,
                    max_value=maximum,
                    error_messages={
                        "min_value": _("Counts cannot be negative."),
                        "max_value": _("At most %(limit_value)s here; check the count."),
                        "invalid": _("Enter a whole number."),
                    },
                    widget=forms.NumberInput(
                        attrs={
                            "class": "form-control form-control-sm lesion-count",
                            "min": 0,
                            "max": maximum,
                            "step": 1,
                            "inputmode": "numeric",
                            "placeholder": "0",
                            "data-zone": zone.value,
                            "data-lesion": lesion.value,
                            "data-score": LESION_SCORE[lesion],
                        }
                    ),
                )

    def rows(self) -> list[FaceMapRow]:
        if self.is_bound:
            for name in self.errors:
                if name in self.fields:
                    widget = self.fields[name].widget
                    classes = widget.attrs.get("class", "")
                    if "is-invalid" not in classes.split():
                        widget.attrs["class"] = f"{classes} is-invalid".strip()
        return [
            FaceMapRow(
                zone=zone,
                optional=zone in OPTIONAL_ZONES,
                fields=[self[lesion_field_name(zone, lesion)] for lesion in self.lesions],
            )
            for zone in self.zones
        ]

    def counts(self) -> dict[str, dict[str, int]]:
        """The cleaned counts as {zone: {lesion: count}}, only the non-zero ones."""
        result: dict[str, dict[str, int]] = {}
        for zone in self.zones:
            for lesion in self.lesions:
                value = self.cleaned_data.get(lesion_field_name(zone, lesion)) or 0
                if value:
                    result.setdefault(zone.value, {})[lesion.value] = value
        return result


class ConsultationForm(forms.ModelForm["Consultation"]):
    """History, analysis and the override: everything the specialist types except the counts."""

    override_outcome = forms.ChoiceField(
        label=_("Override the outcome"),
        required=False,
        choices=[("", _("No override: keep the rules' outcome")), *Outcome.choices],
    )
    override_reason = forms.CharField(
        label=_("Reason for the override"),
        required=False,
        max_length=NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when you override. Kept with the consultation."),
    )
    allergens = forms.MultipleChoiceField(
        label=_("Allergic to"),
        required=False,
        choices=Allergen.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Products that contain one of these are refused unless overridden with a reason."),
    )

    class Meta:
        model = Consultation
        fields = [*EDITABLE_FIELDS, "override_outcome", "override_reason"]
        help_texts = {
            "medications": _("All of them; tick the boxes below for anticoagulants, isotretinoin and retinoids."),
        }
        widgets = {
            "routine": forms.Textarea(attrs={"rows": 3}),
            "previous_treatments": forms.Textarea(attrs={"rows": 2}),
            "goals": forms.Textarea(attrs={"rows": 2}),
            "medications": forms.Textarea(attrs={"rows": 2}),
            "allergies": forms.Textarea(attrs={"rows": 2}),
            "other_conditions": forms.Textarea(attrs={"rows": 2}),
            "analysis_notes": forms.Textarea(attrs={"rows": 3}),
            "weeks_consistent_skincare": forms.NumberInput(attrs={"min": 0, "max": 520}),
            "resurfaced_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    SECTIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        "skincare": (
            "routine",
            "weeks_consistent_skincare",
            "previous_treatments",
            "whiteheads_often_inflame",
            "stalled_treatment",
            "goals",
        ),
        "health": (
            "medications",
            "allergies",
            "isotretinoin_within_6_months",
            "topical_retinoid",
            "pregnant_or_breastfeeding",
            "rosacea",
            "eczema",
            "cold_sores",
            "keloid_scarring",
            "anticoagulant_or_bleeding_disorder",
            "immunosuppressed_or_diabetic",
            "no_known_allergies",
            "other_conditions",
        ),
        "analysis": (
            "fitzpatrick",
            "skin_type",
            "barrier",
            "sensitivity",
            "congestion",
            "active_infection",
            "active_cold_sore",
            "rosacea_or_eczema_flare",
            "open_wound_or_sunburn",
            "resurfaced_on",
            "iga",
            "analysis_notes",
        ),
    }

    def __init__(self, *args: Any, unconfirmed: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The questionnaire's imported answers still to confirm: a "confirmed" box beside each.
        self.unconfirmed = tuple(name for name in unconfirmed if name in self.fields)
        for name in self.unconfirmed:
            self.fields[f"confirm_{name}"] = forms.BooleanField(label=_("Confirmed with the patient"), required=False)
        self.fields["weeks_consistent_skincare"].validators.append(MaxValueValidator(520))
        for name in ("fitzpatrick", "skin_type", "barrier", "sensitivity", "congestion", "iga"):
            field = cast(forms.ChoiceField, self.fields[name])
            options = [
                choice for choice in cast(Iterable[tuple[Any, Any]], field.choices) if choice[0] not in ("", None)
            ]
            field.choices = [("", _("Not recorded yet")), *options]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("override_outcome") and not (cleaned.get("override_reason") or "").strip():
            self.add_error("override_reason", _("Write why you override the rules' outcome."))
        if cleaned.get("rosacea_or_eczema_flare") and not (cleaned.get("rosacea") or cleaned.get("eczema")):
            self.add_error(
                "rosacea_or_eczema_flare",
                _("A flare is recorded, but neither rosacea nor eczema is in the health history."),
            )
        if cleaned.get("no_known_allergies") and (
            cleaned.get("allergens") or recorded_allergies(cleaned.get("allergies") or "")
        ):
            self.add_error("no_known_allergies", _("Allergies are recorded: untick “no known allergies”."))
        return cleaned

    def section(self, name: str) -> list[forms.BoundField]:
        return [self[field] for field in self.SECTIONS[name]]

    def skincare_fields(self) -> list[forms.BoundField]:
        return self.section("skincare")

    def health_fields(self) -> list[forms.BoundField]:
        return self.section("health")

    def analysis_fields(self) -> list[forms.BoundField]:
        return self.section("analysis")

    def health_text_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("medications", "allergies")]

    def allergen_field(self) -> forms.BoundField:
        return self["allergens"]

    def health_flag_fields(self) -> list[forms.BoundField]:
        return [f for f in self.section("health") if isinstance(f.field, forms.BooleanField)]

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in EDITABLE_FIELDS if name in self.cleaned_data}

    def confirmed(self) -> list[str]:
        """The imported answers the specialist ticked as confirmed."""
        return [name for name in self.unconfirmed if self.cleaned_data.get(f"confirm_{name}")]


class AddendumForm(forms.Form):
    text = forms.CharField(label=_("Addendum"), widget=forms.Textarea(attrs={"rows": 3}), max_length=LONG_NOTE)


class PlanForm(forms.Form):
    sessions_planned = forms.IntegerField(label=_("Sessions planned"), min_value=1, max_value=12, initial=4)
    interval_days = forms.IntegerField(
        label=_("Days between sessions"), min_value=7, max_value=90, initial=21, help_text=_("Usually 2-4 weeks.")
    )
    focus_zones = forms.MultipleChoiceField(
        label=_("Focus zones"), choices=Zone.choices, widget=forms.CheckboxSelectMultiple
    )
    home_care = forms.CharField(
        label=_("Home-care regimen"),
        max_length=NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Extractions are not a cure: the plan always includes home care "
            "(e.g. a retinoid when appropriate, barrier support, sun protection)."
        ),
    )
    prescribes_retinoid = forms.BooleanField(
        label=_("The home care includes a retinoid"),
        required=False,
        help_text=_("The day-of re-screen then asks whether its pause was kept, instead of stopping for it."),
    )
    home_care_allergens = forms.MultipleChoiceField(
        label=_("The home-care products contain"),
        choices=Allergen.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Checked against the patient's recorded allergies."),
    )
    allergy_override_reason = forms.CharField(
        label=_("Reason to keep an allergen in the home care"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    pause_before = forms.CharField(
        label=_("Pause before each session"),
        required=False,
        max_length=NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("e.g. retinoids and exfoliating acids, 3 days before."),
    )
    resume_after = forms.CharField(
        label=_("Resume after each session"),
        required=False,
        max_length=NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("e.g. retinoid again 3-5 days after, once redness has settled."),
    )
    goals = forms.CharField(label=_("Goals"), max_length=NOTE, widget=forms.Textarea(attrs={"rows": 2}))
    review_on = forms.DateField(
        label=_("Progress review on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[validate_day_in_range],
    )
    consent_name = forms.CharField(
        label=_("Patient's full name, typed by the patient"),
        required=False,
        max_length=200,
        help_text=_("The patient reads the consent text above and types their name to consent."),
    )

    def __init__(self, *args: Any, starts_on: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.earliest, self.latest = review_window(starts_on)
        review = self.fields["review_on"]
        review.widget.attrs.update({"min": self.earliest.isoformat(), "max": self.latest.isoformat()})
        review.help_text = _("8 to 10 weeks after today: %(earliest)s to %(latest)s.") % {
            "earliest": formats.date_format(self.earliest, "j M Y"),
            "latest": formats.date_format(self.latest, "j M Y"),
        }
        if not self.is_bound:
            self.initial.setdefault("review_on", self.earliest + (self.latest - self.earliest) / 2)

    def clean_review_on(self) -> date:
        value: date = self.cleaned_data["review_on"]
        if not self.earliest <= value <= self.latest:
            raise forms.ValidationError(
                _("Choose a date from %(earliest)s to %(latest)s (8 to 10 weeks)."),
                params={
                    "earliest": formats.date_format(self.earliest, "j M Y"),
                    "latest": formats.date_format(self.latest, "j M Y"),
                },
            )
        return value


class ConsentForm(forms.Form):
    consent_name = forms.CharField(label=_("Patient's full name, typed by the patient"), max_length=200)


class QuestionnaireForm(forms.Form):
    """What the patient answers before the visit (public page, plain language)."""

    @classmethod
    def labelled(cls, answers: dict[str, Any]) -> list[tuple[str, Any]]:
        """The answers in the form's order, each with the question the patient saw."""
        fields = cls.base_fields
        return [(str(fields[name].label), answers[name]) for name in fields if name in answers]

    routine = forms.CharField(
        label=_("Which skin-care products do you use, and how often?"),
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    weeks_on_routine = forms.IntegerField(
        label=_("For how many weeks have you followed this routine every day?"),
        required=False,
        min_value=0,
        max_value=520,
        help_text=_("Leave empty if you are not sure."),
    )
    medications = forms.CharField(
        label=_("Which medicines do you take?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    isotretinoin = forms.BooleanField(
        label=_("I have taken isotretinoin (e.g. Roaccutane) in the last 6 months"), required=False
    )
    topical_retinoid = forms.BooleanField(
        label=_("I use a retinoid cream or gel (e.g. tretinoin, adapalene)"), required=False
    )
    allergies = forms.CharField(label=_("Allergies"), required=False, max_length=2000)
    pregnant_or_breastfeeding = forms.BooleanField(label=_("I am pregnant or breastfeeding"), required=False)
    skin_conditions = forms.CharField(
        label=_("Skin conditions (e.g. rosacea, eczema, cold sores, keloid scars)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    goals = forms.CharField(
        label=_("What would you like to achieve?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SessionSlotSearchForm(forms.Form):
    """The free-time finder for a plan's next session: a day (from the plan's suggested date)
    and, optionally, an aesthetician."""

    practitioner = StaffChoiceField(
        label=_("Aesthetician"), queryset=User.objects.none(), required=False, empty_label=_("Anyone available")
    )
    day = forms.DateField(
        label=_("Day"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[validate_day_in_range],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(StaffChoiceField, self.fields["practitioner"]).queryset = self.aestheticians()

    @staticmethod
    def aestheticians() -> QuerySet[User]:
        return User.objects.in_roles(Role.AESTHETICIAN).order_by("first_name", "last_name")


class BookSessionForm(forms.Form):
    practitioner = StaffChoiceField(label=_("Aesthetician"), queryset=User.objects.none())
    room = forms.ModelChoiceField(label=_("Room"), queryset=Room.objects.none())
    start = forms.DateTimeField(
        label=_("Starts at"),
        validators=[validate_day_in_range],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def __init__(self, *args: Any, location: Location, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(StaffChoiceField, self.fields["practitioner"]).queryset = User.objects.in_roles(
            Role.AESTHETICIAN
        ).order_by("first_name", "last_name")
        cast(forms.ModelChoiceField[Room], self.fields["room"]).queryset = Room.objects.active().filter(
            location=location
        )
