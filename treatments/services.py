"""Treatment-session workflows: start, re-screen, sign, addenda; the product catalogue; reviews.

Each function owns its transaction, takes the acting user (its writes are attributed to
them in the audit trail, from a page, a task or a command alike), and returns early when its
work is already done (a double-clicked button changes nothing twice).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftercare.services import specialist_email_send
from clinic import roles
from clinic.audit import acting_as
from clinic.models import Appointment, AppointmentKind, AppointmentStatus, User
from consultations.eligibility import patient_cleared_for_extraction
from consultations.grading import Iga, Lesion, gags
from consultations.models import Allergen, PlanStatus, TreatmentPlan
from consultations.selectors import patient_allergens, patient_lancet_allowed, plan_session_for, plan_summary
from consultations.services import plan_hold, plan_resume
from treatments import hooks
from treatments.models import (
    SESSION_STARTS_FROM,
    Complication,
    Exfoliation,
    ExtractionMethod,
    Product,
    ProductLot,
    ProgressReview,
    ReviewDecision,
    SessionAddendum,
    SessionStatus,
    Softening,
    SpecialistAlert,
    TreatmentSession,
)
from treatments.rescreen import RescreenAnswers, RescreenResult, rescreen

logger = logging.getLogger(__name__)


# What a session may record as extracted. Comedones are what extraction is for; a pustule with
# a visible head is drained through it (docs/product.md lists pustules among what extractions
# clear). Papules are not: a papule is solid inflamed tissue with no opening, and pressing it
# drives the inflammation deeper (Zaenglein AL et al., AAD acne guidelines 2016: comedo
# extraction is for comedones). Nodules and cysts are a contraindication (CI_CYSTIC_ACNE).
EXTRACTABLE_LESIONS: tuple[Lesion, ...] = (Lesion.OPEN_COMEDONES, Lesion.CLOSED_COMEDONES, Lesion.PUSTULES)
USE_LANCET = "treatments.use_lancet"


class SessionRefused(ValidationError):
    """The session step breaks a rule; ``field`` names the form field the message belongs beside."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class SessionIncomplete(SessionRefused):
    """Signing needs more: ``problems`` lists every missing entry at once, as (field or None, message)."""

    def __init__(self, problems: Sequence[tuple[str | None, str]]) -> None:
        summary = _("Before signing, complete: %(missing)s.") % {
            "missing": ", ".join(str(SIGNING_NEEDS[field]) for field, _message in problems)
        }
        # ``field``: the first missing entry's, for a caller that shows one refusal.
        super().__init__(summary, field=problems[0][0] if problems else None)
        # messages[0] is the summary; the rest say what to do, one per missing entry.
        self.error_list = [*self.error_list, *(ValidationError(message) for _field, message in problems)]
        self.problems = tuple(problems)


# What signing needs, by the log field it belongs to (None: the present-today counts).
SIGNING_NEEDS: dict[str | None, Promise] = {
    None: gettext_lazy("the lesions present today"),
    "extraction_method": gettext_lazy("the extraction method"),
    "pain": gettext_lazy("the pain score"),
    "product_lot": gettext_lazy("the antibacterial product lot"),
    "aftercare_explained": gettext_lazy("the aftercare explained"),
}


def _check_owner(session: TreatmentSession, acting_user: User) -> None:
    # A session's log and signature are the aesthetician's who performs it; a colleague takes
    # it over only by an audited hand-over (session_hand_over).
    if session.aesthetician_id != acting_user.pk:
        raise SessionRefused(
            _("This session belongs to another aesthetician. Only they can log or sign it, unless it is handed over.")
        )


def session_hand_over(*, acting_user: User, session: TreatmentSession, to_user: User, reason: str) -> TreatmentSession:
    """Give an unsigned session to another aesthetician; the owner or a manager does it, with a reason.

    The reason and the recipient go into the audit context beside the change of ``aesthetician``.
    """
    reason = reason.strip()
    if not reason:
        raise SessionRefused(_("Say why the session is handed over."))
    if not to_user.is_active or not to_user.has_perm(roles.WORK_TREATMENTS):
        raise SessionRefused(_("A session can only be handed to an aesthetician."))
    with acting_as(acting_user, hand_over_reason=reason, hand_over_to=to_user.pk), transaction.atomic():
        locked = _lock(session)
        if locked.is_final:
            raise SessionRefused(_("This session is closed: it can no longer be handed over."))
        if acting_user.pk != locked.aesthetician_id and not acting_user.has_perm(roles.MANAGE_CLINIC):
            raise SessionRefused(_("Only the aesthetician who owns this session, or a manager, can hand it over."))
        if locked.aesthetician_id != to_user.pk:
            locked.aesthetician = to_user
            locked.save(update_fields=["aesthetician"])
    session.refresh_from_db()
    return session


def _ids(pk: int | None) -> list[int]:
    """A nullable foreign key as an ``id__in`` list (empty when null)."""
    return [pk] if pk is not None else []


def _lock(session: TreatmentSession) -> TreatmentSession:
    return TreatmentSession.objects.select_for_update().get(pk=session.pk)


# --- Products and lots -----------------------------------------------------------------


def product_save(*, acting_user: User, product: Product) -> Product:
    """Add or change a product in the catalogue (the manager's form)."""
    with acting_as(acting_user), transaction.atomic():
        product.full_clean()
        product.save()
    return product


def product_lot_add(*, acting_user: User, product: Product, lot_number: str, expires_on: date) -> ProductLot:
    lot_number = lot_number.strip()
    if not lot_number:
        raise SessionRefused(_("Enter the lot number."), field="lot_number")
    if ProductLot.objects.filter(product=product, lot_number__iexact=lot_number).exists():
        raise SessionRefused(_("This product already has a lot with that number."), field="lot_number")
    try:
        with acting_as(acting_user), transaction.atomic():
            return ProductLot.objects.create(product=product, lot_number=lot_number, expires_on=expires_on)
    except IntegrityError:  # a concurrent add of the same number
        raise SessionRefused(_("This product already has a lot with that number."), field="lot_number") from None


def product_lot_withdraw(*, acting_user: User, lot: ProductLot) -> ProductLot:
    """Take a lot out of use (used up or recalled); past sessions keep pointing at it."""
    with acting_as(acting_user), transaction.atomic():
        locked = ProductLot.objects.select_for_update().get(pk=lot.pk)
        if locked.is_active:
            locked.is_active = False
            locked.save(update_fields=["is_active"])
    return locked


# --- Sessions ---------------------------------------------------------------------------


def session_start(*, acting_user: User, appointment: Appointment) -> TreatmentSession:
    """Open the session for a checked-in extraction appointment and set it in progress.

    An appointment the desk already set in progress gets its session too (status unchanged).
    """
    # Whoever starts the session is its aesthetician, so only an aesthetician may start one:
    # the front desk cannot open a session in a practitioner's name.
    if not acting_user.has_perm(roles.WORK_TREATMENTS):
        raise SessionRefused(_("Only an aesthetician can start a treatment session."))
    with acting_as(acting_user), transaction.atomic():
        locked = Appointment.objects.select_for_update().select_related("appointment_type").get(pk=appointment.pk)
        existing = TreatmentSession.objects.filter(appointment=locked).first()
        if existing is not None:
            return existing
        if locked.appointment_type.kind != AppointmentKind.EXTRACTION:
            raise SessionRefused(_("Only an extraction session appointment can start a treatment session."))
        if locked.status not in SESSION_STARTS_FROM:
            raise SessionRefused(
                _("Check the patient in first: this appointment is %(status)s.")
                % {"status": locked.get_status_display().lower()}
            )
        plan_session = plan_session_for(locked.pk)
        plan = plan_session.plan if plan_session is not None else plan_summary(locked.patient_id).plan
        # Clearance again on the day: a stop since booking (the programme on hold) or a later
        # consultation that defers withdraws it, whatever the book still holds.
        # A session of a held plan stays held even after a new consultation clears the patient
        # under a new plan: it belongs to the old programme (the desk moves or cancels it).
        if plan is not None and plan.is_on_hold:
            raise SessionRefused(
                _("The programme is on hold since a stop at re-screen: the specialist re-assesses first.")
            )
        if not patient_cleared_for_extraction(locked.patient):
            raise SessionRefused(_("The patient is not cleared for extraction: the specialist re-assesses first."))
        if plan_session is not None:
            number = plan_session.number
        else:
            performed = TreatmentSession.objects.for_patient(locked.patient_id).signed()
            if plan is not None:
                performed = performed.filter(plan=plan)
            number = performed.count() + 1
        session = TreatmentSession.objects.create(
            appointment=locked,
            patient_id=locked.patient_id,
            aesthetician=acting_user,
            plan=plan,
            session_number=number,
            sessions_planned=max(plan.sessions_planned, number) if plan is not None else None,
        )
        if locked.status == AppointmentStatus.CHECKED_IN:
            locked.begin(by=acting_user)
    return session


def session_rescreen(
    *, acting_user: User, session: TreatmentSession, answers: RescreenAnswers, notes: str = ""
) -> RescreenResult:
    """Record the day-of re-screen. A contraindication stops the session.

    Stopped: the session is final with the rules' ids as its reasons, the appointment is
    cancelled with those reasons written out, and the patient's specialist gets an alert.
    """
    with acting_as(acting_user), transaction.atomic():
        locked = _lock(session)
        if locked.status != SessionStatus.RESCREEN:
            return RescreenResult(reasons=tuple(locked.rescreen_reasons), version=locked.rescreen_version)
        plan = TreatmentPlan.objects.select_related("consultation").filter(id__in=_ids(locked.plan_id)).first()
        # The plan, not the form, says whether a retinoid is expected; its pause is asked only then.
        expected = plan is not None and plan.expects_retinoid
        answers = dataclasses.replace(
            answers,
            retinoid_expected=expected,
            retinoid_pause_kept=answers.retinoid_pause_kept if expected else None,
        )
        result = rescreen(answers)
        now = timezone.now()
        locked.barrier_today = answers.barrier
        locked.active_infection = answers.active_infection
        locked.isotretinoin_since_consultation = answers.isotretinoin_since_consultation
        locked.topical_retinoid_since_consultation = answers.topical_retinoid_since_consultation
        locked.sunburn = answers.sunburn
        locked.new_pregnancy = answers.new_pregnancy
        locked.new_nodules_or_cysts = answers.new_nodules_or_cysts
        locked.extreme_sensitivity = answers.extreme_sensitivity
        locked.active_cold_sore = answers.active_cold_sore
        locked.new_medication = answers.new_medication.strip()
        locked.retinoid_pause_kept = answers.retinoid_pause_kept
        locked.rescreen_notes = notes.strip()
        locked.rescreened_at = now
        locked.rescreen_reasons = list(result.reasons)
        locked.rescreen_version = result.version
        fields = [
            "barrier_today",
            "active_infection",
            "isotretinoin_since_consultation",
            "topical_retinoid_since_consultation",
            "sunburn",
            "new_pregnancy",
            "new_nodules_or_cysts",
            "extreme_sensitivity",
            "active_cold_sore",
            "new_medication",
            "retinoid_pause_kept",
            "rescreen_notes",
            "rescreened_at",
            "rescreen_reasons",
            "rescreen_version",
            "status",
        ]
        if result.stopped:
            locked.status = SessionStatus.STOPPED
            locked.stopped_at = now
            locked.save(update_fields=[*fields, "stopped_at"])
            reason = _("Stopped at the day-of re-screen: %(reasons)s") % {
                "reasons": " ".join(str(text) for text in result.explanations)
            }
            appointment = Appointment.objects.get(pk=locked.appointment_id)
            appointment.cancel(by=acting_user, reason=reason)
            specialist_id = plan_summary(locked.patient_id).specialist_id
            alert = SpecialistAlert.objects.create(
                session=locked,
                patient_id=locked.patient_id,
                specialist_id=specialist_id,
                reasons=list(result.reasons),
                created_at=now,
            )
            _pause_programme(acting_user=acting_user, session=locked, plan=plan, reason=reason)
            specialist_email_send(
                specialist_id=specialist_id,
                patient_id=locked.patient_id,
                location=appointment.location,
                paragraphs=[
                    _("A treatment session was stopped at the day-of re-screen."),
                    " ".join(str(text) for text in result.explanations),
                    _(
                        "The programme is on hold and the patient is not cleared until you re-assess them "
                        "and resume it, or sign a new consultation."
                    ),
                ],
                action_label=_("Re-assess"),
                action_url=reverse("treatments:alert_resume", args=[alert.pk]),
                source=f"rescreen_stop:{locked.pk}",
            )
        else:
            locked.status = SessionStatus.IN_PROGRESS
            locked.save(update_fields=fields)
    session.refresh_from_db()
    return result


@dataclass(frozen=True)
class SessionLog:
    """What the aesthetician logs; validated by the form, checked again here."""

    cleanse_product: str
    exfoliation: str
    softening: str
    extraction_method: str
    lesions_extracted: Mapping[str, Mapping[str, int]]
    pain: int | None
    complications: Sequence[str]
    complication_notes: str
    product_lot: ProductLot | None
    aftercare_explained: bool
    notes: str = ""
    # What is present today, counted before extraction; signing needs it (issue 10).
    lesions_present: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    # Why a product was used although it contains something the patient is allergic to.
    allergy_override_reason: str = ""


def session_log_save(*, acting_user: User, session: TreatmentSession, log: SessionLog) -> TreatmentSession:
    """Save the log so far (a draft: anything may still be blank until signing)."""
    with acting_as(acting_user), transaction.atomic():
        locked = _lock(session)
        if locked.status != SessionStatus.IN_PROGRESS:
            raise SessionRefused(_("Only a session in progress can be logged."))
        _check_owner(locked, acting_user)
        _check_log(log, on=locked.appointment.location.today(), complete=False)
        _check_safety(log, acting_user=acting_user, patient_id=locked.patient_id)
        _apply_log(locked, log)
        locked.save(update_fields=_LOG_FIELDS)
    session.refresh_from_db()
    return session


_LOG_FIELDS = [
    "cleanse_product",
    "exfoliation",
    "softening",
    "extraction_method",
    "lesions_extracted",
    "pain",
    "complications",
    "complication_notes",
    "product_lot",
    "aftercare_explained",
    "notes",
    "lesions_present",
    "allergy_override_reason",
]


def non_zero_counts(counts: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """``counts`` without its zeros and empty zones: the stored shape of a face map."""
    kept = {zone: {lesion: count for lesion, count in per.items() if count} for zone, per in counts.items()}
    return {zone: per for zone, per in kept.items() if per}


def _apply_log(session: TreatmentSession, log: SessionLog) -> None:
    session.cleanse_product = log.cleanse_product.strip()
    session.exfoliation = log.exfoliation
    session.softening = log.softening
    session.extraction_method = log.extraction_method
    session.lesions_extracted = {
        zone: {lesion: count for lesion, count in per.items() if count} for zone, per in log.lesions_extracted.items()
    }
    session.lesions_extracted = {zone: per for zone, per in session.lesions_extracted.items() if per}
    session.lesions_present = non_zero_counts(log.lesions_present)
    session.pain = log.pain
    session.complications = list(log.complications)
    session.complication_notes = log.complication_notes.strip()
    session.product_lot = log.product_lot
    session.aftercare_explained = log.aftercare_explained
    session.notes = log.notes.strip()
    session.allergy_override_reason = log.allergy_override_reason.strip()


def _check_log(log: SessionLog, *, on: date, complete: bool) -> None:
    """The rules the service enforces whatever form called it; ``complete`` for signing."""
    if log.exfoliation and log.exfoliation not in Exfoliation.values:
        raise SessionRefused(_("Choose an exfoliation from the list."), field="exfoliation")
    if log.softening and log.softening not in Softening.values:
        raise SessionRefused(_("Choose a softening step from the list."), field="softening")
    if log.extraction_method and log.extraction_method not in ExtractionMethod.values:
        raise SessionRefused(_("Choose an extraction method from the list."), field="extraction_method")
    if log.pain is not None and not 0 <= log.pain <= 10:
        raise SessionRefused(_("Pain is scored from 0 to 10."), field="pain")
    if any(value not in Complication.values for value in log.complications):
        raise SessionRefused(_("Choose complications from the list."), field="complications")
    for per_lesion in (*log.lesions_extracted.values(), *log.lesions_present.values()):
        if any(count < 0 for count in per_lesion.values()):
            raise SessionRefused(_("Counts cannot be negative."))
    if log.product_lot is not None:
        lot = log.product_lot
        # PRODUCT rule: an expired lot is refused (usable through its expiry date).
        if lot.is_expired_on(on):
            raise SessionRefused(
                _("Lot %(lot)s expired on %(date)s: use another lot.")
                % {"lot": lot.lot_number, "date": lot.expires_on.strftime("%d/%m/%Y")},
                field="product_lot",
            )
        if not lot.is_active or not lot.product.is_active:
            raise SessionRefused(_("This lot is no longer in use: choose another."), field="product_lot")
    if not complete:
        return
    # Progress compares what is present at each visit with the baseline: a session signed
    # without today's count would leave a hole in the patient's trend.
    # Every missing entry at once: the aesthetician fixes them in one pass, not one per submit.
    problems: list[tuple[str | None, str]] = []
    if not any(any(per.values()) for per in log.lesions_present.values()):
        problems.append((None, _("Count the lesions present today, by zone and type, before signing.")))
    if not log.extraction_method:
        problems.append(("extraction_method", _("Choose the extraction method.")))
    if log.pain is None:
        problems.append(("pain", _("Record the pain score (0-10).")))
    if log.product_lot is None:
        problems.append(("product_lot", _("Record the antibacterial product lot applied.")))
    if not log.aftercare_explained:
        problems.append(("aftercare_explained", _("Explain the aftercare to the patient before signing.")))
    if problems:
        raise SessionIncomplete(problems)


def product_allergy_clash(*, product_allergens: Sequence[str], patient_id: int) -> list[str]:
    """The labels of the patient's recorded allergens that the product contains (empty: no clash)."""
    shared = set(product_allergens) & set(patient_allergens(patient_id))
    return [str(Allergen(tag).label) for tag in Allergen.values if tag in shared]


def lancet_refusal(*, acting_user: User, patient_id: int) -> str | None:
    """Why ``acting_user`` may not use a lancet on this patient, or None when they may.

    Both are needed: the manager's grant to the person (``treatments.use_lancet``) and the
    patient's latest signed consultation allowing it (no caution forbids it).
    """
    if not acting_user.has_perm(USE_LANCET):
        return _("You are not authorised to use a lancet: the manager grants it on the staff form.")
    if not patient_lancet_allowed(patient_id):
        return _("The consultation rules the lancet out for this patient (see the cautions).")
    return None


def _check_safety(log: SessionLog, *, acting_user: User, patient_id: int) -> None:
    extractable = {lesion.value for lesion in EXTRACTABLE_LESIONS}
    for per_lesion in log.lesions_extracted.values():
        if any(count and lesion not in extractable for lesion, count in per_lesion.items()):
            raise SessionRefused(_("Only comedones and pustules can be extracted; record nothing else as extracted."))
    if log.product_lot is not None and not log.allergy_override_reason.strip():
        clash = product_allergy_clash(product_allergens=log.product_lot.product.allergens, patient_id=patient_id)
        if clash:
            raise SessionRefused(
                _(
                    "The patient is allergic to %(allergens)s, which this product contains: choose another, or "
                    "write why it is used anyway."
                )
                % {"allergens": ", ".join(clash)},
                field="product_lot",
            )
    if log.extraction_method == ExtractionMethod.LANCET:
        refusal = lancet_refusal(acting_user=acting_user, patient_id=patient_id)
        if refusal is not None:
            raise SessionRefused(refusal, field="extraction_method")


def session_sign(*, acting_user: User, session: TreatmentSession, log: SessionLog) -> TreatmentSession:
    """Save the final log, sign and lock the session, complete the appointment, start the aftercare.

    The aftercare sequence's outbox rows are written in the same transaction
    (``treatments.hooks.on_session_signed``), so a session is never signed without its
    aftercare: when they cannot be written, nothing is signed and the caller gets a
    ``SessionRefused`` to show. The dispatcher is kicked once the signing has committed.
    """
    with acting_as(acting_user), transaction.atomic():
        locked = _lock(session)
        if locked.status == SessionStatus.SIGNED:
            session.refresh_from_db()
            return session
        if locked.status != SessionStatus.IN_PROGRESS:
            raise SessionRefused(_("Only a session in progress, cleared at its re-screen, can be signed."))
        _check_owner(locked, acting_user)
        _check_log(log, on=locked.appointment.location.today(), complete=True)
        _check_safety(log, acting_user=acting_user, patient_id=locked.patient_id)
        _apply_log(locked, log)
        locked.status = SessionStatus.SIGNED
        locked.signed_at = timezone.now()
        locked.signed_by = acting_user
        locked.save(update_fields=[*_LOG_FIELDS, "status", "signed_at", "signed_by"])
        appointment = Appointment.objects.get(pk=locked.appointment_id)
        appointment.complete(by=acting_user)
        try:
            hooks.on_session_signed(locked)
        except Exception as error:
            # Raised inside the atomic block: the signing rolls back with the sequence, and
            # the aesthetician sees why instead of an error page.
            logger.exception("aftercare for treatment session %s could not be scheduled", locked.pk)
            raise SessionRefused(
                _(
                    "The session is not signed: its aftercare messages could not be scheduled. "
                    "Nothing was lost; sign again in a moment, and tell the clinic's administrator if it fails again."
                )
            ) from error
    session.refresh_from_db()
    return session


def session_add_addendum(*, acting_user: User, session: TreatmentSession, text: str) -> SessionAddendum:
    """A dated correction to a signed session, written by the person who signed it."""
    text = text.strip()
    if not text:
        raise SessionRefused(_("Write the addendum."), field="text")
    with acting_as(acting_user), transaction.atomic():
        locked = _lock(session)
        if not locked.is_final:
            raise SessionRefused(_("The session is not signed yet: change the log itself."))
        if acting_user.pk not in (locked.signed_by_id, locked.aesthetician_id):
            raise SessionRefused(_("Only the session's author can add an addendum to it."))
        return SessionAddendum.objects.create(session=locked, author=acting_user, text=text)


def _pause_programme(*, acting_user: User, session: TreatmentSession, plan: TreatmentPlan | None, reason: str) -> None:
    """A stop puts the patient's programme on hold (their plan, else their current active plan)."""
    if plan is None:
        plan = TreatmentPlan.objects.active().filter(patient_id=session.patient_id).order_by("-created_at").first()
    if plan is not None:
        plan_hold(acting_user=acting_user, plan=plan, reason=reason)


def programme_resume(*, acting_user: User, alert: SpecialistAlert, note: str) -> SpecialistAlert:
    """The specialist re-assessed the patient after a stop: the programme resumes and the alert closes.

    The written note is kept on the plan (``TreatmentPlan.resume_note``); the patient is
    cleared again from this moment. When the re-assessment changes the decision, the
    specialist signs a new consultation instead (which also clears, or not, by its outcome).
    """
    with acting_as(acting_user), transaction.atomic():
        locked = SpecialistAlert.objects.select_for_update().select_related("session").get(pk=alert.pk)
        plan = TreatmentPlan.objects.filter(id__in=_ids(locked.session.plan_id)).first()
        if plan is None:
            plan = TreatmentPlan.objects.held().filter(patient_id=locked.patient_id).order_by("-created_at").first()
        if plan is not None:
            plan_resume(acting_user=acting_user, plan=plan, note=note)
        if locked.resolved_at is None:
            locked.resolved_at = timezone.now()
            locked.resolved_by = acting_user
            locked.save(update_fields=["resolved_at", "resolved_by"])
    return locked


def specialist_alert_resolve(*, acting_user: User, alert: SpecialistAlert) -> SpecialistAlert:
    with acting_as(acting_user), transaction.atomic():
        locked = SpecialistAlert.objects.select_for_update().get(pk=alert.pk)
        if locked.resolved_at is None:
            locked.resolved_at = timezone.now()
            locked.resolved_by = acting_user
            locked.save(update_fields=["resolved_at", "resolved_by"])
    return locked


# --- Progress review --------------------------------------------------------------------


def progress_review_decide(
    *,
    acting_user: User,
    plan: TreatmentPlan,
    decision: str,
    notes: str = "",
    sessions_planned: int | None = None,
    appointment: Appointment | None = None,
    lesions_present: Mapping[str, Mapping[str, int]] | None = None,
    iga: int | None = None,
) -> ProgressReview:
    """Record the specialist's decision at the progress review and apply it to the plan.

    The review measures the skin as the consultation did: what is present now, by zone and
    type, its IGA (recorded) and GAGS (computed from the counts), so the change from the
    baseline compares like with like.

    Continue: the plan stays as it is. Change: says what changes (notes) and may set a new
    number of sessions in total. End: the plan is closed, so no more sessions are booked.
    """
    if decision not in ReviewDecision.values:
        raise SessionRefused(_("Choose continue, change or end."), field="decision")
    notes = notes.strip()
    if decision == ReviewDecision.CHANGE and not notes:
        raise SessionRefused(_("Say what changes in the plan."), field="notes")
    if decision != ReviewDecision.CHANGE:
        sessions_planned = None
    if iga is not None and iga not in Iga.values:
        raise SessionRefused(_("Choose an IGA grade from 0 to 4."), field="iga")
    present = non_zero_counts(lesions_present or {})
    if any(count < 0 for per in present.values() for count in per.values()):
        raise SessionRefused(_("Counts cannot be negative."))
    if lesions_present is not None:
        # A measurement is the count and its grade together; only clear skin (IGA 0) has nothing to count.
        if iga is None:
            raise SessionRefused(_("Grade the skin today (IGA 0-4)."), field="iga")
        if iga != Iga.CLEAR and not present:
            raise SessionRefused(_("Count the lesions present today, by zone and type."), field="iga")
    with acting_as(acting_user), transaction.atomic():
        locked = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
        if appointment is not None:
            existing = ProgressReview.objects.filter(appointment=appointment).first()
            if existing is not None:
                return existing
        if locked.status != PlanStatus.ACTIVE:
            raise SessionRefused(_("This plan has already ended."))
        if sessions_planned is not None:
            performed = TreatmentSession.objects.signed().filter(plan=locked).count()
            if not max(1, performed) <= sessions_planned <= 12:
                raise SessionRefused(
                    _("Between %(low)s (sessions already performed) and 12 sessions.") % {"low": max(1, performed)},
                    field="sessions_planned",
                )
            if sessions_planned != locked.sessions_planned:
                locked.sessions_planned = sessions_planned
                locked.save(update_fields=["sessions_planned"])
        if decision == ReviewDecision.END:
            locked.status = PlanStatus.CLOSED
            locked.save(update_fields=["status"])
        return ProgressReview.objects.create(
            patient_id=locked.patient_id,
            plan=locked,
            appointment=appointment,
            specialist=acting_user,
            decision=decision,
            notes=notes,
            sessions_planned=sessions_planned,
            lesions_present=present,
            iga=iga,
            gags_total=gags(present).total if lesions_present is not None else None,
        )
