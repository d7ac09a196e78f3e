"""Booking's workflows: book, move, cancel, and the day schedule's status buttons.

Each owns its transaction and attributes its writes to ``acting_user`` (clinic.audit).
What other apps add to a booking (aftercare's messages, consultations' clearance for an
extraction session) comes through clinic.hooks, so the core imports none of them.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic import hooks
from clinic.audit import acting_as
from clinic.booking.availability import Slot, nearest_free_slots
from clinic.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AppointmentStatusChange,
    AppointmentType,
    Patient,
    Room,
    StaffSchedule,
    StatusChangeRefused,
    TimeOff,
    User,
)


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
    if appointment_type.kind == AppointmentKind.EXTRACTION and not hooks.patient_cleared_for_extraction(patient):
        raise BookingRefused(
            _("An extraction session can be booked only after a consultation has cleared the patient."),
            field="appointment_type",
        )


# PostgreSQL's deadlock_detected and serialization_failure: the transaction lost a race and
# did nothing. Two desks swapping two appointments deadlock in the exclusion check (each
# waits on the row the other has just written); running it again gives a clean answer.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
ATTEMPTS = 2


def _lost_a_race(error: OperationalError) -> bool:
    return getattr(error.__cause__, "sqlstate", None) in RETRYABLE_SQLSTATES


def _clash_message(error: IntegrityError | OperationalError) -> str:
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
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction.atomic() if connection.in_atomic_block else nullcontext(), acting_as(acting_user):
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
            break
        except (IntegrityError, OperationalError) as error:
            if isinstance(error, OperationalError):
                if not _lost_a_race(error):
                    raise
                if attempt < ATTEMPTS:
                    continue
            raise BookingRefused(
                _clash_message(error),
                field="start",
                nearest=nearest_free_slots(
                    appointment_type=appointment_type, location=room.location, around=start, practitioner=practitioner
                ),
            ) from error
    hooks.booking.booked(appointment=appointment)
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
    for attempt in range(1, ATTEMPTS + 1):
        old_start = appointment.start
        try:
            with transaction.atomic(), acting_as(acting_user):
                appointment.start, appointment.end = start, end
                appointment.practitioner, appointment.room = practitioner, room
                appointment.location_id = room.location_id
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
                hooks.booking.rescheduled(appointment=appointment)
            return appointment
        except (IntegrityError, OperationalError) as error:
            # The rows are as they were; so must the instance be, for a retry or the page.
            appointment.refresh_from_db()
            if isinstance(error, OperationalError):
                if not _lost_a_race(error):
                    raise
                if attempt < ATTEMPTS:
                    continue
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
    raise AssertionError("unreachable: the last attempt returns or raises")


def appointment_cancel(*, acting_user: User, appointment: Appointment, reason: str) -> Appointment:
    """Cancel with a reason; the time and room are free again at once."""
    with transaction.atomic(), acting_as(acting_user):
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if locked.status == AppointmentStatus.CANCELLED:
            return locked
        locked.cancel(by=acting_user, reason=reason)
        hooks.booking.cancelled(appointment=locked)
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
    with transaction.atomic(), acting_as(acting_user):
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if locked.status == status:
            return locked
        method = methods.get(AppointmentStatus(status))
        if method is None:
            raise StatusChangeRefused(_("Use cancel to cancel an appointment."))
        method(locked, by=acting_user)
        hooks.booking.status_changed(appointment=locked)
    return locked


def appointment_status_revert(
    *, acting_user: User, appointment: Appointment, reason: str = "", undo: bool = False
) -> AppointmentStatusChange:
    """Take back the last status the front desk set: one click within the undo window, or a
    revert with a reason later. A no-show taken back holds its time again, unless someone
    else has been booked into it since."""
    try:
        with transaction.atomic(), acting_as(acting_user):
            locked = Appointment.objects.select_for_update().select_related("location").get(pk=appointment.pk)
            change = locked.revert_status(by=acting_user, reason=reason, undo=undo)
            hooks.booking.status_changed(appointment=locked)
    except IntegrityError as error:
        raise StatusChangeRefused(
            _("%(clash)s It cannot be taken back: book a new appointment instead.") % {"clash": _clash_message(error)},
            code="clash",
        ) from error
    appointment.status = locked.status
    return change
