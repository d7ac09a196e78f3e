"""Online booking's workflows: hold a slot and confirm it, match the patient, limit abuse,
let the patient move or cancel, and offer freed slots to the waitlist.

Every write to an appointment goes through the booking service (clinic.booking.services),
acting as the "Patient (online)" account, so the appointment's history says the patient
did it and the exclusion constraints refuse a double booking as they do for the desk.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, router, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.text import slugify
from django.utils.translation import gettext as _

from aftercare import services as outbox
from aftercare.models import Message, MessageKind
from aftercare.rendering import Action
from clinic import hooks
from clinic.audit import acting_as
from clinic.booking.availability import Slot, free_slots, free_slots_by_day
from clinic.booking.services import BookingRefused, appointment_book, appointment_cancel, appointment_reschedule
from clinic.models import (
    RELEASED_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentType,
    Location,
    Patient,
    Room,
    User,
)
from consultations.models import PlanSession, TreatmentPlan
from consultations.questionnaire import questionnaire_url
from consultations.selectors import plan_next_session_number, plan_session_for
from consultations.services import ConsultationRefused, plan_book_session
from online import links
from online.models import (
    DuplicateCandidate,
    HoldState,
    OfferStatus,
    OnlineHold,
    OnlineRequest,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)

logger = logging.getLogger(__name__)

ONLINE_USERNAME = "patient-online"
# The front desk reads this on the appointment (its notes), on the grid and the detail page.
BOOKED_ONLINE = "Booked online"
BOOKED_FROM_WAITLIST = "Booked online from the waitlist"
SWEEP_BATCH = 200


def online_user() -> User:
    """The account that patients' own changes are recorded under ("Patient (online)").

    It cannot sign in (inactive, no usable password) and holds no role.
    """
    user, created = User.objects.get_or_create(
        username=ONLINE_USERNAME,
        defaults={"first_name": "Patient", "last_name": "(online)", "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


# --- Locations and slots ------------------------------------------------------------------


def location_slug(location: Location) -> str:
    return slugify(location.name)


def location_for_slug(slug: str) -> Location | None:
    # A handful of locations: matching the slug of each name beats a column to keep in step.
    return next((loc for loc in Location.objects.active() if location_slug(loc) == slug), None)


def consultation_type() -> AppointmentType | None:
    """What a new patient books online: the complimentary consultation."""
    return (
        AppointmentType.objects.active()
        .filter(kind=AppointmentKind.CONSULTATION)
        .order_by("duration_minutes", "id")
        .first()
    )


def distinct_starts(slots: list[Slot]) -> list[Slot]:
    """One slot per start time (the first practitioner free then): a patient picks a time."""
    seen: set[datetime] = set()
    chosen = []
    for slot in slots:
        if slot.start not in seen:
            seen.add(slot.start)
            chosen.append(slot)
    return chosen


@dataclass(frozen=True)
class FreeTime:
    """A free time as the public page links it, formatted once (and cached with the list)
    rather than by template filters at each render: the page lists a couple of hundred."""

    start: datetime
    practitioner_id: int
    iso: str  # the start with its UTC offset, as the pick form reads it back
    label: str  # the local time, "09:45"
    query: str  # the pick link's query string

    @classmethod
    def of(cls, slot: Slot, location: Location) -> FreeTime:
        iso = slot.start.isoformat()
        return cls(
            start=slot.start,
            practitioner_id=slot.practitioner.pk,
            iso=iso,
            label=location.local(slot.start).strftime("%H:%M"),
            query=f"start={quote(iso)}&practitioner={slot.practitioner.pk}",
        )


def public_days(
    *, location: Location, appointment_type: AppointmentType, days: int
) -> list[tuple[date, list[FreeTime]]]:
    """Free times for the coming ``days`` days, from the front desk's availability engine.

    A fixed number of queries, whatever the number of days or appointments. Kept for
    ``ONLINE_AVAILABILITY_CACHE_SECONDS`` per process: the public page is read far more often
    than it is booked, and a hold checks the time again (a stale time gets "just taken").
    """
    key = f"online:days:{location.pk}:{appointment_type.pk}:{location.today().isoformat()}:{days}"
    if settings.ONLINE_AVAILABILITY_CACHE_SECONDS:
        cached = cache.get(key)
        if cached is not None:
            return cached
    found = compute_public_days(location=location, appointment_type=appointment_type, days=days)
    if settings.ONLINE_AVAILABILITY_CACHE_SECONDS:
        cache.set(key, found, settings.ONLINE_AVAILABILITY_CACHE_SECONDS)
    return found


def compute_public_days(
    *, location: Location, appointment_type: AppointmentType, days: int
) -> list[tuple[date, list[FreeTime]]]:
    """``public_days`` without the cache: the days that have a free time, one per start."""
    by_day = free_slots_by_day(
        appointment_type=appointment_type, location=location, first_day=location.today(), days=days
    )
    return [
        (day, [FreeTime.of(slot, location) for slot in distinct])
        for day, slots in by_day.items()
        if (distinct := distinct_starts(slots))
    ]


def _slot_at(
    *,
    appointment_type: AppointmentType,
    location: Location,
    start: datetime,
    practitioner_id: int,
    exclude_appointment_id: int | None = None,
) -> Slot | None:
    day = location.local(start).date()
    return next(
        (
            slot
            for slot in free_slots(
                appointment_type=appointment_type,
                location=location,
                day=day,
                exclude_appointment_id=exclude_appointment_id,
            )
            if slot.start == start and slot.practitioner.pk == practitioner_id
        ),
        None,
    )


# --- Abuse: rate limits and the bound on holds ----------------------------------------------


def online_request_allowed(*, ip_address: str | None, email: str) -> bool:
    """Record this request, then say whether it is within the limits.

    Counted in PostgreSQL (across processes and restarts), the request itself included, so a
    burst of parallel requests is counted whole. Limits: requests per client address and per
    email per hour, and holds waiting for confirmation per address or email at once.
    """
    email = email.strip().lower()
    now = timezone.now()
    OnlineRequest.objects.create(ip_address=ip_address, email=email, at=now)
    since = now - timedelta(hours=1)
    recent = OnlineRequest.objects.filter(at__gt=since)
    if ip_address and recent.filter(ip_address=ip_address).count() > settings.ONLINE_REQUESTS_PER_IP_PER_HOUR:
        return False
    if email and recent.filter(email=email).count() > settings.ONLINE_REQUESTS_PER_EMAIL_PER_HOUR:
        return False
    waiting = OnlineHold.objects.filter(state=HoldState.HELD, expires_at__gt=now)
    by_whom = Q(email=email) | Q(ip_address=ip_address) if ip_address else Q(email=email)
    return waiting.filter(by_whom).count() < settings.ONLINE_HOLDS_PER_ADDRESS


# --- Matching the patient -------------------------------------------------------------------


@dataclass(frozen=True)
class PatientDetails:
    first_name: str
    last_name: str
    date_of_birth: date
    email: str
    phone: str
    email_consent: bool


def patient_match_or_create(*, details: PatientDetails) -> Patient:
    """The patient with this email and date of birth, else a new record.

    Never a silent merge: a new record that shares the name and date of birth (or the email)
    of another goes to the front desk's duplicates list. Call inside a transaction.
    """
    return _match_or_create(details)[0]


def _match_or_create(details: PatientDetails) -> tuple[Patient, bool]:
    """``patient_match_or_create``, and whether the record is new."""
    email = details.email.strip().lower()
    found = Patient.objects.filter(email__iexact=email, date_of_birth=details.date_of_birth).order_by("id").first()
    if found is not None:
        return found, False
    patient = Patient.objects.create(
        first_name=details.first_name.strip(),
        last_name=details.last_name.strip(),
        date_of_birth=details.date_of_birth,
        email=email,
        phone=details.phone.strip(),
        email_consent=details.email_consent,
        email_consent_at=timezone.now() if details.email_consent else None,
    )
    similar = Patient.objects.exclude(pk=patient.pk).filter(
        Q(
            first_name__iexact=patient.first_name,
            last_name__iexact=patient.last_name,
            date_of_birth=patient.date_of_birth,
        )
        | Q(email__iexact=email)
    )
    for other in similar[:10]:
        same_name = (
            other.first_name.lower() == patient.first_name.lower()
            and other.last_name.lower() == patient.last_name.lower()
            and other.date_of_birth == patient.date_of_birth
        )
        reason = (
            _("Same name and date of birth, different email") if same_name else _("Same email, different date of birth")
        )
        DuplicateCandidate.objects.get_or_create(patient=patient, similar_to=other, defaults={"reason": reason})
    return patient, True


# --- Holding a slot, confirming it, releasing it ---------------------------------------------


def _when(appointment_start: datetime, location: Location) -> str:
    local = location.local(appointment_start)
    return f"{date_format(local.date(), 'l j F Y')} {time_format(local, 'H:i')}"


def online_hold_create(
    *,
    location: Location,
    start: datetime,
    practitioner_id: int,
    details: PatientDetails,
    ip_address: str | None,
) -> OnlineHold:
    """Hold a free consultation slot for ``settings.ONLINE_HOLD_MINUTES`` and email the link.

    The answer is the same whether the email belongs to a patient already known or not
    (same steps, same page), so the page never tells who is a patient here.
    """
    appointment_type = consultation_type()
    if appointment_type is None:
        raise BookingRefused(_("Online booking is not open at the moment."), field="start")
    slot = _slot_at(appointment_type=appointment_type, location=location, start=start, practitioner_id=practitioner_id)
    if slot is None:
        raise BookingRefused(_("This time has just been taken. Please pick another."), field="start")
    acting = online_user()
    with transaction.atomic(), acting_as(acting):
        patient, new_patient = _match_or_create(details)
        appointment = appointment_book(
            acting_user=acting,
            patient=patient,
            appointment_type=appointment_type,
            practitioner=slot.practitioner,
            room=slot.room,
            start=slot.start,
            notes=BOOKED_ONLINE,
        )
        hold = OnlineHold.objects.create(
            appointment=appointment,
            email=details.email.strip().lower(),
            ip_address=ip_address,
            expires_at=timezone.now() + timedelta(minutes=settings.ONLINE_HOLD_MINUTES),
            new_patient=new_patient,
        )
        outbox.patient_email_send(
            patient=patient,
            location=location,
            kind=MessageKind.ONLINE_HOLD_LINK,
            subject=_("Confirm your consultation"),
            paragraphs=[
                _(
                    "Please confirm your consultation at %(location)s on %(when)s within %(minutes)s minutes, "
                    "with the link below."
                )
                % {
                    "location": location.name,
                    "when": _when(slot.start, location),
                    "minutes": settings.ONLINE_HOLD_MINUTES,
                },
                _("If you did not ask for this, ignore this email: the time will be released."),
            ],
            actions=[Action(_("Confirm my booking"), links.absolute(links.hold_path(hold.pk)))],
            source=f"online_hold:{hold.pk}",
        )
    return hold


class HoldOutcome(StrEnum):
    CONFIRMED = "confirmed"
    EXPIRED = "expired"


def online_hold_confirm(*, hold_id: int) -> tuple[HoldOutcome, OnlineHold | None]:
    """The patient confirmed from the link: the booking stands and its emails go out.

    Confirming twice confirms once. A hold past its time is released here (if the sweeper
    has not yet) and the patient is asked to book again.
    """
    acting = online_user()
    with transaction.atomic(), acting_as(acting):
        hold = (
            OnlineHold.objects.select_for_update(of=("self",))
            .select_related("appointment__location", "appointment__patient", "appointment__appointment_type")
            .filter(pk=hold_id)
            .first()
        )
        if hold is None:
            return HoldOutcome.EXPIRED, None
        if hold.state == HoldState.CONFIRMED:
            return HoldOutcome.CONFIRMED, hold
        if hold.state == HoldState.RELEASED or hold.expires_at <= timezone.now():
            _release(hold)
            return HoldOutcome.EXPIRED, hold
        hold.state = HoldState.CONFIRMED
        hold.confirmed_at = timezone.now()
        hold.save(update_fields=["state", "confirmed_at"])
        # The booking's one confirmation (with the .ics, the questionnaire and the page to move
        # or cancel it) and its reminder: aftercare wrote none at the booking, while it was held.
        # Written in this transaction, so a confirmed hold always has them.
        appointment = hold.appointment
        outbox.booking_messages_schedule(
            appointment=appointment,
            new=True,
            confirmation_actions=[
                Action(_("Fill in the questionnaire"), questionnaire_url(appointment_id=appointment.pk)),
                Action(_("Move or cancel this appointment"), links.absolute(self_service_path(appointment))),
            ],
        )
    return HoldOutcome.CONFIRMED, hold


class _StillReferred(Exception):
    """Something besides the hold refers to the record: it stays."""


def _delete_alone(model: type[Appointment] | type[Patient], pk: int) -> None:
    """Delete the row if nothing refers to it; else raise ``_StillReferred`` (or Django's
    ``ProtectedError``), deleting nothing. Never cascades to another row. (A fresh instance:
    a delete clears the primary key of the one it is given, which the caller keeps using
    when the transaction is rolled back.)"""
    instance = model.objects.get(pk=pk)
    collector = Collector(using=router.db_for_write(type(instance)), origin=instance)
    collector.collect([instance])
    collected = [obj for objs in collector.data.values() for obj in objs]
    if collected != [instance] or any(qs.exists() for qs in collector.fast_deletes):
        raise _StillReferred
    collector.delete()


def _forget_new_patient(hold: OnlineHold) -> bool:
    """Remove an unconfirmed hold made for a new patient, with its appointment and the patient
    record, when nothing else refers to the record (no other booking, waitlist place,
    consultation, message, or a member of staff having opened it: the ``PROTECT`` references
    and the audit of access). Returns False, changing nothing, when something does.

    A record nobody confirmed is not a patient: kept, it would sit in the desk's search, lists
    and reports under a name anyone could have typed. The audit's delete events keep what was
    removed. Existing patients are never touched (``new_patient`` is set only when the hold
    made the record). No status-change row is written: that table is append-only and would
    keep the appointment (and so the record) for ever.
    """
    patient_id = hold.appointment.patient_id
    try:
        with transaction.atomic():
            # Locked first: a booking that would refer to the record meanwhile waits for this
            # transaction, and is then refused by the foreign key; one that committed before is
            # seen by the checks below.
            Patient.objects.select_for_update().filter(pk=patient_id).first()
            Message.objects.filter(
                patient_id=patient_id, kind=MessageKind.ONLINE_HOLD_LINK, source=f"online_hold:{hold.pk}"
            ).delete()
            DuplicateCandidate.objects.filter(
                Q(patient_id=patient_id) | Q(similar_to_id=patient_id), resolved_at__isnull=True
            ).delete()
            OnlineHold.objects.filter(pk=hold.pk).delete()
            _delete_alone(Appointment, hold.appointment_id)
            _delete_alone(Patient, patient_id)
    except (_StillReferred, ProtectedError, RestrictedError):
        return False
    return True


def _release(hold: OnlineHold) -> None:
    if hold.state != HoldState.HELD:
        return
    if hold.new_patient and _forget_new_patient(hold):
        return
    appointment_cancel(
        acting_user=online_user(),
        appointment=hold.appointment,
        reason=str(_("Held online and not confirmed in time")),
    )
    hold.state = HoldState.RELEASED
    hold.save(update_fields=["state"])


def online_holds_release_expired(*, now: datetime | None = None) -> int:
    """Release holds past their time (beat runs this). Safe to run twice or in parallel:
    each hold is claimed with SKIP LOCKED and released once."""
    now = now or timezone.now()
    released = 0
    while True:
        with transaction.atomic(), acting_as(online_user()):
            batch = list(
                OnlineHold.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("appointment")
                .filter(state=HoldState.HELD, expires_at__lte=now)
                .order_by("expires_at", "id")[:SWEEP_BATCH]
            )
            for hold in batch:
                _release(hold)
        released += len(batch)
        if len(batch) < SWEEP_BATCH:
            return released


# --- The patient moves or cancels ------------------------------------------------------------


def hold_for(appointment: Appointment) -> OnlineHold | None:
    return OnlineHold.objects.filter(appointment_id=appointment.pk).first()


def before_cutoff(appointment: Appointment, *, now: datetime | None = None) -> bool:
    """Whether the patient may still change the appointment online (else they phone)."""
    now = now or timezone.now()
    return appointment.is_open and appointment.start - now >= timedelta(hours=settings.ONLINE_CUTOFF_HOURS)


class SelfServiceRefused(Exception):
    """Not possible online; the message explains plainly and sends the patient to the desk."""


def _plan_neighbours(appointment: Appointment) -> tuple[TreatmentPlan, datetime | None, datetime | None] | None:
    session = plan_session_for(appointment.pk)
    if session is None:
        return None
    others = (
        PlanSession.objects.filter(plan_id=session.plan_id)
        .exclude(pk=session.pk)
        .exclude(appointment__status__in=RELEASED_STATUSES)
        .values_list("number", "appointment__start")
    )
    before = [start for number, start in others if number < session.number]
    after = [start for number, start in others if number > session.number]
    return session.plan, max(before, default=None), min(after, default=None)


def extraction_refusal(appointment: Appointment) -> str:
    """Why this extraction session cannot be moved online ("" when it can)."""
    if appointment.appointment_type.kind != AppointmentKind.EXTRACTION:
        return ""
    neighbours = _plan_neighbours(appointment)
    if neighbours is not None and neighbours[0].is_on_hold:
        return str(
            _(
                "Your treatment programme is paused until your specialist has seen you again, so this "
                "session cannot be moved online. Please call us and we will arrange it with you."
            )
        )
    if not hooks.patient_cleared_for_extraction(appointment.patient):
        return str(
            _(
                "Your specialist needs to see you again before your next extraction session, so it "
                "cannot be moved online. Please call us and we will arrange it with you."
            )
        )
    return ""


def keeps_plan_interval(appointment: Appointment, start: datetime) -> bool:
    """An extraction session stays at least the plan's interval from the sessions either side."""
    neighbours = _plan_neighbours(appointment)
    if neighbours is None:
        return True
    plan, previous, following = neighbours
    gap = timedelta(days=plan.interval_days)
    location = appointment.location
    day = location.local(start).date()
    if previous is not None and day - location.local(previous).date() < gap:
        return False
    return not (following is not None and location.local(following).date() - day < gap)


def self_service_days(appointment: Appointment, *, days: int) -> list[tuple[date, list[Slot]]]:
    """Free times the patient may move to: past the cut-off, and within the plan's intervals."""
    location = appointment.location
    earliest = timezone.now() + timedelta(hours=settings.ONLINE_CUTOFF_HOURS)
    by_day = free_slots_by_day(
        appointment_type=appointment.appointment_type,
        location=location,
        first_day=location.local(earliest).date(),
        days=days,
        exclude_appointment_id=appointment.pk,
        not_before=earliest,
    )
    found = []
    for day, slots in by_day.items():
        if appointment.appointment_type.kind == AppointmentKind.EXTRACTION and not keeps_plan_interval(
            appointment, datetime.combine(day, time(12), tzinfo=location.zone)
        ):
            continue
        slots = [s for s in distinct_starts(slots) if s.start != appointment.start]
        if slots:
            found.append((day, slots))
    return found


def patient_reschedule(*, appointment: Appointment, start: datetime, practitioner_id: int) -> Appointment:
    """Move the appointment to a free time the patient picked, recorded as done by the patient."""
    if not before_cutoff(appointment):
        raise SelfServiceRefused(_("This appointment can no longer be changed online. Please call us."))
    refusal = extraction_refusal(appointment)
    if refusal:
        raise SelfServiceRefused(refusal)
    if start < timezone.now() + timedelta(hours=settings.ONLINE_CUTOFF_HOURS):
        raise BookingRefused(_("Please pick a later time."), field="start")
    if not keeps_plan_interval(appointment, start):
        raise BookingRefused(
            _("That time is too close to another session of your programme. Please pick another."), field="start"
        )
    slot = _slot_at(
        appointment_type=appointment.appointment_type,
        location=appointment.location,
        start=start,
        practitioner_id=practitioner_id,
        exclude_appointment_id=appointment.pk,
    )
    if slot is None:
        raise BookingRefused(_("This time has just been taken. Please pick another."), field="start")
    return appointment_reschedule(
        acting_user=online_user(),
        appointment=appointment,
        start=slot.start,
        practitioner=slot.practitioner,
        room=slot.room,
        reason=str(_("Moved by the patient online")),
    )


def patient_cancel(*, appointment: Appointment, reason: str) -> Appointment:
    if not before_cutoff(appointment):
        raise SelfServiceRefused(_("This appointment can no longer be changed online. Please call us."))
    return appointment_cancel(
        acting_user=online_user(),
        appointment=appointment,
        reason=str(_("Cancelled by the patient online: %(reason)s") % {"reason": reason.strip()})[:500],
    )


def self_service_path(appointment: Appointment) -> str:
    return links.manage_path(appointment_id=appointment.pk, patient_id=appointment.patient_id)


# --- The waitlist ------------------------------------------------------------------------


def waitlist_join(
    *,
    acting_user: User | None,
    patient: Patient,
    appointment_type: AppointmentType,
    location: Location,
    weekdays: list[int],
    earliest_time: time,
    latest_time: time,
    earliest_date: date,
    latest_date: date,
    note: str = "",
) -> WaitlistEntry:
    with transaction.atomic(), acting_as(acting_user or online_user()):
        return WaitlistEntry.objects.create(
            patient=patient,
            appointment_type=appointment_type,
            location=location,
            weekdays=sorted(set(weekdays)),
            earliest_time=earliest_time,
            latest_time=latest_time,
            earliest_date=earliest_date,
            latest_date=latest_date,
            note=note,
            added_by=acting_user,
        )


def slot_key(*, practitioner_id: int, start: datetime) -> str:
    return f"{practitioner_id}@{start.astimezone(UTC).isoformat()}"


def extraction_plan(patient: Patient) -> TreatmentPlan | None:
    """The plan an extraction slot would be booked under: the patient's active, consented
    plan that is not on hold (the one consultations' clearance stands on)."""
    return TreatmentPlan.objects.active().consented().not_held().filter(patient_id=patient.pk).order_by("-id").first()


def extraction_offer_fits(patient: Patient, start: datetime, location: Location) -> bool:
    """An extraction slot goes only to a patient who is cleared (active, consented plan not on
    hold: consultations' clearance), with a session of the plan left to book, and at least the
    plan's interval from each of its booked sessions."""
    if not hooks.patient_cleared_for_extraction(patient):
        return False
    plan = extraction_plan(patient)
    if plan is None or plan_next_session_number(plan) is None:
        return False
    booked = (
        PlanSession.objects.filter(plan=plan)
        .exclude(appointment__status__in=RELEASED_STATUSES)
        .values_list("appointment__start", flat=True)
    )
    gap = timedelta(days=plan.interval_days)
    day = location.local(start).date()
    return all(abs(day - location.local(other).date()) >= gap for other in booked)


def waitlist_matches(
    *,
    appointment_type: AppointmentType,
    location: Location,
    start: datetime,
    end: datetime,
    limit: int,
    not_offered: str | None = None,
) -> list[WaitlistEntry]:
    """The waiting entries this slot suits, longest waiting first, at most ``limit``.

    One indexed query (the partial index ``waitlist_matcher``) with a LIMIT, however long
    the list; extraction slots then check each candidate's clearance and interval.
    ``not_offered``: a slot key; entries already offered that slot are left out (a re-offer
    goes to the next ones).
    """
    local_start, local_end = location.local(start), location.local(end)
    day = local_start.date()
    candidates = (
        WaitlistEntry.objects.filter(
            status=WaitlistStatus.WAITING,
            appointment_type=appointment_type,
            location=location,
            earliest_date__lte=day,
            latest_date__gte=day,
            earliest_time__lte=local_start.time(),
            latest_time__gte=local_end.time(),
        )
        .filter(Q(weekdays=[]) | Q(weekdays__contains=[day.weekday()]))
        .select_related("patient")
        .order_by("created_at", "id")
    )
    if not_offered is not None:
        candidates = candidates.exclude(
            Exists(WaitlistOffer.objects.filter(entry_id=OuterRef("pk"), slot_key=not_offered))
        )
    if appointment_type.kind != AppointmentKind.EXTRACTION:
        return list(candidates[:limit])
    chosen: list[WaitlistEntry] = []
    for entry in candidates[: limit * 20]:
        if extraction_offer_fits(entry.patient, start, location):
            chosen.append(entry)
            if len(chosen) == limit:
                break
    return chosen


# An offer still in play for its slot: a round is under way, or the slot is taken.
LIVE_OFFER = (OfferStatus.OFFERED, OfferStatus.ACCEPTED)


def _lock_slot(key: str) -> None:
    """Serialise the offer rounds of one slot (the job run twice at once, the sweeper's
    re-offer, a refused acceptance) until the end of the transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"online.offer:{key}"])


@dataclass(frozen=True)
class FreedSlot:
    key: str
    appointment_type: AppointmentType
    location: Location
    practitioner: User
    room: Room
    start: datetime
    end: datetime


def _offer_round(slot: FreedSlot) -> list[WaitlistOffer]:
    """Offer ``slot`` to the next ``ONLINE_OFFER_FANOUT`` matching patients who have not been
    offered it yet, each offer and its email (an outbox row) written together. Call inside a
    transaction holding ``_lock_slot(slot.key)``."""
    if slot.start <= timezone.now():
        return []
    # Taken again already (the desk rebooked it): nothing to offer.
    if (
        Appointment.objects.holding_time()
        .overlapping(slot.start, slot.end)
        .filter(Q(practitioner_id=slot.practitioner.pk) | Q(room_id=slot.room.pk))
        .exists()
    ):
        return []
    entries = waitlist_matches(
        appointment_type=slot.appointment_type,
        location=slot.location,
        start=slot.start,
        end=slot.end,
        limit=settings.ONLINE_OFFER_FANOUT,
        not_offered=slot.key,
    )
    offers: list[WaitlistOffer] = []
    expires = timezone.now() + timedelta(minutes=settings.ONLINE_OFFER_MINUTES)
    for entry in entries:
        try:
            with transaction.atomic():
                offer = WaitlistOffer.objects.create(
                    entry=entry,
                    slot_key=slot.key,
                    appointment_type=slot.appointment_type,
                    practitioner=slot.practitioner,
                    room=slot.room,
                    start=slot.start,
                    end=slot.end,
                    expires_at=expires,
                )
                _send_offer_email(offer, entry.patient, slot.location)
        except IntegrityError:
            continue  # offered already ((entry, slot) is unique): the lock makes this a backstop
        offers.append(offer)
    return offers


def waitlist_offer_slot(*, appointment_id: int, start: datetime) -> list[WaitlistOffer]:
    """Offer the time ``appointment_id`` held at ``start`` (freed by a cancel or a move) to the
    ``ONLINE_OFFER_FANOUT`` matching patients who have waited longest. Run twice, it offers
    nothing new: while a round of offers is open (or one was accepted) a run does nothing."""
    appointment = (
        Appointment.objects.select_related("appointment_type", "location", "practitioner", "room")
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None or start <= timezone.now():
        return []
    slot = FreedSlot(
        key=slot_key(practitioner_id=appointment.practitioner_id, start=start),
        appointment_type=appointment.appointment_type,
        location=appointment.location,
        practitioner=appointment.practitioner,
        room=appointment.room,
        start=start,
        end=start + appointment.appointment_type.duration,
    )
    with transaction.atomic(), acting_as(online_user()):
        _lock_slot(slot.key)
        # The slot's key is the job's idempotency key: a rerun finds the round it wrote.
        if WaitlistOffer.objects.filter(slot_key=slot.key, status__in=LIVE_OFFER).exists():
            return []
        return _offer_round(slot)


def _reoffer(key: str) -> list[WaitlistOffer]:
    """No offer of this slot is open or accepted any more (all expired or refused): offer it
    to the next matching patients. Call inside a transaction holding ``_lock_slot(key)``."""
    if WaitlistOffer.objects.filter(slot_key=key, status__in=LIVE_OFFER).exists():
        return []
    last = (
        WaitlistOffer.objects.filter(slot_key=key)
        .select_related("appointment_type", "practitioner", "room__location")
        .order_by("-id")
        .first()
    )
    if last is None:
        return []
    return _offer_round(
        FreedSlot(
            key=key,
            appointment_type=last.appointment_type,
            location=last.room.location,
            practitioner=last.practitioner,
            room=last.room,
            start=last.start,
            end=last.end,
        )
    )


def _send_offer_email(offer: WaitlistOffer, patient: Patient, location: Location) -> None:
    """The offer's email, an outbox row written with the offer (call inside its transaction)."""
    outbox.patient_email_send(
        patient=patient,
        location=location,
        kind=MessageKind.WAITLIST_OFFER,
        subject=_("A time has come free"),
        paragraphs=[
            _("A time has come free at %(location)s: %(when)s.")
            % {"location": location.name, "when": _when(offer.start, location)},
            _("The first person to accept it gets it. The link works for %(minutes)s minutes.")
            % {"minutes": settings.ONLINE_OFFER_MINUTES},
            _("If you do nothing you keep your place on the waiting list."),
        ],
        actions=[Action(_("Take this time"), links.absolute(links.offer_path(offer.pk)))],
        source=f"waitlist_offer:{offer.pk}",
    )


def _book_offer(offer: WaitlistOffer, acting: User) -> Appointment:
    """Book the offered time for the offer's patient. An extraction slot is booked as the
    next session of the patient's plan, with the checks of booking from a plan (cleared,
    active consented plan not on hold, a session left, the plan's interval either side):
    ``ConsultationRefused`` when they fail now."""
    patient = offer.entry.patient
    if offer.appointment_type.kind != AppointmentKind.EXTRACTION:
        return appointment_book(
            acting_user=acting,
            patient=patient,
            appointment_type=offer.appointment_type,
            practitioner=offer.practitioner,
            room=offer.room,
            start=offer.start,
            notes=BOOKED_FROM_WAITLIST,
        )
    plan = extraction_plan(patient)
    if plan is None or not extraction_offer_fits(patient, offer.start, offer.room.location):
        raise ConsultationRefused(_("Not cleared for this session now."))
    session = plan_book_session(
        acting_user=acting,
        plan=plan,
        appointment_type=offer.appointment_type,
        practitioner=offer.practitioner,
        room=offer.room,
        start=offer.start,
    )
    return session.appointment


def waitlist_offer_accept(*, offer_id: int) -> WaitlistOffer | None:
    """The patient accepts an offer. The first acceptance of a slot wins, enforced by the
    database: a partial unique index allows one accepted offer per slot, and the appointment's
    exclusion constraints refuse a booking over anyone else's. A losing offer is marked
    "gone" and its entry keeps its place. An extraction slot the patient may no longer have
    (clearance, plan, interval) is "refused" and offered to the next patients."""
    acting = online_user()
    key = WaitlistOffer.objects.filter(pk=offer_id).values_list("slot_key", flat=True).first()
    if key is None:
        return None
    with transaction.atomic(), acting_as(acting):
        # The slot's lock first, then the offer's row, in the order the sweeper takes them:
        # a refusal can then offer the slot on in this same transaction, without a deadlock.
        _lock_slot(key)
        offer = (
            WaitlistOffer.objects.select_for_update(of=("self",))
            .select_related("entry__patient", "appointment_type", "practitioner", "room__location")
            .filter(pk=offer_id)
            .first()
        )
        if offer is None or offer.status != OfferStatus.OFFERED:
            return offer
        if offer.expires_at <= timezone.now():
            offer.status = OfferStatus.EXPIRED
            offer.save(update_fields=["status"])
            return offer
        offer.answered_at = timezone.now()
        try:
            with transaction.atomic():
                offer.status = OfferStatus.ACCEPTED
                offer.save(update_fields=["status", "answered_at"])
                offer.appointment = _book_offer(offer, acting)
                offer.save(update_fields=["appointment"])
                WaitlistEntry.objects.filter(pk=offer.entry_id).update(status=WaitlistStatus.BOOKED)
        except (IntegrityError, BookingRefused):
            offer.status = OfferStatus.GONE
            offer.appointment = None
            offer.save(update_fields=["status", "answered_at", "appointment"])
            return offer
        except ConsultationRefused:
            offer.status = OfferStatus.REFUSED
            offer.appointment = None
            offer.save(update_fields=["status", "answered_at", "appointment"])
            _reoffer(key)
            return offer
        # The others learn it has gone when they open their link; marked after this commit so
        # no lock is taken on their rows while they may be accepting.
        transaction.on_commit(
            lambda: WaitlistOffer.objects.filter(slot_key=key, status=OfferStatus.OFFERED).update(
                status=OfferStatus.GONE
            ),
            robust=True,
        )
    return offer


def waitlist_offers_expire(*, now: datetime | None = None) -> int:
    """Expire offers past their time; a slot none of whose offers is open or accepted any
    more is offered to the next matching patients (in the same transaction as the expiry, so
    a crash between the two cannot strand it). Safe to run twice or in parallel: each slot is
    handled under its lock, and a slot with a round open gets no second one."""
    now = now or timezone.now()
    keys = list(
        WaitlistOffer.objects.filter(status=OfferStatus.OFFERED, expires_at__lte=now)
        .order_by("slot_key")
        .values_list("slot_key", flat=True)
        .distinct()[:SWEEP_BATCH]
    )
    expired = 0
    for key in keys:
        with transaction.atomic(), acting_as(online_user()):
            _lock_slot(key)
            expired += WaitlistOffer.objects.filter(
                slot_key=key, status=OfferStatus.OFFERED, expires_at__lte=now
            ).update(status=OfferStatus.EXPIRED)
            _reoffer(key)
    return expired


def online_sweep() -> tuple[int, int]:
    """Beat's job: release holds and expire offers past their time."""
    return online_holds_release_expired(), waitlist_offers_expire()


def duplicate_resolve(*, acting_user: User, candidate: DuplicateCandidate) -> None:
    with transaction.atomic(), acting_as(acting_user):
        DuplicateCandidate.objects.filter(pk=candidate.pk, resolved_at__isnull=True).update(resolved_at=timezone.now())
