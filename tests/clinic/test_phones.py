"""Phone numbers: stored in E.164, shown the way the clinic's region writes them, everywhere."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.template import Context, Template
from django.test import Client, override_settings

from aftercare.services import contact_lines
from clinic import phones
from clinic.models import Location, Patient, User
from tests.factories import LocationFactory, PatientFactory

pytestmark = pytest.mark.django_db


def test_a_stored_number_shows_in_national_form_and_links_in_rfc3966() -> None:
    rendered = Template("{% load phones %}{{ p|phone }} {{ p|phone_uri }}").render(Context({"p": "+442079460100"}))
    assert rendered == "020 7946 0100 tel:+44-20-7946-0100"


def test_a_foreign_number_stays_international_and_text_that_is_no_number_stays_as_typed() -> None:
    assert phones.display("+33142685300") == "+33 1 42 68 53 00"
    assert phones.display("ask at reception") == "ask at reception"
    assert phones.dial_uri("ask at reception") == ""
    assert phones.display("") == ""


@override_settings(CLINIC_PHONE_REGION="FR")
def test_the_region_is_a_setting() -> None:
    assert phones.display("+33142685300") == "01 42 68 53 00"
    assert phones.display("+442079460100") == "+44 20 7946 0100"


def test_the_patient_pages_and_the_list_show_the_national_form(client: Client, front_desk: User) -> None:
    patient = PatientFactory(first_name="Zoe", last_name="Walker", phone="+447700900123")
    client.force_login(front_desk)
    assert "07700 900123" in client.get(f"/patients/{patient.pk}/").content.decode()
    assert "07700 900123" in client.get("/patients/?q=Walker").content.decode()
    edit = client.get(f"/patients/{patient.pk}/edit/").content.decode()
    assert 'value="07700 900123"' in edit


def test_a_number_that_is_not_a_phone_is_refused_beside_the_field_and_nothing_changes(
    client: Client, front_desk: User
) -> None:
    patient = PatientFactory(phone="+447700900123")
    client.force_login(front_desk)
    response = client.post(
        f"/patients/{patient.pk}/edit/",
        {
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "phone": "12",
            "preferred_contact": "email",
        },
    )
    assert response.status_code == 400
    assert "too short or too long" in response.content.decode()
    patient.refresh_from_db()
    assert patient.phone == "+447700900123"


def test_every_patient_email_gives_the_locations_phone_in_national_form() -> None:
    location = LocationFactory(name="North", phone="+442079460999")
    assert "Call us on 020 7946 0999." in contact_lines(location)[0]


def test_the_location_form_stores_its_phone_in_e164(client: Client, manager: User, location: Location) -> None:
    client.force_login(manager)
    response = client.post(
        f"/clinic/setup/locations/{location.pk}/",
        {"name": location.name, "time_zone": "Europe/London", "phone": "020 7946 0123", "is_active": "on"},
    )
    assert response.status_code == 302
    location.refresh_from_db()
    assert location.phone == "+442079460123"


def test_the_data_migration_normalises_numbers_typed_before_and_leaves_junk_alone() -> None:
    migration = importlib.import_module("clinic.migrations.0019_normalise_phone_numbers")
    typed = PatientFactory(phone="07700 900 555")
    junk = PatientFactory(phone="ask her")
    location = LocationFactory(name="West", phone="+44 (0)20 7946 0321")
    migration.normalise(apps, None)
    assert Patient.objects.get(pk=typed.pk).phone == "+447700900555"
    assert Patient.objects.get(pk=junk.pk).phone == "ask her"
    assert Location.objects.get(pk=location.pk).phone == "+442079460321"
