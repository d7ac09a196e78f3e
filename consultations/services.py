"""Consultation workflows. Each owns its transaction and takes the acting user.

Every workflow a person starts wraps its writes in ``clinic.audit.acting_as(acting_user)``,
so the audit trail names them also when no request is behind the call (the demo loader,
a management command, a Celery task).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic import roles
from clinic.audit import acting_as
from clinic.booking.services import appointment_book
from clinic.models import RELEASED_STATUSES, Appointment, AppointmentKind, AppointmentType, Room, User
from consultations import rules
from consultations.consent import CONSENT_TEXTS, CURRENT_CONSENT_VERSION
from consultations.grading import Counts, gags
from consultations.models import (
    Consultation,
    ConsultationAddendum,
    ConsultationStatus,
    PlanSession,
    TreatmentPlan,
    review_window,
    validate_lesion_counts,
)
from consultations.selectors import plan_next_session_number

# The fields a consultation's form may set (history and analysis); everything else is derived.
EDITABLE_FIELDS = (
    "routine",
    "weeks_consistent_skincare",
    "previous_treatments",
    "whiteheads_often_inflame",
    "goals",
    "medications",
    "isotretinoin_within_6_months",
    "topical_retinoid",
    "allergies",
    "pregnant_or_breastfeeding",
    "rosacea",
    "eczema",
    "cold_sores",
    "keloid_scarring",
    "other_conditions",
    "fitzpatrick",
    "skin_type",
    "barrier",
    "sensitivity",
    "active_infection",
    "congestion",
    "iga",
    "analysis_notes",
)


class ConsultationRefused(ValidationError):
    """The workflow refuses this step; the message says why (shown to the person)."""


@dataclass(frozen=True)
class Preview:
    """What the form shows live: the severity grade and the rules' decision."""

    gags_score: int
    gags_band: str
    gags_band_label: str
    assessment: rules.Assessment


def consultation_preview(*, values: Mapping[str, Any], lesion_counts: Counts) -> Preview:
    """GAGS and the rules' assessment for unsaved form values. Pure: nothing is written."""
    probe = Consultation(lesion_counts=dict(lesion_counts))
    for name in EDITABLE_FIELDS:
        if name in values:
            setattr(probe, name, values[name])
    graded = gags(lesion_counts)
    return Preview(
        gags_score=graded.total,
        gags_band=graded.band.value,
        gags_band_label=str(graded.band.label),
        assessment=rules.assess(probe.findings()),
    )


def consultation_start(*, acting_user: User, appointment: Appointment) -> Consultation:
    """Open (or reopen) the draft consultation of a consultation appointment."""
    with transaction.atomic(), acting_as(acting_user):
        locked = Appointment.objects.select_for_update().select_related("appointment_type").get(pk=appointment.pk)
        existing = Consultation.objects.filter(appointment_id=locked.pk).first()
        if existing is not None:
            return existing
        if locked.appointment_type.kind != AppointmentKind.CONSULTATION:
            raise ConsultationRefused(_("Only a consultation appointment has a consultation."))
        if locked.status in RELEASED_STATUSES:
            raise ConsultationRefused(
                _("This appointment was %(status)s.") % {"status": locked.get_status_display().lower()}
            )
        return Consultation.objects.create(appointment=locked, patient_id=locked.patient_id, specialist=acting_user)


def _check_owner(locked: Consultation, acting_user: User) -> None:
    # Only the owner writes or signs a draft: a signature names the person who made the
    # assessment, so another specialist takes it over by an audited hand-over first.
    if locked.specialist_id != acting_user.pk:
        raise ConsultationRefused(
            _("This draft belongs to another specialist. Only they can edit or sign it, unless it is handed over.")
        )


def _lock_draft(consultation: Consultation, acting_user: User) -> Consultation:
    locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
    if locked.is_signed:
        raise ConsultationRefused(_("This consultation is signed: add an addendum instead."))
    _check_owner(locked, acting_user)
    return locked


def consultation_hand_over(
    *, acting_user: User, consultation: Consultation, to_user: User, reason: str
) -> Consultation:
    """Give a draft consultation to another specialist (its owner is off sick, say).

    The owner or a manager hands over; the reason is kept in the audit context beside the
    change of ``specialist``, so the trail says who moved it, to whom and why.
    """
    reason = reason.strip()
    if not reason:
        raise ConsultationRefused(_("Say why the consultation is handed over."))
    if not to_user.is_active or not to_user.has_perm(roles.WORK_CONSULTATIONS):
        raise ConsultationRefused(_("A consultation can only be handed to a specialist."))
    with transaction.atomic(), acting_as(acting_user, hand_over_reason=reason, hand_over_to=to_user.pk):
        locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
        if locked.is_signed:
            raise ConsultationRefused(_("This consultation is signed: it can no longer be handed over."))
        if acting_user.pk != locked.specialist_id and not acting_user.has_perm(roles.MANAGE_CLINIC):
            raise ConsultationRefused(_("Only the specialist who owns this draft, or a manager, can hand it over."))
        if locked.specialist_id == to_user.pk:
            return locked
        locked.specialist = to_user
        locked.save(update_fields=["specialist"])
    return locked


def _apply(locked: Consultation, *, values: Mapping[str, Any], lesion_counts: Counts, today: date) -> rules.Assessment:
    for name in EDITABLE_FIELDS:
        if name in values:
            setattr(locked, name, values[name])
    counts = {zone: dict(per) for zone, per in lesion_counts.items() if any(per.values())}
    validate_lesion_counts(counts)
    locked.lesion_counts = counts
    graded = gags(counts)
    locked.gags_score, locked.gags_band = graded.total, graded.band.value
    assessment = rules.assess(locked.findings())
    locked.rules_outcome = assessment.outcome
    locked.rules_reasons = list(assessment.reasons)
    locked.ruleset_version = assessment.ruleset_version
    locked.recheck_on = assessment.recheck_date(today)
    return assessment


def consultation_save_draft(
    *,
    acting_user: User,
    consultation: Consultation,
    values: Mapping[str, Any],
    lesion_counts: Counts,
    override_outcome: str = "",
    override_reason: str = "",
) -> Consultation:
    """Save what the specialist entered so far; the decision so far is recomputed and kept."""
    with transaction.atomic(), acting_as(acting_user):
        locked = _lock_draft(consultation, acting_user)
        assessment = _apply(locked, values=values, lesion_counts=lesion_counts, today=_today(locked))
        _set_override(locked, assessment, override_outcome, override_reason, strict=False)
        locked.save()
    return locked


def consultation_sign(
    *,
    acting_user: User,
    consultation: Consultation,
    values: Mapping[str, Any],
    lesion_counts: Counts,
    override_outcome: str = "",
    override_reason: str = "",
) -> Consultation:
    """Save and sign: the analysis must be complete; after this only addenda change it."""
    with transaction.atomic(), acting_as(acting_user):
        locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
        if locked.is_signed:
            return locked
        _check_owner(locked, acting_user)
        assessment = _apply(locked, values=values, lesion_counts=lesion_counts, today=_today(locked))
        missing = locked.missing_for_signing()
        if missing:
            raise ConsultationRefused({name: _("Record this before signing.") for name in missing})
        _set_override(locked, assessment, override_outcome, override_reason, strict=True)
        locked.status = ConsultationStatus.SIGNED
        locked.signed_at = timezone.now()
        locked.save()
    return locked


def _set_override(
    locked: Consultation, assessment: rules.Assessment, outcome: str, reason: str, *, strict: bool
) -> None:
    try:
        decision = rules.decide(assessment, override=outcome or None, override_reason=reason)
    except rules.OverrideNeedsReason:
        if strict:
            raise ConsultationRefused({"override_reason": _("Write why you override the rules' outcome.")}) from None
        # A draft keeps the override chosen so far; the reason can follow before signing.
        locked.override_outcome, locked.override_reason = "", ""
        return
    locked.override_outcome = decision.override or ""
    locked.override_reason = decision.override_reason


def _today(consultation: Consultation) -> date:
    return consultation.appointment.location.today()


def consultation_add_addendum(*, acting_user: User, consultation: Consultation, text: str) -> ConsultationAddendum:
    """A dated addendum to a signed consultation, by the specialist who signed it."""
    text = text.strip()
    if not text:
        raise ConsultationRefused({"text": _("Write the addendum.")})
    if not consultation.is_signed:
        raise ConsultationRefused(_("A draft is edited directly; addenda are for signed consultations."))
    if consultation.specialist_id != acting_user.pk:
        raise ConsultationRefused(_("Only the specialist who signed this consultation can add an addendum."))
    with transaction.atomic(), acting_as(acting_user):
        return ConsultationAddendum.objects.create(consultation=consultation, author=acting_user, text=text)


# --- The pre-visit questionnaire ----------------------------------------------------------

QUESTIONNAIRE_TO_FIELDS = {
    "routine": "routine",
    "weeks_on_routine": "weeks_consistent_skincare",
    "medications": "medications",
    "isotretinoin": "isotretinoin_within_6_months",
    "topical_retinoid": "topical_retinoid",
    "allergies": "allergies",
    "pregnant_or_breastfeeding": "pregnant_or_breastfeeding",
    "skin_conditions": "other_conditions",
    "goals": "goals",
}


def questionnaire_submit(*, appointment: Appointment, answers: Mapping[str, Any]) -> Consultation:
    """The patient's answers, arriving through the signed link (the patient is the actor).

    They are kept exactly as typed on the consultation and copied into the draft's empty
    history fields, for the specialist to confirm or correct. Answered once per link.
    """
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().select_related("appointment_type").get(pk=appointment.pk)
        consultation = Consultation.objects.filter(appointment_id=locked.pk).first()
        if consultation is not None and (consultation.is_signed or consultation.questionnaire_received_at):
            raise ConsultationRefused(_("Your answers have already reached the clinic."))
        if locked.appointment_type.kind != AppointmentKind.CONSULTATION or locked.status in RELEASED_STATUSES:
            raise ConsultationRefused(_("This questionnaire is no longer open."))
        if consultation is None:
            consultation = Consultation.objects.create(
                appointment=locked, patient_id=locked.patient_id, specialist_id=locked.practitioner_id
            )
        stored = {key: value for key, value in answers.items() if key in QUESTIONNAIRE_TO_FIELDS}
        consultation.questionnaire_answers = stored
        consultation.questionnaire_received_at = timezone.now()
        for key, field in QUESTIONNAIRE_TO_FIELDS.items():
            value = stored.get(key)
            if value in (None, "", False):
                continue
            if getattr(consultation, field) in (None, "", False):
                setattr(consultation, field, value)
        consultation.save()
    return consultation


# --- The treatment plan ---------------------------------------------------------------


def plan_create(
    *,
    acting_user: User,
    consultation: Consultation,
    sessions_planned: int,
    interval_days: int,
    focus_zones: list[str],
    home_care: str,
    pause_before: str,
    resume_after: str,
    goals: str,
    review_on: date,
    consent_name: str = "",
) -> TreatmentPlan:
    """The treatment programme of a signed, recommended consultation, with the patient's consent."""
    with transaction.atomic(), acting_as(acting_user):
        locked = (
            Consultation.objects.select_for_update().select_related("appointment__location").get(pk=consultation.pk)
        )
        existing = TreatmentPlan.objects.filter(consultation_id=locked.pk).first()
        if existing is not None:
            return existing
        if not locked.allows_treatment_plan:
            raise ConsultationRefused(_("A treatment plan follows a signed consultation that recommends extraction."))
        starts_on = locked.plan_starts_on()
        earliest, latest = review_window(starts_on)
        if not earliest <= review_on <= latest:
            raise ConsultationRefused(
                {
                    "review_on": _("Choose a date from %(earliest)s to %(latest)s (8 to 10 weeks).")
                    % {"earliest": earliest.isoformat(), "latest": latest.isoformat()}
                }
            )
        consent = consent_name.strip()
        plan = TreatmentPlan.objects.create(
            consultation=locked,
            patient_id=locked.patient_id,
            sessions_planned=sessions_planned,
            interval_days=interval_days,
            focus_zones=focus_zones,
            home_care=home_care.strip(),
            pause_before=pause_before.strip(),
            resume_after=resume_after.strip(),
            goals=goals.strip(),
            starts_on=starts_on,
            review_on=review_on,
            consent_version=CURRENT_CONSENT_VERSION if consent else "",
            consent_name=consent,
            consented_at=timezone.now() if consent else None,
            created_by=acting_user,
        )
    return plan


def plan_record_consent(
    *, acting_user: User, plan: TreatmentPlan, consent_name: str, version: str = CURRENT_CONSENT_VERSION
) -> TreatmentPlan:
    """The patient read consent text ``version`` and typed their name."""
    name = consent_name.strip()
    if not name:
        raise ConsultationRefused({"consent_name": _("The patient types their name to consent.")})
    if version not in CONSENT_TEXTS:
        raise ConsultationRefused(_("Unknown consent text."))
    with transaction.atomic(), acting_as(acting_user):
        locked = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
        if locked.is_consented:
            return locked
        locked.consent_version, locked.consent_name, locked.consented_at = version, name, timezone.now()
        locked.save(update_fields=["consent_version", "consent_name", "consented_at"])
    return locked


def plan_book_session(
    *,
    acting_user: User,
    plan: TreatmentPlan,
    appointment_type: AppointmentType,
    practitioner: User,
    room: Room,
    start: datetime,
) -> PlanSession:
    """Book the plan's next session with the booking service (which checks clearance again)."""
    if appointment_type.kind != AppointmentKind.EXTRACTION:
        raise ConsultationRefused({"appointment_type": _("Plan sessions are extraction sessions.")})
    with transaction.atomic(), acting_as(acting_user):
        locked = TreatmentPlan.objects.select_for_update().select_related("patient").get(pk=plan.pk)
        number = plan_next_session_number(locked)
        if number is None:
            raise ConsultationRefused(_("Every session of this plan is booked."))
        appointment = appointment_book(
            acting_user=acting_user,
            patient=locked.patient,
            appointment_type=appointment_type,
            practitioner=practitioner,
            room=room,
            start=start,
            notes=_("Session %(number)s of %(total)s") % {"number": number, "total": locked.sessions_planned},
        )
        session, created = PlanSession.objects.get_or_create(
            plan=locked, number=number, defaults={"appointment": appointment}
        )
        if not created:
            session.appointment = appointment
            session.save(update_fields=["appointment"])
    return session
