"""Read-side queries for the treatment pages: a patient's treatment record and today's sessions."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from clinic.models import Appointment, AppointmentKind, Location, Patient
from consultations.grading import Lesion, Zone
from consultations.selectors import PlanSummary, plan_summaries, plan_summary
from treatments.charts import Chart, line_chart
from treatments.lesion_trend import BASELINE, REVIEW, SESSION, LesionTrend, Point, lesion_trend
from treatments.models import (
    AWAITING_CHECK_IN,
    SESSION_STARTS_FROM,
    ProgressReview,
    SpecialistAlert,
    TreatmentSession,
)


@dataclass(frozen=True)
class TreatmentRecord:
    """A patient's programme so far: their plan, signed sessions, and the lesion trend with its charts."""

    patient: Patient
    plan: PlanSummary
    sessions: list[TreatmentSession]
    trend: LesionTrend
    charts: list[Chart]

    @property
    def has_data(self) -> bool:
        return bool(self.trend.rows)


def _point_label(point: Point) -> str:
    if point.kind == BASELINE:
        return _("Baseline")
    if point.kind == REVIEW:
        return _("Review")
    return _("Session %(number)s") % {"number": point.number}


def lesion_trend_charts(figures: LesionTrend) -> list[Chart]:
    """Lesions present (total, by type, by zone), GAGS severity, and, apart, what the sessions extracted."""
    if not figures.rows:
        return []
    labels = [_point_label(row.point) for row in figures.rows]
    dates = [date_format(row.point.on, "j M") for row in figures.rows]
    extracted_rows = figures.extracted_rows()
    extracted_chart = (
        [
            line_chart(
                title=_("Lesions extracted per session (the work done, not the skin)"),
                x_labels=[_point_label(row.point) for row in extracted_rows],
                x_sublabels=[date_format(row.point.on, "j M") for row in extracted_rows],
                series=[(_("Extracted"), figures.extracted_series())],
            )
        ]
        if extracted_rows
        else []
    )
    by_type = [(str(Lesion(lesion).label), values) for lesion, values in figures.lesion_series().items() if any(values)]
    by_zone = [(str(Zone(zone).label), values) for zone, values in figures.zone_series().items() if any(values)]
    return [
        line_chart(
            title=_("Lesions present"),
            x_labels=labels,
            x_sublabels=dates,
            series=[(_("Present"), figures.total_series())],
        ),
        line_chart(title=_("Lesions present by type"), x_labels=labels, x_sublabels=dates, series=by_type),
        line_chart(title=_("Lesions present by zone"), x_labels=labels, x_sublabels=dates, series=by_zone),
        line_chart(
            title=_("Severity (GAGS score)"),
            x_labels=labels,
            x_sublabels=dates,
            series=[(_("GAGS score"), figures.gags_series())],
        ),
        *extracted_chart,
    ]


def treatment_record(patient: Patient) -> TreatmentRecord:
    """The patient's baseline, signed sessions and progress reviews, with the figures and charts.

    Every point is what was present: the consultation's counts, each session's count before
    extraction, each review's count. Sessions signed before present counts were recorded
    have none and are left out of the trend (their extraction log is still on the record).
    """
    summary = plan_summary(patient.pk)
    sessions = list(
        TreatmentSession.objects.for_patient(patient.pk).signed().with_related().order_by("appointment__start", "id")
    )
    if summary.plan is not None:
        sessions = [s for s in sessions if s.plan_id in (None, summary.plan.pk)]
    points = [
        Point(
            SESSION,
            s.appointment.location.local(s.appointment.start).date(),
            s.lesions_present,
            s.session_number,
            extracted=s.lesions_extracted,
        )
        for s in sessions
        if s.lesions_present
    ]
    if summary.plan is not None:
        reviews = ProgressReview.objects.filter(plan_id=summary.plan.pk).exclude(lesions_present={})
        points += [Point(REVIEW, timezone.localdate(r.decided_at), r.lesions_present) for r in reviews]
    if summary.consultation is not None and summary.baseline_on is not None:
        points.append(Point(BASELINE, summary.baseline_on, summary.baseline_counts))
    trend = lesion_trend(points)
    return TreatmentRecord(patient, summary, sessions, trend, lesion_trend_charts(trend))


@dataclass(frozen=True)
class DaySession:
    appointment: Appointment
    session: TreatmentSession | None
    plan: PlanSummary

    @property
    def on_hold(self) -> bool:
        """Booked from a programme on hold after a stop: ``session_start`` refuses it."""
        plan_session = getattr(self.appointment, "plan_session", None)
        return self.session is None and plan_session is not None and plan_session.plan.is_on_hold

    @property
    def may_start(self) -> bool:
        """No session yet, the patient is here and the programme not on hold: ``session_start`` would open one."""
        return self.session is None and self.appointment.status in SESSION_STARTS_FROM and not self.on_hold

    @property
    def awaiting_check_in(self) -> bool:
        return self.session is None and self.appointment.status in AWAITING_CHECK_IN

    @property
    def number_label(self) -> str:
        if self.session is not None:
            return self.session.number_label
        plan_session = getattr(self.appointment, "plan_session", None)
        if plan_session is not None:
            return _("%(number)s of %(planned)s") % {
                "number": plan_session.number,
                "planned": plan_session.plan.sessions_planned,
            }
        return ""


def sessions_today(location: Location) -> list[DaySession]:
    """Today's extraction appointments at ``location`` with their session and plan (fixed query count)."""
    appointments = list(
        Appointment.objects.on_local_day(location, location.today())
        .filter(appointment_type__kind=AppointmentKind.EXTRACTION)
        .exclude(status="cancelled", treatment_session__isnull=True)
        .with_related()
        .select_related("treatment_session", "plan_session__plan")
        .order_by("start", "id")
    )
    plans = plan_summaries(a.patient_id for a in appointments)
    return [DaySession(a, getattr(a, "treatment_session", None), plans[a.patient_id]) for a in appointments]


def open_alerts_for(user_id: int) -> list[SpecialistAlert]:
    return list(
        SpecialistAlert.objects.open()
        .for_specialist(user_id)
        .select_related("patient", "session__appointment__location", "session__aesthetician")
    )
