"""Workflows of the clinic core: staff, patients, the manager's set-up.

Each owns its transaction and attributes its writes to ``acting_user`` (clinic.audit), so
they are attributed outside a request too. Booking's workflows are in clinic.booking.services.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Model, Q
from django.db.models.functions import Lower
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils import timezone

from clinic.audit import acting_as
from clinic.models import AccessEvent, Patient, User
from clinic.roles import ROLES, Role


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


# The per-person grant the treatments app checks before a lancet is logged (app label, codename).
# Named by string: the permission belongs to treatments, which clinic does not import.
LANCET_PERMISSION = ("treatments", "use_lancet")


def staff_save(
    *, acting_user: User, staff: User, role: Role, password: str | None = None, may_use_lancet: bool | None = None
) -> User:
    """Save a staff member and give them exactly one role (the manager's staff form).

    ``may_use_lancet`` grants or withdraws the lancet (None leaves it as it is); only a
    role that performs extractions keeps it.
    """
    with transaction.atomic(), acting_as(acting_user):
        if password is not None:
            staff.set_password(password)
        staff.save()
        role_groups = Group.objects.filter(name__in=[spec.group_name for spec in ROLES.values()])
        staff.groups.remove(*role_groups)
        staff.groups.add(Group.objects.get(name=ROLES[role].group_name))
        if role not in (Role.AESTHETICIAN, Role.SPECIALIST):
            may_use_lancet = False
        if may_use_lancet is not None:
            lancet = Permission.objects.filter(
                content_type__app_label=LANCET_PERMISSION[0], codename=LANCET_PERMISSION[1]
            ).first()
            if lancet is not None:
                if may_use_lancet:
                    staff.user_permissions.add(lancet)
                else:
                    staff.user_permissions.remove(lancet)
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
