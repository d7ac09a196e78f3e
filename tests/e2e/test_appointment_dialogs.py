"""The app's own dialogs instead of the browser's confirm() and prompt(): cancel with a
reason, no-show confirmation, Esc closes; and undoing a status set by mistake."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from clinic.models import Appointment, AppointmentStatus
from clinic.roles import Role
from tests.e2e.conftest import axe_violations
from tests.e2e.test_sign_in import sign_in
from tests.factories import AppointmentFactory, LocationFactory, PatientFactory, RoomFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def this_quarter_hour() -> datetime:
    now = timezone.now().replace(second=0, microsecond=0)
    return now - timedelta(minutes=now.minute % 15)


def scene(start: datetime) -> Appointment:
    central = LocationFactory(name="Central", time_zone="Europe/London")
    UserFactory(username="desk", first_name="Fiona", last_name="Desk", role=Role.FRONT_DESK, locations=[central])
    return AppointmentFactory(
        patient=PatientFactory(first_name="Nora", last_name="Quinn"),
        practitioner=UserFactory(username="sara", first_name="Sara", last_name="Lind", role=Role.SPECIALIST),
        room=RoomFactory(location=central, name="Room 1"),
        start=start,
    )


def settled_axe(page: Page) -> list[dict[str, object]]:
    expect(page.locator(".toast.showing, .modal.fade:not(.show).d-block")).to_have_count(0)
    page.wait_for_timeout(350)  # Bootstrap's fades are 150–300 ms
    return axe_violations(page)


def test_cancelling_asks_for_a_reason_in_the_apps_dialog(page: Page, live_server: object) -> None:
    appointment = scene(timezone.now() + timedelta(days=2))
    page.on("dialog", lambda dialog: pytest.fail(f"the browser's own {dialog.type}() was used"))
    sign_in(page, str(live_server), "desk")
    page.goto(f"{live_server}/appointments/{appointment.pk}/")
    opener = page.get_by_role("button", name="Cancel appointment")
    # With JavaScript the reason is asked in the dialog, not in a field on the page.
    expect(page.get_by_label("Reason for cancelling")).to_be_hidden()
    opener.click()

    dialog = page.get_by_role("dialog", name="Cancel appointment")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("The time becomes free for others.")
    reason = dialog.get_by_label("Reason for cancelling")
    expect(reason).to_be_focused()
    assert settled_axe(page) == []
    dialog.get_by_role("button", name="Cancel appointment").click()
    expect(dialog.get_by_text("Say why the appointment is cancelled.")).to_be_visible()
    expect(reason).to_have_attribute("aria-invalid", "true")

    # Esc closes it, nothing changes, and focus is back on the button that opened it.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED

    opener.click()
    expect(reason).to_have_value("")
    reason.fill("Moved abroad")
    reason.press("Enter")
    expect(page.get_by_role("status").filter(has_text="The appointment is cancelled.")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Moved abroad")
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancel_reason) == (AppointmentStatus.CANCELLED, "Moved abroad")
    assert settled_axe(page) == []


def test_a_no_show_is_confirmed_in_the_dialog_and_undone_with_one_click(page: Page, live_server: object) -> None:
    appointment = scene(this_quarter_hour())
    page.on("dialog", lambda dialog: pytest.fail(f"the browser's own {dialog.type}() was used"))
    sign_in(page, str(live_server), "desk")
    page.goto(f"{live_server}/appointments/{appointment.pk}/")
    page.get_by_role("button", name="No-show").click()
    dialog = page.get_by_role("dialog", name="No-show")
    expect(dialog).to_contain_text("Mark Nora Quinn as a no-show?")
    expect(dialog.get_by_role("button", name="Mark as no-show")).to_be_focused()
    assert settled_axe(page) == []
    dialog.get_by_role("button", name="Mark as no-show").click()

    expect(page.get_by_role("status").filter(has_text="Nora Quinn: No-show.")).to_be_visible()
    undo = page.get_by_role("button", name="Undo “No-show”")
    expect(undo).to_be_visible()
    assert settled_axe(page) == []
    undo.click()
    expect(page.get_by_role("status").filter(has_text="Nora Quinn: back to Booked.")).to_be_visible()
    history = page.get_by_role("region", name="History")
    expect(history).to_contain_text("Booked → No-show")
    expect(history).to_contain_text("Undone: No-show → Booked")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_cancelling_from_the_day_schedule_asks_for_the_reason_in_the_dialog(page: Page, live_server: object) -> None:
    appointment = scene(this_quarter_hour())
    page.on("dialog", lambda dialog: pytest.fail(f"the browser's own {dialog.type}() was used"))
    sign_in(page, str(live_server), "desk")
    card = page.locator(".appointment-card", has_text="Nora Quinn")
    page.evaluate("window.__sameDocument = true")
    card.get_by_role("button", name="Cancel Nora Quinn").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Cancel this appointment?")
    dialog.get_by_label("Reason for cancelling").fill("Unwell")
    dialog.get_by_role("button", name="Confirm").click()
    expect(card).to_contain_text("Cancelled")
    assert page.evaluate("window.__sameDocument") is True, "the grid updated in place"
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancel_reason) == (AppointmentStatus.CANCELLED, "Unwell")
    assert settled_axe(page) == []
