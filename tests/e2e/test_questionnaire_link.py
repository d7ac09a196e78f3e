"""The pre-visit link from the appointment page: copied with one click, or emailed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from aftercare.models import Message, MessageKind
from clinic.roles import Role
from tests.e2e.conftest import axe_violations
from tests.e2e.test_sign_in import sign_in
from tests.factories import AppointmentFactory, LocationFactory, PatientFactory, RoomFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_desk_copies_and_emails_the_questionnaire_link(page: Page, live_server: object) -> None:
    central = LocationFactory(name="Central", time_zone="Europe/London")
    UserFactory(username="desk", first_name="Fiona", last_name="Desk", role=Role.FRONT_DESK, locations=[central])
    appointment = AppointmentFactory(
        patient=PatientFactory(first_name="Nora", last_name="Quinn", email="nora@example.com"),
        room=RoomFactory(location=central, name="Room 1"),
        start=timezone.now() + timedelta(days=3),
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, str(live_server), "desk")
    page.goto(f"{live_server}/appointments/{appointment.pk}/")
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_role("status").filter(has_text="Link copied")).to_be_visible()
    link = page.get_by_label("Pre-visit questionnaire link for the patient").input_value()
    assert page.evaluate("navigator.clipboard.readText()") == link
    assert axe_violations(page) == []

    page.get_by_role("button", name="Email it to the patient").click()
    expect(page.get_by_role("status").filter(has_text="on its way to nora@example.com")).to_be_visible()
    message = Message.objects.get(kind=MessageKind.QUESTIONNAIRE_LINK)
    # The same appointment's link (the signature carries the time it was made).
    payload = link.split("/questionnaire/")[1].split(":")[0]
    assert f"/questionnaire/{payload}:" in message.body_text
    assert axe_violations(page) == []
