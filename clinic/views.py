from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from clinic import health, roles
from clinic.forms import NewStaffForm, StaffForm
from clinic.models import Location, Patient, User
from clinic.selectors import SESSION_LOCATION_KEY
from clinic.services import patient_record_access, staff_save


def home(request: HttpRequest) -> HttpResponse:
    """Send each person to their role's home page."""
    spec = request.user.primary_role  # type: ignore[union-attr]
    if spec is None:
        raise PermissionDenied(_("Your account has no role yet. Ask the clinic manager to assign one."))
    return redirect(spec.home_url_name)


@permission_required(roles.WORK_FRONT_DESK, raise_exception=True)
def front_desk_home(request: HttpRequest) -> HttpResponse:
    recent = Patient.objects.order_by("-created_at")[:10]
    return render(request, "clinic/front_desk_home.html", {"recent_patients": recent})


@permission_required(roles.VIEW_PATIENT, raise_exception=True)
def patient_list(request: HttpRequest) -> HttpResponse:
    patients = Patient.objects.all()[:50]
    return render(request, "clinic/patient_list.html", {"patients": patients})


@permission_required(roles.VIEW_PATIENT, raise_exception=True)
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    patient_record_access(acting_user=request.user, patient=patient, request=request, page="patient_detail")  # type: ignore[arg-type]
    return render(request, "clinic/patient_detail.html", {"patient": patient})


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def manager_home(request: HttpRequest) -> HttpResponse:
    staff = (
        User.objects.all()
        .prefetch_related(Prefetch("groups"))
        .select_related("home_location")
        .order_by("-is_active", "last_name", "first_name")
    )
    context: dict[str, Any] = {"staff": staff, "locations": Location.objects.all()}
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
    form = StaffForm(request.POST or None, instance=staff)
    if request.method == "POST" and form.is_valid():
        if staff.pk == request.user.pk and not form.cleaned_data["is_active"]:
            form.add_error("is_active", _("You cannot stop yourself from signing in."))
        else:
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
