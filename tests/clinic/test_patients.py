"""Registering, editing and finding patients at the front desk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from clinic.models import AccessEvent, Patient, User
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client: Client, front_desk: User) -> Client:
    client.force_login(front_desk)
    return client


def names(found: object) -> set[str]:
    return {p.full_name for p in found}  # type: ignore[attr-defined]


def test_search_finds_name_word_beginnings_in_any_order() -> None:
    PatientFactory(first_name="Anna", last_name="Smith")
    PatientFactory(first_name="Annabel", last_name="Jones")
    PatientFactory(first_name="Sam", last_name="Annan")
    assert names(Patient.objects.search("ann smi")) == {"Anna Smith"}
    assert names(Patient.objects.search("SMI ann")) == {"Anna Smith"}
    assert names(Patient.objects.search("ann")) == {"Anna Smith", "Annabel Jones", "Sam Annan"}
    assert names(Patient.objects.search("nna")) == set(), "beginnings of words, not the middle"


def test_search_finds_a_phone_by_its_last_digits_whatever_the_formatting() -> None:
    PatientFactory(first_name="Anna", last_name="Smith", phone="+447700900101")
    PatientFactory(first_name="Ben", last_name="Okafor", phone="+447700900202")
    for typed in ("0101", "900101", "900 101", "07700 900-101", "+44 7700 900101", "+44 (0)7700 900101"):
        assert names(Patient.objects.search(typed)) == {"Anna Smith"}, typed
    assert names(Patient.objects.search("01")) == set(), "too few digits to mean anything"


def test_search_finds_an_email_by_its_beginning() -> None:
    PatientFactory(first_name="Anna", last_name="Smith", email="anna.smith@example.com")
    PatientFactory(first_name="Ben", last_name="Okafor", email="ben@example.com")
    assert names(Patient.objects.search("ANNA.SMITH@ex")) == {"Anna Smith"}
    assert names(Patient.objects.search("anna.sm")) == {"Anna Smith"}


def test_search_finds_words_inside_names_of_more_words() -> None:
    PatientFactory(first_name="Mary Ann", last_name="Smith-Jones")
    PatientFactory(first_name="Ann", last_name="Smith")
    assert names(Patient.objects.search("ann jon")) == {"Mary Ann Smith-Jones"}
    assert names(Patient.objects.search("mar smi")) == {"Mary Ann Smith-Jones"}
    assert names(Patient.objects.search("ann smi")) == {"Mary Ann Smith-Jones", "Ann Smith"}
    assert names(Patient.objects.search("mary ann smith")) == {"Mary Ann Smith-Jones"}


def test_search_lists_each_patient_once_in_name_order_up_to_the_limit() -> None:
    PatientFactory(first_name="Anna", last_name="Smith", email="anna@example.com")
    PatientFactory(first_name="Annabel", last_name="Jones")
    PatientFactory(first_name="Ann", last_name="Annan")
    PatientFactory(first_name="Zoe", last_name="Abbot", email="annie@example.com")
    found = [p.full_name for p in Patient.objects.search("ann")]
    assert found == ["Zoe Abbot", "Ann Annan", "Annabel Jones", "Anna Smith"]
    assert [p.full_name for p in Patient.objects.search("ann", limit=2)] == ["Zoe Abbot", "Ann Annan"]


def test_search_does_not_choke_on_punctuation() -> None:
    PatientFactory(first_name="Anna", last_name="O'Neil")
    assert names(Patient.objects.search("o'ne & | ! :*")) == {"Anna O'Neil"}
    assert list(Patient.objects.search("&&")) == []


def test_the_search_box_answers_htmx_with_just_the_results(desk: Client) -> None:
    PatientFactory(first_name="Anna", last_name="Smith")
    response = desk.get("/patients/", {"q": "ann smi"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Smith, Anna" in body
    assert "<html" not in body


def test_registering_stores_the_phone_in_e164_and_dates_the_consent(desk: Client) -> None:
    with time_machine.travel(datetime(2026, 5, 4, 9, 0, tzinfo=UTC), tick=False):
        response = desk.post(
            "/patients/new/",
            {
                "first_name": "Anna",
                "last_name": "Smith",
                "date_of_birth": "1991-04-12",
                "email": "anna@example.com",
                "phone": "07700 900 123",
                "preferred_contact": "email",
                "email_consent": "on",
            },
        )
    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{patient.pk}/"
    assert patient.phone == "+447700900123"
    assert patient.email_consent_at == datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def test_a_bad_phone_or_consent_without_email_is_a_message_beside_the_field(desk: Client) -> None:
    response = desk.post(
        "/patients/new/",
        {
            "first_name": "Anna",
            "last_name": "Smith",
            "date_of_birth": "1991-04-12",
            "phone": "12",
            "preferred_contact": "email",
            "email_consent": "on",
        },
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "phone" in form.errors
    assert "email" in form.errors
    assert not Patient.objects.exists()


def test_it_warns_about_a_likely_duplicate_and_registers_once_confirmed(desk: Client) -> None:
    existing = PatientFactory(first_name="Anna", last_name="Smith", phone="+447700900999", email="a@example.com")
    data = {
        "first_name": "Someone",
        "last_name": "Else",
        "date_of_birth": "1990-01-01",
        "phone": "07700 900999",
        "preferred_contact": "phone",
    }
    response = desk.post("/patients/new/", data)
    assert response.status_code == 400
    assert existing.full_name in response.content.decode()
    assert Patient.objects.count() == 1
    response = desk.post("/patients/new/", {**data, "confirm_not_duplicate": "on"})
    assert response.status_code == 302
    assert Patient.objects.count() == 2


def test_same_name_and_birth_date_is_a_likely_duplicate(desk: Client) -> None:
    PatientFactory(first_name="Anna", last_name="Smith", date_of_birth="1991-04-12")
    response = desk.post(
        "/patients/new/",
        {"first_name": "anna", "last_name": "SMITH", "date_of_birth": "1991-04-12", "preferred_contact": "email"},
    )
    assert response.status_code == 400
    assert "already registered" in response.content.decode()


def test_editing_keeps_the_consent_date_unless_consent_changes(desk: Client) -> None:
    consented = datetime(2026, 1, 1, tzinfo=UTC)
    patient = PatientFactory(email="a@example.com", email_consent=True, email_consent_at=consented)
    data = {
        "first_name": "New",
        "last_name": patient.last_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "email": "a@example.com",
        "preferred_contact": "email",
        "email_consent": "on",
    }
    assert desk.post(f"/patients/{patient.pk}/edit/", data).status_code == 302
    patient.refresh_from_db()
    assert (patient.first_name, patient.email_consent_at) == ("New", consented)
    del data["email_consent"]
    desk.post(f"/patients/{patient.pk}/edit/", data)
    patient.refresh_from_db()
    assert patient.email_consent is False
    assert patient.email_consent_at is not None
    assert patient.email_consent_at > consented


def test_the_patient_page_lists_upcoming_and_past_appointments_and_is_audited(desk: Client, front_desk: User) -> None:
    patient = PatientFactory()
    soon = AppointmentFactory(patient=patient)
    AppointmentFactory(patient=patient, start=soon.start - timedelta(days=30))
    response = desk.get(f"/patients/{patient.pk}/")
    assert response.status_code == 200
    assert [a.pk for a in response.context["upcoming"]] == [soon.pk]
    assert len(response.context["past"]) == 1
    assert AccessEvent.objects.filter(patient=patient, user=front_desk, page="patient_detail").exists()
