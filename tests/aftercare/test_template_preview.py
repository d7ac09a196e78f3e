"""A message template's preview (a demo patient, never a real one) and "send a test to me"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from aftercare.dispatcher import dispatch_due
from aftercare.models import Message, MessageKind, MessageStatus, MessageTemplate
from aftercare.selectors import delivery_figures, failed_messages
from aftercare.services import message_templates_ensure_defaults
from clinic.models import Location, User
from tests.aftercare.smtp_sink import Sink
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def edit(client: Client, manager: User, location: Location) -> tuple[Client, MessageTemplate]:
    manager.locations.add(location)
    manager.email = "martin@clinic.test"
    manager.save(update_fields=["email"])
    client.force_login(manager)
    return client, message_templates_ensure_defaults()[MessageKind.BOOKING_CONFIRMATION]


def _posted(template: MessageTemplate, action: str, **changes: str) -> dict[str, str]:
    data = {
        "is_active": "on",
        "offset_days": str(template.offset_days),
        "send_time": "",
        "subject": template.subject,
        "body_text": template.body_text,
        "action": action,
    }
    data.update(changes)
    return data


def test_the_edit_page_previews_the_saved_text_for_a_demo_patient(edit: tuple[Client, MessageTemplate]) -> None:
    client, template = edit
    PatientFactory(first_name="Grace")  # a real patient is never the preview's
    body = client.get(f"/aftercare/sequence/{template.pk}/").content.decode()
    preview = body.split("data-preview-body>", 1)[1].split("</pre>", 1)[0]
    assert "Hello Alex," in preview
    assert "Grace" not in preview
    assert "$first_name" not in preview
    assert "Central" in preview  # the manager's location


def test_preview_shows_unsaved_text_and_saves_nothing(edit: tuple[Client, MessageTemplate]) -> None:
    client, template = edit
    response = client.post(
        f"/aftercare/sequence/{template.pk}/", _posted(template, "preview", body_text="Dear $first_name, see you.")
    )
    assert response.status_code == 200
    assert "Dear Alex, see you." in response.content.decode()
    assert MessageTemplate.objects.get(pk=template.pk).body_text == template.body_text
    assert not Message.objects.exists()


def test_a_test_send_goes_to_the_manager_through_the_outbox_and_is_never_a_patient_message(
    edit: tuple[Client, MessageTemplate], smtp: Sink
) -> None:
    client, template = edit
    response = client.post(
        f"/aftercare/sequence/{template.pk}/", _posted(template, "test", subject="Booked, $first_name")
    )
    assert response.status_code == 200
    assert "on its way to martin@clinic.test" in response.content.decode()
    test = Message.objects.get()
    assert test.is_test
    assert test.patient_id is None
    assert test.subject == "[Test] Booked, Alex"
    assert MessageTemplate.objects.get(pk=template.pk).subject == template.subject  # not saved
    assert dispatch_due().sent == 1
    [received] = smtp.received
    assert received["To"] == "martin@clinic.test"
    assert received["Subject"] == "[Test] Booked, Alex"
    test.refresh_from_db()
    assert test.status == MessageStatus.SENT
    figures = delivery_figures(since=timezone.now() - timedelta(days=1))
    assert figures.sent == 0


def test_a_failed_test_send_is_not_listed_among_failed_patient_messages(edit: tuple[Client, MessageTemplate]) -> None:
    client, template = edit
    client.post(f"/aftercare/sequence/{template.pk}/", _posted(template, "test"))
    Message.objects.update(status=MessageStatus.FAILED, last_error="SMTPDataError: (554, b'no')")
    assert failed_messages() == []
    assert client.get("/aftercare/").status_code == 200


def test_a_manager_without_an_email_address_is_told_and_nothing_is_sent(
    edit: tuple[Client, MessageTemplate], manager: User
) -> None:
    client, template = edit
    User.objects.filter(pk=manager.pk).update(email="")
    response = client.post(f"/aftercare/sequence/{template.pk}/", _posted(template, "test"))
    assert "no email address" in response.content.decode()
    assert not Message.objects.exists()
