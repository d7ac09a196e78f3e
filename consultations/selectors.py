"""Read-only queries over consultations and treatment plans.

Pure reads, no writes: what the plan pages need (the next session to book and when), and
the one narrow seam through which the treatment log reads the patient's consultation and
plan (sessions planned, interval, focus zones, home care, review date, the patient's
specialist, the consultation's lesion counts as the baseline, and the alerts the
aesthetician must see before touching the skin: allergies, conditions, medication).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic.hooks import PatientAlerts, PatientToCall
from clinic.models import RELEASED_STATUSES, Appointment, AppointmentKind, AppointmentType, Location
from consultations import rules
from consultations.grading import Counts
from consultations.models import (
    Allergen,
    Consultation,
    Outcome,
    PlanSession,
    PlanStatus,
    TreatmentPlan,
    recorded_allergies,
)

# A plan's first session, with nothing booked before it, is suggested for the next morning.
FIRST_SESSION_AT = time(10, 0)


# --- Booking a plan's sessions ------------------------------------------------------------


def plan_next_session_number(plan: TreatmentPlan) -> int | None:
    """The lowest session number without an appointment holding its time, or None when all are booked."""
    held = set(
        PlanSession.objects.filter(plan_id=plan.pk)
        .exclude(appointment__status__in=RELEASED_STATUSES)
        .values_list("number", flat=True)
    )
    for number in range(1, plan.sessions_planned + 1):
        if number not in held:
            return number
    return None


def extraction_session_type() -> AppointmentType | None:
    """The appointment type a plan's sessions are booked as, or None when the manager set none up."""
    return AppointmentType.objects.active().filter(kind=AppointmentKind.EXTRACTION).first()


@dataclass(frozen=True)
class SessionSuggestion:
    """When, with whom and where the plan's next session would fit (the booking form's defaults)."""

    start: datetime  # aware, in the location's time zone
    practitioner_id: int | None = None
    room_id: int | None = None

    def as_initial(self) -> dict[str, Any]:
        # The form's datetime-local input shows the location's wall-clock time, without a zone.
        initial: dict[str, Any] = {"start": self.start.replace(tzinfo=None)}
        if self.practitioner_id is not None:
            initial["practitioner"] = self.practitioner_id
        if self.room_id is not None:
            initial["room"] = self.room_id
        return initial


def plan_next_session_suggestion(plan: TreatmentPlan, location: Location) -> SessionSuggestion:
    """The plan's interval after its latest booked session, same time, aesthetician and room.

    With nothing booked yet: tomorrow at ``FIRST_SESSION_AT``, local time at ``location``.
    """
    latest = (
        plan.sessions.exclude(appointment__status__in=RELEASED_STATUSES)
        .select_related("appointment")
        .order_by("-appointment__start")
        .first()
    )
    if latest is None:
        tomorrow = location.today() + timedelta(days=1)
        return SessionSuggestion(start=datetime.combine(tomorrow, FIRST_SESSION_AT, tzinfo=location.zone))
    return SessionSuggestion(
        start=location.local(latest.appointment.start) + timedelta(days=plan.interval_days),
        practitioner_id=latest.appointment.practitioner_id,
        room_id=latest.appointment.room_id,
    )


# --- What the treatment log reads ---------------------------------------------------------


@dataclass(frozen=True)
class PlanSummary:
    patient_id: int
    plan: TreatmentPlan | None = None
    consultation: Consultation | None = None
    specialist_id: int | None = None
    baseline_on: date | None = None
    baseline_counts: Counts = field(default_factory=dict)
    baseline_gags: int | None = None
    allergies: str = ""
    # Conditions and medication the aesthetician must see (short phrases).
    alerts: tuple[str, ...] = ()

    @property
    def sessions_planned(self) -> int | None:
        return self.plan.sessions_planned if self.plan else None

    @property
    def review_date(self) -> date | None:
        return self.plan.review_on if self.plan else None

    @property
    def focus_zones(self) -> list[str]:
        return self.plan.get_focus_zones_display() if self.plan else []


def consultation_alerts(consultation: Consultation) -> tuple[str, ...]:
    """The consultation's findings that matter on the day of a session, as short phrases."""
    flags = (
        (consultation.isotretinoin_within_6_months, _("Isotretinoin in the last 6 months")),
        (consultation.topical_retinoid, _("Uses a topical retinoid")),
        (consultation.pregnant_or_breastfeeding, _("Pregnant or breastfeeding")),
        (consultation.rosacea, _("Rosacea")),
        (consultation.eczema, _("Eczema")),
        (consultation.cold_sores, _("Cold sores")),
        (consultation.keloid_scarring, _("Keloid scarring")),
        (consultation.anticoagulant_or_bleeding_disorder, _("Anticoagulant or bleeding disorder")),
        (consultation.immunosuppressed_or_diabetic, _("Immunosuppressed or diabetic")),
        (consultation.sensitivity == "extreme", _("Extremely sensitive skin")),
    )
    alerts = [str(text) for present, text in flags if present]
    if consultation.other_conditions.strip():
        alerts.append(consultation.other_conditions.strip())
    return tuple(alerts)


def plan_summaries(patient_ids: Iterable[int]) -> Mapping[int, PlanSummary]:
    """Each patient's current plan summary, in a fixed number of queries however many patients.

    The current plan is the latest active one (else the latest of any status); without a
    plan, the latest signed consultation still gives the specialist, baseline and alerts.
    """
    ids = sorted(set(patient_ids))
    if not ids:
        return {}
    plans: dict[int, TreatmentPlan] = {}
    for plan in (
        TreatmentPlan.objects.filter(patient_id__in=ids)
        .select_related("consultation", "consultation__appointment__location")
        .order_by("patient_id", "-created_at", "-id")
    ):
        current = plans.get(plan.patient_id)
        if current is None or (current.status != PlanStatus.ACTIVE and plan.status == PlanStatus.ACTIVE):
            plans[plan.patient_id] = plan
    consultations: dict[int, Consultation] = {}
    missing = [patient_id for patient_id in ids if patient_id not in plans]
    if missing:
        for consultation in (
            Consultation.objects.signed()
            .filter(patient_id__in=missing)
            .select_related("appointment__location")
            .order_by("patient_id", "-signed_at", "-id")
        ):
            consultations.setdefault(consultation.patient_id, consultation)
    summaries = {}
    for patient_id in ids:
        chosen = plans.get(patient_id)
        source = chosen.consultation if chosen is not None else consultations.get(patient_id)
        if source is None:
            summaries[patient_id] = PlanSummary(patient_id=patient_id, plan=chosen)
            continue
        summaries[patient_id] = PlanSummary(
            patient_id=patient_id,
            plan=chosen,
            consultation=source,
            specialist_id=source.specialist_id,
            baseline_on=source.appointment.location.local(source.appointment.start).date(),
            baseline_counts=source.lesion_counts or {},
            baseline_gags=source.gags_score,
            allergies=source.allergy_alert,
            alerts=consultation_alerts(source),
        )
    return summaries


def plan_summary(patient_id: int) -> PlanSummary:
    return plan_summaries([patient_id])[patient_id]


def plan_session_for(appointment_id: int) -> PlanSession | None:
    """The plan session an appointment holds, if it was booked from a plan."""
    return PlanSession.objects.select_related("plan").filter(appointment_id=appointment_id).first()


# --- What travels with the patient: cautions and the lancet ----------------------------------


def latest_signed_consultation(patient_id: int) -> Consultation | None:
    return Consultation.objects.signed().for_patient(patient_id).order_by("-signed_at", "-id").first()


def patient_cautions(patient_id: int) -> tuple[str, ...]:
    """The caution ids (``consultations.rules.CAUTIONS``) of the patient's latest signed consultation.

    Empty without one. The aftercare, the plan page and the session log read these; the
    ids' explanations and advice are ``rules.CAUTIONS_BY_ID[id]``.
    """
    latest = latest_signed_consultation(patient_id)
    return tuple(latest.cautions) if latest is not None else ()


def patient_lancet_allowed(patient_id: int) -> bool:
    """Whether the latest signed consultation allows the lancet (False without one)."""
    latest = latest_signed_consultation(patient_id)
    return latest is not None and latest.lancet_allowed


# Words in a recorded allergy that mean "no NSAID": ibuprofen and its family.
NSAID_WORDS = ("nsaid", "ibuprofen", "aspirin", "naproxen", "diclofenac", "anti-inflammator")


def nsaid_sensitive(allergies: str) -> bool:
    """Whether a recorded allergy or intolerance rules out ibuprofen (and other NSAIDs)."""
    text = allergies.lower()
    return any(word in text for word in NSAID_WORDS)


# The pause a topical retinoid needs before a session when the plan names none
# (CA_TOPICAL_RETINOID: 5 days, the clinic's choice; consultations/RULES.md).
RETINOID_PAUSE = _("please stop your topical retinoid 5 days before your session.")


def session_pause_instructions(appointment: Appointment) -> str:
    """What the patient must pause before this extraction session, as the reminder says it.

    The plan's own "pause before" text when it has one (the plan the session was booked
    from, else the patient's active plan); else, for a patient on a topical retinoid, the
    caution's default pause; else "" (the reminder says there is nothing to pause).
    """
    plan_session = (
        PlanSession.objects.select_related("plan__consultation").filter(appointment_id=appointment.pk).first()
    )
    plan = plan_session.plan if plan_session is not None else None
    if plan is None:
        plan = (
            TreatmentPlan.objects.filter(patient_id=appointment.patient_id, status=PlanStatus.ACTIVE)
            .select_related("consultation")
            .order_by("-created_at", "-id")
            .first()
        )
    if plan is not None and plan.pause_before.strip():
        return plan.pause_before.strip()
    consultation = plan.consultation if plan is not None else latest_signed_consultation(appointment.patient_id)
    if consultation is not None and consultation.topical_retinoid:
        return str(RETINOID_PAUSE)
    return ""


# --- Worklists: programmes on hold, deferred patients due for their re-check ---------------


def held_sessions_to_call(location: Location) -> list[PatientToCall]:
    """The front desk's calls: patients whose programme is on hold and who have sessions booked
    at ``location`` from now on, one row per patient (the earliest session, and how many).

    The sessions stay in the book (the specialist may resume the programme before they fall
    due); the desk calls the patient once to explain and to move or cancel them all.
    """
    sessions = (
        PlanSession.objects.filter(plan__held_at__isnull=False, appointment__location=location)
        .exclude(appointment__status__in=RELEASED_STATUSES)
        .filter(appointment__start__gte=timezone.now())
        .select_related("plan", "appointment__patient")
        .order_by("appointment__start", "appointment_id")
    )
    by_patient: dict[int, list[PlanSession]] = {}
    for session in sessions:
        by_patient.setdefault(session.appointment.patient_id, []).append(session)
    calls = []
    for held in by_patient.values():
        first = held[0]
        if len(held) == 1:
            reason = _(
                "Programme on hold after a stop at re-screen: session %(number)s cannot go ahead until the "
                "specialist re-assesses."
            ) % {"number": first.number}
        else:
            reason = _(
                "Programme on hold after a stop at re-screen: %(count)s booked sessions, from session "
                "%(number)s, cannot go ahead until the specialist re-assesses."
            ) % {"count": len(held), "number": first.number}
        calls.append(
            PatientToCall(
                patient_id=first.appointment.patient_id,
                patient_name=first.appointment.patient.full_name,
                phone=first.appointment.patient.phone,
                reason=reason,
                appointment_id=first.appointment_id,
                start=first.appointment.start,
            )
        )
    return calls


def deferred_due_for_recheck(location: Location, day: date) -> list[Consultation]:
    """Patients whose latest signed consultation deferred them and whose re-check date has come.

    The specialist's worklist: each is a patient to see again (a deferral is not an ending).
    Only consultations held at ``location``; a later signed consultation takes them off.
    """
    latest_ids = (
        Consultation.objects.signed().order_by("patient_id", "-signed_at", "-id").distinct("patient_id").values("id")
    )
    deferred = Q(override_outcome=Outcome.DEFER) | Q(override_outcome="", rules_outcome=Outcome.DEFER)
    return list(
        Consultation.objects.filter(id__in=latest_ids, appointment__location=location, recheck_on__lte=day)
        .filter(deferred)
        .select_related("patient")
        .order_by("recheck_on", "id")
    )


def patient_allergens(patient_id: int) -> tuple[str, ...]:
    """The allergen tags (``models.Allergen``) of the latest signed consultation.

    Structured "no known allergies" is an answer, not an allergy: it gives no tags.
    """
    latest = latest_signed_consultation(patient_id)
    return tuple(latest.allergens) if latest is not None else ()


def patient_alerts(patient_ids: Collection[int]) -> dict[int, PatientAlerts]:
    """Each patient's allergy and cautions from their latest signed consultation, in one query
    (the day sheet, through clinic.hooks). Patients with nothing to warn about are left out."""
    latest = (
        Consultation.objects.signed()
        .filter(patient_id__in=list(patient_ids))
        .order_by("patient_id", "-signed_at", "-id")
        .distinct("patient_id")
        .only("patient_id", "allergies", "allergens", "no_known_allergies", "cautions")
    )
    alerts: dict[int, PatientAlerts] = {}
    for consultation in latest:
        words = []
        typed = recorded_allergies(consultation.allergies)
        if not consultation.no_known_allergies and typed:
            words.append(typed)
        words += [str(Allergen(tag).label) for tag in consultation.allergens if tag in Allergen.values]
        cautions = tuple(
            str(rules.CAUTIONS_BY_ID[c].explanation) for c in consultation.cautions if c in rules.CAUTIONS_BY_ID
        )
        if words or cautions:
            alerts[consultation.patient_id] = PatientAlerts(allergy="; ".join(words), cautions=cautions)
    return alerts


# --- The specialist's day ---------------------------------------------------------------------


@dataclass(frozen=True)
class SpecialistDayItem:
    """One of the specialist's appointments today, with what its next action needs."""

    appointment: Appointment
    consultation: Consultation | None = None
    # The patient's current plan, for a progress review (its review page is per plan).
    plan: TreatmentPlan | None = None

    @property
    def kind(self) -> str:
        return str(self.appointment.appointment_type.kind)


def specialist_day(location: Location, specialist_id: int) -> list[SpecialistDayItem]:
    """Every appointment of ``specialist_id`` today at ``location``, of any type (fixed query count).

    Consultations carry their consultation; progress reviews the patient's current plan.
    """
    appointments = list(
        Appointment.objects.on_local_day(location, location.today())
        .for_practitioner(specialist_id)
        .exclude(status="cancelled")
        .with_related()
        .select_related("consultation")
        .order_by("start", "id")
    )
    review_patients = {a.patient_id for a in appointments if a.appointment_type.kind == AppointmentKind.REVIEW}
    plans: dict[int, TreatmentPlan] = {}
    if review_patients:
        for plan in TreatmentPlan.objects.filter(patient_id__in=review_patients).order_by(
            "patient_id", "-created_at", "-id"
        ):
            current = plans.get(plan.patient_id)
            if current is None or (current.status != PlanStatus.ACTIVE and plan.status == PlanStatus.ACTIVE):
                plans[plan.patient_id] = plan
    return [
        SpecialistDayItem(
            appointment=a,
            consultation=getattr(a, "consultation", None),
            plan=plans.get(a.patient_id) if a.appointment_type.kind == AppointmentKind.REVIEW else None,
        )
        for a in appointments
    ]
