"""Clinical photos in the browser: the aesthetician takes them on a tablet, the specialist compares."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from clinic.roles import Role
from photos import services
from photos.models import Photo, Scope
from tests.e2e.conftest import axe_violations
from tests.e2e.test_sign_in import sign_in
from tests.factories import LocationFactory, PatientFactory, UserFactory
from tests.photos import pictures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 820, "height": 1180}


def test_the_aesthetician_takes_photos_on_a_tablet_and_the_specialist_compares_them(
    page: Page, live_server: object
) -> None:
    location = LocationFactory(name="Central")
    UserFactory(username="amira", first_name="Amira", last_name="Cole", role=Role.AESTHETICIAN)
    specialist = UserFactory(username="sara", first_name="Sara", last_name="Lind", role=Role.SPECIALIST)
    patient = PatientFactory(first_name="Nora", last_name="Quinn")
    # The baseline, taken at the consultation ten weeks ago (with consent then).
    services.photo_consent_record(acting_user=specialist, patient=patient, scope=Scope.CLINICAL)
    data = pictures.jpeg(300, 400)
    [baseline] = services.photo_store(
        acting_user=specialist,
        patient=patient,
        uploads=[services.Upload(view="front", file=io.BytesIO(data), size=len(data))],
        context="consultation",
        taken_on=location.today() - timedelta(days=70),
        zone=location.zone,
    )
    base = str(live_server)

    page.set_viewport_size(TABLET)
    sign_in(page, base, "amira")
    page.goto(f"{base}/photos/patients/{patient.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Photos: Nora Quinn")
    front = page.locator("#capture-form").get_by_label("Front", exact=True)
    expect(front).to_have_attribute("accept", "image/*")
    expect(front).to_have_attribute("capture", "environment")
    guide = page.locator(".capture-guide")
    expect(guide.locator("li").filter(has_text="Left 45°")).to_contain_text("missing today")
    page.get_by_label("Taken at").select_option("review")
    # The "camera": files set on the inputs, as a phone's camera hands them to the page.
    front.set_input_files(
        [
            {"name": "IMG_0001.JPG", "mimeType": "image/jpeg", "buffer": pictures.jpeg(300, 400, orientation=1)},
            {"name": "IMG_0002.JPG", "mimeType": "image/jpeg", "buffer": pictures.jpeg(300, 400)},
        ]
    )
    page.locator("#capture-form").get_by_label("Left 45°", exact=True).set_input_files(
        {"name": "IMG_0003.HEIC", "mimeType": "image/heic", "buffer": pictures.heic()}
    )
    page.locator("#capture-form").get_by_role("button", name="Store photos").click()
    expect(page.get_by_text("3 photos stored.")).to_be_visible()
    expect(guide.locator("li").filter(has_text="Left 45°")).to_contain_text("1 taken today")
    expect(guide.locator("li").filter(has_text="Front")).to_contain_text("2 taken today")
    assert Photo.objects.filter(patient=patient, taken_on=location.today()).count() == 3
    assert axe_violations(page) == []

    page.context.clear_cookies()
    sign_in(page, base, "sara")
    page.goto(f"{base}/photos/patients/{patient.pk}/compare/?view=front")
    section = page.get_by_role("region", name="Front")
    expect(section.get_by_role("img", name=f"Baseline, {baseline.taken_on:%-d %b %Y}")).to_be_visible()
    expect(section.get_by_text("Later").first).to_be_visible()
    wipe = section.get_by_role("slider", name="Wipe: baseline ← → later")
    after = section.locator("[data-wipe-after]")
    expect(after).to_have_css("clip-path", "inset(0px 0px 0px 50%)")
    wipe.focus()
    page.keyboard.press("End")
    expect(after).to_have_css("clip-path", "inset(0px 0px 0px 100%)")
    page.keyboard.press("Home")
    expect(after).to_have_css("clip-path", "inset(0px 0px 0px 0%)")
    assert axe_violations(page) == []


def test_the_specialist_records_consent_and_marks_a_zone_on_a_photo(page: Page, live_server: object) -> None:
    location = LocationFactory(name="Central")
    specialist = UserFactory(username="sara", first_name="Sara", last_name="Lind", role=Role.SPECIALIST)
    patient = PatientFactory(first_name="Nora", last_name="Quinn")
    base = str(live_server)
    sign_in(page, base, "sara")
    page.goto(f"{base}/photos/patients/{patient.pk}/")
    expect(page.get_by_role("alert").filter(has_text="No clinical photo consent holds")).to_be_visible()
    page.get_by_label("Teaching and marketing").check()
    page.get_by_label("I have read the consent text to the patient and they agreed.").check()
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_text("Consent recorded: Teaching and marketing.")).to_be_visible()
    page.get_by_label("Clinical record").check()
    page.get_by_label("I have read the consent text to the patient and they agreed.").check()
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_text("Consent recorded: Clinical record.")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="No clinical photo consent holds")).to_have_count(0)

    data = pictures.jpeg(400, 500)
    [photo] = services.photo_store(
        acting_user=specialist,
        patient=patient,
        uploads=[services.Upload(view="front", file=io.BytesIO(data), size=len(data))],
        context="consultation",
        taken_on=location.today(),
        zone=location.zone,
    )
    assert photo.scopes == [Scope.CLINICAL, Scope.TEACHING]
    page.goto(f"{base}{photo.get_absolute_url()}")
    image = page.get_by_role("img", name="Front view")
    box = image.bounding_box()
    assert box is not None
    image.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.25})
    expect(page.get_by_label("Across (‰ from the left)")).to_have_value("500")
    expect(page.get_by_label("Zone")).to_be_focused()
    page.get_by_label("Zone").select_option("forehead")
    page.get_by_label("Lesion").select_option("closed_comedones")
    page.get_by_role("button", name="Add marker").click()
    expect(page.get_by_text("Marker added.")).to_be_visible()
    expect(page.get_by_role("button", name="Remove Forehead, Closed comedones (whiteheads)")).to_be_visible()
    marker = page.locator(".photo-marker").first
    expect(marker).to_have_attribute("style", re.compile(r"left: (49\.\d|50(\.\d)?)%; top: (24\.\d|25(\.\d)?)%"))
    # The toast sits over the markers' card (top right); close it so axe reads the card itself.
    page.locator(".toast").get_by_role("button", name="Close").click()
    expect(page.locator(".toast.show")).to_have_count(0)
    assert axe_violations(page) == []
