"""The specialist confirms each answer the pre-visit questionnaire filled in (issue 13), in the browser."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from clinic.models import AppointmentStatus
from clinic.roles import Role
from consultations import services
from consultations.models import Consultation
from tests.e2e.conftest import axe_violations
from tests.e2e.test_sign_in import sign_in
from tests.factories import AppointmentFactory, LocationFactory, PatientFactory, RoomFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_specialist_sees_and_confirms_the_imported_answers(page: Page, live_server: object) -> None:
    location = LocationFactory(name="Central")
    specialist = UserFactory(username="spec", first_name="Sara", last_name="Lind", role=Role.SPECIALIST)
    appointment = AppointmentFactory(
        patient=PatientFactory(first_name="Chloe", last_name="Martin"),
        practitioner=specialist,
        room=RoomFactory(location=location, name="Room 1"),
        start=timezone.now(),
        status=AppointmentStatus.CHECKED_IN,
    )
    consultation = services.questionnaire_submit(
        appointment=appointment,
        answers={"skin_conditions": "Cold sores now and then.", "allergies": "None known."},
    )
    base = str(live_server)

    sign_in(page, base, "spec")
    page.get_by_role("row", name="Chloe Martin").get_by_role("link", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Consultation: Chloe Martin")
    expect(page.get_by_label("Cold sores", exact=True)).to_be_checked()
    expect(page.get_by_label("No known allergies", exact=True)).to_be_checked()
    expect(page.get_by_test_id("imported-answer")).to_have_count(2)  # cold sores, no known allergies
    assert axe_violations(page) == []
    for box in page.get_by_label("Confirmed with the patient").all():
        box.check()
    page.get_by_role("button", name="Save draft").first.click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    expect(page.get_by_test_id("imported-answer")).to_have_count(0)
    assert Consultation.objects.get(pk=consultation.pk).questionnaire_unconfirmed == []
