"""Demo data for treatments: products and lots, and patients partway through a programme.

``seed()`` is idempotent: products and lots are looked up by name and number, and each
demo patient's programme is created only when that patient does not exist yet. Dates are
relative to today, so `make run` always shows a session waiting to start today, sessions
signed in earlier weeks with their progress, a progress review coming up, and a session
stopped at its re-screen on the specialist's queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from aftercare.models import CheckIn, CheckInAnswer, Message, MessageKind, MessageStatus, SpecialistQueueEntry
from aftercare.services import actives_follow_checkin
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
from clinic.roles import Role
from consultations import rules
from consultations.consent import CURRENT_CONSENT_VERSION
from consultations.grading import Counts, gags
from consultations.models import Consultation, ConsultationStatus, PlanSession, TreatmentPlan
from treatments.hooks import on_session_signed
from treatments.models import Product, ProductLot, SessionStatus, SpecialistAlert, TreatmentSession

# Antibacterials applied after extraction. Benzoyl peroxide: bactericidal against C. acnes with no
# resistance reported (Zaenglein AL et al., AAD acne guidelines, J Am Acad Dermatol 2016;74:945-973).
# Chlorhexidine: a broad-spectrum skin antiseptic (WHO Guidelines on Hand Hygiene in Health Care
# 2009, ch. 11.3; CDC Guideline for the Prevention of Surgical Site Infection 2017). Tea-tree oil
# was dropped: its evidence is weak and it is a common contact allergen (de Groot & Schmidt,
# Contact Dermatitis 2016;75:129-143).
PRODUCTS = (
    ("Benzoyl peroxide 2.5% gel", "Benzoyl peroxide", ["benzoyl_peroxide"], (("BP-2407", -30), ("BP-2511", 300))),
    (
        "Chlorhexidine 0.5% antiseptic solution",
        "Chlorhexidine gluconate",
        ["chlorhexidine", "alcohol"],
        (("CHX-118", 200),),
    ),
)


@dataclass(frozen=True)
class DemoProgramme:
    first_name: str
    last_name: str
    born: date
    email: str
    # Days before today: the consultation, then each signed session.
    consultation_days_ago: int
    signed_days_ago: tuple[int, ...]
    sessions_planned: int
    baseline: Counts
    # How much of the baseline is present at the start of each signed session (fractions, in
    # order): the session's present count, which the progress compares with the baseline.
    remaining: tuple[float, ...]
    session_today: bool = False
    stopped_yesterday: bool = False
    allergies: str = ""
    # The consultation's history and analysis beyond the defaults (a caution travels from here
    # into the aftercare, as it does when a real session is signed).
    history: tuple[tuple[str, Any], ...] = ()
    email_consent: bool = True
    phone: str = ""
    extraction_method: str = ""
    interval_days: int = 21
    # The day-1 check-in answer to the latest signed session, and the patient's note.
    checkin_answer: str = ""
    checkin_note: str = ""
    # The latest session's "right after" email bounced (the manager's failed list).
    bounced: bool = False


PROGRAMMES = (
    DemoProgramme(
        "Grace",
        "Whitfield",
        date(1996, 8, 21),
        "grace.whitfield@example.com",
        # Sessions 21 days apart (the plan's interval): 42 and 21 days ago, and today.
        consultation_days_ago=45,
        signed_days_ago=(42, 21),
        sessions_planned=6,
        baseline={
            "forehead": {"closed_comedones": 24, "papules": 3},
            "nose": {"open_comedones": 35},
            "chin": {"closed_comedones": 12, "pustules": 2},
            "left_cheek": {"closed_comedones": 6},
            "right_cheek": {"closed_comedones": 5},
        },
        # Present 87 -> 58 -> 37 lesions while GAGS falls 12 -> 10 -> 8: the pustule settles
        # first, then the papules (counts and severity fall together).
        remaining=(0.7, 0.45),
        session_today=True,
        allergies="Lanolin",
    ),
    DemoProgramme(
        "Hassan",
        "Idris",
        date(1989, 3, 2),
        "hassan.idris@example.com",
        consultation_days_ago=60,
        signed_days_ago=(53, 32, 11),
        sessions_planned=4,
        baseline={
            "forehead": {"closed_comedones": 18},
            "nose": {"open_comedones": 40, "closed_comedones": 6},
            "jawline": {"papules": 4, "closed_comedones": 10},
        },
        remaining=(0.75, 0.5, 0.35),
    ),
    DemoProgramme(
        "Ivy",
        "Chen",
        date(2000, 12, 9),
        "ivy.chen@example.com",
        consultation_days_ago=20,
        signed_days_ago=(),
        sessions_planned=5,
        baseline={"forehead": {"closed_comedones": 30}, "nose": {"open_comedones": 22}},
        remaining=(),
        stopped_yesterday=True,
    ),
    # Patients a few days into their aftercare, each with the whole story behind the messages
    # (consultation, consented plan, signed session): the aftercare adapts to their cautions
    # and answers. Lucia is pregnant (no ibuprofen, no retinoid) and still red on day 1, so
    # her "bring actives back" waits two more days; Priya is phototype V (pigment-mark
    # advice) and worried, so she is on the specialist's queue; Tom is diabetic (a day-3
    # check-in) and gets no email; Noah's "right after" email bounced.
    DemoProgramme(
        "Sofia",
        "Lindqvist",
        date(1992, 5, 30),
        "sofia.lindqvist@example.com",
        consultation_days_ago=17,
        signed_days_ago=(3,),
        sessions_planned=4,
        baseline={"forehead": {"closed_comedones": 18}, "nose": {"open_comedones": 9}},
        remaining=(0.95,),
        phone="+447700900111",
        checkin_answer="fine",
    ),
    DemoProgramme(
        "Noah",
        "Williams",
        date(1988, 10, 7),
        "noah.williams@example.com",
        consultation_days_ago=15,
        signed_days_ago=(1,),
        sessions_planned=4,
        baseline={"chin": {"pustules": 12}, "forehead": {"closed_comedones": 8}},
        remaining=(1.0,),
        phone="+447700900112",
        extraction_method="lancet",
        bounced=True,
    ),
    DemoProgramme(
        "Lucia",
        "Ferreira",
        date(1997, 7, 19),
        "lucia.ferreira@example.com",
        consultation_days_ago=16,
        signed_days_ago=(2,),
        sessions_planned=3,
        baseline={"forehead": {"open_comedones": 22}, "nose": {"open_comedones": 10}},
        remaining=(0.95,),
        history=(("pregnant_or_breastfeeding", True), ("topical_retinoid", False)),
        phone="+447700900113",
        extraction_method="comedone_extractor",
        checkin_answer="red_or_sensitive",
    ),
    DemoProgramme(
        "Priya",
        "Shah",
        date(1985, 2, 14),
        "priya.shah@example.com",
        consultation_days_ago=16,
        signed_days_ago=(2,),
        sessions_planned=4,
        baseline={"chin": {"pustules": 4, "closed_comedones": 9}, "left_cheek": {"closed_comedones": 7}},
        remaining=(1.0,),
        history=(("fitzpatrick", 5),),
        phone="+447700900114",
        checkin_answer="worried",
        checkin_note="My chin is still swollen.",
    ),
    DemoProgramme(
        "Tom",
        "Becker",
        date(2001, 11, 5),
        "",
        consultation_days_ago=19,
        signed_days_ago=(5,),
        sessions_planned=3,
        baseline={"nose": {"closed_comedones": 14}, "chin": {"closed_comedones": 8}},
        remaining=(0.9,),
        history=(("immunosuppressed_or_diabetic", True),),
        email_consent=False,
        phone="+447700900115",
        extraction_method="manual_cotton",
    ),
)


def _scaled(counts: Counts, fraction: float) -> dict[str, dict[str, int]]:
    """What is left of ``counts``; inflamed lesions settle much faster than comedones."""
    scaled: dict[str, dict[str, int]] = {}
    for zone, per_lesion in counts.items():
        for lesion, count in per_lesion.items():
            factor = fraction**4 if lesion in ("papules", "pustules") else fraction
            value = round(count * factor)
            if value:
                scaled.setdefault(zone, {})[lesion] = value
    return scaled


def _extracted(present: Counts) -> dict[str, dict[str, int]]:
    """What a session extracts of what is present: most comedones and the pustules, never papules."""
    extracted: dict[str, dict[str, int]] = {}
    for zone, per_lesion in present.items():
        for lesion, count in per_lesion.items():
            value = count if lesion == "pustules" else 0 if lesion == "papules" else round(count * 0.7)
            if value:
                extracted.setdefault(zone, {})[lesion] = value
    return extracted


def _free_start(location: Location, day: date, practitioner: User, room: Room, minutes: int) -> datetime:
    """The first hour from 12:00 on ``day`` (then the morning) when neither the practitioner nor
    the room is booked, within the clinic's working hours (09:00 to 17:00)."""
    for hour in (12, 13, 14, 15, 16, 9, 10, 11):
        start = datetime.combine(day, time(hour, 0), tzinfo=location.zone)
        end = start + timedelta(minutes=minutes)
        busy = (
            Appointment.objects.holding_time().overlapping(start, end).filter(practitioner=practitioner).exists()
            or Appointment.objects.holding_time().overlapping(start, end).filter(room=room).exists()
        )
        if not busy:
            return start
    raise RuntimeError(f"no free hour for the demo on {day}")


def _appointment(
    *,
    kind_type: AppointmentType,
    patient: Patient,
    practitioner: User,
    room: Room,
    day: date,
    status: str,
    booked_by: User,
) -> Appointment:
    start = _free_start(room.location, day, practitioner, room, kind_type.duration_minutes)
    return Appointment.objects.create(
        appointment_type=kind_type,
        patient=patient,
        practitioner=practitioner,
        room=room,
        location=room.location,
        start=start,
        end=start + kind_type.duration,
        status=status,
        cancel_reason="Stopped at the day-of re-screen: sunburn." if status == AppointmentStatus.CANCELLED else "",
        created_by=booked_by,
    )


def _staff(role: Role) -> User:
    username = next(person.username for person in clinic_demo.DEMO_STAFF if person.role == role)
    return User.objects.get(username=username)


def _aftercare_so_far(session: TreatmentSession) -> None:
    """A signed demo session has its aftercare, written as signing writes it (treatments.hooks),
    and what fell due before now has been through the dispatcher: no signed session without
    its messages, no message without its signed session."""
    on_session_signed(session)
    past = Message.objects.filter(
        source=f"treatment_session:{session.pk}", status=MessageStatus.SCHEDULED, due_at__lte=timezone.now()
    )
    if session.patient.email_consent:
        past.update(status=MessageStatus.SENT, sent_at=F("due_at"), attempts=1)
    else:
        past.update(status=MessageStatus.SKIPPED_NO_CONSENT)


def _answers(spec: DemoProgramme, session: TreatmentSession, location: Location) -> int:
    """What the patient answered to the latest session's aftercare, as the patient's click records it."""
    source = f"treatment_session:{session.pk}"
    if spec.bounced:
        # The mail server refused the address: the manager's failed list shows it.
        Message.objects.filter(source=source, kind=MessageKind.AFTERCARE_RIGHT_AFTER).update(
            status=MessageStatus.FAILED,
            sent_at=None,
            attempts=1,
            last_error="SMTPRecipientsRefused: 550 5.1.1 mailbox unavailable",
        )
    if not spec.checkin_answer:
        return 0
    message = Message.objects.filter(
        source=source, kind=MessageKind.CHECKIN_DAY1, status=MessageStatus.SENT, sent_at__isnull=False
    ).first()
    if message is None or message.sent_at is None:
        return 0
    answer = CheckInAnswer(spec.checkin_answer)
    checkin = CheckIn.objects.create(
        message=message,
        patient=session.patient,
        answer=answer,
        note=spec.checkin_note,
        answered_at=message.sent_at + timedelta(hours=2),
    )
    actives_follow_checkin(checkin_message=message, answer=answer)
    if answer == CheckInAnswer.WORRIED:
        SpecialistQueueEntry.objects.create(
            checkin=checkin, patient=session.patient, location=location, created_at=checkin.answered_at
        )
    return 1


@transaction.atomic
def seed() -> dict[str, int]:
    clinic_demo.seed()  # idempotent: the locations and staff this builds on
    created = {"products": 0, "lots": 0, "programmes": 0, "sessions": 0, "checkins": 0}
    lots = []
    today_utc = timezone.localdate()
    for name, ingredient, allergens, lot_specs in PRODUCTS:
        product, made = Product.objects.get_or_create(
            name=name, defaults={"active_ingredient": ingredient, "allergens": allergens}
        )
        created["products"] += made
        for lot_number, expires_in_days in lot_specs:
            lot, made = ProductLot.objects.get_or_create(
                product=product,
                lot_number=lot_number,
                defaults={"expires_on": today_utc + timedelta(days=expires_in_days)},
            )
            created["lots"] += made
            lots.append(lot)
    usable_lot = next(lot for lot in lots if lot.lot_number == "BP-2511")

    location = Location.objects.get(name=clinic_demo.DEMO_LOCATIONS[0][0])
    specialist, aesthetician, desk = _staff(Role.SPECIALIST), _staff(Role.AESTHETICIAN), _staff(Role.FRONT_DESK)
    consultation_room, _ = Room.objects.get_or_create(location=location, name="Consultation room")
    treatment_room, _ = Room.objects.get_or_create(location=location, name="Treatment room")
    consultation_type, _ = AppointmentType.objects.get_or_create(
        name="Free consultation",
        defaults={"kind": AppointmentKind.CONSULTATION, "duration_minutes": 45, "performed_by": Role.SPECIALIST},
    )
    extraction_type, _ = AppointmentType.objects.get_or_create(
        name="Extraction session",
        defaults={"kind": AppointmentKind.EXTRACTION, "duration_minutes": 60, "performed_by": Role.AESTHETICIAN},
    )
    today = location.today()

    for spec in PROGRAMMES:
        consulted_on = today - timedelta(days=spec.consultation_days_ago)
        # Registered (and asked about email) when the consultation was booked, a week before it.
        registered = datetime.combine(consulted_on - timedelta(days=7), time(9), tzinfo=location.zone)
        patient, made = Patient.objects.get_or_create(
            first_name=spec.first_name,
            last_name=spec.last_name,
            date_of_birth=spec.born,
            defaults={
                "email": spec.email,
                "phone": spec.phone,
                "email_consent": spec.email_consent,
                "email_consent_at": registered if spec.email_consent else None,
                "created_at": registered,
            },
        )
        if not made:
            continue
        created["programmes"] += 1
        consultation_appointment = _appointment(
            kind_type=consultation_type,
            patient=patient,
            practitioner=specialist,
            room=consultation_room,
            day=consulted_on,
            status=AppointmentStatus.COMPLETED,
            booked_by=desk,
        )
        grade = gags(spec.baseline)
        consultation = Consultation(
            appointment=consultation_appointment,
            patient=patient,
            specialist=specialist,
            status=ConsultationStatus.SIGNED,
            routine="Foaming cleanser, moisturiser, SPF 30 most days.",
            weeks_consistent_skincare=10,
            allergies=spec.allergies,
            topical_retinoid=True,
            fitzpatrick=2,
            skin_type="combination",
            barrier="intact",
            sensitivity="normal",
            congestion="widespread",
            lesion_counts=spec.baseline,
            gags_score=grade.total,
            gags_band=grade.band,
            iga=2,
            ruleset_version="2026.1",
            signed_at=consultation_appointment.end,
            created_at=consultation_appointment.start,
        )
        for field, value in spec.history:
            setattr(consultation, field, value)
        # The decision is the rules' own on these findings; a programme follows only a recommendation.
        # The cautions travel with the patient (here: the topical retinoid, paused before sessions).
        assessment = rules.assess(consultation.findings())
        if assessment.outcome != "recommended":
            raise RuntimeError(f"the demo's {spec.first_name} is not recommended: {assessment.reasons}")
        consultation.rules_outcome, consultation.rules_reasons = assessment.outcome, list(assessment.reasons)
        consultation.cautions, consultation.lancet_allowed = list(assessment.cautions), assessment.lancet_allowed
        consultation.save()
        plan = TreatmentPlan.objects.create(
            consultation=consultation,
            patient=patient,
            sessions_planned=spec.sessions_planned,
            interval_days=spec.interval_days,
            focus_zones=list(spec.baseline),
            home_care="Gentle cleanser morning and night; adapalene 0.1% gel three nights a week; "
            "a barrier-repair moisturiser; SPF 50 every morning.",
            prescribes_retinoid=True,
            pause_before="Adapalene: stop 3 nights before each session.",
            resume_after="Adapalene: restart 3 nights after each session.",
            goals="Fewer whiteheads on the forehead and chin; clearer pores on the nose.",
            starts_on=consulted_on,
            review_on=consulted_on + timedelta(days=63),
            consent_version=CURRENT_CONSENT_VERSION,
            consent_name=patient.full_name,
            consented_at=consultation_appointment.end,
            created_by=specialist,
            created_at=consultation_appointment.end,
        )
        number = 0
        session: TreatmentSession | None = None
        for days_ago, fraction in zip(spec.signed_days_ago, spec.remaining, strict=True):
            number += 1
            appointment = _appointment(
                kind_type=extraction_type,
                patient=patient,
                practitioner=aesthetician,
                room=treatment_room,
                day=today - timedelta(days=days_ago),
                status=AppointmentStatus.COMPLETED,
                booked_by=desk,
            )
            PlanSession.objects.create(plan=plan, number=number, appointment=appointment)
            session = TreatmentSession.objects.create(
                appointment=appointment,
                patient=patient,
                aesthetician=aesthetician,
                plan=plan,
                session_number=number,
                sessions_planned=plan.sessions_planned,
                status=SessionStatus.SIGNED,
                started_at=appointment.start,
                barrier_today="intact",
                active_infection=False,
                isotretinoin_since_consultation=False,
                topical_retinoid_since_consultation=False,
                sunburn=False,
                rescreened_at=appointment.start + timedelta(minutes=5),
                rescreen_version="2026.1",
                cleanse_product="Gentle gel cleanser",
                exfoliation="enzyme",
                softening="steam",
                extraction_method=spec.extraction_method or ("manual_gauze" if number % 2 else "comedone_extractor"),
                lesions_present=_scaled(spec.baseline, fraction),
                lesions_extracted=_extracted(_scaled(spec.baseline, fraction)),
                pain=3 if number == 1 else 2,
                complications=["pinpoint_bleeding"] if number == 1 else [],
                product_lot=usable_lot,
                aftercare_explained=True,
                signed_at=appointment.end,
                signed_by=aesthetician,
            )
            _aftercare_so_far(session)
            created["sessions"] += 1
        if session is not None:
            created["checkins"] += _answers(spec, session, location)
        if spec.session_today:
            number += 1
            appointment = _appointment(
                kind_type=extraction_type,
                patient=patient,
                practitioner=aesthetician,
                room=treatment_room,
                day=today,
                status=AppointmentStatus.CHECKED_IN,
                booked_by=desk,
            )
            PlanSession.objects.create(plan=plan, number=number, appointment=appointment)
        if spec.stopped_yesterday:
            appointment = _appointment(
                kind_type=extraction_type,
                patient=patient,
                practitioner=aesthetician,
                room=treatment_room,
                day=today - timedelta(days=1),
                status=AppointmentStatus.CANCELLED,
                booked_by=desk,
            )
            stopped = TreatmentSession.objects.create(
                appointment=appointment,
                patient=patient,
                aesthetician=aesthetician,
                plan=plan,
                session_number=1,
                sessions_planned=plan.sessions_planned,
                status=SessionStatus.STOPPED,
                started_at=appointment.start,
                barrier_today="irritated",
                active_infection=False,
                isotretinoin_since_consultation=False,
                topical_retinoid_since_consultation=False,
                sunburn=True,
                rescreen_notes="Back from a beach holiday; forehead and nose peeling.",
                rescreened_at=appointment.start + timedelta(minutes=5),
                rescreen_reasons=["RS_BARRIER_COMPROMISED", "RS_SUNBURN"],
                rescreen_version="2026.1",
                stopped_at=appointment.start + timedelta(minutes=5),
            )
            SpecialistAlert.objects.create(
                session=stopped,
                patient=patient,
                specialist=specialist,
                reasons=stopped.rescreen_reasons,
                created_at=stopped.stopped_at or timezone.now(),
            )
            # A stop pauses the programme: her booked sessions are on the front desk's calls.
            plan.held_at = stopped.stopped_at
            plan.held_reason = "Stopped at the day-of re-screen: irritated barrier and sunburn."
            plan.save(update_fields=["held_at", "held_reason"])
        # The rest of the programme, booked every three weeks from the last session.
        last = today if spec.session_today else today - timedelta(days=min(spec.signed_days_ago, default=0))
        for later in range(number + 1, plan.sessions_planned + 1):
            appointment = _appointment(
                kind_type=extraction_type,
                patient=patient,
                practitioner=aesthetician,
                room=treatment_room,
                day=last + timedelta(days=21 * (later - number)),
                status=AppointmentStatus.BOOKED,
                booked_by=desk,
            )
            PlanSession.objects.create(plan=plan, number=later, appointment=appointment)
    booked_before_they_start()
    return created


def booked_before_they_start() -> None:
    """The demo writes past visits today; their "booked at" goes back to before they started:
    a day before, but never before the patient registered or, for a session, before the plan
    it belongs to was consented."""
    for appointment in Appointment.objects.filter(created_at__gt=F("start")).select_related(
        "patient", "appointment_type"
    ):
        floors = [appointment.start - timedelta(days=1), appointment.patient.created_at]
        if appointment.appointment_type.kind == AppointmentKind.EXTRACTION:
            consented = (
                TreatmentPlan.objects.filter(
                    patient=appointment.patient, consented_at__isnull=False, consented_at__lte=appointment.start
                )
                .order_by("-consented_at")
                .values_list("consented_at", flat=True)
                .first()
            )
            if consented is not None:
                floors.append(consented)
        booked = min(max(floors), appointment.start)
        Appointment.objects.filter(pk=appointment.pk).update(created_at=booked)
