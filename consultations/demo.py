"""Demo consultations and plans for `make run`, on top of the clinic's demo (``clinic.demo``).

Patients at every consultation stage: consulted and planned (sessions booked from the plan,
one with the progress review due, one with a caution: Farah, phototype V), one deferred and
due for the re-check today (Ben), one not recommended, and today's checked-in
consultation with the patient's pre-visit answers waiting. Idempotent: a patient who already
has a consultation is left alone. Records are written straight to the tables (like the
booking demo) because their consultations lie in the past.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.db import transaction

from clinic import demo as clinic_demo
from clinic.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AppointmentType,
    Location,
    Patient,
    Room,
    User,
)
from consultations import services
from consultations.consent import CURRENT_CONSENT_VERSION
from consultations.models import Consultation, ConsultationStatus, PlanSession, TreatmentPlan

BASE_ANALYSIS: dict[str, Any] = {
    "fitzpatrick": 2,
    "skin_type": "combination",
    "barrier": "intact",
    "sensitivity": "normal",
    "congestion": "localized",
    "active_infection": False,
    "iga": 2,
}

# first name -> (days ago, local time, history and analysis, lesion counts, plan or None)
DEMO_CONSULTATIONS: dict[str, tuple[int, time, dict[str, Any], dict[str, dict[str, int]], dict[str, Any] | None]] = {
    "Anna": (
        0,
        time(9, 0),
        {
            "routine": "Gel cleanser, niacinamide serum, SPF 30.",
            "weeks_consistent_skincare": 12,
            "congestion": "widespread",
            "goals": "Smoother forehead and fewer whiteheads.",
            "analysis_notes": "Closed comedones clustered along the hairline; barrier intact, no active inflammation.",
        },
        {
            "forehead": {"closed_comedones": 28, "open_comedones": 6},
            "nose": {"open_comedones": 22},
            "chin": {"papules": 2},
        },
        {"sessions_planned": 4, "interval_days": 21, "focus_zones": ["forehead", "nose"], "review_days": 63},
    ),
    "Farah": (
        21,
        time(10, 0),
        {
            "routine": "Foaming cleanser and a clay mask twice a week.",
            "weeks_consistent_skincare": 10,
            "whiteheads_often_inflame": True,
            # A caution that travels: phototype V marks easily (no lancet, strict sun protection).
            "fitzpatrick": 5,
            "goals": "Stop whiteheads turning into spots on the cheeks.",
        },
        {"left_cheek": {"closed_comedones": 14, "pustules": 1}, "right_cheek": {"closed_comedones": 11}},
        {"sessions_planned": 6, "interval_days": 14, "focus_zones": ["left_cheek", "right_cheek"], "review_days": 63},
    ),
    "Eva": (
        58,
        time(10, 0),
        {
            "routine": "Micellar water, light moisturiser.",
            "weeks_consistent_skincare": 9,
            "congestion": "widespread",
            "goals": "Even texture on the nose and chin.",
        },
        {"nose": {"open_comedones": 35}, "chin": {"closed_comedones": 18, "papules": 3}},
        {"sessions_planned": 3, "interval_days": 28, "focus_zones": ["nose", "chin"], "review_days": 60},
    ),
    # Deferred 28 days ago for an irritated barrier: his re-check falls due today.
    "Ben": (
        28,
        time(11, 0),
        {
            "routine": "Started a glycolic toner and a retinol serum together last week.",
            "weeks_consistent_skincare": 1,
            "barrier": "irritated",
            "sensitivity": "sensitive",
            "congestion": "widespread",
            "goals": "Clear blackheads on the nose.",
        },
        {"nose": {"open_comedones": 40}, "forehead": {"closed_comedones": 12}},
        None,
    ),
    "Daniel": (
        30,
        time(11, 0),
        {
            "routine": "Soap and water.",
            "medications": "None.",
            "goals": "Get rid of painful lumps on the jawline.",
            "iga": 3,
        },
        {"jawline": {"nodules": 3, "papules": 6}, "chin": {"cysts": 1, "pustules": 2}},
        None,
    ),
}

CHLOE_ANSWERS = {
    "routine": "Cream cleanser, vitamin C serum in the morning, SPF 50.",
    "weeks_on_routine": 9,
    "medications": "Combined pill.",
    "isotretinoin": False,
    "topical_retinoid": False,
    "allergies": "None known.",
    "pregnant_or_breastfeeding": False,
    "skin_conditions": "Cold sores now and then.",
    "goals": "Fewer whiteheads on the forehead before summer.",
}


def _free_start(practitioner: User, room: Room, start: datetime, minutes: int) -> datetime:
    """``start``, or the next hour on which practitioner and room are both free."""
    for _attempt in range(10):
        end = start + timedelta(minutes=minutes)
        busy = Appointment.objects.holding_time().overlapping(start, end)
        if not busy.filter(practitioner=practitioner).exists() and not busy.filter(room=room).exists():
            return start
        start += timedelta(hours=1)
    return start


def _consultation_appointment(
    *, patient: Patient, location: Location, specialist: User, room: Room, desk: User, days_ago: int, at: time
) -> Appointment:
    day = location.today() - timedelta(days=days_ago)
    day_start = datetime.combine(day, time.min, tzinfo=location.zone)
    existing = (
        Appointment.objects.filter(
            patient=patient,
            appointment_type__kind=AppointmentKind.CONSULTATION,
            start__gte=day_start,
            start__lt=day_start + timedelta(days=1),
        )
        .exclude(status__in=(AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW))
        .first()
    )
    if existing is not None:
        return existing
    appointment_type = AppointmentType.objects.filter(kind=AppointmentKind.CONSULTATION).order_by("id").first()
    if appointment_type is None:
        appointment_type = AppointmentType.objects.create(
            name="Free consultation", kind=AppointmentKind.CONSULTATION, duration_minutes=45, performed_by="specialist"
        )
    start = _free_start(
        specialist, room, datetime.combine(day, at, tzinfo=location.zone), appointment_type.duration_minutes
    )
    return Appointment.objects.create(
        appointment_type=appointment_type,
        patient=patient,
        practitioner=specialist,
        room=room,
        location=location,
        start=start,
        end=start + appointment_type.duration,
        status=AppointmentStatus.COMPLETED,
        created_by=desk,
    )


def _signed_consultation(
    appointment: Appointment, specialist: User, values: dict[str, Any], counts: dict[str, dict[str, int]]
) -> Consultation:
    fields = {**BASE_ANALYSIS, **values}
    preview = services.consultation_preview(values=fields, lesion_counts=counts)
    signed_at = appointment.end
    assessment = preview.assessment
    return Consultation.objects.create(
        appointment=appointment,
        patient_id=appointment.patient_id,
        specialist=specialist,
        status=ConsultationStatus.SIGNED,
        lesion_counts=counts,
        gags_score=preview.gags_score,
        gags_band=preview.gags_band,
        rules_outcome=assessment.outcome,
        rules_reasons=list(assessment.reasons),
        ruleset_version=assessment.ruleset_version,
        recheck_on=assessment.recheck_date(appointment.location.local(signed_at).date()),
        cautions=list(assessment.cautions),
        lancet_allowed=assessment.lancet_allowed,
        signed_at=signed_at,
        created_at=appointment.start,
        **{name: value for name, value in fields.items() if name in services.EDITABLE_FIELDS},
    )


def _plan(consultation: Consultation, specialist: User, spec: dict[str, Any]) -> TreatmentPlan:
    starts_on = consultation.appointment.location.local(consultation.signed_at or consultation.created_at).date()
    plan = TreatmentPlan.objects.create(
        consultation=consultation,
        patient_id=consultation.patient_id,
        sessions_planned=spec["sessions_planned"],
        interval_days=spec["interval_days"],
        focus_zones=spec["focus_zones"],
        home_care=(
            "Morning: gentle cleanser, niacinamide, SPF 50. Evening: gentle cleanser, adapalene 0.1% "
            "three nights a week, barrier-repair moisturiser."
        ),
        pause_before="Adapalene and any exfoliating acids: stop 3 days before each session.",
        resume_after="Adapalene: restart 3-5 days after, once redness has settled.",
        goals=str(consultation.goals or "Clearer, smoother skin."),
        starts_on=starts_on,
        review_on=starts_on + timedelta(days=spec["review_days"]),
        consent_version=CURRENT_CONSENT_VERSION,
        consent_name=consultation.patient.full_name,
        consented_at=consultation.signed_at,
        created_by=specialist,
        created_at=consultation.signed_at or consultation.created_at,
    )
    sessions = (
        Appointment.objects.filter(
            patient_id=consultation.patient_id, appointment_type__kind=AppointmentKind.EXTRACTION
        )
        .holding_time()
        .filter(plan_session__isnull=True, start__gte=consultation.appointment.start)
        .order_by("start")[: plan.sessions_planned]
    )
    for number, appointment in enumerate(sessions, start=1):
        PlanSession.objects.create(plan=plan, number=number, appointment=appointment)
    return plan


@transaction.atomic
def seed() -> dict[str, int]:
    clinic_demo.seed()
    created = {"consultations": 0, "plans": 0, "questionnaires": 0}
    location = Location.objects.filter(name=clinic_demo.DEMO_LOCATIONS[0][0]).first()
    specialist = User.objects.filter(username="specialist").first()
    desk = User.objects.filter(username="frontdesk").first()
    room = Room.objects.filter(location=location).order_by("name").first() if location else None
    if location is None or specialist is None or desk is None or room is None:
        return created
    patients = {p.first_name: p for p in Patient.objects.filter(first_name__in=[*DEMO_CONSULTATIONS, "Chloé"])}
    for first_name, (days_ago, at, values, counts, plan_spec) in DEMO_CONSULTATIONS.items():
        patient = patients.get(first_name)
        if patient is None or Consultation.objects.filter(patient=patient).exists():
            continue
        appointment = _consultation_appointment(
            patient=patient, location=location, specialist=specialist, room=room, desk=desk, days_ago=days_ago, at=at
        )
        if Consultation.objects.filter(appointment=appointment).exists():
            continue
        consultation = _signed_consultation(appointment, specialist, values, counts)
        created["consultations"] += 1
        if plan_spec is not None and consultation.final_outcome == "recommended":
            _plan(consultation, specialist, plan_spec)
            created["plans"] += 1
    chloe = patients.get("Chloé")
    if chloe is not None and not Consultation.objects.filter(patient=chloe).exists():
        today = (
            Appointment.objects.filter(
                patient=chloe,
                appointment_type__kind=AppointmentKind.CONSULTATION,
                status__in=(AppointmentStatus.CHECKED_IN, AppointmentStatus.CONFIRMED, AppointmentStatus.BOOKED),
            )
            .order_by("start")
            .first()
        )
        if today is not None:
            services.questionnaire_submit(appointment=today, answers=CHLOE_ANSWERS)
            created["questionnaires"] += 1
    return created
