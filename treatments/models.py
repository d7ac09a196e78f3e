"""Treatment sessions: the day-of re-screen, the extraction log, sign-off and addenda.

Plus the small catalogue of antibacterial products and their lots that the manager keeps,
and the alerts that tell a patient's specialist a session was stopped.
"""

from __future__ import annotations

from datetime import date

import pghistory
import pgtrigger
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.constraints import LONG_NOTE, NOTE, text_fits
from clinic.models import Appointment, AppointmentStatus, Patient, User
from consultations.grading import Iga
from consultations.models import Allergen, BarrierStatus, TreatmentPlan


class ProductQuerySet(models.QuerySet["Product"]):
    def active(self) -> ProductQuerySet:
        return self.filter(is_active=True)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Product(models.Model):
    """An antibacterial product applied after extraction (e.g. a benzoyl peroxide gel)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    active_ingredient = models.CharField(_("active ingredient"), max_length=120, blank=True)
    # Matched against the patient's recorded allergies (consultations.models.Allergen).
    allergens = ArrayField(
        models.CharField(max_length=32, choices=Allergen.choices),
        default=list,
        blank=True,
        verbose_name=_("contains (allergens)"),
        help_text=_("A patient allergic to one of these is refused this product unless overridden with a reason."),
    )
    is_active = models.BooleanField(
        _("in use"), default=True, help_text=_("Products no longer in use are not offered in the session log.")
    )

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("antibacterial product")
        verbose_name_plural = _("antibacterial products")

    def __str__(self) -> str:
        return self.name


class ProductLotQuerySet(models.QuerySet["ProductLot"]):
    def usable_on(self, day: date) -> ProductLotQuerySet:
        """Lots of products in use that have not expired on ``day``."""
        return self.filter(product__is_active=True, is_active=True, expires_on__gte=day)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class ProductLot(models.Model):
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(_("lot number"), max_length=60)
    # A lot is usable through its expiry date and refused from the day after.
    expires_on = models.DateField(_("expires on"))
    is_active = models.BooleanField(_("in stock"), default=True)
    created_at = models.DateTimeField(_("added at"), default=timezone.now, editable=False)

    objects = ProductLotQuerySet.as_manager()

    class Meta:
        ordering = ["product__name", "expires_on", "lot_number"]
        verbose_name = _("product lot")
        verbose_name_plural = _("product lots")
        constraints = [
            models.UniqueConstraint(
                fields=["product", "lot_number"],
                name="product_lot_number_unique",
                violation_error_message=_("This product already has a lot with that number."),
            ),
            models.CheckConstraint(
                condition=~Q(lot_number=""),
                name="product_lot_number_not_blank",
                violation_error_message=_("Enter the lot number."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} · {self.lot_number}"

    def is_expired_on(self, day: date) -> bool:
        return self.expires_on < day


class SessionStatus(models.TextChoices):
    RESCREEN = "rescreen", _("Re-screen due")
    IN_PROGRESS = "in_progress", _("In progress")
    STOPPED = "stopped", _("Stopped at re-screen")
    SIGNED = "signed", _("Signed")


# A session in one of these is a finished record: the database refuses any change to it.
FINAL_STATUSES = (SessionStatus.STOPPED, SessionStatus.SIGNED)

# A session opens once the patient is here: checked in, or already set in progress by the
# desk from the day schedule (the session is logged still).
SESSION_STARTS_FROM = (AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_PROGRESS)
# Booked but the patient not here yet: the desk checks them in first.
AWAITING_CHECK_IN = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)


class Exfoliation(models.TextChoices):
    NONE = "none", _("None")
    ENZYME = "enzyme", _("Enzyme")
    ACID = "acid", _("Acid")
    MECHANICAL = "mechanical", _("Mechanical")


class Softening(models.TextChoices):
    NONE = "none", _("None")
    STEAM = "steam", _("Steam")
    WARM_COMPRESS = "warm_compress", _("Warm compress")
    SOFTENING_SOLUTION = "softening_solution", _("Softening solution")


class ExtractionMethod(models.TextChoices):
    # The values are those aftercare.services.SessionFacts expects.
    MANUAL_GAUZE = "manual_gauze", _("Manual, fingers wrapped in gauze")
    MANUAL_COTTON = "manual_cotton", _("Manual, fingers wrapped in cotton")
    COMEDONE_EXTRACTOR = "comedone_extractor", _("Comedone extractor")
    LANCET = "lancet", _("Lancet")


class Complication(models.TextChoices):
    PINPOINT_BLEEDING = "pinpoint_bleeding", _("Pinpoint bleeding")
    EXCESSIVE_REDNESS = "excessive_redness", _("Excessive redness")
    SWELLING = "swelling", _("Swelling")
    BRUISING = "bruising", _("Bruising")
    BROKEN_CAPILLARY = "broken_capillary", _("Broken capillary")
    INCOMPLETE_EXTRACTION = "incomplete_extraction", _("Lesion could not be fully extracted")
    VASOVAGAL = "vasovagal", _("Felt faint")


class TreatmentSessionQuerySet(models.QuerySet["TreatmentSession"]):
    def for_patient(self, patient_id: int) -> TreatmentSessionQuerySet:
        return self.filter(patient_id=patient_id)

    def signed(self) -> TreatmentSessionQuerySet:
        return self.filter(status=SessionStatus.SIGNED)

    def visible_to(self, user: User) -> TreatmentSessionQuerySet:
        """Sessions held at the locations ``user`` works at."""
        return self.filter(appointment__location_id__in=user.location_ids())

    def with_related(self) -> TreatmentSessionQuerySet:
        return self.select_related(
            "appointment",
            "appointment__room",
            "appointment__location",
            "patient",
            "aesthetician",
            "signed_by",
            "product_lot",
            "product_lot__product",
        )


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class TreatmentSession(models.Model):
    """One extraction session, logged by the aesthetician who performs it.

    Filled in as the session goes: started, re-screened, logged, signed. Once signed (or
    stopped at the re-screen) the row is final: a trigger refuses every update, so
    corrections can only be ``SessionAddendum`` rows.
    """

    appointment = models.OneToOneField(
        Appointment, verbose_name=_("appointment"), on_delete=models.PROTECT, related_name="treatment_session"
    )
    # The appointment's patient, kept here so a patient's progress is one indexed query.
    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="treatment_sessions"
    )
    aesthetician = models.ForeignKey(
        User, verbose_name=_("aesthetician"), on_delete=models.PROTECT, related_name="treatment_sessions"
    )
    # The plan the session belongs to, and its numbering when the session started ("2 of 6").
    plan = models.ForeignKey(
        TreatmentPlan,
        verbose_name=_("treatment plan"),
        on_delete=models.PROTECT,
        related_name="treatment_sessions",
        null=True,
        blank=True,
    )
    session_number = models.PositiveSmallIntegerField(_("session number"))
    sessions_planned = models.PositiveSmallIntegerField(_("sessions planned"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=SessionStatus.choices, default=SessionStatus.RESCREEN)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)

    # The day-of re-screen
    barrier_today = models.CharField(_("skin barrier today"), max_length=20, choices=BarrierStatus.choices, blank=True)
    active_infection = models.BooleanField(_("active skin infection"), null=True, blank=True)
    isotretinoin_since_consultation = models.BooleanField(
        _("isotretinoin started since the consultation"), null=True, blank=True
    )
    topical_retinoid_since_consultation = models.BooleanField(
        _("topical retinoid started since the consultation"), null=True, blank=True
    )
    sunburn = models.BooleanField(_("sunburn on an area to be treated"), null=True, blank=True)
    new_pregnancy = models.BooleanField(_("pregnant or breastfeeding since the consultation"), null=True, blank=True)
    new_nodules_or_cysts = models.BooleanField(_("new nodules or cysts"), null=True, blank=True)
    extreme_sensitivity = models.BooleanField(_("extremely sensitive skin today"), null=True, blank=True)
    active_cold_sore = models.BooleanField(_("active cold sore"), null=True, blank=True)
    new_medication = models.TextField(_("new medication since the consultation"), blank=True, max_length=NOTE)
    # Asked only when the plan prescribes a retinoid; null when not asked.
    retinoid_pause_kept = models.BooleanField(_("retinoid paused as the plan says"), null=True, blank=True)
    rescreen_notes = models.TextField(_("re-screen notes"), blank=True, max_length=NOTE)
    rescreened_at = models.DateTimeField(_("re-screened at"), null=True, blank=True)
    # The re-screen rules that applied (treatments.rescreen ids) and that rules' version.
    rescreen_reasons = ArrayField(models.CharField(max_length=40), verbose_name=_("re-screen reasons"), default=list)
    rescreen_version = models.CharField(max_length=20, blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)

    # The log
    cleanse_product = models.CharField(_("cleanse: product used"), max_length=120, blank=True)
    exfoliation = models.CharField(_("exfoliation"), max_length=20, choices=Exfoliation.choices, blank=True)
    softening = models.CharField(_("softening"), max_length=20, choices=Softening.choices, blank=True)
    extraction_method = models.CharField(
        _("extraction method"), max_length=30, choices=ExtractionMethod.choices, blank=True
    )
    # --- Present today (issue 10): counted before extraction, required to sign ---
    # What is on the skin when the session starts, {zone: {lesion: count}} as the
    # consultation's baseline: progress compares this with the baseline (like with like),
    # never what was extracted (that measures effort, not the skin).
    lesions_present = models.JSONField(_("lesions present today"), default=dict, db_default={}, blank=True)
    # --- end present today ---

    # Lesions extracted: {zone: {lesion: count}}, the same shape as the consultation's counts
    # and entered on the same face map (consultations.forms.LesionCountsForm validates it).
    lesions_extracted = models.JSONField(_("lesions extracted"), default=dict, blank=True)
    pain = models.PositiveSmallIntegerField(_("pain (0-10)"), null=True, blank=True)
    complications = ArrayField(
        models.CharField(max_length=40, choices=Complication.choices),
        verbose_name=_("complications"),
        default=list,
        blank=True,
    )
    complication_notes = models.TextField(_("complication notes"), blank=True, max_length=NOTE)
    product_lot = models.ForeignKey(
        ProductLot,
        verbose_name=_("antibacterial product lot"),
        on_delete=models.PROTECT,
        related_name="sessions",
        null=True,
        blank=True,
    )
    aftercare_explained = models.BooleanField(_("aftercare explained to the patient"), default=False)
    allergy_override_reason = models.TextField(
        _("why the product was used despite a recorded allergy"), blank=True, max_length=NOTE
    )
    notes = models.TextField(_("notes"), blank=True, max_length=LONG_NOTE)

    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    signed_by = models.ForeignKey(
        User, verbose_name=_("signed by"), on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    objects = TreatmentSessionQuerySet.as_manager()

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name = _("treatment session")
        verbose_name_plural = _("treatment sessions")
        indexes = [models.Index(fields=["patient", "started_at"], name="session_patient_started")]
        # Granted per person by the manager (staff form); the consultation must allow it too.
        permissions = [("use_lancet", _("May use a lancet in extractions"))]
        constraints = [
            text_fits("treatmentsession", "rescreen_notes", NOTE),
            text_fits("treatmentsession", "complication_notes", NOTE),
            text_fits("treatmentsession", "notes", LONG_NOTE),
            models.CheckConstraint(
                condition=Q(pain__isnull=True) | Q(pain__lte=10),
                name="session_pain_0_10",
                violation_error_message=_("Pain is scored from 0 to 10."),
            ),
            models.CheckConstraint(condition=Q(session_number__gte=1), name="session_number_positive"),
            models.CheckConstraint(
                condition=Q(sessions_planned__isnull=True) | Q(sessions_planned__gte=1),
                name="session_planned_positive",
            ),
            # A signed session carries everything the record needs, and who signed it when.
            models.CheckConstraint(
                condition=~Q(status=SessionStatus.SIGNED)
                | (
                    Q(signed_at__isnull=False, signed_by__isnull=False, rescreened_at__isnull=False)
                    & Q(rescreen_reasons=[], pain__isnull=False, product_lot__isnull=False)
                    & ~Q(extraction_method="")
                    & Q(aftercare_explained=True)
                ),
                name="session_signed_is_complete",
                violation_error_message=_("A signed session needs its re-screen, log, product lot and aftercare."),
            ),
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True) | Q(status=SessionStatus.SIGNED),
                name="session_signed_at_only_when_signed",
            ),
            # A stopped session says which re-screen rules stopped it.
            models.CheckConstraint(
                condition=~Q(status=SessionStatus.STOPPED)
                | (Q(stopped_at__isnull=False, rescreened_at__isnull=False) & ~Q(rescreen_reasons=[])),
                name="session_stopped_has_reasons",
            ),
        ]
        triggers = [
            # Signing locks the record: corrections are addenda, never silent edits.
            pgtrigger.Protect(
                name="final_is_locked",
                operation=pgtrigger.Update | pgtrigger.Delete,
                condition=pgtrigger.Q(old__status=SessionStatus.STOPPED.value)
                | pgtrigger.Q(old__status=SessionStatus.SIGNED.value),
            ),
        ]

    def __str__(self) -> str:
        return f"session {self.session_number} for patient {self.patient_id}"

    def get_absolute_url(self) -> str:
        return reverse("treatments:session_detail", args=[self.pk])

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_signed(self) -> bool:
        return self.status == SessionStatus.SIGNED

    @property
    def number_label(self) -> str:
        if self.sessions_planned:
            return str(
                _("%(number)s of %(planned)s") % {"number": self.session_number, "planned": self.sessions_planned}
            )
        return str(self.session_number)

    def get_complications_display(self) -> list[str]:
        return [str(Complication(value).label) for value in self.complications]


class SessionAddendum(models.Model):
    """A dated correction or addition to a signed session, by its author. Append-only."""

    session = models.ForeignKey(
        TreatmentSession, verbose_name=_("session"), on_delete=models.PROTECT, related_name="addenda"
    )
    author = models.ForeignKey(User, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField(_("written at"), default=timezone.now)
    text = models.TextField(_("addendum"), max_length=LONG_NOTE)

    class Meta:
        ordering = ["written_at", "id"]
        verbose_name = _("session addendum")
        verbose_name_plural = _("session addenda")
        constraints = [
            text_fits("sessionaddendum", "text", LONG_NOTE),
            models.CheckConstraint(
                condition=~Q(text=""), name="addendum_not_blank", violation_error_message=_("Write the addendum.")
            ),
        ]
        triggers = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"addendum to session {self.session_id} at {self.written_at.isoformat()}"


class SpecialistAlertQuerySet(models.QuerySet["SpecialistAlert"]):
    def open(self) -> SpecialistAlertQuerySet:
        return self.filter(resolved_at__isnull=True)

    def for_specialist(self, user_id: int) -> SpecialistAlertQuerySet:
        """Alerts for this specialist, and those for any specialist (patient without a known one)."""
        return self.filter(Q(specialist_id=user_id) | Q(specialist__isnull=True))


class SpecialistAlert(models.Model):
    """A session stopped at the re-screen, on the patient's specialist's queue until they act."""

    session = models.OneToOneField(
        TreatmentSession, verbose_name=_("session"), on_delete=models.PROTECT, related_name="specialist_alert"
    )
    patient = models.ForeignKey(Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="+")
    # The specialist who ran the patient's consultation; null when none is known (any specialist).
    specialist = models.ForeignKey(
        User, verbose_name=_("specialist"), on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    reasons = ArrayField(models.CharField(max_length=40), verbose_name=_("reasons"))
    created_at = models.DateTimeField(_("raised at"), default=timezone.now)
    resolved_at = models.DateTimeField(_("seen at"), null=True, blank=True)
    resolved_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True, blank=True)

    objects = SpecialistAlertQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("specialist alert")
        verbose_name_plural = _("specialist alerts")
        indexes = [models.Index(fields=["specialist", "resolved_at"], name="alert_specialist_open")]

    def __str__(self) -> str:
        return f"alert for patient {self.patient_id} (session {self.session_id})"


class ReviewDecision(models.TextChoices):
    CONTINUE = "continue", _("Continue the plan")
    CHANGE = "change", _("Change the plan")
    END = "end", _("End the plan")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class ProgressReview(models.Model):
    """The specialist's decision at the progress review: continue, change or end the plan."""

    patient = models.ForeignKey(Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(
        TreatmentPlan, verbose_name=_("treatment plan"), on_delete=models.PROTECT, related_name="progress_reviews"
    )
    appointment = models.OneToOneField(
        Appointment,
        verbose_name=_("review appointment"),
        on_delete=models.PROTECT,
        related_name="progress_review",
        null=True,
        blank=True,
    )
    specialist = models.ForeignKey(User, verbose_name=_("specialist"), on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(_("decision"), max_length=20, choices=ReviewDecision.choices)
    # The review's own measurement: what is present today, its IGA (recorded) and GAGS
    # (computed from the counts by consultations.grading, stored as it was then).
    lesions_present = models.JSONField(_("lesions present"), default=dict, db_default={}, blank=True)
    iga = models.PositiveSmallIntegerField(
        _("investigator's global assessment"), choices=Iga.choices, null=True, blank=True
    )
    gags_total = models.PositiveSmallIntegerField(_("GAGS score"), null=True, blank=True)
    # For "change": the programme's new number of sessions in total, if that changes.
    sessions_planned = models.PositiveSmallIntegerField(_("sessions planned in total"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=NOTE)
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)

    class Meta:
        ordering = ["decided_at", "id"]
        verbose_name = _("progress review")
        verbose_name_plural = _("progress reviews")
        constraints = [
            text_fits("progressreview", "notes", NOTE),
            models.CheckConstraint(
                condition=~Q(decision=ReviewDecision.CHANGE) | ~Q(notes=""),
                name="review_change_needs_notes",
                violation_error_message=_("Say what changes in the plan."),
            ),
            models.CheckConstraint(
                condition=Q(sessions_planned__isnull=True) | Q(sessions_planned__gte=1),
                name="review_sessions_planned_positive",
            ),
            models.CheckConstraint(condition=Q(iga__isnull=True) | Q(iga__lte=4), name="review_iga_range"),
            models.CheckConstraint(
                condition=Q(gags_total__isnull=True) | Q(gags_total__lte=44), name="review_gags_range"
            ),
        ]

    def __str__(self) -> str:
        return f"review of patient {self.patient_id}: {self.decision}"
