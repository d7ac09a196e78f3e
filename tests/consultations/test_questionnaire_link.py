"""The pre-visit questionnaire link: emailed from the appointment page through the outbox
(a real message row), or copied with one click."""

from __future__ import annotations

import pytest
from django.test import Client

from aftercare.models import Message, MessageKind, MessageStatus
from clinic.models import Appointment, User
from clinic.roles import Role
from tests.factories import AppointmentFactory, LocationFactory, PatientFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client: Client) -> tuple[Client, User]:
    person = UserFactory(username="desk", role=Role.FRONT_DESK)
    client.force_login(person)
    return client, person


@pytest.fixture
def appointment() -> Appointment:
    central = LocationFactory(name="Central")
    patient = PatientFactory(first_name="Chloé", last_name="Martin", email="chloe@example.com", email_consent=True)
    return AppointmentFactory(patient=patient, room=RoomFactory(location=central))


def test_the_appointment_page_offers_copy_and_email(desk: tuple[Client, User], appointment: Appointment) -> None:
    client, _ = desk
    page = client.get(f"/appointments/{appointment.pk}/").content.decode()
    assert f'data-copy-target="questionnaire-link-{appointment.pk}"' in page
    assert f"/consultations/appointments/{appointment.pk}/questionnaire-link/send/" in page
    assert "Email it to the patient" in page


def test_emailing_the_link_writes_one_outbox_message_with_the_link(
    desk: tuple[Client, User], appointment: Appointment
) -> None:
    client, person = desk
    url = f"/consultations/appointments/{appointment.pk}/questionnaire-link/send/"
    response = client.post(url, follow=True)
    assert response.status_code == 200
    assert "on its way to chloe@example.com" in response.content.decode()
    [message] = Message.objects.filter(kind=MessageKind.QUESTIONNAIRE_LINK)
    assert (message.patient_id, message.status) == (appointment.patient_id, MessageStatus.SCHEDULED)
    assert "/consultations/questionnaire/" in message.body_text
    assert "Hello Chloé" in message.body_text
    client.post(url)  # a double click sends one
    assert Message.objects.filter(kind=MessageKind.QUESTIONNAIRE_LINK).count() == 1


def test_a_patient_without_email_consent_gets_no_message_and_the_desk_is_told(
    desk: tuple[Client, User], appointment: Appointment
) -> None:
    client, _ = desk
    appointment.patient.email_consent = False
    appointment.patient.save(update_fields=["email_consent"])
    response = client.post(f"/consultations/appointments/{appointment.pk}/questionnaire-link/send/", follow=True)
    assert "has not agreed to email: copy the link instead" in response.content.decode()
    assert not Message.objects.filter(kind=MessageKind.QUESTIONNAIRE_LINK).exists()


def test_opening_the_page_sends_nothing(desk: tuple[Client, User], appointment: Appointment) -> None:
    client, _ = desk
    assert client.get(f"/consultations/appointments/{appointment.pk}/questionnaire-link/send/").status_code == 405
    assert not Message.objects.filter(kind=MessageKind.QUESTIONNAIRE_LINK).exists()
