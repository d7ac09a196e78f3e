"""The consultation record, its addenda, the treatment plan and the plan's booked sessions.

Lesion counts are a JSON field on the consultation, ``{zone: {lesion type: count}}``, validated
against ``grading.Zone`` / ``grading.Lesion`` and the per-zone maximums by
:func:`validate_lesion_counts` (the form validates the same way, field by field). A child
table was the alternative; JSON keeps the record one row that pghistory snapshots whole, so
the audit shows each version of the analysis as the specialist saved it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

import pghistory
import pgtrigger
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.constraints import LONG_NOTE, NOTE, text_fits
from clinic.models import RELEASED_STATUSES, User
from consultations import rules
from consultations.grading import FACE_ZONES, LESION_MAX_PER_ZONE, OPTIONAL_ZONES, Band, Iga, Lesion, Zone

# The progress review falls 8-10 weeks after the consultation (docs/product.md).
REVIEW_MIN_DAYS = 56
REVIEW_MAX_DAYS = 70


def validate_lesion_counts(value: Any) -> None:
    if not isinstance(value, dict):
        raise ValidationError(_("Lesion counts must be a mapping of zone to counts."))
    for zone, per_lesion in value.items():
        if zone not in Zone.values:
            raise ValidationError(_("Unknown zone “%(zone)s”."), params={"zone": zone})
        if not isinstance(per_lesion, dict):
            raise ValidationError(_("Counts for %(zone)s must be a mapping."), params={"zone": zone})
        for lesion, count in per_lesion.items():
            if lesion not in Lesion.values:
                raise ValidationError(_("Unknown lesion type “%(lesion)s”."), params={"lesion": lesion})
            maximum = LESION_MAX_PER_ZONE[Lesion(lesion)]
            if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= maximum:
                raise ValidationError(
                    _("%(zone)s, %(lesion)s: a count from 0 to %(max)s."),
                    params={"zone": zone, "lesion": lesion, "max": maximum},
                )


# What people type for "no allergies" (compared casefolded, without trailing full stops). NKA /
# NKDA: "no known (drug) allergies", the clinical shorthand.
NO_ALLERGY_ANSWERS = frozenset(
    {
        "-",
        "—",
        "n/a",
        "na",
        "nil",
        "nil known",
        "nka",
        "nkda",
        "no",
        "no allergies",
        "no allergy",
        "no known allergies",
        "no known allergy",
        "no known drug allergies",
        "none",
        "none known",
        "none reported",
        "none that i know of",
    }
)


def recorded_allergies(text: str) -> str:
    """The allergy text as an alert shows it, or "" when it says there is none.

    The one place that decides whether typed allergy text is an allergy: "None known", "nil",
    "NKDA", "n/a" and the like are answers, not allergies, and raise no red alert anywhere.
    """
    cleaned = " ".join((text or "").split())
    key = cleaned.casefold().rstrip(".!").strip()
    return "" if key in NO_ALLERGY_ANSWERS else cleaned


class Allergen(models.TextChoices):
    """Allergen tags shared by the patient's record and the product catalogue (matched exactly)."""

    BENZOYL_PEROXIDE = "benzoyl_peroxide", _("Benzoyl peroxide")
    CHLORHEXIDINE = "chlorhexidine", _("Chlorhexidine")
    SALICYLIC_ACID = "salicylic_acid", _("Salicylic acid (aspirin-like)")
    TEA_TREE = "tea_tree", _("Tea tree oil")
    ALCOHOL = "alcohol", _("Alcohol (ethanol, isopropyl)")
    FRAGRANCE = "fragrance", _("Fragrance")
    LANOLIN = "lanolin", _("Lanolin")
    LATEX = "latex", _("Latex")
    NICKEL = "nickel", _("Nickel")
    IODINE = "iodine", _("Iodine / povidone-iodine")


class Fitzpatrick(models.IntegerChoices):
    I = 1, _("I · always burns, never tans")  # noqa: E741
    II = 2, _("II · usually burns, tans minimally")
    III = 3, _("III · sometimes burns, tans uniformly")
    IV = 4, _("IV · burns minimally, always tans")
    V = 5, _("V · very rarely burns, tans very easily")
    VI = 6, _("VI · never burns")


class SkinType(models.TextChoices):
    NORMAL = "normal", _("Normal")
    DRY = "dry", _("Dry")
    OILY = "oily", _("Oily")
    COMBINATION = "combination", _("Combination")


class BarrierStatus(models.TextChoices):
    INTACT = "intact", _("Intact")
    IRRITATED = "irritated", _("Irritated")
    INFLAMED = "inflamed", _("Inflamed")


class Sensitivity(models.TextChoices):
    NORMAL = "normal", _("Normal")
    SENSITIVE = "sensitive", _("Sensitive")
    EXTREME = "extreme", _("Extremely sensitive or compromised")


class Congestion(models.TextChoices):
    NONE = "none", _("None")
    LOCALIZED = "localized", _("Localised")
    WIDESPREAD = "widespread", _("Widespread")


class Outcome(models.TextChoices):
    RECOMMENDED = rules.Outcome.RECOMMENDED.value, _("Extraction recommended")
    DEFER = rules.Outcome.DEFER.value, _("Defer: calm and repair first")
    NOT_RECOMMENDED = rules.Outcome.NOT_RECOMMENDED.value, _("Extraction not recommended")


class ConsultationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed")


class ConsultationQuerySet(models.QuerySet["Consultation"]):
    def signed(self) -> ConsultationQuerySet:
        return self.filter(status=ConsultationStatus.SIGNED)

    def drafts(self) -> ConsultationQuerySet:
        return self.filter(status=ConsultationStatus.DRAFT)

    def for_patient(self, patient_id: int) -> ConsultationQuerySet:
        return self.filter(patient_id=patient_id)

    def visible_to(self, user: User) -> ConsultationQuerySet:
        """Consultations held at the locations ``user`` works at."""
        return self.filter(appointment__location_id__in=user.location_ids())


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Consultation(models.Model):
    """One per consultation appointment: history, analysis, the decision. Signed, then only addenda."""

    appointment = models.OneToOneField(
        "clinic.Appointment", verbose_name=_("appointment"), on_delete=models.PROTECT, related_name="consultation"
    )
    # The appointment's patient, kept here so a patient's consultations are one indexed query.
    patient = models.ForeignKey(
        "clinic.Patient", verbose_name=_("patient"), on_delete=models.PROTECT, related_name="consultations"
    )
    specialist = models.ForeignKey(
        "clinic.User", verbose_name=_("specialist"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ConsultationStatus.choices, default=ConsultationStatus.DRAFT
    )

    # Skin-care history
    routine = models.TextField(_("current products and routine"), blank=True, max_length=LONG_NOTE)
    weeks_consistent_skincare = models.PositiveSmallIntegerField(
        _("weeks on this routine, consistently"),
        null=True,
        blank=True,
        help_text=_("Leave empty when unknown."),
    )
    previous_treatments = models.TextField(_("previous treatments"), blank=True, max_length=NOTE)
    whiteheads_often_inflame = models.BooleanField(_("whiteheads often turn into inflamed spots"), default=False)
    goals = models.TextField(_("the patient's goals"), blank=True, max_length=NOTE)

    # Health history
    medications = models.TextField(_("medications"), blank=True, max_length=NOTE)
    isotretinoin_within_6_months = models.BooleanField(_("isotretinoin in the last 6 months"), default=False)
    topical_retinoid = models.BooleanField(_("uses a topical retinoid"), default=False)
    allergies = models.TextField(_("allergies"), blank=True, max_length=NOTE)
    pregnant_or_breastfeeding = models.BooleanField(_("pregnant or breastfeeding"), default=False)
    rosacea = models.BooleanField(_("rosacea"), default=False)
    eczema = models.BooleanField(_("eczema"), default=False)
    cold_sores = models.BooleanField(_("cold sores"), default=False)
    keloid_scarring = models.BooleanField(_("keloid scarring"), default=False)
    other_conditions = models.TextField(_("other skin or health conditions"), blank=True, max_length=NOTE)
    anticoagulant_or_bleeding_disorder = models.BooleanField(
        _("takes an anticoagulant or has a bleeding disorder"), default=False
    )
    immunosuppressed_or_diabetic = models.BooleanField(_("immunosuppressed or diabetic"), default=False)
    # Structured "no known allergies": an answer, not an allergy (the text stays empty).
    no_known_allergies = models.BooleanField(_("no known allergies"), default=False)
    allergens = ArrayField(
        models.CharField(max_length=32, choices=Allergen.choices),
        default=list,
        blank=True,
        verbose_name=_("allergic to"),
        help_text=_("Products tagged with one of these are refused unless overridden with a reason."),
    )
    stalled_treatment = models.CharField(
        _("treatment in progress that has stalled"),
        max_length=300,
        blank=True,
        help_text=_("What it is and since when, e.g. “adapalene 0.1% nightly for 12 weeks, no change since week 6”."),
    )

    # Skin analysis
    fitzpatrick = models.PositiveSmallIntegerField(
        _("Fitzpatrick phototype"), choices=Fitzpatrick.choices, null=True, blank=True
    )
    skin_type = models.CharField(_("skin type"), max_length=12, choices=SkinType.choices, blank=True)
    barrier = models.CharField(_("barrier"), max_length=10, choices=BarrierStatus.choices, blank=True)
    sensitivity = models.CharField(_("sensitivity"), max_length=10, choices=Sensitivity.choices, blank=True)
    active_infection = models.BooleanField(_("active infection"), default=False)
    active_cold_sore = models.BooleanField(_("active cold sore now"), default=False)
    rosacea_or_eczema_flare = models.BooleanField(_("rosacea or eczema flare on the area"), default=False)
    open_wound_or_sunburn = models.BooleanField(_("open wound or sunburn on the area"), default=False)
    resurfaced_on = models.DateField(
        _("last peel, laser, microneedling or waxing on the area"),
        null=True,
        blank=True,
        help_text=_("Leave empty when none."),
    )
    congestion = models.CharField(_("congestion"), max_length=12, choices=Congestion.choices, blank=True)
    lesion_counts = models.JSONField(_("lesion counts"), default=dict, blank=True, validators=[validate_lesion_counts])
    gags_score = models.PositiveSmallIntegerField(_("GAGS score"), null=True, blank=True)
    gags_band = models.CharField(_("GAGS severity"), max_length=12, choices=Band.choices, blank=True)
    iga = models.PositiveSmallIntegerField(
        _("investigator's global assessment"), choices=Iga.choices, null=True, blank=True
    )
    analysis_notes = models.TextField(_("analysis notes"), blank=True, max_length=LONG_NOTE)

    # The decision: what the rules said (and by which version), and the specialist's override.
    rules_outcome = models.CharField(_("rules' outcome"), max_length=20, choices=Outcome.choices, blank=True)
    rules_reasons = ArrayField(models.CharField(max_length=64), default=list, blank=True, verbose_name=_("reasons"))
    ruleset_version = models.CharField(_("rule set version"), max_length=20, blank=True)
    recheck_on = models.DateField(_("re-check on"), null=True, blank=True)
    override_outcome = models.CharField(_("override"), max_length=20, choices=Outcome.choices, blank=True)
    override_reason = models.TextField(_("reason for the override"), blank=True, max_length=NOTE)
    # What travels with the patient into the plan, the session and the aftercare (rules' cautions).
    cautions = ArrayField(models.CharField(max_length=64), default=list, blank=True, verbose_name=_("cautions"))
    lancet_allowed = models.BooleanField(_("lancet allowed"), default=True)

    # The pre-visit questionnaire: what the patient typed, kept as typed.
    questionnaire_answers = models.JSONField(_("pre-visit answers"), default=dict, blank=True)
    questionnaire_received_at = models.DateTimeField(_("pre-visit answers received"), null=True, blank=True)
    # Fields filled from the questionnaire that the specialist has not confirmed yet; signing
    # needs each confirmed (the patient's answer is a lead, not a finding).
    questionnaire_unconfirmed = ArrayField(
        models.CharField(max_length=64), default=list, blank=True, verbose_name=_("answers to confirm")
    )

    created_at = models.DateTimeField(_("started at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("saved at"), auto_now=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)

    objects = ConsultationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        indexes = [models.Index(fields=["patient", "-signed_at"], name="consultation_patient_signed")]
        constraints = [
            text_fits("consultation", "routine", LONG_NOTE),
            text_fits("consultation", "previous_treatments", NOTE),
            text_fits("consultation", "goals", NOTE),
            text_fits("consultation", "medications", NOTE),
            text_fits("consultation", "allergies", NOTE),
            text_fits("consultation", "other_conditions", NOTE),
            text_fits("consultation", "override_reason", NOTE),
            text_fits("consultation", "analysis_notes", LONG_NOTE),
            models.CheckConstraint(
                condition=Q(override_outcome="") | ~Q(override_reason=""),
                name="consultation_override_needs_reason",
                violation_error_message=_("An override needs a written reason."),
            ),
            models.CheckConstraint(
                condition=Q(status=ConsultationStatus.DRAFT)
                | (Q(signed_at__isnull=False) & ~Q(rules_outcome="") & ~Q(ruleset_version="")),
                name="consultation_signed_has_decision",
                violation_error_message=_("A signed consultation records its decision."),
            ),
            models.CheckConstraint(
                condition=Q(fitzpatrick__isnull=True) | Q(fitzpatrick__gte=1, fitzpatrick__lte=6),
                name="consultation_fitzpatrick_range",
            ),
            models.CheckConstraint(
                condition=Q(iga__isnull=True) | Q(iga__gte=0, iga__lte=4),
                name="consultation_iga_range",
            ),
        ]
        triggers = [
            # Signed means final: corrections are addenda. The database refuses any edit.
            pgtrigger.Protect(
                name="signed_is_final",
                operation=pgtrigger.Update | pgtrigger.Delete,
                condition=pgtrigger.Q(old__status="signed"),
            ),
        ]

    def __str__(self) -> str:
        return f"Consultation {self.pk} for patient {self.patient_id}"

    def get_absolute_url(self) -> str:
        return reverse("consultations:consultation_detail", args=[self.pk])

    @property
    def is_signed(self) -> bool:
        return self.status == ConsultationStatus.SIGNED

    @property
    def final_outcome(self) -> str:
        return self.override_outcome or self.rules_outcome

    def get_final_outcome_display(self) -> str:
        return str(Outcome(self.final_outcome).label) if self.final_outcome else ""

    @property
    def undecided(self) -> bool:
        """A draft whose only "decision" is the absence of findings: it reads "no decision yet"."""
        return (
            not self.is_signed
            and not self.override_outcome
            and bool(self.missing_for_signing())
            and list(self.rules_reasons or []) in ([], [rules.NO_INDICATION.id])
        )

    @property
    def shown_outcome(self) -> str:
        """The outcome a page shows ("" while undecided)."""
        return "" if self.undecided else self.final_outcome

    @property
    def allows_treatment_plan(self) -> bool:
        """A treatment plan follows only a signed consultation whose decision recommends extraction."""
        return self.is_signed and self.final_outcome == Outcome.RECOMMENDED

    def plan_starts_on(self) -> date:
        """The day a plan from this consultation starts: the signing day, in the location's time."""
        return self.appointment.location.local(self.signed_at or timezone.now()).date()

    @property
    def reason_rules(self) -> tuple[rules.Rule, ...]:
        return tuple(rules.RULES_BY_ID[r] for r in self.rules_reasons if r in rules.RULES_BY_ID)

    def findings(self) -> rules.Findings:
        """The rules' input from this record. Unrecorded choices read as the benign default."""
        totals = dict.fromkeys(Lesion.values, 0)
        for per_lesion in (self.lesion_counts or {}).values():
            for lesion, count in per_lesion.items():
                totals[lesion] += count
        return rules.Findings(
            # The fields' choices are the rules' literals; blank reads as the benign default.
            barrier=cast(rules.Barrier, self.barrier or BarrierStatus.INTACT.value),
            sensitivity=cast(rules.Sensitivity, self.sensitivity or Sensitivity.NORMAL.value),
            active_infection=self.active_infection,
            congestion=cast(rules.Congestion, self.congestion or Congestion.NONE.value),
            weeks_consistent_skincare=self.weeks_consistent_skincare,
            whiteheads_often_inflame=self.whiteheads_often_inflame,
            isotretinoin_within_6_months=self.isotretinoin_within_6_months,
            # Named, not **totals: Findings also takes bool and text keywords since ruleset 2026.2.
            open_comedones=totals["open_comedones"],
            closed_comedones=totals["closed_comedones"],
            papules=totals["papules"],
            pustules=totals["pustules"],
            nodules=totals["nodules"],
            cysts=totals["cysts"],
            fitzpatrick=self.fitzpatrick,
            iga=self.iga,
            pregnant_or_breastfeeding=self.pregnant_or_breastfeeding,
            active_cold_sore=self.active_cold_sore,
            keloid_history=self.keloid_scarring,
            anticoagulant_or_bleeding_disorder=self.anticoagulant_or_bleeding_disorder,
            immunosuppressed_or_diabetic=self.immunosuppressed_or_diabetic,
            rosacea_or_eczema_flare=self.rosacea_or_eczema_flare,
            open_wound_or_sunburn=self.open_wound_or_sunburn,
            days_since_resurfacing=self.days_since_resurfacing(),
            topical_retinoid=self.topical_retinoid,
            stalled_treatment=self.stalled_treatment,
        )

    def findings_date(self) -> date:
        """The day the findings describe: the appointment's day (resurfacing is counted from it)."""
        appointment = self.appointment
        return appointment.location.local(appointment.start).date()

    def days_since_resurfacing(self) -> int | None:
        if self.resurfaced_on is None:
            return None
        if not self.appointment_id:
            return max(0, (timezone.localdate() - self.resurfaced_on).days)
        return max(0, (self.findings_date() - self.resurfaced_on).days)

    @property
    def allergy_alert(self) -> str:
        """The typed allergies worth an alert ("" for none, "None known" and the like)."""
        return recorded_allergies(self.allergies)

    def get_allergens_display(self) -> list[str]:
        return [str(Allergen(tag).label) for tag in self.allergens if tag in Allergen.values]

    @property
    def caution_rules(self) -> tuple[rules.Caution, ...]:
        return tuple(rules.CAUTIONS_BY_ID[c] for c in self.cautions if c in rules.CAUTIONS_BY_ID)

    def missing_for_signing(self) -> list[str]:
        """Analysis fields that must be recorded before signing (field names)."""
        required = ("fitzpatrick", "skin_type", "barrier", "sensitivity", "congestion", "iga")
        return [name for name in required if getattr(self, name) in (None, "")]

    def lesion_table(self) -> list[tuple[Zone, list[int], int]]:
        """The counts as a zones × lesion types table: (zone, a count per ``Lesion``, the zone's total).

        Every face zone, and chest and back only when counted (they are optional).
        """
        counts = self.lesion_counts or {}
        zones = [*FACE_ZONES, *(zone for zone in OPTIONAL_ZONES if any(counts.get(zone.value, {}).values()))]
        rows = []
        for zone in zones:
            per = counts.get(zone.value, {})
            cells = [int(per.get(lesion.value, 0)) for lesion in Lesion]
            rows.append((zone, cells, sum(cells)))
        return rows

    def face_zone_counts(self) -> list[tuple[Zone, int]]:
        return [(zone, sum((self.lesion_counts or {}).get(zone.value, {}).values())) for zone in FACE_ZONES]


class ConsultationAddendum(models.Model):
    """A dated correction or addition to a signed consultation, by its author. Append-only."""

    consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey("clinic.User", verbose_name=_("author"), on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("addendum"), max_length=LONG_NOTE)
    created_at = models.DateTimeField(_("written at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("addendum")
        verbose_name_plural = _("addenda")
        constraints = [
            text_fits("consultationaddendum", "text", LONG_NOTE),
            models.CheckConstraint(condition=~Q(text=""), name="addendum_not_empty"),
        ]
        triggers = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"Addendum {self.pk} to consultation {self.consultation_id}"


class PlanStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


class TreatmentPlanQuerySet(models.QuerySet["TreatmentPlan"]):
    def active(self) -> TreatmentPlanQuerySet:
        return self.filter(status=PlanStatus.ACTIVE)

    def consented(self) -> TreatmentPlanQuerySet:
        return self.filter(consented_at__isnull=False)

    def held(self) -> TreatmentPlanQuerySet:
        return self.filter(held_at__isnull=False)

    def not_held(self) -> TreatmentPlanQuerySet:
        return self.filter(held_at__isnull=True)

    def with_sessions_booked(self) -> TreatmentPlanQuerySet:
        """Annotate ``sessions_booked``: the plan's sessions whose appointment still holds its time."""
        return self.annotate(
            sessions_booked=models.Count(
                "sessions",
                filter=~Q(sessions__appointment__status__in=RELEASED_STATUSES),
            )
        )

    def with_sessions_to_book(self) -> TreatmentPlanQuerySet:
        # Through Q: django-stubs checks keyword lookups against model fields, not annotations.
        return self.with_sessions_booked().filter(Q(sessions_booked__lt=models.F("sessions_planned")))


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class TreatmentPlan(models.Model):
    consultation = models.OneToOneField(
        Consultation, verbose_name=_("consultation"), on_delete=models.PROTECT, related_name="plan"
    )
    patient = models.ForeignKey(
        "clinic.Patient", verbose_name=_("patient"), on_delete=models.PROTECT, related_name="treatment_plans"
    )
    status = models.CharField(_("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    sessions_planned = models.PositiveSmallIntegerField(_("sessions planned"))
    interval_days = models.PositiveSmallIntegerField(_("days between sessions"))
    focus_zones = ArrayField(
        models.CharField(max_length=16, choices=Zone.choices), default=list, verbose_name=_("focus zones")
    )
    home_care = models.TextField(
        _("home-care regimen"),
        help_text=_(
            "Extractions are not a cure: the regimen carries the results (e.g. a retinoid when "
            "appropriate, barrier support, sun protection)."
        ),
        max_length=NOTE,
    )
    # What the home-care products contain, matched against the consultation's allergens.
    home_care_allergens = ArrayField(
        models.CharField(max_length=32, choices=Allergen.choices),
        default=list,
        blank=True,
        verbose_name=_("the home-care products contain"),
    )
    allergy_override_reason = models.TextField(
        _("why home care includes an allergen of the patient"), blank=True, max_length=NOTE
    )
    prescribes_retinoid = models.BooleanField(
        _("the home care includes a retinoid"),
        default=False,
        help_text=_("Then the day-of re-screen asks whether its pause was kept, and does not stop for it."),
    )
    pause_before = models.TextField(_("pause before each session"), blank=True, max_length=NOTE)
    resume_after = models.TextField(_("resume after each session"), blank=True, max_length=NOTE)
    goals = models.TextField(_("goals"), max_length=NOTE)
    starts_on = models.DateField(_("plan starts on"))
    review_on = models.DateField(_("progress review on"))
    # The patient's treatment consent: which text they read, the name they typed, when.
    consent_version = models.CharField(_("consent text version"), max_length=20, blank=True)
    consent_name = models.CharField(_("name typed by the patient"), max_length=200, blank=True)
    consented_at = models.DateTimeField(_("consented at"), null=True, blank=True)
    created_by = models.ForeignKey("clinic.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("written at"), default=timezone.now, editable=False)
    # On hold after a day-of stop: no session starts and the patient is not cleared until the
    # specialist resumes the programme (with a written note) or signs a new consultation.
    held_at = models.DateTimeField(_("on hold since"), null=True, blank=True)
    held_reason = models.TextField(_("why it is on hold"), blank=True, max_length=NOTE)
    resumed_at = models.DateTimeField(_("resumed at"), null=True, blank=True)
    resumed_by = models.ForeignKey(
        "clinic.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True, verbose_name=_("resumed by")
    )
    resume_note = models.TextField(_("re-assessment note"), blank=True, max_length=NOTE)

    objects = TreatmentPlanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("treatment plan")
        verbose_name_plural = _("treatment plans")
        constraints = [
            text_fits("treatmentplan", "home_care", NOTE),
            text_fits("treatmentplan", "pause_before", NOTE),
            text_fits("treatmentplan", "resume_after", NOTE),
            text_fits("treatmentplan", "goals", NOTE),
            models.CheckConstraint(
                condition=Q(sessions_planned__gte=1, sessions_planned__lte=12),
                name="plan_sessions_1_to_12",
                violation_error_message=_("Plan between 1 and 12 sessions."),
            ),
            models.CheckConstraint(
                condition=Q(interval_days__gte=7, interval_days__lte=90),
                name="plan_interval_7_to_90_days",
                violation_error_message=_("Sessions are 7 to 90 days apart."),
            ),
            models.CheckConstraint(
                condition=Q(review_on__gte=models.F("starts_on") + timedelta(days=REVIEW_MIN_DAYS))
                & Q(review_on__lte=models.F("starts_on") + timedelta(days=REVIEW_MAX_DAYS)),
                name="plan_review_8_to_10_weeks",
                violation_error_message=_("The progress review falls 8 to 10 weeks after the plan starts."),
            ),
            models.CheckConstraint(
                condition=Q(held_at__isnull=True) | ~Q(held_reason=""),
                name="plan_hold_has_reason",
                violation_error_message=_("A plan on hold says why."),
            ),
            models.CheckConstraint(
                condition=(Q(consented_at__isnull=True) & Q(consent_name="") & Q(consent_version=""))
                | (Q(consented_at__isnull=False) & ~Q(consent_name="") & ~Q(consent_version="")),
                name="plan_consent_complete",
                violation_error_message=_("Consent records the text's version, the typed name and the time."),
            ),
        ]

    def __str__(self) -> str:
        return f"Treatment plan {self.pk} for patient {self.patient_id}"

    def get_absolute_url(self) -> str:
        return reverse("consultations:plan_detail", args=[self.pk])

    @property
    def is_consented(self) -> bool:
        return self.consented_at is not None

    @property
    def is_on_hold(self) -> bool:
        return self.held_at is not None

    @property
    def expects_retinoid(self) -> bool:
        """A retinoid is part of this programme: prescribed by the plan, or already used and kept."""
        return self.prescribes_retinoid or self.consultation.topical_retinoid

    def review_window(self) -> tuple[date, date]:
        return review_window(self.starts_on)

    def get_focus_zones_display(self) -> list[str]:
        return [str(Zone(zone).label) for zone in self.focus_zones]


def review_window(starts_on: date) -> tuple[date, date]:
    return starts_on + timedelta(days=REVIEW_MIN_DAYS), starts_on + timedelta(days=REVIEW_MAX_DAYS)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class PlanSession(models.Model):
    """Session ``number`` of a plan and the appointment that holds it (re-pointed if rebooked)."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="sessions")
    number = models.PositiveSmallIntegerField(_("session"))
    appointment = models.OneToOneField(
        "clinic.Appointment", on_delete=models.PROTECT, related_name="plan_session", verbose_name=_("appointment")
    )

    class Meta:
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_session_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="plan_session_number_positive"),
        ]

    def __str__(self) -> str:
        return f"Session {self.number} of plan {self.plan_id}"
