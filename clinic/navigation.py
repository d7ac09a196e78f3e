"""The navigation each role sees. One list; each item shows only to those with its permission."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from clinic import roles
from clinic.models import User


@dataclass(frozen=True)
class NavItem:
    label: Promise
    url_name: str
    icon: str
    permission: str


@dataclass(frozen=True)
class NavLink:
    label: Promise
    url: str
    icon: str
    active: bool


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem(_("Front desk"), "clinic:front_desk_home", "calendar-week", roles.WORK_FRONT_DESK),
    NavItem(_("Patients"), "clinic:patient_list", "people", roles.VIEW_PATIENT),
    NavItem(_("Plans"), "consultations:plans_to_book", "journal-check", roles.WORK_FRONT_DESK),
    NavItem(_("Waiting list"), "online:front_desk", "hourglass-split", roles.WORK_FRONT_DESK),
    NavItem(_("Consultations"), "consultations:home", "clipboard2-pulse", roles.WORK_CONSULTATIONS),
    NavItem(_("Treatments"), "treatments:home", "droplet-half", roles.WORK_TREATMENTS),
    NavItem(_("Check-ins"), "aftercare:specialist_queue", "heart-pulse", roles.WORK_CONSULTATIONS),
    NavItem(_("Role approvals"), "clinic:role_grants", "person-check", roles.WORK_CONSULTATIONS),
    # The manager reads the day schedule (the front desk has it as "Front desk").
    NavItem(_("Schedule"), "clinic:front_desk_home", "calendar-week", roles.MANAGE_CLINIC),
    NavItem(_("Messages"), "aftercare:dashboard", "envelope", roles.MANAGE_CLINIC),
    NavItem(_("Clinic"), "clinic:manager_home", "gear", roles.MANAGE_CLINIC),
    NavItem(_("Reports"), "reports:index", "bar-chart-line", roles.MANAGE_CLINIC),
    NavItem(_("Outcomes"), "reports:outcomes", "graph-down-arrow", roles.WORK_CONSULTATIONS),
    NavItem(_("Audit"), "clinic:audit", "shield-check", roles.MANAGE_CLINIC),
    NavItem(_("Products"), "treatments:product_list", "capsule", roles.MANAGE_CLINIC),
)


def navigation_for(user: User, path: str) -> list[NavLink]:
    """The links ``user`` may follow; the one whose section holds ``path`` is active."""
    links = []
    for item in NAV_ITEMS:
        if user.has_perm(item.permission):
            url = reverse(item.url_name)
            links.append(NavLink(item.label, url, item.icon, active=path.startswith(url)))
    return links
