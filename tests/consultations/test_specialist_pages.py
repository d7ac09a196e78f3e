"""The specialist's pages as a specialist reads them (issue 13): her day, the signed record, consent, the decision."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from clinic.models import AppointmentKind, AppointmentStatus, AppointmentStatusChange
from consultations import services
from consultations.consent import consent_name_matches, normalised_name
from consultations.models import Consultation, TreatmentPlan
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    ConsultationFactory,
    LocationFactory,
    PatientFactory,
    TreatmentPlanFactory,
)

pytestmark = pytest.mark.django_db

ANALYSIS = {
    "fitzpatrick": "3",
    "skin_type": "oily",
    "barrier": "intact",
    "sensitivity": "normal",
    "congestion": "widespread",
    "iga": "2",
    "weeks_consistent_skincare": "9",
}
COUNTED = {
    "lesions-forehead__closed_comedones": "25",
    "lesions-forehead__papules": "3",
    "lesions-nose__open_comedones": "7",
}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def visible_text(page: str) -> str:
    """The page's text as a person reads it: no tags, so no attributes (titles, data-*)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


@pytest.fixture
def consultation() -> Consultation:
    LocationFactory(name="Central")
    return ConsultationFactory(appointment__start=timezone.now())


# --- 1. The specialist's home lists every appointment of hers today -----------------------------


def test_the_specialist_home_lists_her_progress_review_with_a_link_to_the_review(consultation: Consultation) -> None:
    specialist = consultation.specialist
    plan = TreatmentPlanFactory(consultation__appointment__start=timezone.now() - timedelta(days=60))
    review_type = AppointmentTypeFactory(name="Progress review", kind=AppointmentKind.REVIEW, duration_minutes=20)
    AppointmentFactory(
        appointment_type=review_type,
        patient=plan.patient,
        practitioner=specialist,
        room=consultation.appointment.room,
        start=consultation.appointment.end + timedelta(minutes=10),
        status=AppointmentStatus.CHECKED_IN,
    )
    colleague = ConsultationFactory(appointment__start=timezone.now())
    page = client_for(specialist).get("/consultations/").content.decode()
    assert "Your appointments today" in page
    assert consultation.patient.full_name in page
    assert plan.patient.full_name in page
    assert f"/treatments/plans/{plan.pk}/review/" in page
    assert "Open progress review" in page
    # Another specialist's consultation is on her home, not this one.
    assert colleague.patient.full_name not in page


# --- 2. Signing a consultation completes its appointment ------------------------------------------


def test_signing_a_consultation_completes_its_appointment_in_the_audit_trail(consultation: Consultation) -> None:
    response = client_for(consultation.specialist).post(
        f"/consultations/{consultation.pk}/edit/", {**ANALYSIS, **COUNTED, "sign": "1"}
    )
    assert response.status_code == 302
    appointment = consultation.appointment
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.COMPLETED
    changes = list(
        AppointmentStatusChange.objects.filter(appointment=appointment).values_list("from_status", "to_status", "by")
    )
    assert changes == [
        ("checked_in", "in_progress", consultation.specialist.pk),
        ("in_progress", "completed", consultation.specialist.pk),
    ]


def test_a_refused_signature_leaves_the_appointment_as_it_was(consultation: Consultation) -> None:
    response = client_for(consultation.specialist).post(f"/consultations/{consultation.pk}/edit/", {"sign": "1"})
    assert response.status_code == 400
    consultation.appointment.refresh_from_db()
    assert consultation.appointment.status == AppointmentStatus.CHECKED_IN


# --- 3. The signed consultation shows the notes and the counts by type and zone -------------------


def test_the_signed_consultation_shows_analysis_notes_and_counts_by_zone_and_type(consultation: Consultation) -> None:
    client = client_for(consultation.specialist)
    data = {**ANALYSIS, **COUNTED, "analysis_notes": "Congestion worst on the T-zone.", "sign": "1"}
    assert client.post(f"/consultations/{consultation.pk}/edit/", data).status_code == 302
    page = client.get(f"/consultations/{consultation.pk}/").content.decode()
    assert "Congestion worst on the T-zone." in page
    table = page[page.index('data-testid="lesion-table"') :]
    table = table[: table.index("</table>")]
    forehead = table[table.index('data-zone="forehead"') :]
    forehead = forehead[: forehead.index("</tr>")]
    # Columns: blackheads, whiteheads, papules, pustules, nodules, cysts, total.
    assert re.findall(r">\s*(\d+)\s*<", forehead) == ["0", "25", "3", "0", "0", "0", "28"]
    nose = table[table.index('data-zone="nose"') :]
    nose = nose[: nose.index("</tr>")]
    assert re.findall(r">\s*(\d+)\s*<", nose) == ["7", "0", "0", "0", "0", "0", "7"]
    assert "Closed comedones (whiteheads)" in table


# --- 4. Consent: the typed name must be the patient's -------------------------------------------


def test_names_compare_with_accents_case_and_spacing_ignored() -> None:
    assert normalised_name("  ZOË   Walker ") == "zoe walker"
    assert consent_name_matches("zoe walker", first_name="Zoë", last_name="Walker")
    assert consent_name_matches("Zoë  WALKER", first_name="Zoe", last_name="Walker")
    assert consent_name_matches("Siobhán O’Neil", first_name="Siobhan", last_name="O'Neil")
    assert not consent_name_matches("Zoe W.", first_name="Zoe", last_name="Walker")
    assert not consent_name_matches("Zoe", first_name="Zoe", last_name="Walker")
    assert not consent_name_matches("", first_name="Zoe", last_name="Walker")


def _unconsented_plan() -> TreatmentPlan:
    LocationFactory(name="Central")
    patient = PatientFactory(first_name="Zoë", last_name="Walker")
    return TreatmentPlanFactory(
        consultation__appointment__patient=patient, consent_version="", consent_name="", consented_at=None
    )


def test_consent_with_an_initial_is_refused_beside_the_name_field() -> None:
    plan = _unconsented_plan()
    client = client_for(plan.consultation.specialist)
    response = client.post(f"/consultations/plans/{plan.pk}/consent/", {"consent_name": "Zoe W."})
    assert response.status_code == 400
    page = response.content.decode()
    assert "initials are not enough" in page
    assert 'id="error_1_id_consent_name"' in page or "invalid-feedback" in page
    plan.refresh_from_db()
    assert not plan.is_consented


def test_consent_with_the_full_name_typed_without_accents_is_recorded() -> None:
    plan = _unconsented_plan()
    response = client_for(plan.consultation.specialist).post(
        f"/consultations/plans/{plan.pk}/consent/", {"consent_name": "zoe  walker"}
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.is_consented
    assert plan.consent_name == "zoe  walker"


def test_the_plan_form_refuses_consent_typed_with_someone_elses_name() -> None:
    LocationFactory(name="Central")
    patient = PatientFactory(first_name="Zoe", last_name="Walker")
    signed = ConsultationFactory(recommended=True, appointment__patient=patient)
    with pytest.raises(services.ConsultationRefused) as refused:
        services.plan_create(
            acting_user=signed.specialist,
            consultation=signed,
            sessions_planned=4,
            interval_days=21,
            focus_zones=["nose"],
            home_care="SPF",
            pause_before="",
            resume_after="",
            goals="Clear",
            review_on=signed.plan_starts_on() + timedelta(days=63),
            consent_name="Zoe W.",
        )
    assert "consent_name" in refused.value.message_dict
    assert not TreatmentPlan.objects.exists()


# --- 6. Rule ids are not shown as text -----------------------------------------------------------


def test_rule_ids_are_a_tooltip_not_text_on_the_form_and_the_signed_record(consultation: Consultation) -> None:
    client = client_for(consultation.specialist)
    preview = client.post(
        f"/consultations/{consultation.pk}/preview/",
        {**ANALYSIS, "barrier": "inflamed", **COUNTED},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert 'data-rule-id="CI_BARRIER_COMPROMISED"' in preview
    assert "CI_" not in visible_text(preview)
    assert "IND_" not in visible_text(preview)
    data = {**ANALYSIS, **COUNTED, "sign": "1"}
    assert client.post(f"/consultations/{consultation.pk}/edit/", data).status_code == 302
    page = client.get(f"/consultations/{consultation.pk}/").content.decode()
    assert 'title="Rule IND_' in page
    assert "IND_" not in visible_text(page)


# --- 7. A blank form has no decision yet; 8. an override hides the re-check -------------------------


def test_a_blank_consultation_form_shows_no_decision_yet(consultation: Consultation) -> None:
    page = client_for(consultation.specialist).get(f"/consultations/{consultation.pk}/edit/").content.decode()
    panel = page[page.index('id="decision-panel"') : page.index('id="id_override_outcome"')]
    assert 'data-outcome=""' in panel[:200]
    assert "No decision yet" in panel
    assert "Extraction not recommended" not in visible_text(panel)


def test_a_complete_analysis_without_indication_still_says_not_recommended(consultation: Consultation) -> None:
    data = {**ANALYSIS, "congestion": "none"}
    page = (
        client_for(consultation.specialist)
        .post(f"/consultations/{consultation.pk}/preview/", data, headers={"HX-Request": "true"})
        .content.decode()
    )
    assert 'data-outcome="not_recommended"' in page
    assert "Extraction not recommended" in page


def test_an_override_to_recommended_does_not_show_the_calm_and_repair_recheck(consultation: Consultation) -> None:
    client = client_for(consultation.specialist)
    deferred = {**ANALYSIS, **COUNTED, "barrier": "irritated"}
    before = client.post(
        f"/consultations/{consultation.pk}/preview/", deferred, headers={"HX-Request": "true"}
    ).content.decode()
    assert "Re-check in" in before
    after = client.post(
        f"/consultations/{consultation.pk}/preview/",
        {**deferred, "override_outcome": "recommended", "override_reason": "Barrier settled since the photo."},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert 'data-outcome="recommended"' in after
    assert "Your override: Extraction recommended" in after
    assert "Re-check in" not in after
    assert "Meanwhile" not in after
    signed = client.post(
        f"/consultations/{consultation.pk}/edit/",
        {**deferred, "override_outcome": "recommended", "override_reason": "Barrier settled.", "sign": "1"},
    )
    assert signed.status_code == 302
    consultation.refresh_from_db()
    assert consultation.recheck_on is None
    page = client.get(f"/consultations/{consultation.pk}/").content.decode()
    assert "Re-check on" not in page
    assert "Meanwhile:" not in page
