"""Workflows of the clinic core: staff, patients, the manager's set-up.

Each owns its transaction and attributes its writes to ``acting_user`` (clinic.audit), so
they are attributed outside a request too. Booking's workflows are in clinic.booking.services.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from datetime import date, time
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Model, Q
from django.db.models.functions import Lower
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic import roles
from clinic.audit import acting_as
from clinic.models import (
    CLINICAL_ROLES,
    AccessEvent,
    Location,
    Patient,
    RoleGrant,
    RoleGrantStatus,
    StaffSchedule,
    User,
)
from clinic.roles import ROLES, Role


def _where_from(request: HttpRequest) -> dict[str, Any]:
    """The request's origin for an access event: IP, a hash of the session key, the browser."""
    session = getattr(request, "session", None)
    session_key = session.session_key if session is not None else None
    return {
        "ip": request.META.get("REMOTE_ADDR") or None,
        # The key itself would sign anyone in who read the audit; its hash still ties the
        # events of one session together.
        "session_hash": hashlib.sha256(session_key.encode()).hexdigest() if session_key else "",
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
    }


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
        **_where_from(request),
    )


def patients_listed_access(
    *, acting_user: User, patient_ids: Iterable[int | None], request: HttpRequest, page: str
) -> int:
    """Record that ``acting_user`` saw these patients on a list page: one INSERT per page view.

    The day sheet, schedules, search results, queues and dashboards show names and
    appointments; they are reads of patient data too (HIPAA 164.312(b)).
    """
    unique = sorted({pk for pk in patient_ids if pk is not None})
    if not unique:
        return 0
    where = _where_from(request)
    # One INSERT ... SELECT over the ids, sent as one array: a busy day lists hundreds of
    # patients, and a model instance and ten parameters per row (bulk_create) cost more than
    # the rest of the day schedule's Python.
    with connection.cursor() as cursor:
        cursor.execute(
            _LISTED_INSERT,
            [
                acting_user.pk,
                page[:200],
                request.get_full_path()[:500],
                timezone.now(),
                uuid.uuid4(),
                where["ip"],
                where["session_hash"],
                where["user_agent"],
                unique,
            ],
        )
    return len(unique)


# AccessEvent's table (clinic_accessevent); tests/clinic/test_access_audit.py reads the rows back.
_LISTED_INSERT = (
    "INSERT INTO clinic_accessevent"
    " (user_id, page, path, at, listed, view_id, ip, session_hash, user_agent, patient_id)"
    " SELECT %s, %s, %s, %s, true, %s, %s::inet, %s, %s, listed.patient_id"
    " FROM unnest(%s::bigint[]) AS listed(patient_id)"
)


def _set_role(staff: User, role: Role) -> None:
    role_groups = Group.objects.filter(name__in=[spec.group_name for spec in ROLES.values()])
    staff.groups.remove(*role_groups)
    staff.groups.add(Group.objects.get(name=ROLES[role].group_name))


# The per-person grant the treatments app checks before a lancet is logged (app label, codename).
# Named by string: the permission belongs to treatments, which clinic does not import.
LANCET_PERMISSION = ("treatments", "use_lancet")


def _set_lancet(staff: User, role: Role, may_use_lancet: bool | None) -> None:
    # Only a role that performs extractions keeps the lancet; None leaves it as it is.
    if role not in (Role.AESTHETICIAN, Role.SPECIALIST):
        may_use_lancet = False
    if may_use_lancet is None:
        return
    lancet = Permission.objects.filter(
        content_type__app_label=LANCET_PERMISSION[0], codename=LANCET_PERMISSION[1]
    ).first()
    if lancet is None:
        return
    if may_use_lancet:
        staff.user_permissions.add(lancet)
    else:
        staff.user_permissions.remove(lancet)


def staff_save(
    *,
    acting_user: User,
    staff: User,
    role: Role,
    password: str | None = None,
    locations: Iterable[Location] | None = None,
    may_use_lancet: bool | None = None,
) -> RoleGrant | None:
    """Save a staff member and give them exactly one role (the manager's staff form).

    A clinical role (specialist, aesthetician) they do not hold yet is not given here: it is
    requested, and waits for a second person (:func:`role_grant_decide`); until then they keep
    the role they had (a new account has none). Returns that pending request, if any.
    ``may_use_lancet`` grants or withdraws the per-person lancet permission (None leaves it).
    """
    with transaction.atomic(), acting_as(acting_user):
        if password is not None:
            staff.set_password(password)
            # The manager typed it, so it is not yet the person's own: changed at first sign-in.
            staff.must_change_password = True
        staff.save()
        if locations is not None:
            staff.locations.set(locations)
        held = {spec.role for spec in staff.role_specs} if staff.pk else set()
        if role in CLINICAL_ROLES and held != {role}:
            grant, _created = RoleGrant.objects.get_or_create(
                staff=staff, role=role.value, status=RoleGrantStatus.PENDING, defaults={"requested_by": acting_user}
            )
            _set_lancet(staff, role, may_use_lancet)
            return grant
        _set_role(staff, role)
        _set_lancet(staff, role, may_use_lancet)
    return None


class RoleGrantRefused(ValidationError):
    pass


def role_grant_decide(*, acting_user: User, grant: RoleGrant, approve: bool) -> RoleGrant:
    """A specialist (the clinical second person) approves or refuses a clinical role.

    The decider is neither the person who asked nor the person who would get the role; the
    database refuses that too (``rolegrant_decided_by_another``). The change of groups and
    the decision are written in one transaction under the decider's audit context.
    """
    if not acting_user.has_perm(roles.WORK_CONSULTATIONS):
        raise RoleGrantRefused(_("Only a specialist can approve a clinical role."))
    with transaction.atomic(), acting_as(acting_user, role_grant=grant.pk):
        locked = RoleGrant.objects.select_for_update().get(pk=grant.pk)
        if locked.status != RoleGrantStatus.PENDING:
            return locked
        if acting_user.pk in (locked.requested_by_id, locked.staff_id):
            raise RoleGrantRefused(
                _("A clinical role needs a second person: someone other than who asked for it, or who gets it.")
            )
        locked.status = RoleGrantStatus.APPROVED if approve else RoleGrantStatus.REFUSED
        locked.decided_by = acting_user
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        if approve:
            _set_role(User.objects.get(pk=locked.staff_id), Role(locked.role))
    return locked


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
    with transaction.atomic(), acting_as(acting_user):
        patient = Patient(**fields, **_consent_fields(consent=consent, previous=None))
        if not consent:
            patient.email_consent_at = None
        patient.full_clean()
        patient.save()
    return patient


def patient_update(*, acting_user: User, patient: Patient, **fields: Any) -> Patient:
    """Change a patient's details; a change of email consent records its date."""
    consent = bool(fields.pop("email_consent", patient.email_consent))
    with transaction.atomic(), acting_as(acting_user):
        for name, value in {**fields, **_consent_fields(consent=consent, previous=patient.email_consent)}.items():
            setattr(patient, name, value)
        patient.full_clean()
        patient.save()
    return patient


# --- Clinic set-up ------------------------------------------------------------------------


def setup_record_save(*, acting_user: User, form: ModelForm[Any]) -> Model:
    """Save a validated set-up form (location, room, type, hours, time off) in one transaction."""
    with transaction.atomic(), acting_as(acting_user):
        return form.save()


def setup_record_delete(*, acting_user: User, record: Model) -> None:
    """Remove a set-up record that may be deleted (working hours, time off).

    Existing bookings stay; new ones follow the new hours.
    """
    with transaction.atomic(), acting_as(acting_user):
        record.delete()


def staff_week_hours_set(
    *, acting_user: User, staff: User, location: Location, week: dict[int, tuple[time, time] | None]
) -> None:
    """Replace ``staff``'s hours at ``location`` on the days in ``week`` (None: not working there).

    One transaction: the database's ``staff_schedule_no_overlap`` still refuses a shift that
    overlaps one at another location (also one another manager saved meanwhile).
    """
    with transaction.atomic(), acting_as(acting_user):
        StaffSchedule.objects.filter(staff=staff, location=location, weekday__in=list(week)).delete()
        StaffSchedule.objects.bulk_create(
            StaffSchedule(staff=staff, location=location, weekday=day, start_time=hours[0], end_time=hours[1])
            for day, hours in sorted(week.items())
            if hours is not None
        )
