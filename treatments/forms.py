from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clinic.constraints import LONG_NOTE, NOTE
from clinic.validators import validate_day_in_range
from consultations.forms import LesionCountsForm
from consultations.grading import Iga
from consultations.models import Allergen, BarrierStatus
from treatments.models import (
    Complication,
    Exfoliation,
    ExtractionMethod,
    Product,
    ProductLot,
    ReviewDecision,
    Softening,
    TreatmentSession,
)
from treatments.rescreen import RescreenAnswers
from treatments.services import EXTRACTABLE_LESIONS, SessionLog

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def _yes_no(label: _StrPromise) -> forms.TypedChoiceField:
    # An explicit answer every time: an unticked box would read as "no" without anyone asking.
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect(attrs={"class": "form-check-inline"}),
        error_messages={"required": _("Answer yes or no.")},
    )


class RescreenForm(forms.Form):
    barrier = forms.ChoiceField(
        label=_("Skin barrier today"),
        choices=BarrierStatus.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Say how the barrier is today.")},
    )
    active_infection = _yes_no(_("Active skin infection today?"))
    isotretinoin_since_consultation = _yes_no(_("Isotretinoin started since the consultation?"))
    topical_retinoid_since_consultation = _yes_no(_("A topical retinoid started since the consultation?"))
    sunburn = _yes_no(_("Sunburn on an area to be treated?"))
    new_pregnancy = _yes_no(_("Pregnant or breastfeeding since the consultation?"))
    new_nodules_or_cysts = _yes_no(_("New nodules or cysts (deep, painful lumps)?"))
    extreme_sensitivity = _yes_no(_("Is the skin extremely sensitive today?"))
    active_cold_sore = _yes_no(_("An active cold sore?"))
    has_new_medication = _yes_no(_("Any new medication since the consultation (of any kind)?"))
    new_medication = forms.CharField(
        label=_("Which medication?"),
        required=False,
        max_length=500,
        help_text=_("Name it and when it was started."),
    )
    retinoid_pause_kept = _yes_no(_("Was the retinoid paused before today as the plan says?"))
    notes = forms.CharField(label=_("Notes"), required=False, max_length=NOTE, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, retinoid_expected: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retinoid_expected = retinoid_expected
        if retinoid_expected:
            # The plan's own retinoid is expected: the question is whether its pause was kept.
            self.fields["topical_retinoid_since_consultation"].label = _(
                "A topical retinoid started since the consultation, other than the plan's?"
            )
        else:
            del self.fields["retinoid_pause_kept"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("has_new_medication") and not (cleaned.get("new_medication") or "").strip():
            self.add_error("new_medication", _("Name the new medication."))
        if cleaned.get("has_new_medication") is False:
            cleaned["new_medication"] = ""
        return cleaned

    def answers(self) -> RescreenAnswers:
        data = self.cleaned_data
        return RescreenAnswers(
            barrier=data["barrier"],
            active_infection=data["active_infection"],
            isotretinoin_since_consultation=data["isotretinoin_since_consultation"],
            topical_retinoid_since_consultation=data["topical_retinoid_since_consultation"],
            sunburn=data["sunburn"],
            new_pregnancy=data["new_pregnancy"],
            new_nodules_or_cysts=data["new_nodules_or_cysts"],
            extreme_sensitivity=data["extreme_sensitivity"],
            active_cold_sore=data["active_cold_sore"],
            new_medication=data.get("new_medication") or "",
            retinoid_expected=self.retinoid_expected,
            retinoid_pause_kept=data.get("retinoid_pause_kept"),
        )


class ExtractedLesionsForm(LesionCountsForm):
    """What was extracted: only the lesion types that can be extracted (``EXTRACTABLE_LESIONS``)."""

    lesions = EXTRACTABLE_LESIONS


class LotChoiceField(forms.ModelChoiceField["ProductLot"]):
    def label_from_instance(self, obj: ProductLot) -> str:
        return str(
            _("%(product)s · lot %(lot)s · expires %(date)s")
            % {"product": obj.product.name, "lot": obj.lot_number, "date": obj.expires_on.strftime("%d/%m/%Y")}
        )


class SessionLogForm(forms.Form):
    """The extraction log, apart from the lesion counts (a LesionCountsForm beside it)."""

    cleanse_product = forms.CharField(label=_("Cleanser used"), max_length=120, required=False)
    exfoliation = forms.ChoiceField(
        label=_("Exfoliation"), choices=Exfoliation.choices, required=False, widget=forms.RadioSelect
    )
    softening = forms.ChoiceField(
        label=_("Softening"), choices=Softening.choices, required=False, widget=forms.RadioSelect
    )
    extraction_method = forms.ChoiceField(
        label=_("Extraction method"),
        choices=[("", "—"), *ExtractionMethod.choices],
        required=False,
    )
    pain = forms.IntegerField(
        label=_("Pain reported (0-10)"),
        min_value=0,
        max_value=10,
        required=False,
        widget=forms.NumberInput(attrs={"min": 0, "max": 10, "step": 1, "inputmode": "numeric"}),
        error_messages={
            "min_value": _("Pain is scored from 0 to 10."),
            "max_value": _("Pain is scored from 0 to 10."),
            "invalid": _("Enter a whole number from 0 to 10."),
        },
    )
    complications = forms.MultipleChoiceField(
        label=_("Complications"), choices=Complication.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    complication_notes = forms.CharField(
        label=_("Complication notes"), required=False, max_length=NOTE, widget=forms.Textarea(attrs={"rows": 2})
    )
    product_lot = LotChoiceField(
        label=_("Antibacterial product and lot"),
        queryset=ProductLot.objects.none(),
        required=False,
        empty_label="—",
    )
    aftercare_explained = forms.BooleanField(label=_("Aftercare explained to the patient"), required=False)
    allergy_override_reason = forms.CharField(
        label=_("Reason to use this product despite the patient's allergy"),
        required=False,
        max_length=NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Only when the product contains something the patient is allergic to. Kept with the session."),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=LONG_NOTE, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, today: date, lancet_refusal: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        if lancet_refusal is not None:
            # Offer only what this person may use on this patient; the service refuses it anyway.
            method = self.fields["extraction_method"]
            assert isinstance(method, forms.ChoiceField)  # noqa: S101  (narrowing for mypy)
            method.choices = [("", "—"), *(c for c in ExtractionMethod.choices if c[0] != ExtractionMethod.LANCET)]
            method.help_text = _("No lancet: %(why)s") % {"why": lancet_refusal}
        field = self.fields["product_lot"]
        assert isinstance(field, LotChoiceField)  # noqa: S101  (narrowing for mypy)
        # Any lot in stock validates, so an expired one gets its own message below; only
        # usable ones are offered.
        field.queryset = ProductLot.objects.filter(is_active=True, product__is_active=True).select_related("product")
        field.widget.choices = [("", "—")] + [
            (lot.pk, field.label_from_instance(lot))
            for lot in ProductLot.objects.usable_on(today).select_related("product")
        ]

    @classmethod
    def initial_from(cls, session: TreatmentSession) -> dict[str, Any]:
        return {
            "cleanse_product": session.cleanse_product,
            "exfoliation": session.exfoliation,
            "softening": session.softening,
            "extraction_method": session.extraction_method,
            "pain": session.pain,
            "complications": session.complications,
            "complication_notes": session.complication_notes,
            "product_lot": session.product_lot_id,
            "aftercare_explained": session.aftercare_explained,
            "allergy_override_reason": session.allergy_override_reason,
            "notes": session.notes,
        }

    def clean_product_lot(self) -> ProductLot | None:
        lot: ProductLot | None = self.cleaned_data.get("product_lot")
        if lot is not None and lot.is_expired_on(self.today):
            raise forms.ValidationError(
                _("Lot %(lot)s expired on %(date)s: use another lot."),
                params={"lot": lot.lot_number, "date": lot.expires_on.strftime("%d/%m/%Y")},
            )
        return lot

    def to_log(self, counts: LesionCountsForm, present: LesionCountsForm | None = None) -> SessionLog:
        """The log from this form, the extracted face map (``counts``) and the present-today one."""
        data = self.cleaned_data
        return SessionLog(
            lesions_present=present.counts() if present is not None else {},
            cleanse_product=data["cleanse_product"],
            exfoliation=data["exfoliation"],
            softening=data["softening"],
            extraction_method=data["extraction_method"],
            lesions_extracted=counts.counts(),
            pain=data["pain"],
            complications=data["complications"],
            complication_notes=data["complication_notes"],
            product_lot=data["product_lot"],
            aftercare_explained=data["aftercare_explained"],
            notes=data["notes"],
            allergy_override_reason=data.get("allergy_override_reason") or "",
        )

    def log_fields(self, *names: str) -> list[forms.BoundField]:
        return [self[name] for name in names]

    @property
    def preparation_fields(self) -> list[forms.BoundField]:
        return self.log_fields("cleanse_product", "exfoliation", "softening", "extraction_method")

    @property
    def tolerance_fields(self) -> list[forms.BoundField]:
        return self.log_fields("pain", "complications", "complication_notes")


class AddendumForm(forms.Form):
    text = forms.CharField(
        label=_("Addendum"),
        max_length=LONG_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("A dated correction or addition; the signed record itself never changes."),
    )


class ProductForm(forms.ModelForm["Product"]):
    allergens = forms.MultipleChoiceField(
        label=_("Contains (allergens)"),
        choices=Allergen.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A patient allergic to one of these is refused this product unless overridden with a reason."),
    )

    class Meta:
        model = Product
        fields = ["name", "active_ingredient", "allergens", "is_active"]


class ProductLotForm(forms.Form):
    lot_number = forms.CharField(label=_("Lot number"), max_length=60)
    expires_on = forms.DateField(
        label=_("Expires on"),
        validators=[validate_day_in_range],
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The lot can be used through this date."),
    )


class ProgressReviewForm(forms.Form):
    """The decision, with the review's own measurement: IGA here, present counts on a face map beside it."""

    iga = forms.TypedChoiceField(
        label=_("IGA today"),
        choices=[("", "—"), *Iga.choices],
        coerce=int,
        empty_value=None,
        help_text=_("Investigator's global assessment, 0 (clear) to 4 (severe)."),
        error_messages={"required": _("Grade the skin today (IGA 0-4).")},
    )
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=ReviewDecision.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose continue, change or end.")},
    )
    sessions_planned = forms.IntegerField(
        label=_("Sessions in total (when changing)"),
        min_value=1,
        max_value=12,
        required=False,
        help_text=_("Leave empty to keep the number of sessions."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when changing the plan: say what changes."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == ReviewDecision.CHANGE and not (data.get("notes") or "").strip():
            self.add_error("notes", _("Say what changes in the plan."))
        return data


class ResumeProgrammeForm(forms.Form):
    note = forms.CharField(
        label=_("What the re-assessment found"),
        max_length=NOTE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "e.g. the new medication, what you checked, why the programme may go on. Kept on the plan. "
            "If the decision changes, sign a new consultation instead."
        ),
        error_messages={"required": _("Write what the re-assessment found.")},
    )
