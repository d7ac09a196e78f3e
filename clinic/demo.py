"""Demo data for `make run`: one sign-in per role, locations, patients.

Idempotent: every record is looked up by a natural key first, so a second run adds nothing.
Later capabilities extend ``seed`` so the demo shows them in use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from clinic.models import Location, Patient, User
from clinic.roles import ROLES, Role

# Demo-only credentials, printed by `make run`. Never used outside the local demo.
DEMO_PASSWORD = "clinic-demo-2026"  # noqa: S105  (printed by make run; demo only)


@dataclass(frozen=True)
class DemoStaff:
    username: str
    first_name: str
    last_name: str
    role: Role


DEMO_STAFF = (
    DemoStaff("frontdesk", "Fiona", "Desk", Role.FRONT_DESK),
    DemoStaff("specialist", "Dr Sara", "Lind", Role.SPECIALIST),
    DemoStaff("aesthetician", "Amira", "Cole", Role.AESTHETICIAN),
    DemoStaff("manager", "Martin", "Hale", Role.MANAGER),
)

DEMO_LOCATIONS = (
    ("Clearwater Central", "Europe/London", "12 Harbour Street, London"),
    ("Clearwater Riverside", "Europe/London", "3 Mill Lane, Richmond"),
)

DEMO_PATIENTS = (
    ("Anna", "Smith", date(1991, 4, 12), "anna.smith@example.com", "+44 7700 900101", True),
    ("Ben", "Okafor", date(1987, 9, 3), "ben.okafor@example.com", "+44 7700 900102", True),
    ("Chloé", "Martin", date(1999, 1, 27), "chloe.martin@example.com", "+44 7700 900103", True),
    ("Daniel", "Nguyen", date(1994, 6, 18), "", "+44 7700 900104", False),
    ("Eva", "Rossi", date(2001, 11, 5), "eva.rossi@example.com", "+44 7700 900105", False),
    ("Farah", "Haddad", date(1985, 2, 14), "farah.haddad@example.com", "+44 7700 900106", True),
)


@transaction.atomic
def seed() -> dict[str, int]:
    created = {"locations": 0, "staff": 0, "patients": 0}
    locations = []
    for name, zone, address in DEMO_LOCATIONS:
        location, made = Location.objects.get_or_create(name=name, defaults={"time_zone": zone, "address": address})
        locations.append(location)
        created["locations"] += made
    for person in DEMO_STAFF:
        user, made = User.objects.get_or_create(
            username=person.username,
            defaults={
                "first_name": person.first_name,
                "last_name": person.last_name,
                "email": f"{person.username}@clinic.example",
                "home_location": locations[0],
            },
        )
        if made:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=ROLES[person.role].group_name))
        created["staff"] += made
    consent_at = timezone.now() - timedelta(days=30)
    for first, last, born, email, phone, consent in DEMO_PATIENTS:
        _, made = Patient.objects.get_or_create(
            first_name=first,
            last_name=last,
            date_of_birth=born,
            defaults={
                "email": email,
                "phone": phone,
                "email_consent": consent,
                "email_consent_at": consent_at if consent else None,
            },
        )
        created["patients"] += made
    return created
