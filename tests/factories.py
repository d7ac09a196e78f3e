"""The one factory module for the whole suite."""

from __future__ import annotations

import time
from datetime import date, timedelta
from datetime import time as clock_time
from typing import Any

import factory
from django.contrib.auth.models import Group
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

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
from consultations.models import Consultation, ConsultationStatus, TreatmentPlan
from treatments.models import Product, ProductLot

TEST_PASSWORD = "correct-horse-battery-staple"


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Clinic {n}")
    time_zone = "Europe/London"
    # Every patient email gives it; a location without one fails the system check.
    phone = "+442079460000"  # stored in E.164, as the forms store it


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

    @factory.post_generation
    def locations(self, create: bool, extracted: list[Location] | None, **kwargs: Any) -> None:
        """Staff work at the locations given, else at "Central" (the suite's usual location)."""
        if create:
            self.locations.add(*(extracted if extracted is not None else [LocationFactory(name="Central")]))


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.Faker("date_between", start_date=date(1960, 1, 1), end_date=date(2006, 1, 1))
    email = factory.LazyAttribute(lambda p: f"{p.first_name}.{p.last_name}@example.com".lower())
    phone = factory.Sequence(lambda n: f"+4477009{n:05d}")
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
    start_time = clock_time(9, 0)
    end_time = clock_time(17, 0)

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


class ConsultationFactory(factory.django.DjangoModelFactory):
    """A draft consultation of a checked-in consultation appointment (written straight to the table)."""

    class Meta:
        model = Consultation

    appointment = factory.SubFactory(AppointmentFactory, status="checked_in")
    patient = factory.LazyAttribute(lambda c: c.appointment.patient)
    specialist = factory.LazyAttribute(lambda c: c.appointment.practitioner)
    status = ConsultationStatus.DRAFT

    class Params:
        # A signed consultation whose rules recommended extraction.
        recommended = factory.Trait(
            status=ConsultationStatus.SIGNED,
            signed_at=factory.LazyFunction(timezone.now),
            barrier="intact",
            sensitivity="normal",
            congestion="widespread",
            fitzpatrick=2,
            skin_type="combination",
            iga=2,
            rules_outcome="recommended",
            rules_reasons=["IND_WIDESPREAD_CONGESTION"],
            ruleset_version="2026.1",
        )


class TreatmentPlanFactory(factory.django.DjangoModelFactory):
    """A consented plan of a signed, recommended consultation."""

    class Meta:
        model = TreatmentPlan

    consultation = factory.SubFactory(ConsultationFactory, recommended=True)
    patient = factory.LazyAttribute(lambda p: p.consultation.patient)
    sessions_planned = 4
    interval_days = 21
    focus_zones = factory.LazyFunction(lambda: ["forehead", "nose"])
    home_care = "Gentle cleanser, adapalene 0.1% at night, SPF 50 daily."
    pause_before = "Adapalene, 3 days before."
    resume_after = "Adapalene, 3 days after."
    goals = "Clearer forehead and nose."
    starts_on = factory.LazyFunction(lambda: timezone.localdate())
    review_on = factory.LazyAttribute(lambda p: p.starts_on + timedelta(days=63))
    consent_version = "2026-1"
    consent_name = factory.LazyAttribute(lambda p: p.patient.full_name)
    consented_at = factory.LazyFunction(timezone.now)
    created_by = factory.LazyAttribute(lambda p: p.consultation.specialist)


# --- Treatments ------------------------------------------------------------------------


class ExtractionTypeFactory(AppointmentTypeFactory):
    name = "Extraction session"
    kind = AppointmentKind.EXTRACTION
    duration_minutes = 60
    performed_by = Role.AESTHETICIAN


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("name",)

    name = "Benzoyl peroxide 2.5% gel"
    active_ingredient = "Benzoyl peroxide"


class ProductLotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductLot

    product = factory.SubFactory(ProductFactory)
    lot_number = factory.Sequence(lambda n: f"BP-{n:04d}")
    expires_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=365))


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


def authenticator_for(user: User) -> TOTPDevice:
    """The user's authenticator app (a TOTP device), set up if they have none yet."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)
    return device


def next_totp_code(device: TOTPDevice) -> str:
    """A code the device accepts now: the current one, or the next step's when the current
    one was already used (django-otp refuses a code twice; the next step is within tolerance)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if device.last_t >= totp.t():
        totp.time += (device.last_t + 1 - totp.t()) * device.step
    return f"{totp.token():0{device.digits}d}"
