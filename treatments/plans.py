"""What a treatment session needs to know about the patient's consultation and plan.

One narrow read-only seam between the treatment log and the consultation app: the
sessions planned, the interval, the focus zones, the home-care regimen, the review date,
the patient's specialist, and the consultation's lesion counts (the progress baseline).

Until ``consultations.models`` has ``Consultation`` and ``TreatmentPlan`` (the consultation
issue), it answers from the booking records alone: sessions planned is the number of the
patient's extraction appointments that still hold their time, the specialist is the
practitioner of the patient's latest consultation appointment, and there is no baseline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Max, Q

from clinic.models import RELEASED_STATUSES, Appointment, AppointmentKind, AppointmentStatus
from consultations.grading import Counts


@dataclass(frozen=True)
class PlanSummary:
    patient_id: int
    sessions_planned: int | None = None
    interval_weeks: int | None = None
    focus_zones: tuple[str, ...] = ()  # consultations.grading.Zone values
    home_care: str = ""
    goals: str = ""
    review_date: date | None = None
    specialist_id: int | None = None
    baseline_on: date | None = None
    baseline_counts: Counts = field(default_factory=dict)
    # Known allergies and alerts the aesthetician must see before touching the skin.
    alerts: tuple[str, ...] = ()


def plan_summaries(patient_ids: Iterable[int]) -> Mapping[int, PlanSummary]:
    """Each patient's plan summary, in a fixed number of queries however many patients."""
    ids = sorted(set(patient_ids))
    if not ids:
        return {}
    booked = dict(
        Appointment.objects.filter(patient_id__in=ids, appointment_type__kind=AppointmentKind.EXTRACTION)
        .exclude(status__in=RELEASED_STATUSES)
        .values("patient_id")
        .annotate(n=Count("id"))
        .values_list("patient_id", "n")
    )
    latest_consultation = (
        Appointment.objects.filter(patient_id__in=ids, appointment_type__kind=AppointmentKind.CONSULTATION)
        .exclude(status__in=RELEASED_STATUSES)
        .values("patient_id")
        .annotate(last=Max("start", filter=Q(status=AppointmentStatus.COMPLETED)))
    )
    last_by_patient = {row["patient_id"]: row["last"] for row in latest_consultation if row["last"] is not None}
    specialists: dict[int, int] = {}
    if last_by_patient:
        for patient_id, start, practitioner_id in Appointment.objects.filter(
            patient_id__in=list(last_by_patient), appointment_type__kind=AppointmentKind.CONSULTATION
        ).values_list("patient_id", "start", "practitioner_id"):
            if last_by_patient.get(patient_id) == start:
                specialists[patient_id] = practitioner_id
    return {
        patient_id: PlanSummary(
            patient_id=patient_id,
            sessions_planned=booked.get(patient_id) or None,
            specialist_id=specialists.get(patient_id),
        )
        for patient_id in ids
    }


def plan_summary(patient_id: int) -> PlanSummary:
    return plan_summaries([patient_id])[patient_id]
