"""What a treatment session needs to know about the patient's consultation and plan.

One narrow read-only seam between the treatment log and the consultation app: the plan
(sessions planned, interval, focus zones, home care, review date), the patient's
specialist, the consultation's lesion counts (the progress baseline) and the alerts the
aesthetician must see before touching the skin (allergies, conditions, medication).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from consultations.grading import Counts
from consultations.models import Consultation, PlanSession, PlanStatus, TreatmentPlan


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
            allergies=source.allergies.strip(),
            alerts=consultation_alerts(source),
        )
    return summaries


def plan_summary(patient_id: int) -> PlanSummary:
    return plan_summaries([patient_id])[patient_id]


def plan_session_for(appointment_id: int) -> PlanSession | None:
    """The plan session an appointment holds, if it was booked from a plan."""
    return PlanSession.objects.select_related("plan").filter(appointment_id=appointment_id).first()
