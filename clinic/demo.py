"""Demo data for `make run`: one sign-in per role, locations, patients.

Idempotent: every record is looked up by a natural key first, so a second run adds nothing.
Later capabilities extend ``seed`` so the demo shows them in use.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AppointmentStatusChange,
    AppointmentType,
    Location,
    Patient,
    Room,
    StaffSchedule,
    User,
)
from clinic.roles import ROLES, Role

# Demo-only credentials, printed by `make run`. Never used outside the local demo.
DEMO_PASSWORD = "clinic-demo-2026"  # noqa: S105  (printed by make run; demo only)


DEMO_RECOVERY_CODES = 3


def demo_totp_key(username: str) -> str:
    """The fixed TOTP secret of a demo account (hex, as django-otp stores it).

    Derived from the username so `make run` can print it without reading the database.
    Demo only: real accounts get a random secret when their owner enrols.
    """
    return hashlib.sha256(f"clinic-demo-totp:{username}".encode()).hexdigest()[:40]


def demo_recovery_codes(username: str) -> list[str]:
    digest = hashlib.sha256(f"clinic-demo-recovery:{username}".encode()).hexdigest()
    return [digest[i * 8 : i * 8 + 8] for i in range(DEMO_RECOVERY_CODES)]


def demo_totp_code(username: str) -> str:
    """The code an authenticator app with the demo secret shows right now."""
    totp = TOTP(bytes.fromhex(demo_totp_key(username)), step=30, t0=0, digits=6, drift=0)
    return f"{totp.token():06d}"


def enrol_demo_second_factor(user: User) -> None:
    """Demo accounts come with their second factor set up (the fixed secret above)."""
    if not TOTPDevice.objects.filter(user=user).exists():
        TOTPDevice.objects.create(user=user, name="Demo authenticator", key=demo_totp_key(user.username))
    if not StaticDevice.objects.filter(user=user).exists():
        device = StaticDevice.objects.create(user=user, name="Recovery codes")
        StaticToken.objects.bulk_create(
            [StaticToken(device=device, token=code) for code in demo_recovery_codes(user.username)]
        )


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

# Each with a phone: every patient email gives it (system check clinic.E002).
DEMO_LOCATIONS = (
    ("Clearwater Central", "Europe/London", "12 Harbour Street, London", "+442079460100"),
    ("Clearwater Riverside", "Europe/London", "3 Mill Lane, Richmond", "+442079460200"),
)

DEMO_PATIENTS = (
    ("Anna", "Smith", date(1991, 4, 12), "anna.smith@example.com", "+447700900101", True),
    ("Ben", "Okafor", date(1987, 9, 3), "ben.okafor@example.com", "+447700900102", True),
    ("Chloé", "Martin", date(1999, 1, 27), "chloe.martin@example.com", "+447700900103", True),
    ("Daniel", "Nguyen", date(1994, 6, 18), "", "+447700900104", False),
    ("Eva", "Rossi", date(2001, 11, 5), "eva.rossi@example.com", "+447700900105", True),
    ("Farah", "Haddad", date(1985, 2, 14), "farah.haddad@example.com", "+447700900106", True),
)


@transaction.atomic
def seed() -> dict[str, int]:
    created = {"locations": 0, "staff": 0, "patients": 0, "rooms": 0, "types": 0, "hours": 0, "appointments": 0}
    locations = []
    for name, zone, address, phone in DEMO_LOCATIONS:
        location, made = Location.objects.get_or_create(
            name=name, defaults={"time_zone": zone, "address": address, "phone": phone}
        )
        if not location.phone:
            # A demo clinic loaded before locations had phones gets one (the system check needs it).
            location.phone = phone
            location.save(update_fields=["phone"])
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
        enrol_demo_second_factor(user)
        # The demo staff work at both demo locations, so the switcher has something to offer.
        user.locations.add(*locations)
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
                # Registered before their first visit (the consultations demo goes back 58 days).
                "created_at": timezone.now() - timedelta(days=90),
            },
        )
        created["patients"] += made
    seed_booking(locations, created)
    return created


DEMO_ROOMS = {"Clearwater Central": ("Room 1", "Room 2", "Room 3"), "Clearwater Riverside": ("Room A", "Room B")}
DEMO_TYPES = (
    ("Free consultation", AppointmentKind.CONSULTATION, 45, Role.SPECIALIST),
    ("Extraction session", AppointmentKind.EXTRACTION, 60, Role.AESTHETICIAN),
    ("Progress review", AppointmentKind.REVIEW, 20, Role.SPECIALIST),
)
# (username, location index, weekdays, from, until)
DEMO_HOURS = (
    ("specialist", 0, range(5), time(9), time(17)),
    ("aesthetician", 0, range(5), time(9), time(17)),
    ("specialist", 1, (5,), time(10), time(16)),
    ("aesthetician", 1, (5,), time(10), time(16)),
)


def demo_hours(today: date) -> list[tuple[str, int, tuple[int, ...], time, time]]:
    """DEMO_HOURS, with today a working day at Central whatever weekday ``make run`` runs on.

    On a Saturday or a Sunday Central opens too (the demo day has to show something); when
    that Saturday is Riverside's day, Riverside's moves to the Sunday, so nobody is at two
    locations at once.
    """
    weekday = today.weekday()
    hours = []
    for username, index, weekdays, opens, closes in DEMO_HOURS:
        days = tuple(weekdays)
        if index == 0 and weekday not in days:
            days = (*days, weekday)
        if index != 0 and weekday in days:
            days = tuple(6 if day == weekday else day for day in days)
        hours.append((username, index, days, opens, closes))
    return hours


def nth_working_day(today: date, n: int, working: set[int]) -> date:
    """Today for n == 0, else the n-th next day Central is open (upcoming appointments fall on working days)."""
    day = today
    for _ in range(n):
        day += timedelta(days=1)
        while day.weekday() not in working:
            day += timedelta(days=1)
    return day


# Today at Central: (practitioner, room, type, patient index, local start, status, cancel reason)
DEMO_TODAY = (
    ("specialist", "Room 1", "Free consultation", 0, time(9, 0), AppointmentStatus.COMPLETED, ""),
    ("specialist", "Room 1", "Free consultation", 1, time(10, 0), AppointmentStatus.NO_SHOW, ""),
    ("specialist", "Room 1", "Free consultation", 2, time(11, 0), AppointmentStatus.CHECKED_IN, ""),
    # Daniel, referred to his GP a month ago for the nodules, comes back to be re-assessed (he
    # has no plan, so no progress review: a review follows a programme).
    ("specialist", "Room 1", "Free consultation", 3, time(12, 0), AppointmentStatus.CONFIRMED, ""),
    # Not "completed": a completed extraction has a signed session log, which the clinic's demo
    # cannot write (tests/treatments/test_demo_story.py checks the demo for such holes).
    ("aesthetician", "Room 2", "Extraction session", 4, time(9, 30), AppointmentStatus.NO_SHOW, ""),
    ("aesthetician", "Room 2", "Extraction session", 5, time(11, 0), AppointmentStatus.IN_PROGRESS, ""),
    ("aesthetician", "Room 2", "Extraction session", 0, time(13, 0), AppointmentStatus.CHECKED_IN, ""),
    # Ben missed his 10:00 consultation; the desk rebooked him for 16:00 and he then cancelled.
    # (No extraction for Ben or Chloé: neither has a consented plan.)
    ("specialist", "Room 1", "Free consultation", 1, time(16, 0), AppointmentStatus.CANCELLED, "Patient is unwell"),
)
# Upcoming: (days ahead, practitioner, room, type, patient index, local start, status)
DEMO_UPCOMING = (
    # Ben, unwell today, rebooked his consultation for the next working day.
    (1, "specialist", "Room 1", "Free consultation", 1, time(10, 30), AppointmentStatus.BOOKED),
    # Anna's second session keeps her plan's 21 days (18 working days is at least 21 days).
    (18, "aesthetician", "Room 2", "Extraction session", 0, time(10, 0), AppointmentStatus.BOOKED),
    # Eva missed today's extraction (above); her plan's session is this rebooked one.
    (2, "aesthetician", "Room 2", "Extraction session", 4, time(9, 30), AppointmentStatus.BOOKED),
    (2, "specialist", "Room 1", "Progress review", 4, time(11, 0), AppointmentStatus.BOOKED),
    (19, "aesthetician", "Room 2", "Extraction session", 5, time(15, 0), AppointmentStatus.BOOKED),
    (7, "specialist", "Room 1", "Progress review", 0, time(9, 0), AppointmentStatus.BOOKED),
)
# How each status is reached from "booked", for the change history.
PATHS = {
    AppointmentStatus.BOOKED: (),
    AppointmentStatus.CONFIRMED: (AppointmentStatus.CONFIRMED,),
    AppointmentStatus.CHECKED_IN: (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN),
    AppointmentStatus.IN_PROGRESS: (AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_PROGRESS),
    AppointmentStatus.COMPLETED: (
        AppointmentStatus.CHECKED_IN,
        AppointmentStatus.IN_PROGRESS,
        AppointmentStatus.COMPLETED,
    ),
    AppointmentStatus.NO_SHOW: (AppointmentStatus.NO_SHOW,),
    AppointmentStatus.CANCELLED: (AppointmentStatus.CANCELLED,),
}


def seed_booking(locations: list[Location], created: dict[str, int]) -> None:
    """Rooms, appointment types, working hours, and a day of appointments in every status.

    Written straight to the tables (not through appointment_book): the demo day has past
    and in-progress appointments, and extraction sessions before the consultation issue
    can clear anyone. Appointments are added only while the demo patients have none.
    """
    by_location = {location.name: location for location in locations}
    rooms: dict[str, Room] = {}
    for location_name, names in DEMO_ROOMS.items():
        for name in names:
            room, made = Room.objects.get_or_create(location=by_location[location_name], name=name)
            rooms[f"{location_name}/{name}"] = room
            created["rooms"] += made
    types: dict[str, AppointmentType] = {}
    for name, kind, minutes, role in DEMO_TYPES:
        types[name], made = AppointmentType.objects.get_or_create(
            name=name, defaults={"kind": kind, "duration_minutes": minutes, "performed_by": role}
        )
        created["types"] += made
    staff = {user.username: user for user in User.objects.filter(username__in=[p.username for p in DEMO_STAFF])}
    for username, index, weekdays, opens, closes in demo_hours(locations[0].today()):
        for weekday in weekdays:
            elsewhere = StaffSchedule.objects.filter(staff=staff[username], weekday=weekday).exclude(
                location=locations[index]
            )
            if elsewhere.exists():  # a demo loaded on another weekday: hours never overlap
                continue
            _, made = StaffSchedule.objects.get_or_create(
                staff=staff[username],
                location=locations[index],
                weekday=weekday,
                defaults={"start_time": opens, "end_time": closes},
            )
            created["hours"] += made
    patients = list(Patient.objects.filter(email__in=[p[3] for p in DEMO_PATIENTS if p[3]]).order_by("id"))
    patients += list(Patient.objects.filter(first_name="Daniel", last_name="Nguyen"))
    by_name = {p.first_name: p for p in patients}
    ordered = [by_name[first] for first, *_ in DEMO_PATIENTS if first in by_name]
    if len(ordered) < len(DEMO_PATIENTS) or Appointment.objects.filter(patient__in=ordered).exists():
        return
    central = locations[0]
    desk = staff["frontdesk"]
    today = central.today()
    working = {weekday for username, index, weekdays, *_ in demo_hours(today) if index == 0 for weekday in weekdays}
    plans: list[tuple[int, str, str, str, int, time, AppointmentStatus, str]] = [
        (0, who, room, kind, patient, at, status, reason) for who, room, kind, patient, at, status, reason in DEMO_TODAY
    ] + [
        (days, who, room, kind, patient, at, status, "") for days, who, room, kind, patient, at, status in DEMO_UPCOMING
    ]
    for days, who, room_name, type_name, patient_index, at, status, reason in plans:
        appointment_type = types[type_name]
        start = datetime.combine(nth_working_day(today, days, working), at, tzinfo=central.zone)
        appointment = Appointment.objects.create(
            appointment_type=appointment_type,
            patient=ordered[patient_index],
            practitioner=staff[who],
            room=rooms[f"{central.name}/{room_name}"],
            location=central,
            start=start,
            end=start + appointment_type.duration,
            status=status,
            cancel_reason=reason,
            created_by=desk,
        )
        previous = AppointmentStatus.BOOKED
        for step in PATHS[status]:
            by = staff[who] if step in (AppointmentStatus.IN_PROGRESS, AppointmentStatus.COMPLETED) else desk
            AppointmentStatusChange.objects.create(
                appointment=appointment, from_status=previous, to_status=step, by=by, reason=reason
            )
            previous = step
        created["appointments"] += 1
