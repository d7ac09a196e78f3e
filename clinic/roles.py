"""The clinic's roles: Django groups, the permissions each job needs, each role's home page.

Roles are plain data so the migration that creates the groups, the navigation,
the demo data and the permission-matrix test all read one definition.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Role(enum.StrEnum):
    FRONT_DESK = "front_desk"
    SPECIALIST = "specialist"
    AESTHETICIAN = "aesthetician"
    MANAGER = "manager"


@dataclass(frozen=True)
class RoleSpec:
    role: Role
    group_name: str
    label: Promise
    home_url_name: str
    # "app_label.codename" strings; the migration grants exactly these.
    permissions: tuple[str, ...]


# Job permissions, declared on clinic.Patient's Meta (the record every job serves).
WORK_FRONT_DESK = "clinic.work_front_desk"
WORK_CONSULTATIONS = "clinic.work_consultations"
WORK_TREATMENTS = "clinic.work_treatments"
MANAGE_CLINIC = "clinic.manage_clinic"
VIEW_PATIENT = "clinic.view_patient"
ADD_PATIENT = "clinic.add_patient"
CHANGE_PATIENT = "clinic.change_patient"

ROLES: dict[Role, RoleSpec] = {
    Role.FRONT_DESK: RoleSpec(
        role=Role.FRONT_DESK,
        group_name="Front desk",
        label=_("Front desk"),
        home_url_name="clinic:front_desk_home",
        permissions=(WORK_FRONT_DESK, VIEW_PATIENT, ADD_PATIENT, CHANGE_PATIENT),
    ),
    Role.SPECIALIST: RoleSpec(
        role=Role.SPECIALIST,
        group_name="Specialist",
        label=_("Skin specialist"),
        home_url_name="consultations:home",
        permissions=(WORK_CONSULTATIONS, VIEW_PATIENT),
    ),
    Role.AESTHETICIAN: RoleSpec(
        role=Role.AESTHETICIAN,
        group_name="Aesthetician",
        label=_("Aesthetician"),
        home_url_name="treatments:home",
        permissions=(WORK_TREATMENTS, VIEW_PATIENT),
    ),
    Role.MANAGER: RoleSpec(
        role=Role.MANAGER,
        group_name="Manager",
        label=_("Manager"),
        home_url_name="clinic:manager_home",
        permissions=(MANAGE_CLINIC, VIEW_PATIENT),
    ),
}

ROLE_BY_GROUP = {spec.group_name: spec for spec in ROLES.values()}


def sync_role_groups(group_model: Any, permission_model: Any) -> None:
    """Make each role's group hold exactly its permissions.

    Takes the models as arguments so the data migration can pass its historical ones.
    """
    for spec in ROLES.values():
        group, _created = group_model.objects.get_or_create(name=spec.group_name)
        wanted = []
        for dotted in spec.permissions:
            app_label, codename = dotted.split(".")
            wanted.append(permission_model.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
