"""The one factory module for the whole suite."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from clinic.models import (
    Appointment,
    AppointmentKind,
    AppointmentType,
    Location,
    Patient,
    Room,
    StaffSchedule,
    User,
)
from clinic.roles import ROLES, Role

TEST_PASSWORD = "correct-horse-battery-staple"


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Clinic {n}")
    time_zone = "Europe/London"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@clinic.test")
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def role(self, create: bool, extracted: Role | None, **kwargs: Any) -> None:
        if create and extracted is not None:
            self.groups.add(Group.objects.get(name=ROLES[extracted].group_name))


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.Faker("date_between", start_date=date(1960, 1, 1), end_date=date(2006, 1, 1))
    email = factory.LazyAttribute(lambda p: f"{p.first_name}.{p.last_name}@example.com".lower())
    phone = factory.Sequence(lambda n: f"+44 7700 9{n:05d}")
    email_consent = True


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room
        django_get_or_create = ("location", "name")

    location = factory.SubFactory(LocationFactory, name="Central")
    name = factory.Sequence(lambda n: f"Room {n + 1}")


class AppointmentTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AppointmentType
        django_get_or_create = ("name",)

    name = "Free consultation"
    kind = AppointmentKind.CONSULTATION
    duration_minutes = 45
    performed_by = Role.SPECIALIST


class StaffScheduleFactory(factory.django.DjangoModelFactory):
    """Working hours; by default Monday to Sunday 09:00–17:00 via ``every_day``."""

    class Meta:
        model = StaffSchedule

    staff = factory.SubFactory(UserFactory, role=Role.SPECIALIST)
    location = factory.SubFactory(LocationFactory, name="Central")
    weekday = 0
    start_time = time(9, 0)
    end_time = time(17, 0)

    @classmethod
    def every_day(cls, **kwargs: Any) -> list[StaffSchedule]:
        return [cls(weekday=day, **kwargs) for day in range(7)]


class AppointmentFactory(factory.django.DjangoModelFactory):
    """An appointment written straight to the table (no rules checked): for setting up a scene."""

    class Meta:
        model = Appointment

    appointment_type = factory.SubFactory(AppointmentTypeFactory)
    patient = factory.SubFactory(PatientFactory)
    practitioner = factory.SubFactory(UserFactory, role=Role.SPECIALIST)
    room = factory.SubFactory(RoomFactory)
    location = factory.LazyAttribute(lambda a: a.room.location)
    start = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    end = factory.LazyAttribute(lambda a: a.start + timedelta(minutes=a.appointment_type.duration_minutes))


class MessageFactory(factory.django.DjangoModelFactory):
    """An outbox row, due now unless told otherwise (aftercare)."""

    class Meta:
        model = "aftercare.Message"

    patient = factory.SubFactory(PatientFactory)
    kind = "aftercare_right_after"
    due_at = factory.LazyFunction(timezone.now)
    next_attempt_at = factory.LazyAttribute(lambda m: m.due_at)
    attempt_limit = 6
    subject = "Your aftercare"
    body_text = "Hello,\n\nPlease look after your skin."
    body_html = "<p>Hello,</p><p>Please look after your skin.</p>"
    source = factory.Sequence(lambda n: f"test:{n}")
    idempotency_key = factory.LazyAttribute(lambda m: m.source)
