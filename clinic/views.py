from __future__ import annotations

import csv
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from clinic import field_groups, health, hooks, roles
from clinic.audit_trail import AuditFilter, AuditRow, Kind, audit_trail
from clinic.audit_trail import names as audit_names
from clinic.field_groups import FieldGroup
from clinic.forms import PERFORMER_ROLES, AuditFilterForm, NewStaffForm, PatientForm, StaffForm
from clinic.hooks import TIMELINE_KIND_LABELS, TimelineEntry, TimelineKind
from clinic.http import AuthenticatedHttpRequest, safe_next, working_location
from clinic.models import (
    Appointment,
    AppointmentStatus,
    AppointmentStatusChange,
    Location,
    Patient,
    RoleGrant,
    RoleGrantStatus,
    User,
)
from clinic.selectors import SESSION_LOCATION_KEY, member_locations
from clinic.services import (
    RoleGrantRefused,
    patient_record_access,
    patient_register,
    patient_update,
    patients_listed_access,
    role_grant_decide,
    setup_record_delete,
    setup_record_save,
    staff_save,
    staff_week_hours_set,
)
from clinic.setup_forms import OVERLAPPING_HOURS, SECTIONS, SHIFT_OVERLAP, Section, WeekHoursForm

SEARCH_LIMIT = 20
# Done is done: these are past even while their hour is not.
FINISHED = (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED)


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


def _grant_pending_message(request: AuthenticatedHttpRequest, grant: RoleGrant | None) -> None:
    if grant is not None:
        messages.info(
            request,
            _("The %(role)s role waits for a specialist's approval; until then it is not given.")
            % {"role": grant.get_role_display().lower()},
        )


@permission_required(roles.WORK_CONSULTATIONS, raise_exception=True)
def role_grants(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Clinical roles waiting for a second person: a specialist approves or refuses each."""
    pending = RoleGrant.objects.filter(status=RoleGrantStatus.PENDING).select_related("staff", "requested_by")
    return render(request, "clinic/role_grants.html", {"pending": pending})


@require_POST
@permission_required(roles.WORK_CONSULTATIONS, raise_exception=True)
def role_grant_decide_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    grant = get_object_or_404(RoleGrant, pk=pk)
    approve = request.POST.get("decision") == "approve"
    try:
        role_grant_decide(acting_user=request.user, grant=grant, approve=approve)
    except RoleGrantRefused as refused:
        messages.error(request, refused.messages[0])
    else:
        messages.success(request, _("Approved.") if approve else _("Refused."))
    return redirect("clinic:role_grants")


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def staff_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = NewStaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        staff = form.save(commit=False)
        grant = staff_save(
            acting_user=request.user,
            staff=staff,
            role=form.cleaned_data["role"],
            password=form.cleaned_data["password1"],
            locations=form.cleaned_data["locations"],
            may_use_lancet=form.cleaned_data["may_use_lancet"],
        )
        messages.success(request, _("%(name)s can now sign in.") % {"name": staff.display_name})
        _grant_pending_message(request, grant)
        return redirect("clinic:manager_home")
    return render(request, "clinic/user_form.html", {"form": form, "adding": True})


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def staff_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    staff = get_object_or_404(User, pk=pk)
    form = StaffForm(request.POST or None, instance=staff, acting_user=request.user)
    if request.method == "POST" and form.is_valid():
        grant = staff_save(
            acting_user=request.user,
            staff=form.save(commit=False),
            role=form.cleaned_data["role"],
            locations=form.cleaned_data["locations"],
            may_use_lancet=form.cleaned_data["may_use_lancet"],
        )
        messages.success(request, _("Saved %(name)s.") % {"name": staff.display_name})
        _grant_pending_message(request, grant)
        return redirect("clinic:manager_home")
    return render(request, "clinic/user_form.html", {"form": form, "adding": False, "staff": staff})


@require_POST
def switch_location(request: AuthenticatedHttpRequest) -> HttpResponse:
    # Only a location the person works at: any other id (or one that is not a number) is a 404.
    location = get_object_or_404(member_locations(request.user), pk=_int_or_none(request.POST.get("location")))
    request.session[SESSION_LOCATION_KEY] = location.pk
    messages.success(request, _("You are now working at %(location)s.") % {"location": location.name})
    return HttpResponseRedirect(safe_next(request, reverse("home")))


def _int_or_none(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    # PostgreSQL's bigint ends here; a larger number would fail in the query, not match nothing.
    return number if -(2**63) <= number < 2**63 else None


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
    patients_listed_access(
        acting_user=request.user, patient_ids=(p.pk for p in found), request=request, page="patient_search"
    )
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
    # The patient is the clinic's; their appointments are listed only at the person's locations.
    appointments = Appointment.objects.visible_to(request.user).filter(patient=patient).with_related()
    context = {
        "patient": patient,
        # By the appointment's end and its status, never the calendar date: a checked-in 10:00
        # appointment is past at 15:00, and a completed, missed or cancelled one is past at once.
        "upcoming": appointments.filter(end__gt=now).exclude(status__in=FINISHED).order_by("start"),
        "past": appointments.filter(Q(end__lte=now) | Q(status__in=FINISHED)).order_by("-start")[:50],
        "can_book": request.user.has_perm(roles.WORK_FRONT_DESK),
        "can_edit": request.user.has_perm(roles.CHANGE_PATIENT),
        **_timeline(request, patient, appointments),
    }
    template = "clinic/patient_detail.html"
    if request.htmx and request.GET.get("kind") is not None:
        template += "#timeline"
    return render(request, template, context)


# The field group each kind of timeline entry needs: the filter offers only kinds one may see.
TIMELINE_KIND_GROUPS = {
    TimelineKind.APPOINTMENT: FieldGroup.SCHEDULING,
    TimelineKind.CONSULTATION: FieldGroup.CLINICAL_DECISION,
    TimelineKind.PLAN: FieldGroup.PLAN,
    TimelineKind.SESSION: FieldGroup.SESSION_LOG,
    TimelineKind.MESSAGE: FieldGroup.MESSAGE_CONTENTS,
    TimelineKind.CHECKIN: FieldGroup.CHECKIN_ANSWERS,
    TimelineKind.REPLY: FieldGroup.SCHEDULING,
    TimelineKind.QUEUE: FieldGroup.CHECKIN_ANSWERS,
}
TIMELINE_LIMIT = 200


def _appointment_entries(appointments: QuerySet[Appointment]) -> list[TimelineEntry]:
    """Each appointment with its status history (and moves), at its start."""
    changes = Prefetch(
        "status_changes", queryset=AppointmentStatusChange.objects.select_related("by").order_by("at", "id")
    )
    entries = []
    for appointment in appointments.prefetch_related(changes).order_by("-start")[:TIMELINE_LIMIT]:
        zone = appointment.location.zone
        lines = [
            _("Booked %(at)s") % {"at": date_format(appointment.created_at.astimezone(zone), "j M Y, H:i")},
        ]
        for change in appointment.status_changes.all():
            at = date_format(change.at.astimezone(zone), "j M Y, H:i")
            if change.is_reschedule and change.old_start and change.new_start:
                text = _("%(at)s: moved from %(old)s to %(new)s") % {
                    "at": at,
                    "old": date_format(change.old_start.astimezone(zone), "j M, H:i"),
                    "new": date_format(change.new_start.astimezone(zone), "j M, H:i"),
                }
            else:
                text = _("%(at)s: %(status)s") % {"at": at, "status": change.get_to_status_display()}
            by = change.by.display_name
            lines.append(f"{text} ({by}){' — ' + change.reason if change.reason else ''}")
        entries.append(
            TimelineEntry(
                at=appointment.start,
                kind=TimelineKind.APPOINTMENT,
                group=FieldGroup.SCHEDULING,
                title=f"{appointment.appointment_type.name}: {appointment.get_status_display()}",
                detail=f"{appointment.practitioner.display_name} · {appointment.location.name}",
                url=appointment.get_absolute_url(),
                lines=tuple(lines),
            )
        )
    return entries


def _timeline(
    request: AuthenticatedHttpRequest, patient: Patient, appointments: QuerySet[Appointment]
) -> dict[str, Any]:
    """The patient's story, newest first, of one kind (``?kind=``) or all; only what the role sees."""
    groups = frozenset(group.value for group in FieldGroup if field_groups.sees(request.user, group))
    offered = [kind for kind, group in TIMELINE_KIND_GROUPS.items() if group in groups]
    chosen = request.GET.get("kind", "")
    kinds = frozenset({TimelineKind(chosen)}) if chosen in offered else frozenset(offered)
    entries = hooks.patient_timeline(patient=patient, kinds=kinds, groups=groups)
    if TimelineKind.APPOINTMENT in kinds:
        entries = sorted([*entries, *_appointment_entries(appointments)], key=lambda entry: entry.at, reverse=True)
    return {
        "timeline": entries,
        "timeline_kinds": [(kind.value, TIMELINE_KIND_LABELS[kind]) for kind in offered],
        "timeline_kind": chosen if chosen in offered else "",
    }


# --- Clinic set-up (manager) ---------------------------------------------------------------


def _section(slug: str) -> Section:
    section = SECTIONS.get(slug)
    if section is None:
        raise Http404(_("No such set-up page."))
    return section


def _records(section: Section, user: User) -> QuerySet[Any]:
    """A section's records; those that belong to a location (rooms, hours) only at the manager's."""
    records = section.model._default_manager.all()
    if any(field.name == "location" for field in section.model._meta.get_fields()):
        records = records.filter(location_id__in=user.location_ids())
    return records


def _setup_context(section: Section, **extra: Any) -> dict[str, Any]:
    return {"section": section, "sections": SECTIONS.values(), **extra}


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def setup_list(request: AuthenticatedHttpRequest, section: str) -> HttpResponse:
    chosen = _section(section)
    records = _records(chosen, request.user).select_related(*chosen.related)[:500]
    rows = [(record, [getter(record) for _label, getter in chosen.columns]) for record in records]
    extra: dict[str, Any] = {}
    if chosen.slug == "working-hours":
        # Each person's week is edited as one grid (working_hours_week).
        extra["week_staff"] = User.objects.in_roles(*PERFORMER_ROLES).order_by("last_name", "first_name")
    return render(request, "clinic/setup_list.html", _setup_context(chosen, rows=rows, **extra))


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def working_hours_week(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """One person's week at the manager's working location, as a grid of days."""
    location = working_location(request)
    staff = get_object_or_404(User.objects.in_roles(*PERFORMER_ROLES), pk=pk)
    form = WeekHoursForm(request.POST or None, staff=staff, location=location)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                staff_week_hours_set(acting_user=request.user, staff=staff, location=location, week=form.week())
        except IntegrityError as error:
            if getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) != SHIFT_OVERLAP:
                raise
            form.add_error(None, OVERLAPPING_HOURS)  # another manager saved a clashing shift meanwhile
        else:
            messages.success(request, _("Working hours saved for %(name)s.") % {"name": staff.display_name})
            return redirect("clinic:setup_list", "working-hours")
    context = _setup_context(SECTIONS["working-hours"], form=form, staff=staff, location=location)
    return render(request, "clinic/working_hours_week.html", context, status=400 if form.errors else 200)


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def setup_edit(request: AuthenticatedHttpRequest, section: str, pk: int | None = None) -> HttpResponse:
    chosen = _section(section)
    record = get_object_or_404(_records(chosen, request.user), pk=pk) if pk is not None else None
    form = chosen.form(request.POST or None, instance=record)
    location_field = form.fields.get("location")
    if isinstance(location_field, forms.ModelChoiceField):
        # A room or shift goes only at a location the manager works at.
        location_field.queryset = member_locations(request.user)
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
    record = get_object_or_404(_records(chosen, request.user), pk=pk)
    setup_record_delete(acting_user=request.user, record=record)
    messages.success(request, _("Removed."))
    return redirect("clinic:setup_list", section=chosen.slug)


# --- The privacy audit ---------------------------------------------------------------------

AUDIT_CSV_LIMIT = 10_000


def _audit_filter(form: AuditFilterForm, zone: tzinfo) -> AuditFilter:
    data = form.cleaned_data
    since = datetime.combine(data["since"], time.min, tzinfo=zone) if data.get("since") else None
    until = datetime.combine(data["until"] + timedelta(days=1), time.min, tzinfo=zone) if data.get("until") else None
    user = data.get("user")
    return AuditFilter(
        patient_id=data.get("patient"),
        user_id=user.pk if user is not None else None,
        since=since,
        until=until,
        kinds=tuple(data.get("kinds") or Kind.ALL),
    )


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def audit(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Who viewed or changed which patient, when and from where; filterable, and as CSV."""
    form = AuditFilterForm(request.GET or None)
    rows: list[AuditRow] = []
    if form.is_bound and not form.is_valid():
        return render(request, "clinic/audit.html", {"form": form, "rows": rows}, status=400)
    if not form.is_bound:
        form = AuditFilterForm({})
        form.is_valid()
    chosen = _audit_filter(form, timezone.get_current_timezone())
    as_csv = request.GET.get("format") == "csv"
    rows = audit_trail(chosen, limit=AUDIT_CSV_LIMIT if as_csv else 500)
    users, patients = audit_names(rows)
    if as_csv:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="clinic-audit.csv"'
        writer = csv.writer(response)
        writer.writerow(["at", "kind", "user_id", "user", "patient_id", "patient", "what", "ip", "session", "browser"])
        for row in rows:
            writer.writerow(
                [
                    row.at.isoformat(),
                    row.kind,
                    row.user_id or "",
                    _csv_safe(users.get(row.user_id or 0, "")),
                    row.patient_id or "",
                    _csv_safe(patients.get(row.patient_id or 0, "")),
                    _csv_safe(row.what),
                    row.ip,
                    row.session,
                    _csv_safe(row.user_agent),
                ]
            )
        return response
    entries = [(row, users.get(row.user_id or 0, ""), patients.get(row.patient_id or 0, "")) for row in rows]
    csv_query = request.GET.copy()
    csv_query["format"] = "csv"
    context = {"form": form, "entries": entries, "csv_query": csv_query.urlencode()}
    return render(request, "clinic/audit.html", context)


def _csv_safe(value: str) -> str:
    # A cell starting with = + - @ is a formula in a spreadsheet (CSV injection, OWASP).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
