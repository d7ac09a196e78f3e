"""Browser tests: the patient timeline's filter, and a template's preview and test send."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from aftercare.models import Message, MessageKind
from aftercare.services import message_templates_ensure_defaults
from clinic.models import AppointmentStatus, StaffSchedule
from clinic.roles import Role
from tests.e2e.conftest import axe_violations
from tests.e2e.test_sign_in import sign_in
from tests.factories import AppointmentFactory, LocationFactory, MessageFactory, PatientFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_desk_filters_the_patients_timeline_to_messages_and_opens_one(page: Page, live_server: object) -> None:
    location = LocationFactory(name="Central")
    UserFactory(username="desk", first_name="Fiona", last_name="Desk", role=Role.FRONT_DESK)
    patient = PatientFactory(first_name="Zoe", last_name="Walker")
    AppointmentFactory(patient=patient, room__location=location, status=AppointmentStatus.CONFIRMED)
    MessageFactory(
        patient=patient,
        kind=MessageKind.BOOKING_CONFIRMATION,
        subject="Your appointment at Clearwater",
        body_text="Hello Zoe,\n\nYour consultation is booked.",
        due_at=timezone.now(),
    )
    base = str(live_server)
    sign_in(page, base, "desk")
    page.goto(f"{base}/patients/{patient.pk}/")
    timeline = page.locator("[data-timeline]")
    expect(timeline.locator('[data-timeline-kind="appointments"]')).to_have_count(1)
    timeline.get_by_role("link", name="Messages").click()
    expect(timeline.get_by_role("link", name="Messages")).to_have_attribute("aria-current", "true")
    expect(timeline.locator('[data-timeline-kind="appointments"]')).to_have_count(0)
    expect(timeline.locator('[data-timeline-kind="messages"]')).to_have_count(1)
    # The selected pill wears the theme's teal (--clinic-accent #1f6f6b), not Bootstrap's blue.
    expect(timeline.get_by_role("link", name="Messages")).to_have_css("background-color", "rgb(31, 111, 107)")
    page.get_by_text("The message as sent").click()
    expect(page.get_by_text("Your consultation is booked.")).to_be_visible()
    assert "kind=messages" in page.url
    assert axe_violations(page) == []


def test_the_manager_previews_an_edited_template_and_sends_a_test_to_herself(page: Page, live_server: object) -> None:
    LocationFactory(name="Central")
    UserFactory(username="boss", first_name="Martin", last_name="Hale", role=Role.MANAGER)
    template = message_templates_ensure_defaults()[MessageKind.BOOKING_CONFIRMATION]
    base = str(live_server)
    sign_in(page, base, "boss")
    page.goto(f"{base}/aftercare/sequence/{template.pk}/")
    preview = page.locator("[data-preview-body]")
    expect(preview).to_contain_text("Hello Alex,")
    page.get_by_label("Subject").fill("See you soon, $first_name")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("[data-preview-subject]")).to_have_text("See you soon, Alex")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Send a test to me").click()
    expect(page.get_by_role("status").first).to_contain_text("on its way to boss@clinic.test")
    test = Message.objects.get()
    assert test.is_test
    assert test.subject == "[Test] See you soon, Alex"
    template.refresh_from_db()
    assert template.subject != "See you soon, $first_name"  # nothing saved until "Save"


def test_the_manager_sets_a_week_in_the_grid_and_sees_the_error_beside_the_cell(
    browser: Browser, live_server: object
) -> None:
    # Its own context: the refused week answers 400 on purpose, which the `page` fixture counts as an error.
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    try:
        _set_a_week(context.new_page(), str(live_server))
    finally:
        context.close()


def _set_a_week(page: Page, base: str) -> None:
    LocationFactory(name="Central")
    UserFactory(username="boss", first_name="Martin", last_name="Hale", role=Role.MANAGER)
    amira = UserFactory(username="amira", first_name="Amira", last_name="Cole", role=Role.AESTHETICIAN)
    sign_in(page, base, "boss")
    page.goto(f"{base}/clinic/setup/working-hours/")
    page.get_by_role("link", name="Amira Cole").click()
    page.get_by_label("Monday, from").fill("09:00")
    page.get_by_label("Monday, until").fill("17:00")
    page.get_by_label("Tuesday, from").fill("17:00")
    page.get_by_label("Tuesday, until").fill("09:00")
    page.get_by_role("button", name="Save the week").click()
    expect(page.locator("#id_end_1-error")).to_have_text("Working hours end after they start.")
    assert axe_violations(page) == []
    page.get_by_label("Tuesday, until").fill("18:00")
    page.get_by_role("button", name="Save the week").click()
    expect(page.get_by_role("status").first).to_contain_text("Working hours saved for Amira Cole")
    assert StaffSchedule.objects.filter(staff=amira).count() == 2
