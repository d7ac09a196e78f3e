"""The aesthetician's session, in the browser: start, re-screen, log on the face map, lot, sign."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import Page, expect

from clinic.models import AppointmentStatus
from clinic.roles import Role
from consultations.models import PlanSession
from tests.e2e.conftest import axe_violations
from tests.e2e.test_sign_in import sign_in
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    ConsultationFactory,
    ExtractionTypeFactory,
    LocationFactory,
    PatientFactory,
    ProductLotFactory,
    RoomFactory,
    TreatmentPlanFactory,
    UserFactory,
)
from treatments.models import SessionStatus, TreatmentSession

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_aesthetician_performs_and_signs_a_session(page: Page, live_server: object) -> None:
    location = LocationFactory(name="Central")
    aesthetician = UserFactory(username="amira", first_name="Amira", last_name="Cole", role=Role.AESTHETICIAN)
    specialist = UserFactory(username="sara", role=Role.SPECIALIST)
    patient = PatientFactory(first_name="Nora", last_name="Quinn")
    room = RoomFactory(location=location, name="Treatment room")
    noon = datetime.combine(location.today(), time(12, 0), tzinfo=location.zone)
    consultation = ConsultationFactory(
        recommended=True,
        appointment=AppointmentFactory(
            appointment_type=AppointmentTypeFactory(),
            patient=patient,
            practitioner=specialist,
            room=room,
            start=noon - timedelta(days=21),
            status=AppointmentStatus.COMPLETED,
        ),
        allergies="Lanolin",
        lesion_counts={"nose": {"open_comedones": 20}},
    )
    plan = TreatmentPlanFactory(consultation=consultation, sessions_planned=6, starts_on=location.today())
    appointment = AppointmentFactory(
        appointment_type=ExtractionTypeFactory(),
        patient=patient,
        practitioner=aesthetician,
        room=room,
        start=noon,
        status=AppointmentStatus.CHECKED_IN,
    )
    PlanSession.objects.create(plan=plan, number=1, appointment=appointment)
    ProductLotFactory(lot_number="BP-2511", expires_on=location.today() + timedelta(days=200))
    ProductLotFactory(lot_number="BP-OLD", expires_on=location.today() - timedelta(days=1))
    base = str(live_server)

    sign_in(page, base, "amira")
    expect(page).to_have_url(f"{base}/treatments/")
    row = page.get_by_role("row", name="Nora Quinn")
    expect(row).to_contain_text("Session 1 of 6")
    expect(row).to_contain_text("Lanolin")
    assert axe_violations(page) == []
    row.get_by_role("button", name="Start session").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Day-of re-screen: Nora Quinn")
    assert axe_violations(page) == []
    page.get_by_role("radio", name="Intact").check()
    for question in (
        "Active skin infection today?",
        "Isotretinoin started since the consultation?",
        "A topical retinoid started since the consultation?",
        "Sunburn on an area to be treated?",
        "Pregnant or breastfeeding since the consultation?",
        "New nodules or cysts (deep, painful lumps)?",
        "Is the skin extremely sensitive today?",
        "An active cold sore?",
        "Any new medication since the consultation (of any kind)?",
    ):
        page.get_by_role("group", name=question).get_by_role("radio", name="No").check()
    page.get_by_role("button", name="Record re-screen").first.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Session log: Nora Quinn")
    page.get_by_label("Cleanser used").fill("Gentle gel cleanser")
    page.get_by_label("Extraction method").select_option("manual_gauze")
    page.get_by_role("radio", name="Steam").check()
    # First what is present today, before anything is extracted: progress compares it with the
    # consultation's counts. Choosing a zone on the face map moves to its first count.
    present = page.get_by_role("group", name="Lesions present today, before extraction")
    present.get_by_role("link", name="Nose").click()
    expect(present.get_by_label("Nose: Open comedones (blackheads)")).to_be_focused()
    page.keyboard.type("18")
    present.get_by_label("Forehead: Closed comedones (whiteheads)").fill("9")
    present.get_by_label("Forehead: Papules").fill("2")
    expect(page.locator('#present-map .face-zone[data-zone="nose"] .zone-total')).to_have_text("18")
    # Then what was extracted, on its own map.
    extracted = page.get_by_role("group", name="Lesions extracted")
    extracted.get_by_role("link", name="Nose").click()
    expect(extracted.get_by_label("Nose: Open comedones (blackheads)")).to_be_focused()
    page.keyboard.type("14")
    extracted.get_by_label("Forehead: Closed comedones (whiteheads)").fill("6")
    expect(page.locator('#extracted-map .face-zone[data-zone="nose"] .zone-total')).to_have_text("14")
    page.get_by_label("Pain reported (0-10)").fill("3")
    page.get_by_role("checkbox", name="Pinpoint bleeding").check()
    lot = page.get_by_label("Antibacterial product and lot")
    expect(lot.locator("option", has_text="BP-OLD")).to_have_count(0)
    lot.select_option(label=lot.locator("option", has_text="BP-2511").inner_text())
    page.get_by_role("checkbox", name="Aftercare explained to the patient").check()
    assert axe_violations(page) == []
    page.get_by_role("main").get_by_role("button", name="Sign session").last.click()
    page.get_by_role("dialog").get_by_role("button", name="Sign session").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Treatment session: Nora Quinn")
    expect(page.get_by_text("Session signed and locked.")).to_be_visible()
    expect(page.locator("#extracted-table").get_by_role("row", name="Nose")).to_contain_text("14")
    expect(page.locator("#present-table").get_by_role("row", name="Nose")).to_contain_text("18")
    assert axe_violations(page) == []
    session = TreatmentSession.objects.get()
    assert session.status == SessionStatus.SIGNED
    assert session.lesions_extracted == {"nose": {"open_comedones": 14}, "forehead": {"closed_comedones": 6}}
    assert session.lesions_present == {
        "nose": {"open_comedones": 18},
        "forehead": {"closed_comedones": 9, "papules": 2},
    }
    assert session.product_lot is not None
    assert session.product_lot.lot_number == "BP-2511"
