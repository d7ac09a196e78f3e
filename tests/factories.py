"""The one factory module for the whole suite."""

from __future__ import annotations

from datetime import date
from typing import Any

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from clinic.models import Location, Patient, User
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
