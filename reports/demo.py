"""Demo data for the reports: the clinic's last five months, so every report has real numbers.

``seed()`` adds about 70 patients who came for a consultation over the last 150 days, and
what followed: recommendations, consented plans, signed sessions with their present-lesion
counts (falling for most, not for all), progress reviews, no-shows and late cancellations,
aftercare messages with their check-in answers, and a few patients overdue for their next
session. A second aesthetician works beside the first, so the breakdowns have two to compare.
Idempotent: it does nothing once its patients exist. Randomness is seeded, so every demo
database shows the same clinic.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from aftercare.models import CheckIn, Message, SpecialistQueueEntry
from clinic import demo as clinic_demo
from clinic.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AppointmentStatusChange,
    AppointmentType,
    Location,
    Patient,
    Room,
    StaffSchedule,
    User,
)
from clinic.roles import ROLES, Role
from consultations.consent import CURRENT_CONSENT_VERSION
from consultations.grading import Counts, gags, gags_band
from consultations.models import Consultation, ConsultationStatus, TreatmentPlan
from reports import summaries
from treatments.models import Product, ProductLot, ProgressReview, SessionStatus, TreatmentSession

DOMAIN = "history.example"
DAYS = 150
PATIENTS = 72
FIRST = ("Alex", "Bea", "Cai", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jade", "Kit", "Lena", "Milo", "Nia")
LAST = ("Ahmed", "Brook", "Chen", "Doyle", "Evans", "Ford", "Gray", "Hill", "Ito", "Jones", "Khan", "Lowe")
METHODS = ("manual_gauze", "manual_cotton", "comedone_extractor", "lancet")
ZONES = ("forehead", "nose", "chin", "left_cheek", "right_cheek")


class _Slots:
    """Hands out free starts per practitioner and room, on the hour, 09:00 to 17:00 local."""

    def __init__(self, location: Location) -> None:
        self.zone = location.zone
        self.taken: dict[tuple[str, int], list[tuple[datetime, datetime]]] = {}
        for practitioner_id, room_id, start, end in Appointment.objects.holding_time().values_list(
            "practitioner_id", "room_id", "start", "end"
        ):
            self.taken.setdefault(("p", practitioner_id), []).append((start, end))
            self.taken.setdefault(("r", room_id), []).append((start, end))

    def _free(self, key: tuple[str, int], start: datetime, end: datetime) -> bool:
        return all(end <= other_start or start >= other_end for other_start, other_end in self.taken.get(key, ()))

    def take(self, day: date, practitioner: User, room: Room, minutes: int) -> datetime:
        for offset in range(0, 30):
            moment = day + timedelta(days=offset)
            if moment.weekday() == 6:
                continue
            for hour in range(9, 17):
                start = datetime.combine(moment, time(hour), tzinfo=self.zone)
                end = start + timedelta(minutes=minutes)
                keys = (("p", practitioner.pk), ("r", room.pk))
                if all(self._free(key, start, end) for key in keys):
                    for key in keys:
                        self.taken.setdefault(key, []).append((start, end))
                    return start
        raise RuntimeError(f"no free hour for the reports demo near {day}")


def _counts(rng: random.Random, scale: float) -> Counts:
    counts: dict[str, dict[str, int]] = {}
    for zone in rng.sample(ZONES, rng.choice((3, 4, 5))):
        counts[zone] = {
            "open_comedones": round(rng.randint(4, 18) * scale),
            "closed_comedones": round(rng.randint(2, 14) * scale),
            "papules": round(rng.randint(1, 8) * scale),
            "pustules": round(rng.randint(0, 4) * scale),
        }
    return counts


def _shrink(counts: Counts, factor: float) -> Counts:
    return {zone: {lesion: round(n * factor) for lesion, n in lesions.items()} for zone, lesions in counts.items()}


@transaction.atomic
def seed() -> dict[str, int]:
    clinic_demo.seed()
    if Patient.objects.filter(email__endswith=f"@{DOMAIN}").exists():
        return {"history_patients": 0}
    rng = random.Random(14)  # noqa: S311 (demo data, not security)
    location = Location.objects.get(name=clinic_demo.DEMO_LOCATIONS[0][0])
    staff = {u.username: u for u in User.objects.filter(username__in=[p.username for p in clinic_demo.DEMO_STAFF])}
    specialist, desk = staff["specialist"], staff["frontdesk"]
    second, made = User.objects.get_or_create(
        username="aesthetician2",
        defaults={"first_name": "Jonas", "last_name": "Berg", "email": "aesthetician2@clinic.example"},
    )
    if made:
        second.set_password(clinic_demo.DEMO_PASSWORD)
        second.save(update_fields=["password"])
        second.groups.add(Group.objects.get(name=ROLES[Role.AESTHETICIAN].group_name))
        clinic_demo.enrol_demo_second_factor(second)
        second.locations.add(location)
        for weekday in range(5):
            StaffSchedule.objects.get_or_create(
                staff=second,
                location=location,
                weekday=weekday,
                defaults={"start_time": time(9), "end_time": time(17)},
            )
    workers = [staff["aesthetician"], second]
    consultation_room, _ = Room.objects.get_or_create(location=location, name="Consultation room")
    rooms = [Room.objects.get_or_create(location=location, name=name)[0] for name in ("Treatment room", "Room 3")]
    consultation_type, _ = AppointmentType.objects.get_or_create(
        name="Free consultation",
        defaults={"kind": AppointmentKind.CONSULTATION, "duration_minutes": 45, "performed_by": Role.SPECIALIST},
    )
    extraction_type, _ = AppointmentType.objects.get_or_create(
        name="Extraction session",
        defaults={"kind": AppointmentKind.EXTRACTION, "duration_minutes": 60, "performed_by": Role.AESTHETICIAN},
    )
    review_type, _ = AppointmentType.objects.get_or_create(
        name="Progress review",
        defaults={"kind": AppointmentKind.REVIEW, "duration_minutes": 30, "performed_by": Role.SPECIALIST},
    )
    product, _ = Product.objects.get_or_create(
        name="Benzoyl peroxide 2.5% gel", defaults={"active_ingredient": "Benzoyl peroxide"}
    )
    lots = [
        ProductLot.objects.get_or_create(
            product=product, lot_number=number, defaults={"expires_on": timezone.localdate() + timedelta(days=days)}
        )[0]
        for number, days in (("BP-2406", 20), ("BP-2409", 200), ("BP-2412", 330))
    ]
    slots = _Slots(location)
    today = location.today()
    now = timezone.now()
    made_counts = {"history_patients": 0, "history_sessions": 0, "history_messages": 0}

    def book(
        patient: Patient,
        kind: AppointmentType,
        day: date,
        practitioner: User,
        room: Room,
        status: str,
        booked_at: datetime | None = None,
    ) -> Appointment:
        start = slots.take(day, practitioner, room, kind.duration_minutes)
        # Only what has ended is done (completed, or missed): later today is still booked.
        if start + kind.duration > now and status not in (AppointmentStatus.BOOKED, AppointmentStatus.CANCELLED):
            status = AppointmentStatus.BOOKED
        appointment = Appointment.objects.create(
            appointment_type=kind,
            patient=patient,
            practitioner=practitioner,
            room=room,
            location=location,
            start=start,
            end=start + kind.duration,
            status=status,
            cancel_reason="Patient rang to cancel." if status == AppointmentStatus.CANCELLED else "",
            created_by=desk,
            created_at=min(booked_at or start - timedelta(days=rng.randint(2, 10)), now),
        )
        if status == AppointmentStatus.CANCELLED:
            before = timedelta(hours=rng.choice((2, 6, 20, 30, 72)))
            AppointmentStatusChange.objects.create(
                appointment=appointment,
                from_status="booked",
                to_status="cancelled",
                by=desk,
                at=min(start - before, now),
                reason="Patient rang to cancel.",
            )
        return appointment

    def message(patient: Patient, kind: str, due: datetime, source: str) -> Message | None:
        if due > now:
            return None
        roll = rng.random()
        status = "sent" if roll < 0.9 else ("failed" if roll < 0.95 else "skipped_no_consent")
        lag = timedelta(seconds=rng.choice((20, 40, 60, 90, 240, 900)))
        made_counts["history_messages"] += 1
        return Message.objects.create(
            patient=patient,
            location=location,
            kind=kind,
            status=status,
            due_at=due,
            next_attempt_at=due,
            attempt_limit=6,
            attempts=1,
            sent_at=due + lag if status == "sent" else None,
            subject="Your aftercare",
            body_text="(demo)",
            body_html="<p>(demo)</p>",
            source=source,
            idempotency_key=f"{source}:{kind}",
        )

    for index in range(PATIENTS):
        first_day = today - timedelta(days=rng.randint(14, DAYS))
        patient = Patient.objects.create(
            first_name=FIRST[index % len(FIRST)],
            last_name=LAST[(index * 5) % len(LAST)],
            date_of_birth=date(1980 + index % 25, 1 + index % 12, 1 + index % 27),
            email=f"patient{index}@{DOMAIN}",
            phone=f"+4477009{10000 + index:05d}",  # stored in E.164, as the patient forms store it
            email_consent=True,
            email_consent_at=now - timedelta(days=DAYS),
            created_at=now - timedelta(days=DAYS + 14),  # registered before the first booking
        )
        made_counts["history_patients"] += 1
        roll = rng.random()
        status = (
            AppointmentStatus.NO_SHOW
            if roll < 0.08
            else AppointmentStatus.CANCELLED
            if roll < 0.16
            else AppointmentStatus.COMPLETED
        )
        visit = book(patient, consultation_type, first_day, specialist, consultation_room, status)
        if status != AppointmentStatus.COMPLETED or visit.start > now:
            continue
        baseline = _counts(rng, rng.choice((0.6, 1.0, 1.5)))
        recommended = rng.random() < 0.8
        consultation = Consultation.objects.create(
            appointment=visit,
            patient=patient,
            specialist=specialist,
            status=ConsultationStatus.SIGNED,
            fitzpatrick=rng.choice((1, 2, 2, 3, 3, 4, 5, 6)),
            skin_type="combination",
            barrier="intact",
            sensitivity="normal",
            congestion="widespread",
            iga=rng.choice((2, 3, 3, 4)),
            lesion_counts=baseline,
            gags_score=gags(baseline).total,
            gags_band=gags_band(gags(baseline).total),
            rules_outcome="recommended" if recommended else "defer",
            rules_reasons=["IND_WIDESPREAD_CONGESTION"],
            ruleset_version="2026.1",
            signed_at=visit.start + timedelta(minutes=40),
            created_at=visit.start,
        )
        if not recommended or rng.random() < 0.15:
            continue
        starts_on = visit.start.date() + timedelta(days=rng.randint(5, 12))
        plan = TreatmentPlan.objects.create(
            consultation=consultation,
            patient=patient,
            sessions_planned=4,
            interval_days=21,
            focus_zones=list(baseline),
            home_care="Gentle cleanser, SPF 50 daily.",
            goals="Fewer blackheads.",
            starts_on=starts_on,
            review_on=starts_on + timedelta(days=63),
            consent_version=CURRENT_CONSENT_VERSION,
            consent_name=patient.full_name,
            consented_at=visit.start + timedelta(days=rng.randint(1, 4)),
            created_by=specialist,
            created_at=visit.end,
        )

        worker = workers[index % 2]
        method = METHODS[rng.randrange(len(METHODS))]
        # How well this patient responds: most improve, a few do not.
        response = rng.choice((0.25, 0.35, 0.45, 0.5, 0.6, 0.8, 1.0))
        keeps_booking = rng.random() < 0.85
        day = starts_on
        # The first session is booked when the plan is consented, each later one as the last ends.
        booked_at: datetime | None = plan.consented_at
        for number in range(1, 5):
            status = AppointmentStatus.NO_SHOW if rng.random() < 0.05 else AppointmentStatus.COMPLETED
            appointment = book(patient, extraction_type, day, worker, rooms[index % 2], status, booked_at)
            if appointment.start > now:
                if not keeps_booking:
                    appointment.delete()  # left without the next one booked: overdue later
                break
            if status == AppointmentStatus.NO_SHOW:
                day += timedelta(days=7)
                continue
            progress = 1 - (1 - response) * number / 4
            session = TreatmentSession.objects.create(
                appointment=appointment,
                patient=patient,
                aesthetician=worker,
                plan=plan,
                session_number=number,
                sessions_planned=4,
                status=SessionStatus.SIGNED,
                started_at=appointment.start,
                rescreened_at=appointment.start,
                extraction_method=method,
                lesions_present=_shrink(baseline, progress),
                pain=rng.randint(1, 5),
                product_lot=lots[min(2, (appointment.start.date() - (today - timedelta(days=DAYS))).days // 60)],
                aftercare_explained=True,
                complications=["excessive_redness"] if rng.random() < (0.2 if method == "lancet" else 0.06) else [],
                signed_at=appointment.start + timedelta(minutes=55),
                signed_by=worker,
            )
            made_counts["history_sessions"] += 1
            source = f"treatment_session:{session.pk}"
            message(patient, "aftercare_right_after", appointment.start + timedelta(hours=1), source)
            checkin = message(patient, "checkin_day1", appointment.start + timedelta(days=1), source)
            if checkin is not None and checkin.status == "sent" and rng.random() < 0.75:
                answer = rng.choices(("fine", "red_or_sensitive", "worried"), (70, 20, 10))[0]
                answered = (checkin.sent_at or checkin.due_at) + timedelta(hours=rng.randint(1, 10))
                # Sent this morning and "answered" later today: the patient has not answered yet.
                reply = (
                    CheckIn.objects.create(message=checkin, patient=patient, answer=answer, answered_at=answered)
                    if answered <= now
                    else None
                )
                if reply is not None and answer == "worried":
                    resolved = answered + timedelta(hours=rng.choice((1, 2, 3, 5, 8, 20)))
                    SpecialistQueueEntry.objects.create(
                        checkin=reply,
                        patient=patient,
                        location=location,
                        resolved_at=resolved if resolved < now else None,
                        resolved_by=specialist if resolved < now else None,
                        resolution="Called the patient; reassured." if resolved < now else "",
                    )
            day = appointment.start.date() + timedelta(days=21)
            # Most book the next session at the desk on their way out; some ring days later.
            leaves_booked = rng.random() < (0.85 if worker == workers[0] else 0.65)
            booked_at = appointment.start + timedelta(minutes=70 if leaves_booked else 60 * 24 * rng.randint(2, 6))
            if not keeps_booking and number >= 2:
                break
        review_day = plan.review_on
        if review_day < today and keeps_booking:
            review_appointment = book(patient, review_type, review_day, specialist, consultation_room, "completed")
            if review_appointment.start < now:
                present = _shrink(baseline, response)
                ProgressReview.objects.create(
                    patient=patient,
                    plan=plan,
                    appointment=review_appointment,
                    specialist=specialist,
                    decision="continue",
                    lesions_present=present,
                    iga=max(0, consultation.iga - (response < 0.6) - (response < 0.4)),  # type: ignore[operator]
                    gags_total=gags(present).total,
                    decided_at=review_appointment.start + timedelta(minutes=25),
                )
    # The overdue worklist reads the plan-progress summary: bring it up to date with the demo.
    summaries.refresh_summaries()
    return made_counts
