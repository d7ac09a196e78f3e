from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from clinic import health, roles
from clinic.availability import Slot, free_slots
from clinic.forms import CancelForm, NewStaffForm, PatientForm, SlotChoiceForm, SlotSearchForm, StaffForm
from clinic.models import (
    RELEASED_STATUSES,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    Location,
    Patient,
    StatusChangeRefused,
    User,
)
from clinic.schedule import (
    build_day_grid,
    day_appointments,
    render_cards,
    render_grid_body,
    week_appointments,
    week_days,
)
from clinic.selectors import SESSION_LOCATION_KEY
from clinic.services import (
    BookingRefused,
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    appointment_set_status,
    patient_record_access,
    patient_register,
    patient_update,
    setup_record_delete,
    setup_record_save,
    staff_save,
)
from clinic.setup import SECTIONS, Section

SEARCH_LIMIT = 20
FINISHED = (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)


def home(request: HttpRequest) -> HttpResponse:
    """Send each person to their role's home page."""
    spec = request.user.primary_role  # type: ignore[union-attr]
    if spec is None:
        raise PermissionDenied(_("Your account has no role yet. Ask the clinic manager to assign one."))
    return redirect(spec.home_url_name)


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def manager_home(request: HttpRequest) -> HttpResponse:
    staff = (
        User.objects.all()
        .prefetch_related(Prefetch("groups"))
        .select_related("home_location")
        .order_by("-is_active", "last_name", "first_name")
    )
    context: dict[str, Any] = {
        "staff": staff,
        "locations": Location.objects.all(),
        "setup_sections": SECTIONS.values(),
    }
    return render(request, "clinic/manager_home.html", context)


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def staff_create(request: HttpRequest) -> HttpResponse:
    form = NewStaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        staff = staff_save(
            acting_user=request.user,  # type: ignore[arg-type]
            staff=form.save(commit=False),
            role=form.cleaned_data["role"],
            password=form.cleaned_data["password1"],
        )
        messages.success(request, _("%(name)s can now sign in.") % {"name": staff.display_name})
        return redirect("clinic:manager_home")
    return render(request, "clinic/user_form.html", {"form": form, "adding": True})


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    staff = get_object_or_404(User, pk=pk)
    form = StaffForm(request.POST or None, instance=staff, acting_user=request.user)  # type: ignore[arg-type]
    if request.method == "POST" and form.is_valid():
        staff_save(acting_user=request.user, staff=form.save(commit=False), role=form.cleaned_data["role"])  # type: ignore[arg-type]
        messages.success(request, _("Saved %(name)s.") % {"name": staff.display_name})
        return redirect("clinic:manager_home")
    return render(request, "clinic/user_form.html", {"form": form, "adding": False, "staff": staff})


@require_POST
def switch_location(request: HttpRequest) -> HttpResponse:
    location = get_object_or_404(Location.objects.active(), pk=request.POST.get("location"))
    request.session[SESSION_LOCATION_KEY] = location.pk
    messages.success(request, _("You are now working at %(location)s.") % {"location": location.name})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "home"
    return redirect(target)


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """ok / not ok for anyone (a load balancer); which part failed only for operators.

    Details name the app's dependencies and their state, which helps an attacker time
    an attack: they need ``HEALTHZ_TOKEN`` as a bearer token, or a caller on this machine.
    """
    state = health.check()
    body: dict[str, object] = {"status": "ok" if state.ok else "unavailable"}
    if health.may_see_details(request):
        age = state.dispatcher_age_seconds
        body |= {
            "database": "ok" if state.database else "unavailable",
            "broker": "ok" if state.broker else "unavailable",
            "dispatcher_heartbeat_age_seconds": None if age is None else round(age, 1),
        }
    return JsonResponse(body, status=200 if state.ok else 503)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    reason = str(exception) if exception and str(exception) else ""
    return render(request, "403.html", {"reason": reason}, status=403)


def _location(request: HttpRequest) -> Location:
    location: Location | None = request.location  # type: ignore[attr-defined]
    if not location:  # a lazy object wrapping None
        raise Http404(_("No location is set up yet. Ask the clinic manager to add one."))
    return location


def _day(request: HttpRequest, location: Location) -> date:
    try:
        return date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return location.today()


# --- The day schedule ----------------------------------------------------------------------


@permission_required(roles.WORK_FRONT_DESK, raise_exception=True)
def front_desk_home(request: HttpRequest) -> HttpResponse:
    """The front desk's home: one location's day, a column per practitioner (or per room)."""
    if not request.location:  # type: ignore[attr-defined]
        return render(request, "clinic/front_desk_home.html", {"no_location": True})
    location = _location(request)
    day = _day(request, location)
    by = "room" if request.GET.get("by") == "room" else "practitioner"
    try:
        page = int(request.GET.get("cols", "1"))
    except ValueError:
        page = 1
    grid = build_day_grid(location, day, by, page)
    csrf, here = get_token(request), request.get_full_path()
    context = {
        "grid": grid,
        "grid_body": render_grid_body(grid, zone=location.zone, csrf=csrf, here=here),
        "other_cards": render_cards(grid.unplaced + grid.released, zone=location.zone, csrf=csrf, here=here),
        "day": day,
        "by": by,
        "location": location,
        "is_today": day == location.today(),
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "status_counts": _status_counts(grid.appointments),
    }
    return render(request, "clinic/front_desk_home.html", context)


def _status_counts(appointments: list[Appointment]) -> list[tuple[str, str, int]]:
    counts = dict.fromkeys(AppointmentStatus, 0)
    for appointment in appointments:
        counts[AppointmentStatus(appointment.status)] += 1
    return [(status.value, str(status.label), n) for status, n in counts.items() if n]


@permission_required(roles.WORK_FRONT_DESK, raise_exception=True)
def schedule_week(request: HttpRequest) -> HttpResponse:
    location = _location(request)
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
    return render(request, "clinic/schedule_week.html", context)


@permission_required(roles.WORK_FRONT_DESK, raise_exception=True)
def schedule_print(request: HttpRequest) -> HttpResponse:
    """The day sheet: each practitioner's appointments, to print."""
    location = _location(request)
    day = _day(request, location)
    sheets: dict[int, tuple[User, list[Appointment]]] = {}
    # The whole day, every practitioner: the sheet is printed once, not reloaded all morning.
    for appointment in day_appointments(location, day):
        if appointment.status not in RELEASED_STATUSES:
            sheets.setdefault(appointment.practitioner_id, (appointment.practitioner, []))[1].append(appointment)
    context = {"location": location, "day": day, "sheets": list(sheets.values())}
    return render(request, "clinic/schedule_print.html", context)


# --- Appointments --------------------------------------------------------------------------


def _appointment(pk: int) -> Appointment:
    return get_object_or_404(Appointment.objects.with_related(), pk=pk)


def _detail_context(appointment: Appointment, request: HttpRequest, cancel_form: CancelForm) -> dict[str, Any]:
    return {
        "appointment": appointment,
        "changes": appointment.status_changes.select_related("by").order_by("at", "id"),
        "cancel_form": cancel_form,
        "can_book": request.user.has_perm(roles.WORK_FRONT_DESK),
    }


@permission_required(roles.VIEW_PATIENT, raise_exception=True)
def appointment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _appointment(pk)
    patient_record_access(
        acting_user=request.user,  # type: ignore[arg-type]
        patient=appointment.patient,
        request=request,
        page="appointment_detail",
    )
    return render(request, "clinic/appointment_detail.html", _detail_context(appointment, request, CancelForm()))


def _slot_context(
    request: HttpRequest,
    location: Location,
    *,
    patient: Patient,
    initial_type: AppointmentType | None,
    exclude_appointment_id: int | None = None,
) -> dict[str, Any]:
    data = request.GET if "appointment_type" in request.GET else None
    search = SlotSearchForm(
        data, initial={"day": location.today(), "appointment_type": initial_type}, auto_id="find_%s"
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
    return {
        "patient": patient,
        "search": search,
        "slots": slots,
        "location": location,
        "slot_type_id": chosen_type.pk if chosen_type else "",
    }


@permission_required(roles.WORK_FRONT_DESK, raise_exception=True)
def appointment_new(request: HttpRequest, patient_pk: int) -> HttpResponse:
    """Book: pick a type (and maybe a practitioner) and a day, then click a free slot."""
    patient = get_object_or_404(Patient, pk=patient_pk)
    location = _location(request)

    def page_context() -> dict[str, Any]:
        # Only when the page is shown: a successful booking POST needs none of it.
        first_type = AppointmentType.objects.active().first()
        return _slot_context(request, location, patient=patient, initial_type=first_type)

    if request.method == "POST":
        choice = SlotChoiceForm(request.POST)
        if not choice.is_valid():
            context = page_context()
            context["refused"] = BookingRefused(_("Choose a time from the list of free slots."))
            return render(request, "clinic/appointment_book.html", context, status=400)
        try:
            appointment = appointment_book(
                acting_user=request.user,  # type: ignore[arg-type]
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
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "clinic/appointment_book.html#slots", context)
    return render(request, "clinic/appointment_book.html", context)


@permission_required(roles.WORK_FRONT_DESK, raise_exception=True)
def appointment_reschedule_view(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _appointment(pk)
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
        try:
            appointment_reschedule(
                acting_user=request.user,  # type: ignore[arg-type]
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
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "clinic/appointment_book.html#slots", context)
    return render(request, "clinic/appointment_book.html", context)


def _after_action(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx from the day schedule: the changed card. Otherwise back where the desk was."""
    appointment = _appointment(pk)
    if request.htmx:  # type: ignore[attr-defined]
        here = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(here, allowed_hosts={request.get_host()}):
            here = reverse("clinic:front_desk_home")
        card = render_cards([appointment], zone=appointment.location.zone, csrf=get_token(request), here=here)[0]
        return render(request, "clinic/front_desk_home.html#appointment_card", {"card": card})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(appointment)
    return redirect(target)


@require_POST
@permission_required(roles.WORK_FRONT_DESK, raise_exception=True)
def appointment_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Check in or mark a no-show (or confirm, start, complete) — from the grid without a reload."""
    appointment = _appointment(pk)
    status = request.POST.get("status", "")
    if status not in AppointmentStatus.values or status == AppointmentStatus.CANCELLED:
        messages.error(request, _("That is not a status this button can set."))
        return _after_action(request, pk)
    try:
        appointment = appointment_set_status(
            acting_user=request.user,  # type: ignore[arg-type]
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
def appointment_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _appointment(pk)
    data = request.POST.copy()
    # From the grid, htmx asks for the reason (hx-prompt) and sends it in a header.
    if request.htmx and not data.get("reason"):  # type: ignore[attr-defined]
        data["reason"] = request.headers.get("HX-Prompt", "")
    form = CancelForm(data)
    if not form.is_valid():
        if request.htmx:  # type: ignore[attr-defined]
            messages.error(request, _("Say why the appointment is cancelled."))
            return _after_action(request, pk)
        return render(
            request, "clinic/appointment_detail.html", _detail_context(appointment, request, form), status=400
        )
    try:
        appointment_cancel(acting_user=request.user, appointment=appointment, reason=form.cleaned_data["reason"])  # type: ignore[arg-type]
    except StatusChangeRefused as refused:
        messages.error(request, refused.messages[0])
    else:
        messages.success(request, _("The appointment is cancelled."))
    return _after_action(request, pk)


# --- Patients ------------------------------------------------------------------------------


@permission_required(roles.VIEW_PATIENT, raise_exception=True)
def patient_list(request: HttpRequest) -> HttpResponse:
    """One search box answering as you type; without a query, the latest registrations."""
    query = request.GET.get("q", "").strip()[:100]
    if query:
        found = list(Patient.objects.search(query, limit=SEARCH_LIMIT))
    else:
        found = list(Patient.objects.order_by("-created_at")[:SEARCH_LIMIT])
    context = {"patients": found, "query": query, "limit": SEARCH_LIMIT}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "clinic/patient_list.html#results", context)
    return render(request, "clinic/patient_list.html", context)


@permission_required(roles.ADD_PATIENT, raise_exception=True)
def patient_create(request: HttpRequest) -> HttpResponse:
    form = PatientForm(request.POST or None, region=settings.CLINIC_PHONE_REGION)
    if request.method == "POST" and form.is_valid():
        patient = patient_register(acting_user=request.user, **form.details)  # type: ignore[arg-type]
        messages.success(request, _("%(name)s is registered.") % {"name": patient.full_name})
        return redirect(patient)
    return render(request, "clinic/patient_form.html", {"form": form}, status=400 if form.errors else 200)


@permission_required(roles.CHANGE_PATIENT, raise_exception=True)
def patient_edit(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    patient_record_access(acting_user=request.user, patient=patient, request=request, page="patient_edit")  # type: ignore[arg-type]
    form = PatientForm(request.POST or None, instance=Patient.objects.get(pk=pk), region=settings.CLINIC_PHONE_REGION)
    if request.method == "POST" and form.is_valid():
        patient_update(acting_user=request.user, patient=patient, **form.details)  # type: ignore[arg-type]
        messages.success(request, _("Saved."))
        return redirect(patient)
    context = {"form": form, "patient": patient}
    return render(request, "clinic/patient_form.html", context, status=400 if form.errors else 200)


@permission_required(roles.VIEW_PATIENT, raise_exception=True)
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    patient_record_access(acting_user=request.user, patient=patient, request=request, page="patient_detail")  # type: ignore[arg-type]
    now = timezone.now()
    appointments = Appointment.objects.filter(patient=patient).with_related()
    context = {
        "patient": patient,
        # Done is done: a completed or missed appointment is past even if its hour is not.
        "upcoming": appointments.filter(end__gte=now).exclude(status__in=FINISHED).order_by("start"),
        "past": appointments.filter(Q(end__lt=now) | Q(status__in=FINISHED)).order_by("-start")[:50],
        "can_book": request.user.has_perm(roles.WORK_FRONT_DESK),
        "can_edit": request.user.has_perm(roles.CHANGE_PATIENT),
    }
    return render(request, "clinic/patient_detail.html", context)


# --- Clinic set-up (manager) ---------------------------------------------------------------


def _section(slug: str) -> Section:
    section = SECTIONS.get(slug)
    if section is None:
        raise Http404(_("No such set-up page."))
    return section


def _setup_context(section: Section, **extra: Any) -> dict[str, Any]:
    return {"section": section, "sections": SECTIONS.values(), **extra}


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def setup_list(request: HttpRequest, section: str) -> HttpResponse:
    chosen = _section(section)
    records = chosen.model._default_manager.select_related(*chosen.related)[:500]
    rows = [(record, [getter(record) for _label, getter in chosen.columns]) for record in records]
    return render(request, "clinic/setup_list.html", _setup_context(chosen, rows=rows))


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def setup_edit(request: HttpRequest, section: str, pk: int | None = None) -> HttpResponse:
    chosen = _section(section)
    record = get_object_or_404(chosen.model, pk=pk) if pk is not None else None
    form = chosen.form(request.POST or None, instance=record)
    if request.method == "POST" and form.is_valid():
        setup_record_save(acting_user=request.user, form=form)  # type: ignore[arg-type]
        messages.success(request, _("Saved."))
        return redirect("clinic:setup_list", section=chosen.slug)
    context = _setup_context(chosen, form=form, record=record)
    return render(request, "clinic/setup_form.html", context, status=400 if form.errors else 200)


@require_POST
@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def setup_delete(request: HttpRequest, section: str, pk: int) -> HttpResponse:
    chosen = _section(section)
    if not chosen.deletable:
        raise Http404(_("These are switched off, not deleted."))
    record = get_object_or_404(chosen.model, pk=pk)
    setup_record_delete(acting_user=request.user, record=record)  # type: ignore[arg-type]
    messages.success(request, _("Removed."))
    return redirect("clinic:setup_list", section=chosen.slug)
