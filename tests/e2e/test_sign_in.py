from __future__ import annotations

import base64
from typing import Any

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from clinic.models import User
from clinic.roles import Role
from tests.e2e.conftest import axe_violations
from tests.factories import TEST_PASSWORD, LocationFactory, UserFactory, authenticator_for, next_totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HOMES = [
    (Role.FRONT_DESK, "/front-desk/", "Front desk"),
    (Role.SPECIALIST, "/consultations/", "Consultations"),
    (Role.AESTHETICIAN, "/treatments/", "Treatment sessions"),
    (Role.MANAGER, "/clinic/", "Clinic"),
]


def sign_in(page: Page, base_url: str, username: str) -> None:
    """Password, then the code the person's authenticator app shows (a real TOTP device)."""
    device = authenticator_for(User.objects.get(username=username))
    page.goto(f"{base_url}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code").fill(next_totp_code(device))
    page.get_by_role("button", name="Continue").click()


@pytest.mark.parametrize(("role", "home", "heading"), HOMES)
def test_each_role_signs_in_and_reaches_its_home_page(
    page: Page, live_server: object, role: Role, home: str, heading: str
) -> None:
    LocationFactory(name="Central")
    UserFactory(username=f"user-{role}", first_name="Pat", last_name="Staff", role=role)
    base = str(live_server)
    sign_in(page, base, f"user-{role}")
    expect(page).to_have_url(f"{base}{home}")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_role("button", name="Pat Staff")).to_be_visible()
    assert axe_violations(page) == []


def test_the_sign_in_page_is_accessible_and_refuses_a_wrong_password(page: Page, live_server: object) -> None:
    UserFactory(username="fd", role=Role.FRONT_DESK)
    base = str(live_server)
    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/sign-in/?next=/")
    assert axe_violations(page) == []
    page.get_by_label("Username").fill("fd")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")


def test_the_navigation_is_usable_by_keyboard(page: Page, live_server: object) -> None:
    LocationFactory(name="Central")
    UserFactory(username="fd", first_name="Pat", last_name="Staff", role=Role.FRONT_DESK)
    base = str(live_server)
    sign_in(page, base, "fd")
    expect(page).to_have_url(f"{base}/front-desk/")
    page.keyboard.press("Tab")
    expect(page.get_by_text("Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    # Every link and control of the frame is reachable by Tab, in order.
    # A fresh load puts the Tab sequence back at the top (focusing <body> does not).
    page.reload()
    reached = []
    for _ in range(12):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
    for expected in ("Front desk", "Patients", "location-select", "Pat Staff"):
        assert any(expected in text for text in reached), (expected, reached)


def test_signing_out_ends_the_session(page: Page, live_server: object) -> None:
    LocationFactory(name="Central")
    UserFactory(username="mgr", first_name="Mo", last_name="Hale", role=Role.MANAGER)
    base = str(live_server)
    sign_in(page, base, "mgr")
    page.get_by_role("button", name="Mo Hale").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base}/sign-in/")
    page.goto(f"{base}/clinic/")
    expect(page).to_have_url(f"{base}/sign-in/?next=/clinic/")


def test_an_idle_session_is_warned_then_signed_out(page: Page, live_server: object, settings: Any) -> None:
    # Short enough for a test; long enough that the accessibility check (seconds on a busy
    # machine) ends before the server's deadline.
    settings.CLINIC_IDLE_TIMEOUT_SECONDS = 20
    settings.CLINIC_IDLE_WARNING_SECONDS = 16
    LocationFactory(name="Central")
    UserFactory(username="fd", role=Role.FRONT_DESK)
    base = str(live_server)
    sign_in(page, base, "fd")
    expect(page).to_have_url(f"{base}/front-desk/")
    warning = page.get_by_role("dialog", name="Still there?")
    expect(warning).to_be_visible(timeout=10_000)
    assert axe_violations(page) == []
    page.get_by_role("button", name="Stay signed in").click()
    expect(warning).to_be_hidden()
    expect(warning).to_be_visible(timeout=10_000)  # nothing happens again: warned again
    expect(page).to_have_url(f"{base}/sign-in/?next=/front-desk/", timeout=30_000)
    expect(page.get_by_text("signed out because the session was idle")).to_be_visible()


def test_a_new_account_sets_up_its_second_factor_at_first_sign_in(page: Page, live_server: object) -> None:
    LocationFactory(name="Central")
    UserFactory(username="newbie", role=Role.FRONT_DESK)
    base = str(live_server)
    page.goto(f"{base}/")
    page.get_by_label("Username").fill("newbie")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("img", name="QR code to scan with your authenticator app")).to_be_visible()
    assert axe_violations(page) == []
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    key_hex = base64.b32decode(secret).hex()
    page.get_by_label("Code from the app").fill(f"{TOTP(bytes.fromhex(key_hex)).token():06d}")
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("list", name="Recovery codes").get_by_role("listitem")).to_have_count(10)
    page.get_by_role("link", name="I have kept them, continue").click()
    expect(page).to_have_url(f"{base}/front-desk/")
