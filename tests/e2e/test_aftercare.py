from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from aftercare import links
from aftercare.models import CheckIn, CheckInAnswer, Message, MessageKind, MessageStatus
from aftercare.services import SessionFacts, aftercare_sequence_start
from clinic.roles import Role
from tests.e2e.conftest import axe_violations
from tests.e2e.test_sign_in import sign_in
from tests.factories import LocationFactory, MessageFactory, PatientFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_worried_patient_answers_adds_a_note_and_the_specialist_sees_it(page: Page, live_server: object) -> None:
    location = LocationFactory(name="Central")
    UserFactory(username="spec", first_name="Sara", last_name="Lind", role=Role.SPECIALIST)
    patient = PatientFactory(first_name="Nora", last_name="Quinn")
    aftercare_sequence_start(
        acting_user=None,
        patient=patient,
        location=location,
        completed_at=timezone.now(),
        facts=SessionFacts(extraction_method="lancet", lesions_extracted={"pustules": 3}),
    )
    checkin = Message.objects.get(kind=MessageKind.CHECKIN_DAY1)
    base = str(live_server)
    page.goto(base + links.checkin_path(checkin.token, CheckInAnswer.WORRIED))
    # Opening the link only asks (mail scanners follow links); the button answers.
    expect(page.get_by_role("heading", level=1)).to_have_text("How is your skin today?")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for letting us know")
    assert axe_violations(page) == []
    page.get_by_label("Anything you would like us to know?").fill("My chin is swollen.")
    page.get_by_role("button", name="Send note").click()
    expect(page.get_by_role("status")).to_contain_text("Your note has been added")
    assert CheckIn.objects.get().note == "My chin is swollen."

    sign_in(page, base, "spec")
    page.get_by_role("link", name="Check-ins").click()
    expect(page.get_by_text("Nora Quinn")).to_be_visible()
    expect(page.get_by_text("My chin is swollen.")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("What was done").fill("Called; reassured, review tomorrow.")
    page.get_by_role("button", name="Mark as contacted").click()
    expect(page.get_by_text("Nobody is waiting")).to_be_visible()


def test_a_bad_link_shows_a_plain_accessible_page(browser: Browser, live_server: object) -> None:
    # Its own context: the page answers 400 on purpose, which the `page` fixture counts as an error.
    context = browser.new_context(locale="en-GB")
    try:
        page = context.new_page()
        response = page.goto(f"{live_server}/aftercare/c/forged-token/")
        assert response is not None
        assert response.status == 400
        expect(page.get_by_role("heading", level=1)).to_have_text("This link does not work")
        assert axe_violations(page) == []
    finally:
        context.close()


def test_the_manager_retries_a_failed_message_and_edits_the_sequence(page: Page, live_server: object) -> None:
    LocationFactory(name="Central")
    UserFactory(username="mgr", role=Role.MANAGER)
    failed = MessageFactory(
        patient=PatientFactory(first_name="Ben", last_name="Okafor"),
        status=MessageStatus.FAILED,
        attempts=6,
        last_error="SMTPRecipientsRefused: 550 mailbox unavailable",
    )
    MessageFactory(status=MessageStatus.SENT, sent_at=timezone.now())
    base = str(live_server)
    sign_in(page, base, "mgr")
    page.get_by_role("link", name="Messages").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Aftercare messages")
    # The reason in plain words; the stored SMTP text behind the "Technical details" disclosure.
    expect(page.get_by_text("The patient's mail server rejected the address")).to_be_visible()
    expect(page.get_by_text("550 mailbox unavailable")).to_be_hidden()
    page.locator("td").get_by_text("Technical details").click()
    expect(page.get_by_text("550 mailbox unavailable")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_text("The message will be sent again now.")).to_be_visible()
    failed.refresh_from_db()
    assert failed.status == MessageStatus.SCHEDULED

    page.get_by_role("link", name="Edit the aftercare sequence").click()
    expect(page.get_by_text("day 1 at 10:00")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Edit Next-day check-in").click()
    assert axe_violations(page) == []
    page.get_by_label("Subject").fill("How are you, $firstname?")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Unknown placeholder: $firstname")).to_be_visible()
    page.get_by_label("Subject").fill("How are you, $first_name?")
    page.get_by_label("Local send time").fill("11:30")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("day 1 at 11:30")).to_be_visible()


def test_the_patients_messages_page_is_accessible(page: Page, live_server: object) -> None:
    LocationFactory(name="Central")
    UserFactory(username="fd", role=Role.FRONT_DESK)
    patient = PatientFactory()
    MessageFactory(patient=patient, status=MessageStatus.SENT, sent_at=timezone.now())
    MessageFactory(patient=patient, status=MessageStatus.SKIPPED_NO_CONSENT)
    MessageFactory(patient=patient)
    base = str(live_server)
    sign_in(page, base, "fd")
    page.goto(f"{base}/aftercare/patients/{patient.pk}/messages/")
    expect(page.get_by_text("The patient has not agreed to email.")).to_be_visible()
    assert axe_violations(page) == []
