"""One patient through the safety of the programme, in the browser.

Consultation with a caution → plan → session day → re-screen stop → the plan on hold and on
the front desk's calls → the specialist re-assesses → the patient is cleared again → the
progress review records its own present count and IGA, beside the charts.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from clinic.models import AppointmentStatus, Location
from clinic.roles import Role
from consultations.eligibility import patient_cleared_for_extraction
from consultations.models import Consultation, PlanSession, TreatmentPlan
from tests.e2e.conftest import axe_violations
from tests.e2e.test_consultation import sign_in
from tests.factories import (
    AppointmentFactory,
    ExtractionTypeFactory,
    LocationFactory,
    PatientFactory,
    RoomFactory,
    UserFactory,
)
from treatments.models import ProgressReview

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NO_TO = (
    "Active skin infection today?",
    "Isotretinoin started since the consultation?",
    "A topical retinoid started since the consultation?",
    "Sunburn on an area to be treated?",
    "Pregnant or breastfeeding since the consultation?",
    "New nodules or cysts (deep, painful lumps)?",
    "Is the skin extremely sensitive today?",
    "An active cold sore?",
)


def test_a_stop_pauses_the_programme_until_the_specialist_reassesses(page: Page, live_server: object) -> None:
    location: Location = LocationFactory(name="Central", time_zone="Europe/London")
    room = RoomFactory(location=location, name="Room 1")
    specialist = UserFactory(username="spec", first_name="Sara", last_name="Lind", role=Role.SPECIALIST)
    UserFactory(username="desk", first_name="Fiona", last_name="Desk", role=Role.FRONT_DESK)
    aesthetician = UserFactory(username="amira", first_name="Amira", last_name="Cole", role=Role.AESTHETICIAN)
    patient = PatientFactory(first_name="Maya", last_name="Okoro")
    AppointmentFactory(
        patient=patient,
        practitioner=specialist,
        room=room,
        start=timezone.now() - timedelta(hours=2),
        status=AppointmentStatus.CHECKED_IN,
    )
    base = str(live_server)
    page.on("dialog", lambda dialog: pytest.fail(f"the browser's own {dialog.type}() was used"))

    # 1. The consultation: phototype V is a caution that travels (no lancet).
    sign_in(page, base, "spec")
    page.get_by_role("row", name="Maya Okoro").get_by_role("button", name="Open consultation").click()
    page.get_by_label("Current products and routine").fill("Gel cleanser, SPF 30")
    page.get_by_label("Weeks on this routine, consistently").fill("10")
    page.get_by_label("Fitzpatrick phototype").select_option("5")
    page.get_by_label("Skin type").select_option("oily")
    page.get_by_label("Barrier").select_option("intact")
    page.get_by_label("Sensitivity").select_option("normal")
    page.get_by_label("Congestion").select_option("localized")
    page.get_by_label("Investigator's global assessment").select_option("2")
    page.get_by_label("Forehead: Closed comedones (whiteheads)").fill("12")
    expect(page.get_by_test_id("rules-outcome")).to_have_text("Extraction recommended")
    expect(page.get_by_test_id("cautions")).to_contain_text("Fitzpatrick phototype IV-VI")
    page.get_by_role("button", name="Sign consultation").click()
    page.get_by_role("dialog").get_by_role("button", name="Sign consultation").click()
    expect(page.get_by_role("heading", name="Extraction recommended")).to_be_visible()
    consultation = Consultation.objects.get(patient=patient)
    assert consultation.cautions == ["CA_PIGMENTATION_RISK"]
    assert consultation.lancet_allowed is False

    page.get_by_role("link", name="Write treatment plan").click()
    expect(page.get_by_test_id("cautions")).to_contain_text("no lancet")
    page.get_by_label("Sessions planned").fill("4")
    page.get_by_label("Days between sessions").fill("21")
    page.get_by_label("Forehead").check()
    page.get_by_label("Home-care regimen").fill("Gentle cleanser, azelaic acid 15% at night, SPF 50 daily.")
    page.locator("#id_goals").fill("Clear forehead whiteheads without marks.")
    page.get_by_label("Patient's full name, typed by the patient").fill("Maya Okoro")
    page.get_by_role("button", name="Save plan").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Treatment plan: Maya Okoro")
    plan = TreatmentPlan.objects.get(patient=patient)
    assert patient_cleared_for_extraction(patient)

    # Sessions 1 (today, checked in) and 2 (in three weeks) are in the book.
    noon = datetime.combine(location.today(), time(12, 0), tzinfo=location.zone)
    extraction = ExtractionTypeFactory()
    today = AppointmentFactory(
        appointment_type=extraction,
        patient=patient,
        practitioner=aesthetician,
        room=room,
        start=max(noon, timezone.now() + timedelta(minutes=5)),
        status=AppointmentStatus.CHECKED_IN,
    )
    later = AppointmentFactory(
        appointment_type=extraction,
        patient=patient,
        practitioner=aesthetician,
        room=room,
        start=noon + timedelta(days=21),
        status=AppointmentStatus.BOOKED,
    )
    PlanSession.objects.create(plan=plan, number=1, appointment=today)
    PlanSession.objects.create(plan=plan, number=2, appointment=later)

    # 2-3. The session day: the banner carries the caution; the re-screen finds a new medication.
    sign_in(page, base, "amira")
    page.get_by_role("row", name="Maya Okoro").get_by_role("button", name="Start session").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Day-of re-screen: Maya Okoro")
    expect(page.get_by_test_id("cautions")).to_contain_text("No lancet for this patient.")
    page.get_by_role("radio", name="Intact").check()
    for question in NO_TO:
        page.get_by_role("group", name=question).get_by_role("radio", name="No").check()
    page.get_by_role("group", name="Any new medication since the consultation (of any kind)?").get_by_role(
        "radio", name="Yes"
    ).check()
    page.get_by_label("Which medication?").fill("Warfarin 5 mg, started last week")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Record re-screen").first.click()
    # The stop is confirmed first, with what it will do (issue 13).
    confirm = page.get_by_test_id("confirm-stop")
    expect(confirm).to_contain_text("the appointment is cancelled")
    assert axe_violations(page) == []
    confirm.get_by_role("button", name="Stop the session and cancel the appointment").click()
    expect(page.get_by_text("Session stopped")).to_be_visible()
    plan.refresh_from_db()
    assert plan.is_on_hold
    assert not patient_cleared_for_extraction(patient)

    # 4. The front desk sees whom to call: session 2 cannot go ahead.
    sign_in(page, base, "desk")
    calls = page.get_by_test_id("calls-to-make")
    expect(calls).to_contain_text("Maya Okoro")
    expect(calls).to_contain_text("Programme on hold")
    assert axe_violations(page) == []

    # 5. The specialist re-assesses from the alert and resumes with a written note.
    sign_in(page, base, "spec")
    page.get_by_role("link", name="Re-assess and resume").click()
    expect(page.get_by_test_id("plan-on-hold")).to_be_visible()
    expect(page.get_by_text("Warfarin 5 mg, started last week")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("What the re-assessment found").fill(
        "Warfarin for a DVT, INR stable. Lancet already ruled out; light pressure only. Programme may go on."
    )
    page.get_by_role("button", name="Resume the programme").first.click()
    expect(page.get_by_text("Programme resumed: the patient is cleared again.")).to_be_visible()

    # 6. Cleared again: the hold is lifted and the note kept on the plan.
    plan.refresh_from_db()
    assert not plan.is_on_hold
    assert plan.resume_note.startswith("Warfarin for a DVT")
    assert patient_cleared_for_extraction(patient)
    sign_in(page, base, "desk")
    expect(page.get_by_test_id("calls-to-make")).to_have_count(0)

    # 7. The progress review: what is present today, graded, beside the charts of the programme.
    sign_in(page, base, "spec")
    page.goto(f"{base}/treatments/plans/{plan.pk}/review/")
    present = page.locator("#review-present-map")
    present.get_by_role("link", name="Forehead").click()
    present.get_by_label("Forehead: Closed comedones (whiteheads)").fill("4")
    page.get_by_label("IGA today").select_option("2")
    page.get_by_role("radio", name="Continue the plan").check()
    page.get_by_role("button", name="Record decision").first.click()
    expect(page.get_by_text("Progress review recorded.")).to_be_visible()
    review = ProgressReview.objects.get(plan=plan)
    assert review.iga == 2
    assert review.lesions_present["forehead"]["closed_comedones"] == 4
    expect(page.locator("section[aria-labelledby=progress-heading] svg").first).to_be_visible()
    assert axe_violations(page) == []
