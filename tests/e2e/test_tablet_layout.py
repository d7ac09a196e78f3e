"""The specialist's and aesthetician's forms at tablet widths, 1024 px and 768 px (issue 13).

Nothing is cut off or scrolls sideways (every form, and every table in one, fits its box; a wide
figures table may scroll inside a keyboard-reachable region), and no two labels
overlap. Each page is checked at both widths, and axe stays clean.
"""

from __future__ import annotations

import os
from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import Page

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
from treatments import services
from treatments.models import TreatmentSession
from treatments.rescreen import RescreenAnswers

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = (1024, 768)
# Set CLINIC_LAYOUT_SCREENSHOTS to a folder to keep a full-page screenshot of each page and width.
SCREENSHOTS = os.environ.get("CLINIC_LAYOUT_SCREENSHOTS", "")

# Boxes wider than they show (cut off, or scrolling sideways), and pairs of labels that overlap.
LAYOUT_PROBLEMS = """
() => {
  const problems = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  if (document.documentElement.scrollWidth > window.innerWidth + 1) {
    problems.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + window.innerWidth);
  }
  const boxes = 'main form, main table, main .table-responsive, main fieldset, main .card';
  for (const el of document.querySelectorAll(boxes)) {
    // A wide table of figures outside a form may scroll inside its box when that box is a
    // labelled region reachable by keyboard (axe checks it); a form's fields never scroll.
    const figures = el.closest('.table-responsive[tabindex="0"][role="region"]') && !el.closest('form');
    if (!figures && el.scrollWidth > el.clientWidth + 1) {
      problems.push('overflows: ' + name(el) + ' ' + el.scrollWidth + ' > ' + el.clientWidth);
    }
  }
  const labels = [...document.querySelectorAll('main label, main dt, main dd, main th, main legend')]
    .filter((el) => el.offsetParent !== null && !el.closest('.visually-hidden'))
    .map((el) => [el, el.getBoundingClientRect()])
    .filter(([, r]) => r.width > 0 && r.height > 0);
  for (let i = 0; i < labels.length; i++) {
    for (let j = i + 1; j < labels.length; j++) {
      const [a, ra] = labels[i];
      const [b, rb] = labels[j];
      if (a.contains(b) || b.contains(a)) continue;
      const x = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const y = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (x > 2 && y > 2) {
        problems.push('overlap: ' + name(a) + ' "' + a.textContent.trim().slice(0, 30) + '" and ' +
          name(b) + ' "' + b.textContent.trim().slice(0, 30) + '"');
      }
    }
  }
  return problems;
}
"""


def layout_problems(page: Page, url: str) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        page.wait_for_load_state("networkidle")
        problems = page.evaluate(LAYOUT_PROBLEMS)
        if SCREENSHOTS:
            shot = url.split("//", 1)[-1].split("/", 1)[-1].strip("/").replace("/", "_") or "home"
            page.screenshot(path=f"{SCREENSHOTS}/{shot}_{width}.png", full_page=True)
        violations = axe_violations(page)
        if problems or violations:
            found[width] = [*problems, *(str(v) for v in violations)]
    return found


CLEAR = RescreenAnswers(
    barrier="intact",
    active_infection=False,
    isotretinoin_since_consultation=False,
    topical_retinoid_since_consultation=False,
    sunburn=False,
)


@pytest.mark.timeout(900)  # twenty page loads with axe, on a shared machine
def test_the_clinical_forms_fit_a_tablet_at_1024_and_768(page: Page, live_server: object) -> None:
    location = LocationFactory(name="Central")
    aesthetician = UserFactory(username="amira", first_name="Amira", last_name="Cole", role=Role.AESTHETICIAN)
    specialist = UserFactory(username="sara", first_name="Sara", last_name="Lind", role=Role.SPECIALIST)
    room = RoomFactory(location=location, name="Treatment room")
    noon = datetime.combine(location.today(), time(12, 0), tzinfo=location.zone)
    patient = PatientFactory(first_name="Nora", last_name="Quinn")
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
        analysis_notes="Congestion worst on the T-zone; barrier intact.",
        lesion_counts={"nose": {"open_comedones": 20}, "chin": {"cysts": 1, "closed_comedones": 8}},
    )
    plan = TreatmentPlanFactory(consultation=consultation, sessions_planned=6, starts_on=location.today())
    lot = ProductLotFactory(lot_number="BP-2511", expires_on=location.today() + timedelta(days=200))
    appointments = [
        AppointmentFactory(
            appointment_type=ExtractionTypeFactory(),
            patient=patient,
            practitioner=aesthetician,
            room=room,
            start=noon + timedelta(hours=hours),
            status=AppointmentStatus.CHECKED_IN,
        )
        for hours in (-3, 0, 2)
    ]
    for number, appointment in enumerate(appointments, start=1):
        PlanSession.objects.create(plan=plan, number=number, appointment=appointment)
    signed = services.session_start(acting_user=aesthetician, appointment=appointments[0])
    services.session_rescreen(acting_user=aesthetician, session=signed, answers=CLEAR)
    services.session_sign(
        acting_user=aesthetician,
        session=signed,
        log=services.SessionLog(
            cleanse_product="Gentle gel cleanser",
            exfoliation="enzyme",
            softening="steam",
            extraction_method="manual_gauze",
            lesions_extracted={"nose": {"open_comedones": 12}},
            lesions_present={"nose": {"open_comedones": 14}, "chin": {"cysts": 1}},
            pain=3,
            complications=["pinpoint_bleeding", "excessive_redness"],
            complication_notes="Settled within minutes.",
            product_lot=lot,
            aftercare_explained=True,
            notes="Tolerated well.",
        ),
    )
    logging = services.session_start(acting_user=aesthetician, appointment=appointments[1])
    services.session_rescreen(acting_user=aesthetician, session=logging, answers=CLEAR)
    rescreen = services.session_start(acting_user=aesthetician, appointment=appointments[2])
    draft = ConsultationFactory(
        appointment=AppointmentFactory(
            appointment_type=AppointmentTypeFactory(),
            practitioner=specialist,
            room=RoomFactory(location=location, name="Consulting room"),
            start=noon,
            status=AppointmentStatus.CHECKED_IN,
        )
    )
    assert TreatmentSession.objects.count() == 3
    base = str(live_server)

    sign_in(page, base, "amira")
    aesthetician_pages = [
        f"{base}/treatments/",
        f"{base}/treatments/sessions/{rescreen.pk}/rescreen/",
        f"{base}/treatments/sessions/{logging.pk}/log/",
        f"{base}/treatments/sessions/{signed.pk}/",
        f"{base}/treatments/patients/{patient.pk}/progress/",
    ]
    found = {url: problems for url in aesthetician_pages if (problems := layout_problems(page, url))}
    page.set_viewport_size({"width": 1280, "height": 860})
    page.context.clear_cookies()
    sign_in(page, base, "sara")
    specialist_pages = [
        f"{base}/consultations/",
        f"{base}/consultations/{draft.pk}/edit/",
        f"{base}/consultations/{consultation.pk}/",
        f"{base}/consultations/plans/{plan.pk}/",
        f"{base}/treatments/plans/{plan.pk}/review/",
    ]
    found |= {url: problems for url in specialist_pages if (problems := layout_problems(page, url))}
    report = "\n".join(
        f"{url} @{width}px: {problem}" for url, by in found.items() for width, ps in by.items() for problem in ps
    )
    assert found == {}, report
