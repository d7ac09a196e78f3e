"""The front desk's pages: the day schedule, the week, the day sheet, and booking,
moving, checking in and cancelling appointments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinic import hooks, roles
from clinic.booking.availability import Slot, free_slots
from clinic.booking.day_grid import (
    DayGrid,
    build_day_grid,
    day_status_counts,
    render_cards,
    render_grid_body,
    week_appointments,
    week_days,
)
from clinic.booking.forms import CancelForm, RevertForm, SlotChoiceForm, SlotPickForm, SlotSearchForm, default_type
from clinic.booking.services import (
    BookingRefused,
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    appointment_set_status,
    appointment_status_revert,
)
from clinic.http import AuthenticatedHttpRequest, safe_next, working_location
from clinic.models import (
    RELEASED_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AppointmentType,
    Location,
    Patient,
    Room,
    StatusChangeRefused,
    User,
)
from clinic.services import patient_record_access, patients_listed_access
from clinic.validators import day_in_range


def _day(request: AuthenticatedHttpRequest, location: Location) -> date:
    """The day asked for, or today when the ``date`` is not a day the schedule can show."""
    asked = request.GET.get("date", "")
    try:
        day = date.fromisoformat(asked)
    except ValueError:
        day = None
    if day is None or not day_in_range(day):
        if asked:
            messages.error(
                request,
                _("%(asked)s is not a day the schedule can show; here is today.") % {"asked": asked[:40]},
            )
        return location.today()
    return day


# --- The day schedule ----------------------------------------------------------------------


def reads_schedule(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The day, the week and the day sheet: the front desk works them, the manager reads them
    (at any location she works at, through the location switcher). Anyone else: 403."""

    @wraps(view)
    def wrapped(request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (request.user.has_perm(roles.WORK_FRONT_DESK) or request.user.has_perm(roles.MANAGE_CLINIC)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _grid_context(
    request: AuthenticatedHttpRequest, location: Location, day: date, by: str, page: int, here: str
) -> dict[str, Any]:
    """What the grid partial needs (the page, and the drop endpoint's answer)."""
    can_act = request.user.has_perm(roles.WORK_FRONT_DESK)
    grid = build_day_grid(location, day, by, page)
    csrf, zone = get_token(request), location.zone
    return {
        "grid": grid,
        "grid_body": render_grid_body(grid, zone=zone, csrf=csrf, here=here, can_act=can_act),
        "other_cards": render_cards(grid.unplaced + grid.released, zone=zone, csrf=csrf, here=here, can_act=can_act),
        "day": day,
        "by": by,
        "location": location,
        "can_act": can_act,
        # The whole day's, in one small query: counted from the grid's appointments only when
        # one page of columns held them all, the page would need a query more at a large location.
        "status_counts": day_status_counts(location, day),
    }


def _log_grid_access(request: AuthenticatedHttpRequest, grid: DayGrid) -> None:
    shown = (a.patient_id for a in [*grid.appointments, *grid.unplaced, *grid.released])
    patients_listed_access(acting_user=request.user, patient_ids=shown, request=request, page="day_schedule")


@reads_schedule
def front_desk_home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The front desk's home: one location's day, a column per practitioner (or per room)."""
    location = request.location
    if not location:  # a lazy object wrapping None: nothing is set up yet, which the page says
        return render(request, "clinic/front_desk_home.html", {"no_location": True})
    day = _day(request, location)
    by = "room" if request.GET.get("by") == "room" else "practitioner"
    try:
        page = int(request.GET.get("cols", "1"))
    except ValueError:
        page = 1
    context = _grid_context(request, location, day, by, page, request.get_full_path())
    context.update(
        is_today=day == location.today(),
        previous_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        calls=hooks.calls_to_make(location),
    )
    _log_grid_access(request, context["grid"])
    return render(request, "clinic/front_desk_home.html", context)


@permission_required(roles.WORK_FRONT_DESK, raise_exception=True)
def slot_book(request: AuthenticatedHttpRequest) -> HttpResponse:
    """An empty slot of the grid, clicked: find the patient, then book that slot for them.

    A GET that changes nothing: each patient found links to their booking page with the
    practitioner (or room), the day and the time filled in.
    """
    location = working_location(request)
    form = SlotPickForm(request.GET, location=location)
    if not form.is_valid():
        messages.error(request, _("That slot is not on the schedule any more: click a free slot again."))
        return redirect("clinic:front_desk_home")
    slot = form.cleaned_data
    query = request.GET.get("q", "").strip()[:100]
    found = list(Patient.objects.search(query, limit=20)) if query else []
    patients_listed_access(
        acting_user=request.user, patient_ids=(p.pk for p in found), request=request, page="slot_book"
    )
    prefill = form.booking_query()
    context = {
        "location": location,
        "slot": slot,
        "query": query,
        "found": found,
        "prefill": prefill,
        "back": f"{reverse('clinic:front_desk_home')}?date={slot['date'].isoformat()}&by="
        + ("room" if slot["room"] else "practitioner"),
    }
    if request.htmx:
        return render(request, "clinic/slot_book.html#results", context)
    return render(request, "clinic/slot_book.html", context)


@reads_schedule
def schedule_week(request: AuthenticatedHttpRequest) -> HttpResponse:
    location = working_location(request)
    day = _day(request, location)
    by_day = week_appointments(location, day)
    days = week_days(day)
    context = {
        "location": location,
        "day": day,
        "week": [(d, by_day[d]) for d in days],
        "previous_week": days[0] - timedelta(days=7),
        "next_week": days[0] + timedelta(days=7),
        "today": location.today(),
    }
    shown = (a.patient_id for appointments in by_day.values() for a in appointments)
    patients_listed_access(acting_user=request.user, patient_ids=shown, request=request, page="week_schedule")
    return render(request, "clinic/schedule_week.html", context)


@reads_schedule
def schedule_print(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The day sheet: each practitioner's appointments, to print."""
    location = working_location(request)
    day = _day(request, location)
    sheets: dict[int, tuple[User, list[Appointment]]] = {}
    # The whole day, every practitioner: the sheet is printed once, not reloaded all morning.
    # Each row carries the patient's reply to the reminder (a request to reschedule not yet
    # acted on shows), in the same query.
    appointments = (
        Appointment.objects.on_local_day(location, day)
        .with_related()
        .annotate(patient_reply=hooks.appointment_reply())
        .exclude(status__in=RELEASED_STATUSES)
        .order_by("start", "id")
    )
    for appointment in appointments:
        sheets.setdefault(appointment.practitioner_id, (appointment.practitioner, []))[1].append(appointment)
    patient_ids = {a.patient_id for _, listed in sheets.values() for a in listed}
    # Allergy and cautions come from consultations (clinic.hooks), one query for the whole sheet.
    alerts = hooks.patient_alerts(patient_ids)
    rows = [(practitioner, [(a, alerts.get(a.patient_id)) for a in listed]) for practitioner, listed in sheets.values()]
    context = {"location": location, "day": day, "sheets": rows}
    patients_listed_access(acting_user=request.user, patient_ids=patient_ids, request=request, page="day_sheet")
    return render(request, "clinic/schedule_print.html", context)


# --- Appointments --------------------------------------------------------------------------


def _appointment(request: AuthenticatedHttpRequest, pk: int) -> Appointment:
    return get_object_or_404(Appointment.objects.visible_to(request.user).with_related(), pk=pk)


def _room_elsewhere(room: Room, location: Location) -> BookingRefused | None:
    # The slot form names a room by id; one at another location (or one the person does not
    # work at) is refused, however the form was filled in.
    if room.location_id != location.pk:
        return BookingRefused(_("That room is at another location: choose a time from the list of free slots."))
    return None


def _can_revert(request: AuthenticatedHttpRequest) -> bool:
    return request.user.has_perm(roles.WORK_FRONT_DESK) or request.user.has_perm(roles.MANAGE_CLINIC)


def _detail_context(
    appointment: Appointment,
    request: AuthenticatedHttpRequest,
    cancel_form: CancelForm,
    revert_form: RevertForm | None = None,
) -> dict[str, Any]:
    can_revert = _can_revert(request)
    last_change = appointment.last_status_change() if can_revert else None
    undo_until = appointment.undo_until(last_change) if last_change else None
    now = timezone.now()
    return {
        "appointment": appointment,
        "changes": appointment.status_changes.select_related("by", "reverts").order_by("at", "id"),
        "cancel_form": cancel_form,
        "revert_form": revert_form or RevertForm(auto_id="revert-%s"),
        "can_book": request.user.has_perm(roles.WORK_FRONT_DESK),
        "last_change": last_change,
        "can_undo": undo_until is not None and now <= undo_until and request.user.has_perm(roles.WORK_FRONT_DESK),
        "undo_until": undo_until,
        "check_in_open": appointment.check_in_open(now),
        "no_show_open": appointment.no_show_open(now),
    }


@permission_required(roles.VIEW_PATIENT, raise_exception=True)
def appointment_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    appointment = _appointment(request, pk)
    patient_record_access(
        acting_user=request.user,
        patient=appointment.patient,
        request=request,
        page="appointment_detail",
    )
    return render(request, "clinic/appointment_detail.html", _detail_context(appointment, request, CancelForm()))


def _clicked_slots(
    request: AuthenticatedHttpRequest, location: Location, search: SlotSearchForm, slots: list[Slot]
) -> list[Slot]:
    """The free slots at the time clicked on the day grid (``at``; in that room, from a room's column)."""
    at = request.GET.get("at", "")
    if not at or not slots:
        return []
    asked = request.GET.get("room", "")
    room = None
    if asked.isdigit() and len(asked) < 10:  # an id, not junk (nor past the column's range)
        room = Room.objects.active().filter(location=location, pk=int(asked)).first()
    if room is not None:
        # The list shows each start once, with the first free room: look in the clicked one.
        slots = free_slots(
            appointment_type=search.cleaned_data["appointment_type"],
            location=location,
            day=search.cleaned_data["day"],
            practitioner=search.cleaned_data["practitioner"],
            room=room,
        )
    return [slot for slot in slots if location.local(slot.start).strftime("%H:%M") == at]


def _slot_context(
    request: AuthenticatedHttpRequest,
    location: Location,
    *,
    patient: Patient,
    initial_type: AppointmentType | None,
    exclude_appointment_id: int | None = None,
    extraction_allowed: bool = True,
) -> dict[str, Any]:
    data = request.GET if "appointment_type" in request.GET else None
    search = SlotSearchForm(
        data,
        initial={"day": location.today(), "appointment_type": initial_type},
        auto_id="find_%s",
        extraction_allowed=extraction_allowed,
    )
    slots: list[Slot] = []
    if search.is_bound and search.is_valid():
        slots = free_slots(
            appointment_type=search.cleaned_data["appointment_type"],
            location=location,
            day=search.cleaned_data["day"],
            practitioner=search.cleaned_data["practitioner"],
            exclude_appointment_id=exclude_appointment_id,
        )
    chosen_type = search.cleaned_data["appointment_type"] if slots else initial_type
    listed_for = search.chosen_type.pk if search.chosen_type else ""
    return {
        "patient": patient,
        "search": search,
        "slots": slots,
        "clicked": _clicked_slots(request, location, search, slots),
        "location": location,
        "slot_type_id": chosen_type.pk if chosen_type else "",
        # Said on the page: why there is no extraction session to choose, and what to book instead.
        # The practitioner select lists who performs the chosen type: sent again (out of band)
        # only when the type changed, so a person choosing from it keeps their focus.
        "practitioners_for": listed_for,
        "practitioners_changed": request.GET.get("practitioners_for", "") != str(listed_for),
        "extraction_withheld": not extraction_allowed
        and AppointmentType.objects.active().filter(kind=AppointmentKind.EXTRACTION).exists(),
    }


@permission_required(roles.WORK_FRONT_DESK, raise_exception=True)
def appointment_book_view(request: AuthenticatedHttpRequest, patient_pk: int) -> HttpResponse:
    """Book: pick a type (and maybe a practitioner) and a day, then click a free slot."""
    patient = get_object_or_404(Patient, pk=patient_pk)
    location = working_location(request)

    def page_context() -> dict[str, Any]:
        # Only when the page is shown: a successful booking POST needs none of it.
        cleared = hooks.patient_cleared_for_extraction(patient)
        first_type = default_type(extraction_allowed=cleared)
        return _slot_context(request, location, patient=patient, initial_type=first_type, extraction_allowed=cleared)

    if request.method == "POST":
        choice = SlotChoiceForm(request.POST)
        if not choice.is_valid():
            context = page_context()
            context["refused"] = BookingRefused(_("Choose a time from the list of free slots."))
            return render(request, "clinic/appointment_book.html", context, status=400)
        elsewhere = _room_elsewhere(choice.cleaned_data["room"], location)
        if elsewhere is not None:
            context = page_context()
            context["refused"] = elsewhere
            return render(request, "clinic/appointment_book.html", context, status=400)
        try:
            appointment = appointment_book(
                acting_user=request.user,
                patient=patient,
                appointment_type=choice.cleaned_data["appointment_type"],
                practitioner=choice.cleaned_data["practitioner"],
                room=choice.cleaned_data["room"],
                start=choice.cleaned_data["start"],
                notes=choice.cleaned_data["notes"],
            )
        except BookingRefused as refused:
            context = page_context()
            context.update(
                refused=refused, nearest=refused.nearest, slot_type_id=choice.cleaned_data["appointment_type"].pk
            )
            return render(request, "clinic/appointment_book.html", context, status=409)
        when = formats.date_format(appointment.room.location.local(appointment.start), "D j M, H:i")
        messages.success(request, _("Booked %(patient)s for %(when)s.") % {"patient": patient.full_name, "when": when})
        return redirect(appointment)
    context = page_context()
    if request.htmx:
        return render(request, "clinic/appointment_book.html#slots", context)
    return render(request, "clinic/appointment_book.html", context)


@permission_required(roles.WORK_FRONT_DESK, raise_exception=True)
def appointment_reschedule_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    appointment = _appointment(request, pk)
    if not appointment.is_open:
        messages.error(request, _("Only a booked or confirmed appointment can be moved."))
        return redirect(appointment)
    context = _slot_context(
        request,
        appointment.location,
        patient=appointment.patient,
        initial_type=appointment.appointment_type,
        exclude_appointment_id=appointment.pk,
    )
    context["appointment"] = appointment
    if request.method == "POST":
        choice = SlotChoiceForm(request.POST)
        if not choice.is_valid():
            context["refused"] = BookingRefused(_("Choose a time from the list of free slots."))
            return render(request, "clinic/appointment_book.html", context, status=400)
        elsewhere = _room_elsewhere(choice.cleaned_data["room"], appointment.location)
        if elsewhere is not None:
            context["refused"] = elsewhere
            return render(request, "clinic/appointment_book.html", context, status=400)
        try:
            appointment_reschedule(
                acting_user=request.user,
                appointment=appointment,
                start=choice.cleaned_data["start"],
                practitioner=choice.cleaned_data["practitioner"],
                room=choice.cleaned_data["room"],
                reason=choice.cleaned_data["notes"],
            )
        except BookingRefused as refused:
            context.update(
                refused=refused, nearest=refused.nearest, slot_type_id=choice.cleaned_data["appointment_type"].pk
            )
            return render(request, "clinic/appointment_book.html", context, status=409)
        messages.success(request, _("The appointment has been moved."))
        return redirect(appointment)
    if request.htmx:
        return render(request, "clinic/appointment_book.html#slots", context)
    return render(request, "clinic/appointment_book.html", context)


def _after_action(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """htmx from the day schedule: the changed card, the toast and the day's counters (both
    out of band). Otherwise back where the desk was."""
    appointment = _appointment(request, pk)
    if request.htmx:
        here = safe_next(request, reverse("clinic:front_desk_home"))
        location = appointment.location
        card = render_cards([appointment], zone=location.zone, csrf=get_token(request), here=here)[0]
        counts = day_status_counts(location, location.local(appointment.start).date())
        return render(
            request,
            "clinic/front_desk_home.html#appointment_card",
            {"card": card, "status_counts": counts, "counts_oob": True},
        )
    return HttpResponseRedirect(safe_next(request, appointment.get_absolute_url()))


@require_POST
@permission_required(roles.WORK_FRONT_DESK, raise_exception=True)
def appointment_drop(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A card dragged to a free slot of the grid (static/js/schedule.js): move it there.

    The same service and checks as the move page (appointment_reschedule). The answer is the
    grid again: moved, or unchanged with the reason in a toast (the card snaps back).
    """
    location = working_location(request)
    appointment = _appointment(request, pk)
    form = SlotPickForm(request.POST, location=location)
    if appointment.location_id != location.pk:
        messages.error(request, _("That appointment is at another location."))
    elif not form.is_valid():
        messages.error(request, _("Drop the appointment on a free slot of the schedule."))
    else:
        slot = form.cleaned_data
        start = datetime.combine(slot["date"], slot["time"], tzinfo=location.zone)
        try:
            appointment_reschedule(
                acting_user=request.user,
                appointment=appointment,
                start=start,
                practitioner=slot["practitioner"],
                room=slot["room"],
                reason=_("Moved on the day schedule"),
            )
        except BookingRefused as refused:
            messages.error(request, _("Not moved: %(reason)s") % {"reason": refused.messages[0]})
        else:
            messages.success(
                request,
                _("%(patient)s moved to %(when)s.")
                % {"patient": appointment.patient.full_name, "when": formats.date_format(start, "D j M, H:i")},
            )
    here = safe_next(request, reverse("clinic:front_desk_home"))
    if not request.htmx:
        return HttpResponseRedirect(here)
    shown = form.cleaned_data.get("date") if form.is_bound and hasattr(form, "cleaned_data") else None
    day = shown or location.local(appointment.start).date()
    by = "room" if request.POST.get("by") == "room" else "practitioner"
    try:
        page = int(request.POST.get("cols", "1"))
    except ValueError:
        page = 1
    context = _grid_context(request, location, day, by, page, here)
    context["counts_oob"] = True
    return render(request, "clinic/front_desk_home.html#grid_swap", context)


# The change and the page that reports it are one unit: if building the response fails, the
# change is rolled back with it. (A status change once committed and then failed to redirect
# to a bad ``next``, behind the error page's "Nothing you entered was half-saved".)
@require_POST
@permission_required(roles.WORK_FRONT_DESK, raise_exception=True)
@transaction.atomic
def appointment_status(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Check in or mark a no-show (or confirm, start, complete) — from the grid without a reload."""
    appointment = _appointment(request, pk)
    status = request.POST.get("status", "")
    if status not in AppointmentStatus.values or status == AppointmentStatus.CANCELLED:
        messages.error(request, _("That is not a status this button can set."))
        return _after_action(request, pk)
    try:
        appointment = appointment_set_status(
            acting_user=request.user,
            appointment=appointment,
            status=status,
        )
    except StatusChangeRefused as refused:
        messages.error(request, refused.messages[0])
    else:
        messages.success(
            request,
            _("%(patient)s: %(status)s.")
            % {"patient": appointment.patient.full_name, "status": appointment.get_status_display()},
        )
    return _after_action(request, pk)


@require_POST
@permission_required(roles.WORK_FRONT_DESK, raise_exception=True)
@transaction.atomic  # as appointment_status: the cancellation and its page are one unit
def appointment_cancel_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    appointment = _appointment(request, pk)
    data = request.POST.copy()
    # From the grid, the reason dialog (static/js/dialogs.js) sends it as "reason"; a page
    # loaded before that asks with hx-prompt, which sends it in a header.
    if request.htmx and not data.get("reason"):
        data["reason"] = request.headers.get("HX-Prompt", "")
    form = CancelForm(data)
    if not form.is_valid():
        if request.htmx:
            messages.error(request, _("Say why the appointment is cancelled."))
            return _after_action(request, pk)
        return render(
            request, "clinic/appointment_detail.html", _detail_context(appointment, request, form), status=400
        )
    try:
        appointment_cancel(acting_user=request.user, appointment=appointment, reason=form.cleaned_data["reason"])
    except StatusChangeRefused as refused:
        messages.error(request, refused.messages[0])
    else:
        messages.success(request, _("The appointment is cancelled."))
    return _after_action(request, pk)


@require_POST
@transaction.atomic  # as appointment_status: the change and its page are one unit
def appointment_revert_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Undo the last status within the window (one click), or revert it later with a reason."""
    if not _can_revert(request):
        raise PermissionDenied
    appointment = _appointment(request, pk)
    undo = "undo" in request.POST
    form = RevertForm(request.POST, auto_id="revert-%s")
    if not undo and not form.is_valid():
        return render(
            request,
            "clinic/appointment_detail.html",
            _detail_context(appointment, request, CancelForm(), form),
            status=400,
        )
    try:
        change = appointment_status_revert(
            acting_user=request.user,
            appointment=appointment,
            undo=undo,
            reason="" if undo else form.cleaned_data["reason"],
        )
    except StatusChangeRefused as refused:
        messages.error(request, refused.messages[0])
    else:
        messages.success(
            request,
            _("%(patient)s: back to %(status)s.")
            % {"patient": appointment.patient.full_name, "status": change.get_to_status_display()},
        )
    return _after_action(request, pk)
