"""Workflows of the clinic core. Each owns its transaction and takes the acting user."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, Model, OuterRef, Q, Subquery
from django.db.models.functions import Lower
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from aftercare import hooks as aftercare_hooks
from clinic.availability import Slot, nearest_free_slots
from clinic.models import (
    AccessEvent,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AppointmentStatusChange,
    AppointmentType,
    Heartbeat,
    Patient,
    Room,
    StaffSchedule,
    StatusChangeRefused,
    TimeOff,
    User,
)
from clinic.roles import ROLES, Role
from consultations.eligibility import patient_cleared_for_extraction


def patient_record_access(*, acting_user: User, patient: Patient, request: HttpRequest, page: str) -> AccessEvent:
    """Record that ``acting_user`` read ``patient``'s record on ``page``.

    Every view that shows a patient's record calls this, so the clinic can answer
    "who looked at this record, and when" (the access audit).
    """
    return AccessEvent.objects.create(
        user_id=acting_user.pk,
        patient_id=patient.pk,
        page=page[:200],
        path=request.get_full_path()[:500],
    )


def heartbeat_beat(*, name: str) -> None:
    """Record that the background process ``name`` is alive now."""
    with transaction.atomic():
        Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})


@transaction.atomic
def staff_save(*, acting_user: User, staff: User, role: Role, password: str | None = None) -> User:
    """Save a staff member and give them exactly one role (the manager's staff form).

    ``acting_user`` is recorded by the audit context of the request; it is taken here so
    every write names who made it.
    """
    if password is not None:
        staff.set_password(password)
        # The manager typed it, so it is not yet the person's own: changed at first sign-in.
        staff.must_change_password = True
    staff.save()
    role_groups = Group.objects.filter(name__in=[spec.group_name for spec in ROLES.values()])
    staff.groups.remove(*role_groups)
    staff.groups.add(Group.objects.get(name=ROLES[role].group_name))
    return staff


# --- Patients -----------------------------------------------------------------------------


def patient_likely_duplicates(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: date | None,
    email: str,
    phone: str,
    exclude_id: int | None = None,
) -> list[Patient]:
    """Patients who are probably the same person: same name and birth date, or same email or phone."""
    same = Q()
    if date_of_birth is not None:
        same |= Q(first_name__iexact=first_name, last_name__iexact=last_name, date_of_birth=date_of_birth)
    if email:
        same |= Q(email_lower=email.lower())
    if phone:
        same |= Q(phone=phone)
    if not same:
        return []
    found = Patient.objects.annotate(email_lower=Lower("email")).filter(same)
    if exclude_id is not None:
        found = found.exclude(pk=exclude_id)
    return list(found[:5])


def _consent_fields(*, consent: bool, previous: bool | None) -> dict[str, object]:
    if previous is None or consent != previous:
        return {"email_consent": consent, "email_consent_at": timezone.now()}
    return {"email_consent": consent}


def patient_register(*, acting_user: User, **fields: Any) -> Patient:
    """Register a patient. ``email_consent_at`` is set to now when they consent."""
    consent = bool(fields.pop("email_consent", False))
    with transaction.atomic():
        patient = Patient(**fields, **_consent_fields(consent=consent, previous=None))
        if not consent:
            patient.email_consent_at = None
        patient.full_clean()
        patient.save()
    return patient


def patient_update(*, acting_user: User, patient: Patient, **fields: Any) -> Patient:
    """Change a patient's details; a change of email consent records its date."""
    consent = bool(fields.pop("email_consent", patient.email_consent))
    with transaction.atomic():
        for name, value in {**fields, **_consent_fields(consent=consent, previous=patient.email_consent)}.items():
            setattr(patient, name, value)
        patient.full_clean()
        patient.save()
    return patient


# --- Booking ------------------------------------------------------------------------------


class BookingRefused(ValidationError):
    """The booking breaks a rule; ``field`` names the form field the message belongs beside."""

    def __init__(self, message: str, *, field: str | None = None, nearest: list[Slot] | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.nearest = nearest or []


def _check_bookable(
    *,
    appointment_type: AppointmentType,
    patient: Patient,
    practitioner: User,
    room: Room,
    start: datetime,
    end: datetime,
) -> None:
    location = room.location
    if not appointment_type.is_active:
        raise BookingRefused(_("This appointment type is no longer offered."), field="appointment_type")
    if not room.is_active or not location.is_active:
        raise BookingRefused(_("This room is not in use."), field="room")
    if start < timezone.now():
        raise BookingRefused(_("This time has already passed."), field="start")
    local_start, local_end = location.local(start), location.local(end)
    # One query answers all three questions about the practitioner (a booking is a hot path).
    facts = (
        User.objects.filter(pk=practitioner.pk, is_active=True)
        .annotate(
            performs=Exists(
                User.groups.through.objects.filter(
                    user_id=OuterRef("pk"), group__name=appointment_type.performer_group_name
                )
            ),
            works=Exists(
                StaffSchedule.objects.filter(
                    staff_id=OuterRef("pk"),
                    location=location,
                    weekday=local_start.weekday(),
                    start_time__lte=local_start.time(),
                    end_time__gte=local_end.time(),
                )
            ),
            off=Exists(TimeOff.objects.filter(staff_id=OuterRef("pk"), start__lt=end, end__gt=start)),
            off_reason=Subquery(
                TimeOff.objects.filter(staff_id=OuterRef("pk"), start__lt=end, end__gt=start).values("reason")[:1]
            ),
        )
        .values("performs", "works", "off", "off_reason")
        .first()
    )
    if facts is None or not facts["performs"]:
        raise BookingRefused(
            _("%(name)s does not perform %(type)s appointments.")
            % {"name": practitioner.display_name, "type": appointment_type.name},
            field="practitioner",
        )
    if not facts["works"] or local_start.date() != local_end.date():
        raise BookingRefused(
            _("%(name)s does not work at %(location)s at that time.")
            % {"name": practitioner.display_name, "location": location.name},
            field="start",
        )
    if facts["off"]:
        reason = facts["off_reason"]
        raise BookingRefused(
            _("%(name)s is off at that time%(reason)s.")
            % {"name": practitioner.display_name, "reason": f" ({reason})" if reason else ""},
            field="start",
        )
    if appointment_type.kind == AppointmentKind.EXTRACTION and not patient_cleared_for_extraction(patient):
        raise BookingRefused(
            _("An extraction session can be booked only after a consultation has cleared the patient."),
            field="appointment_type",
        )


def _clash_message(error: IntegrityError) -> str:
    constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", "") or ""
    if "room" in constraint:
        return str(_("The room is already booked at that time."))
    return str(_("The practitioner is already booked at that time."))


def appointment_book(
    *,
    acting_user: User,
    patient: Patient,
    appointment_type: AppointmentType,
    practitioner: User,
    room: Room,
    start: datetime,
    notes: str = "",
) -> Appointment:
    """Book ``patient`` with ``practitioner`` in ``room`` from ``start`` for the type's duration.

    Rules (working hours, time off, clearance for extraction) are checked here; the database's
    exclusion constraints refuse double-booking even when two desks book at the same moment.
    Raises BookingRefused, carrying the nearest free slots when the time was taken.
    """
    end = start + appointment_type.duration
    _check_bookable(
        appointment_type=appointment_type, patient=patient, practitioner=practitioner, room=room, start=start, end=end
    )
    # Who booked and when are on the appointment (created_by, created_at); the change rows
    # record what happens to it afterwards. A single INSERT is atomic by itself; inside a
    # caller's transaction a savepoint keeps a clash from aborting the caller's work.
    try:
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            appointment = Appointment.objects.create(
                appointment_type=appointment_type,
                patient=patient,
                practitioner=practitioner,
                room=room,
                location=room.location,
                start=start,
                end=end,
                notes=notes,
                created_by=acting_user,
            )
    except IntegrityError as error:
        raise BookingRefused(
            _clash_message(error),
            field="start",
            nearest=nearest_free_slots(
                appointment_type=appointment_type, location=room.location, around=start, practitioner=practitioner
            ),
        ) from error
    aftercare_hooks.appointment_booked(appointment=appointment)
    return appointment


def appointment_reschedule(
    *,
    acting_user: User,
    appointment: Appointment,
    start: datetime,
    practitioner: User | None = None,
    room: Room | None = None,
    reason: str = "",
) -> Appointment:
    """Move an open appointment; the change row keeps the old and the new time."""
    if not appointment.is_open:
        raise BookingRefused(
            _("A %(status)s appointment cannot be moved.") % {"status": appointment.get_status_display()}
        )
    practitioner = practitioner or appointment.practitioner
    room = room or appointment.room
    appointment_type = appointment.appointment_type
    end = start + (appointment.end - appointment.start)
    _check_bookable(
        appointment_type=appointment_type,
        patient=appointment.patient,
        practitioner=practitioner,
        room=room,
        start=start,
        end=end,
    )
    old_start = appointment.start
    try:
        with transaction.atomic():
            appointment.start, appointment.end = start, end
            appointment.practitioner, appointment.room, appointment.location_id = practitioner, room, room.location_id
            appointment.save(update_fields=["start", "end", "practitioner", "room", "location"])
            AppointmentStatusChange.objects.create(
                appointment=appointment,
                from_status=appointment.status,
                to_status=appointment.status,
                by=acting_user,
                reason=reason,
                old_start=old_start,
                new_start=start,
            )
            aftercare_hooks.appointment_rescheduled(appointment=appointment)
    except IntegrityError as error:
        appointment.refresh_from_db()
        raise BookingRefused(
            _clash_message(error),
            field="start",
            nearest=nearest_free_slots(
                appointment_type=appointment_type,
                location=room.location,
                around=start,
                practitioner=practitioner,
                exclude_appointment_id=appointment.pk,
            ),
        ) from error
    return appointment


def appointment_cancel(*, acting_user: User, appointment: Appointment, reason: str) -> Appointment:
    """Cancel with a reason; the time and room are free again at once."""
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if locked.status == AppointmentStatus.CANCELLED:
            return locked
        locked.cancel(by=acting_user, reason=reason)
        aftercare_hooks.appointment_cancelled(appointment=locked)
    return locked


def appointment_set_status(*, acting_user: User, appointment: Appointment, status: str) -> Appointment:
    """Check in, mark a no-show, confirm, start or complete, from the day schedule's buttons."""
    methods = {
        AppointmentStatus.CONFIRMED: Appointment.confirm,
        AppointmentStatus.CHECKED_IN: Appointment.check_in,
        AppointmentStatus.IN_PROGRESS: Appointment.begin,
        AppointmentStatus.COMPLETED: Appointment.complete,
        AppointmentStatus.NO_SHOW: Appointment.mark_no_show,
    }
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if locked.status == status:
            return locked
        method = methods.get(AppointmentStatus(status))
        if method is None:
            raise StatusChangeRefused(_("Use cancel to cancel an appointment."))
        method(locked, by=acting_user)
    return locked


# --- Clinic set-up ------------------------------------------------------------------------


def setup_record_save(*, acting_user: User, form: ModelForm[Any]) -> Model:
    """Save a validated set-up form (location, room, type, hours, time off) in one transaction."""
    with transaction.atomic():
        return form.save()


def setup_record_delete(*, acting_user: User, record: StaffSchedule | TimeOff) -> None:
    """Remove working hours or time off. Existing bookings stay; new ones follow the new hours."""
    with transaction.atomic():
        record.delete()
