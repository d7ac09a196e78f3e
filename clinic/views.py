from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from clinic import health, roles
from clinic.forms import NewStaffForm, PatientForm, StaffForm
from clinic.http import AuthenticatedHttpRequest
from clinic.models import Appointment, AppointmentStatus, Location, Patient, User
from clinic.selectors import SESSION_LOCATION_KEY
from clinic.services import (
    patient_record_access,
    patient_register,
    patient_update,
    setup_record_delete,
    setup_record_save,
    staff_save,
)
from clinic.setup_forms import SECTIONS, Section

SEARCH_LIMIT = 20
FINISHED = (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)


def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Send each person to their role's home page."""
    spec = request.user.primary_role
    if spec is None:
        raise PermissionDenied(_("Your account has no role yet. Ask the clinic manager to assign one."))
    return redirect(spec.home_url_name)


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def manager_home(request: AuthenticatedHttpRequest) -> HttpResponse:
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
def staff_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = NewStaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        staff = staff_save(
            acting_user=request.user,
            staff=form.save(commit=False),
            role=form.cleaned_data["role"],
            password=form.cleaned_data["password1"],
            may_use_lancet=form.cleaned_data["may_use_lancet"],
        )
        messages.success(request, _("%(name)s can now sign in.") % {"name": staff.display_name})
        return redirect("clinic:manager_home")
    return render(request, "clinic/user_form.html", {"form": form, "adding": True})


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def staff_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    staff = get_object_or_404(User, pk=pk)
    form = StaffForm(request.POST or None, instance=staff, acting_user=request.user)
    if request.method == "POST" and form.is_valid():
        staff_save(
            acting_user=request.user,
            staff=form.save(commit=False),
            role=form.cleaned_data["role"],
            may_use_lancet=form.cleaned_data["may_use_lancet"],
        )
        messages.success(request, _("Saved %(name)s.") % {"name": staff.display_name})
        return redirect("clinic:manager_home")
    return render(request, "clinic/user_form.html", {"form": form, "adding": False, "staff": staff})


@require_POST
def switch_location(request: AuthenticatedHttpRequest) -> HttpResponse:
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
    state = health.check()
    age = state.dispatcher_age_seconds
    body = {
        "status": "ok" if state.ok else "unavailable",
        "database": "ok" if state.database else "unavailable",
        "broker": "ok" if state.broker else "unavailable",
        "dispatcher_heartbeat_age_seconds": None if age is None else round(age, 1),
    }
    return JsonResponse(body, status=200 if state.ok else 503)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    reason = str(exception) if exception and str(exception) else ""
    return render(request, "403.html", {"reason": reason}, status=403)


# --- Patients ------------------------------------------------------------------------------


@permission_required(roles.VIEW_PATIENT, raise_exception=True)
def patient_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """One search box answering as you type; without a query, the latest registrations."""
    query = request.GET.get("q", "").strip()[:100]
    if query:
        found = list(Patient.objects.search(query, limit=SEARCH_LIMIT))
    else:
        found = list(Patient.objects.order_by("-created_at")[:SEARCH_LIMIT])
    context = {"patients": found, "query": query, "limit": SEARCH_LIMIT}
    if request.htmx:
        return render(request, "clinic/patient_list.html#results", context)
    return render(request, "clinic/patient_list.html", context)


@permission_required(roles.ADD_PATIENT, raise_exception=True)
def patient_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PatientForm(request.POST or None, region=settings.CLINIC_PHONE_REGION)
    if request.method == "POST" and form.is_valid():
        patient = patient_register(acting_user=request.user, **form.details)
        messages.success(request, _("%(name)s is registered.") % {"name": patient.full_name})
        return redirect(patient)
    return render(request, "clinic/patient_form.html", {"form": form}, status=400 if form.errors else 200)


@permission_required(roles.CHANGE_PATIENT, raise_exception=True)
def patient_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    patient_record_access(acting_user=request.user, patient=patient, request=request, page="patient_edit")
    form = PatientForm(request.POST or None, instance=Patient.objects.get(pk=pk), region=settings.CLINIC_PHONE_REGION)
    if request.method == "POST" and form.is_valid():
        patient_update(acting_user=request.user, patient=patient, **form.details)
        messages.success(request, _("Saved."))
        return redirect(patient)
    context = {"form": form, "patient": patient}
    return render(request, "clinic/patient_form.html", context, status=400 if form.errors else 200)


@permission_required(roles.VIEW_PATIENT, raise_exception=True)
def patient_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    patient_record_access(acting_user=request.user, patient=patient, request=request, page="patient_detail")
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
def setup_list(request: AuthenticatedHttpRequest, section: str) -> HttpResponse:
    chosen = _section(section)
    records = chosen.model._default_manager.select_related(*chosen.related)[:500]
    rows = [(record, [getter(record) for _label, getter in chosen.columns]) for record in records]
    return render(request, "clinic/setup_list.html", _setup_context(chosen, rows=rows))


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def setup_edit(request: AuthenticatedHttpRequest, section: str, pk: int | None = None) -> HttpResponse:
    chosen = _section(section)
    record = get_object_or_404(chosen.model, pk=pk) if pk is not None else None
    form = chosen.form(request.POST or None, instance=record)
    if request.method == "POST" and form.is_valid():
        try:
            setup_record_save(acting_user=request.user, form=form)
        except ValidationError as refused:  # a database constraint refused what a concurrent save made invalid
            form.add_error(None, refused)
        else:
            messages.success(request, _("Saved."))
            return redirect("clinic:setup_list", section=chosen.slug)
    context = _setup_context(chosen, form=form, record=record)
    return render(request, "clinic/setup_form.html", context, status=400 if form.errors else 200)


@require_POST
@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def setup_delete(request: AuthenticatedHttpRequest, section: str, pk: int) -> HttpResponse:
    chosen = _section(section)
    if not chosen.deletable:
        raise Http404(_("These are switched off, not deleted."))
    record = get_object_or_404(chosen.model, pk=pk)
    setup_record_delete(acting_user=request.user, record=record)
    messages.success(request, _("Removed."))
    return redirect("clinic:setup_list", section=chosen.slug)
