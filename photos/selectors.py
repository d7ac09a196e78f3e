"""Reads for the photo pages: the capture guide, the gallery and the side-by-side comparison."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from clinic.models import Patient
from consultations.grading import Band, Iga, Zone
from consultations.selectors import PlanSummary, plan_summary
from photos.models import FACE_VIEWS, VIEW_ZONES, Photo, View
from treatments.lesion_trend import Row
from treatments.models import ProgressReview
from treatments.selectors import TreatmentRecord, treatment_record


def required_views(summary: PlanSummary) -> list[View]:
    """The standard face views, and chest or back where those zones were analysed or are in the plan."""
    views = list(FACE_VIEWS)
    analysed = {zone for zone, per_lesion in summary.baseline_counts.items() if any(per_lesion.values())}
    planned = set(summary.plan.focus_zones) if summary.plan else set()
    for zone, view in ((Zone.CHEST, View.CHEST), (Zone.BACK, View.BACK)):
        if zone.value in analysed or zone.value in planned:
            views.append(view)
    return views


@dataclass(frozen=True)
class GuideRow:
    view: View
    required: bool
    taken_today: int

    @property
    def missing(self) -> bool:
        return self.required and not self.taken_today


def capture_guide(patient_id: int, today: date) -> list[GuideRow]:
    """Every view, whether the patient's plan needs it, and how many were taken today."""
    required = set(required_views(plan_summary(patient_id)))
    counts: dict[str, int] = defaultdict(int)
    for view in Photo.objects.for_patient(patient_id).filter(taken_on=today).values_list("view", flat=True):
        counts[view] += 1
    return [GuideRow(view, view in required, counts[view.value]) for view in View if view in required or counts[view]]


def photos_by_view(patient_id: int) -> dict[str, list[Photo]]:
    """The patient's photos per view, oldest first (one query)."""
    grouped: dict[str, list[Photo]] = defaultdict(list)
    # Clinical scope: every stored photo has it (a CHECK); the filter says what these pages show.
    for photo in Photo.objects.for_patient(patient_id).clinical().order_by("taken_on", "taken_at"):
        grouped[photo.view].append(photo)
    return {view.value: grouped[view.value] for view in View if grouped.get(view.value)}


@dataclass(frozen=True)
class Side:
    """One side of the comparison: the photo and that day's figures for the zones it shows."""

    photo: Photo
    label: str  # what the day was: baseline, session, review
    zone_counts: list[tuple[str, int]]  # (zone label, lesions present)
    gags_total: int | None
    band: Band | None
    iga: int | None

    @property
    def iga_label(self) -> str:
        return str(Iga(self.iga).label) if self.iga is not None else ""


@dataclass(frozen=True)
class Pair:
    view: View
    baseline: Side
    later: Side | None
    choices: list[Photo]  # the later photos of this view, to compare against


def _figures_by_day(patient: Patient, record: TreatmentRecord | None) -> tuple[dict[date, Row], dict[date, int]]:
    """Each day's present-count row of the lesion trend (the last that day) and the day's IGA."""
    record = record or treatment_record(patient)
    rows = {row.point.on: row for row in record.trend.rows}
    iga: dict[date, int] = {}
    consultation = record.plan.consultation
    if consultation is not None and record.plan.baseline_on is not None and consultation.iga is not None:
        iga[record.plan.baseline_on] = consultation.iga
    if record.plan.plan is not None:
        for review in ProgressReview.objects.filter(plan_id=record.plan.plan.pk, iga__isnull=False):
            iga[timezone.localdate(review.decided_at)] = review.iga  # type: ignore[assignment]
    return rows, iga


def _side(photo: Photo, rows: dict[date, Row], iga: dict[date, int]) -> Side:
    row = rows.get(photo.taken_on)
    if row is None:
        return Side(photo, str(photo.get_context_display()), [], None, None, iga.get(photo.taken_on))
    zones = VIEW_ZONES[photo.view]
    counts = [(str(zone.label), row.zones.get(zone.value, 0)) for zone in zones]
    return Side(photo, str(photo.get_context_display()), counts, row.gags_total, row.band, iga.get(photo.taken_on))


def comparison(
    patient: Patient, *, later_id: str | None = None, view: str | None = None, record: TreatmentRecord | None = None
) -> list[Pair]:
    """Per view: the first photo (the baseline) beside the chosen later one, or the latest.

    ``record``: the patient's treatment record when the page has it already (saves its queries).
    """
    rows, iga = _figures_by_day(patient, record)
    pairs = []
    for view_value, photos in photos_by_view(patient.pk).items():
        if view is not None and view != view_value:
            continue
        first = photos[0]
        later_choices = [p for p in photos if p.taken_on > first.taken_on]
        chosen = next((p for p in later_choices if str(p.public_id) == later_id), None)
        if chosen is None and later_choices:
            chosen = later_choices[-1]
        pairs.append(
            Pair(
                View(view_value),
                _side(first, rows, iga),
                _side(chosen, rows, iga) if chosen else None,
                later_choices,
            )
        )
    return pairs
