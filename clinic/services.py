"""Workflows of the clinic core. Each owns its transaction and takes the acting user."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinic.models import AccessEvent, Heartbeat, Patient, User
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
    staff.save()
    role_groups = Group.objects.filter(name__in=[spec.group_name for spec in ROLES.values()])
    staff.groups.remove(*role_groups)
    staff.groups.add(Group.objects.get(name=ROLES[role].group_name))
    return staff
