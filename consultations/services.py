"""Consultation workflows. Each owns its transaction and takes the acting user.

Every workflow a person starts wraps its writes in ``clinic.audit.acting_as(acting_user)``,
so the audit trail names them also when no request is behind the call (the demo loader,
a management command, a Celery task).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic import hooks, roles
from clinic.audit import acting_as
from clinic.booking.services import appointment_book
from clinic.models import (
    RELEASED_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AppointmentType,
    Patient,
    Room,
    User,
)
from consultations import rules
from consultations.consent import CONSENT_TEXTS, CURRENT_CONSENT_VERSION, consent_name_matches
from consultations.grading import Counts, gags
from consultations.intake import structured_answers
from consultations.models import (
    Allergen,
    Consultation,
    ConsultationAddendum,
    ConsultationStatus,
    Outcome,
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
    "anticoagulant_or_bleeding_disorder",
    "immunosuppressed_or_diabetic",
    "no_known_allergies",
    "allergens",
    "stalled_treatment",
    "fitzpatrick",
    "skin_type",
    "barrier",
    "sensitivity",
    "active_infection",
    "active_cold_sore",
    "rosacea_or_eczema_flare",
    "open_wound_or_sunburn",
    "resurfaced_on",
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
    # Analysis fields not recorded yet (field names); signing needs them all.
    missing: tuple[str, ...] = ()
    # The override the form holds now ("" for none).
    override: str = ""

    @property
    def undecided(self) -> bool:
        """Nothing decides yet: the analysis is incomplete and no recorded finding gives an outcome.

        "No indication found" on a half-empty form is the absence of findings, not a decision,
        so the form says "no decision yet" instead of a red "not recommended".
        """
        return bool(self.missing) and self.assessment.reasons == (rules.NO_INDICATION.id,)

    @property
    def outcome(self) -> str:
        """What the panel shows: the override when there is one, else the rules' outcome ("" undecided)."""
        if self.override:
            return self.override
        return "" if self.undecided else self.assessment.outcome

    @property
    def outcome_label(self) -> str:
        return str(Outcome(self.outcome).label) if self.outcome else _("No decision yet")

    @property
    def defers(self) -> bool:
        """Whether "calm and repair first" and its re-check apply (not once overridden to another outcome)."""
        return self.outcome == Outcome.DEFER and self.assessment.outcome == rules.Outcome.DEFER.value


def consultation_preview(*, values: Mapping[str, Any], lesion_counts: Counts, override: str = "") -> Preview:
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
        missing=tuple(probe.missing_for_signing()),
        override=override if override in Outcome.values else "",
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
    locked.cautions = list(assessment.cautions)
    locked.lancet_allowed = assessment.lancet_allowed
    return assessment


def consultation_inconsistencies(consultation: Consultation, *, today: date) -> dict[str, str]:
    """Findings that contradict each other, by the form field they belong beside. Empty when consistent."""
    found: dict[str, str] = {}
    for inconsistency in rules.inconsistencies(consultation.findings()):
        # An unrecorded choice reads as the benign default; it contradicts nothing yet.
        if getattr(consultation, inconsistency.field, None) in (None, ""):
            continue
        found.setdefault(inconsistency.field, inconsistency.message)
    if consultation.rosacea_or_eczema_flare and not (consultation.rosacea or consultation.eczema):
        found.setdefault(
            "rosacea_or_eczema_flare",
            _("A flare is recorded, but neither rosacea nor eczema is in the health history."),
        )
    if consultation.resurfaced_on is not None and consultation.resurfaced_on > today:
        found.setdefault("resurfaced_on", _("This date is in the future."))
    if consultation.no_known_allergies and (consultation.allergens or consultation.allergy_alert):
        found.setdefault("no_known_allergies", _("Allergies are recorded: untick “no known allergies”."))
    return found


def _refuse_inconsistent(consultation: Consultation, *, today: date) -> None:
    found = consultation_inconsistencies(consultation, today=today)
    if found:
        raise ConsultationRefused(found)


def consultation_save_draft(
    *,
    acting_user: User,
    consultation: Consultation,
    values: Mapping[str, Any],
    lesion_counts: Counts,
    override_outcome: str = "",
    override_reason: str = "",
    confirmed: Sequence[str] = (),
) -> Consultation:
    """Save what the specialist entered so far; the decision so far is recomputed and kept.

    ``confirmed``: the questionnaire's imported answers the specialist confirmed with the patient.
    """
    with transaction.atomic(), acting_as(acting_user):
        locked = _lock_draft(consultation, acting_user)
        assessment = _apply(locked, values=values, lesion_counts=lesion_counts, today=_today(locked))
        _confirm(locked, confirmed)
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
    confirmed: Sequence[str] = (),
) -> Consultation:
    """Save and sign: the analysis must be complete and every imported answer confirmed; then only addenda."""
    with transaction.atomic(), acting_as(acting_user):
        locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
        if locked.is_signed:
            return locked
        _check_owner(locked, acting_user)
        assessment = _apply(locked, values=values, lesion_counts=lesion_counts, today=_today(locked))
        _confirm(locked, confirmed)
        refusals = {name: _("Record this before signing.") for name in locked.missing_for_signing()}
        for name in locked.questionnaire_unconfirmed:
            refusals.setdefault(name, _("From the pre-visit questionnaire: confirm this answer with the patient."))
        if refusals:
            raise ConsultationRefused(refusals)
        # A draft may hold contradictions while the specialist works; a signed record may not.
        _refuse_inconsistent(locked, today=_today(locked))
        _set_override(locked, assessment, override_outcome, override_reason, strict=True)
        locked.status = ConsultationStatus.SIGNED
        locked.signed_at = timezone.now()
        locked.save()
        _complete_appointment(locked.appointment_id, acting_user)
        if locked.final_outcome == Outcome.DEFER:
            # The patient leaves with what to do meanwhile and how to book the re-check.
            hooks.patient_deferred(
                patient=locked.patient,
                location=locked.appointment.location,
                recheck_on=locked.recheck_on,
                meanwhile=[str(text) for text in assessment.meanwhile],
                source=f"consultation_deferred:{locked.pk}",
            )
    return locked


def _confirm(locked: Consultation, confirmed: Sequence[str]) -> None:
    locked.questionnaire_unconfirmed = [name for name in locked.questionnaire_unconfirmed if name not in confirmed]


def _complete_appointment(appointment_id: int, acting_user: User) -> None:
    """The signed consultation is the visit done: its appointment becomes completed, in the same transaction.

    A checked-in appointment passes through "in progress" (the transitions the desk uses),
    each change a status row naming the specialist. An appointment never checked in (booked
    or confirmed) is left for the desk: completing it would invent a check-in.
    """
    appointment = Appointment.objects.select_for_update().get(pk=appointment_id)
    if appointment.status == AppointmentStatus.CHECKED_IN:
        appointment.begin(by=acting_user)
    if appointment.status == AppointmentStatus.IN_PROGRESS:
        appointment.complete(by=acting_user)


def _set_override(
    locked: Consultation, assessment: rules.Assessment, outcome: str, reason: str, *, strict: bool
) -> None:
    try:
        decision = rules.decide(assessment, override=outcome or None, override_reason=reason)
    except rules.OverrideRefused as refused:
        # A hard stop: no reason allows "recommended", in a draft or at signing. Say why.
        raise ConsultationRefused({"override_outcome": str(refused)}) from None
    except rules.OverrideNeedsReason:
        if strict:
            raise ConsultationRefused({"override_reason": _("Write why you override the rules' outcome.")}) from None
        # A draft keeps the override chosen so far; the reason can follow before signing.
        locked.override_outcome, locked.override_reason = "", ""
        return
    locked.override_outcome = decision.override or ""
    locked.override_reason = decision.override_reason
    if locked.final_outcome != Outcome.DEFER:
        # Overridden away from "defer": there is no calm-and-repair re-check to come back for.
        locked.recheck_on = None


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

# The questionnaire's questions (consultations.forms.QuestionnaireForm); anything else is dropped.
QUESTIONNAIRE_KEYS = frozenset(
    {
        "routine",
        "weeks_on_routine",
        "medications",
        "isotretinoin",
        "topical_retinoid",
        "allergies",
        "pregnant_or_breastfeeding",
        "skin_conditions",
        "goals",
    }
)


def questionnaire_submit(*, appointment: Appointment, answers: Mapping[str, Any]) -> Consultation:
    """The patient's answers, arriving through the signed link (the patient is the actor).

    They are kept exactly as typed on the consultation, and fill the draft's empty history
    fields, structured where the words are clear (``consultations.intake``): "cold sores"
    ticks the cold-sores box. Each filled field waits for the specialist's confirmation
    (``questionnaire_unconfirmed``). Answered once per link.
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
        stored = {key: value for key, value in answers.items() if key in QUESTIONNAIRE_KEYS}
        consultation.questionnaire_answers = stored
        consultation.questionnaire_received_at = timezone.now()
        imported = []
        for field, value in structured_answers(stored).items():
            if getattr(consultation, field) in (None, "", False, []):
                setattr(consultation, field, value)
                imported.append(field)
        consultation.questionnaire_unconfirmed = [name for name in EDITABLE_FIELDS if name in imported]
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
    prescribes_retinoid: bool = False,
    home_care_allergens: Sequence[str] = (),
    allergy_override_reason: str = "",
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
        clash = set(home_care_allergens) & set(locked.allergens)
        if clash and not allergy_override_reason.strip():
            labels = ", ".join(str(Allergen(tag).label) for tag in Allergen.values if tag in clash)
            raise ConsultationRefused(
                {
                    "home_care_allergens": _(
                        "The patient is allergic to %(allergens)s: change the home care, or write why it stays."
                    )
                    % {"allergens": labels}
                }
            )
        if prescribes_retinoid and "CA_PREGNANCY" in locked.cautions:
            raise ConsultationRefused(
                {"prescribes_retinoid": _("The patient is pregnant or breastfeeding: home care without retinoids.")}
            )
        consent = consent_name.strip()
        if consent:
            _check_consent_name(consent, locked.patient)
        plan = TreatmentPlan.objects.create(
            consultation=locked,
            patient_id=locked.patient_id,
            sessions_planned=sessions_planned,
            interval_days=interval_days,
            focus_zones=focus_zones,
            home_care=home_care.strip(),
            pause_before=pause_before.strip(),
            resume_after=resume_after.strip(),
            prescribes_retinoid=prescribes_retinoid,
            home_care_allergens=list(home_care_allergens),
            allergy_override_reason=allergy_override_reason.strip() if clash else "",
            goals=goals.strip(),
            starts_on=starts_on,
            review_on=review_on,
            consent_version=CURRENT_CONSENT_VERSION if consent else "",
            consent_name=consent,
            consented_at=timezone.now() if consent else None,
            created_by=acting_user,
        )
    return plan


def _check_consent_name(typed: str, patient: Patient) -> None:
    # Consent is the patient's own act: the name typed must be theirs in full, so an initial
    # ("Zoe W.") or another person's name is refused. Accents, case and spacing are ignored.
    if not consent_name_matches(typed, first_name=patient.first_name, last_name=patient.last_name):
        raise ConsultationRefused(
            {
                "consent_name": _(
                    "Type the patient's full name as it is on their record (%(name)s); initials are not enough."
                )
                % {"name": patient.full_name}
            }
        )


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
        locked = TreatmentPlan.objects.select_for_update(of=("self",)).select_related("patient").get(pk=plan.pk)
        if locked.is_consented:
            return locked
        _check_consent_name(name, locked.patient)
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
        locked = TreatmentPlan.objects.select_for_update(of=("self",)).select_related("patient").get(pk=plan.pk)
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


# --- A day-of stop pauses the programme ---------------------------------------------------


def plan_hold(*, acting_user: User, plan: TreatmentPlan, reason: str) -> TreatmentPlan:
    """Put the programme on hold after a day-of stop: the patient is no longer cleared.

    Its remaining booked sessions stay in the book (the front desk calls the patient to
    move or cancel them), but none can start and no new one can be booked until the
    specialist resumes the programme (:func:`plan_resume`) or signs a new consultation.
    Idempotent: a plan already on hold keeps its first reason.
    """
    reason = reason.strip()
    if not reason:
        raise ConsultationRefused(_("Say why the programme is on hold."))
    with transaction.atomic(), acting_as(acting_user):
        locked = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
        if locked.held_at is None:
            locked.held_at, locked.held_reason = timezone.now(), reason
            locked.save(update_fields=["held_at", "held_reason"])
    return locked


def plan_resume(*, acting_user: User, plan: TreatmentPlan, note: str) -> TreatmentPlan:
    """The specialist re-assessed the patient and resumes the programme, in writing.

    What a clinic expects after a stop: the specialist sees the patient (or their new
    medication list, pregnancy, skin) and writes what they found and why the programme may
    go on. A change that alters the decision needs a new consultation instead, which
    supersedes this plan. Only a specialist may resume; the note is kept on the plan.
    """
    from_role = acting_user.has_perm(roles.WORK_CONSULTATIONS)
    if not from_role:
        raise ConsultationRefused(_("Only a specialist can resume a programme on hold."))
    note = note.strip()
    if not note:
        raise ConsultationRefused({"note": _("Write what the re-assessment found.")})
    with transaction.atomic(), acting_as(acting_user):
        locked = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
        if locked.held_at is None:
            return locked
        locked.held_at, locked.held_reason = None, ""
        locked.resumed_at, locked.resumed_by, locked.resume_note = timezone.now(), acting_user, note
        locked.save(update_fields=["held_at", "held_reason", "resumed_at", "resumed_by", "resume_note"])
    return locked
