"""The questionnaire fills the structured health history, and the specialist confirms each answer (issue 13)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from consultations import services
from consultations.intake import structured_answers
from consultations.models import Consultation
from tests.factories import AppointmentFactory, LocationFactory

pytestmark = pytest.mark.django_db

ANSWERS = {
    "routine": "Cream cleanser, SPF 50.",
    "weeks_on_routine": 9,
    "medications": "Combined pill, warfarin 3 mg.",
    "isotretinoin": False,
    "topical_retinoid": False,
    "allergies": "None known.",
    "pregnant_or_breastfeeding": False,
    "skin_conditions": "Cold sores now and then; psoriasis on the elbows",
    "goals": "Fewer whiteheads.",
}
ANALYSIS = {
    "fitzpatrick": "3",
    "skin_type": "oily",
    "barrier": "intact",
    "sensitivity": "normal",
    "congestion": "widespread",
    "iga": "2",
    "lesions-forehead__closed_comedones": "25",
}


def test_cold_sores_tick_the_box_and_the_rest_stays_as_text() -> None:
    values = structured_answers(ANSWERS)
    assert values["cold_sores"] is True
    assert values["other_conditions"] == "psoriasis on the elbows"
    assert values["anticoagulant_or_bleeding_disorder"] is True
    assert values["no_known_allergies"] is True
    assert "allergies" not in values
    assert values["weeks_consistent_skincare"] == 9


def test_negated_and_tagged_answers() -> None:
    values = structured_answers({"skin_conditions": "no rosacea", "allergies": "Latex and nickel (earrings)"})
    assert "rosacea" not in values
    assert values["other_conditions"] == "no rosacea"
    assert values["allergies"] == "Latex and nickel (earrings)"
    assert values["allergens"] == ["latex", "nickel"]


def _submitted() -> Consultation:
    LocationFactory(name="Central")
    appointment = AppointmentFactory(start=timezone.now(), status="checked_in")
    return services.questionnaire_submit(appointment=appointment, answers=ANSWERS)


def _client(consultation: Consultation) -> Client:
    client = Client()
    client.force_login(consultation.specialist)
    return client


def test_the_questionnaire_fills_structured_fields_waiting_for_confirmation() -> None:
    consultation = _submitted()
    assert consultation.cold_sores is True
    assert consultation.no_known_allergies is True
    assert consultation.allergies == ""
    assert set(consultation.questionnaire_unconfirmed) == {
        "routine",
        "weeks_consistent_skincare",
        "goals",
        "medications",
        "anticoagulant_or_bleeding_disorder",
        "cold_sores",
        "other_conditions",
        "no_known_allergies",
    }
    page = _client(consultation).get(f"/consultations/{consultation.pk}/edit/").content.decode()
    assert page.count("From the questionnaire — confirm") == 8
    assert 'name="confirm_cold_sores"' in page


def test_signing_refuses_unconfirmed_answers_beside_each_field() -> None:
    consultation = _submitted()
    data: dict[str, Any] = {**ANSWERS_FORM, **ANALYSIS, "sign": "1"}
    response = _client(consultation).post(f"/consultations/{consultation.pk}/edit/", data)
    assert response.status_code == 400
    assert (
        response.content.decode().count("From the pre-visit questionnaire: confirm this answer with the patient.") == 8
    )
    consultation.refresh_from_db()
    assert consultation.status == "draft"


def test_confirming_each_answer_lets_the_specialist_sign() -> None:
    consultation = _submitted()
    client = _client(consultation)
    confirms = {f"confirm_{name}": "on" for name in consultation.questionnaire_unconfirmed}
    saved = client.post(f"/consultations/{consultation.pk}/edit/", {**ANSWERS_FORM, **confirms, "save": "1"})
    assert saved.status_code == 302
    consultation.refresh_from_db()
    assert consultation.questionnaire_unconfirmed == []
    signed = client.post(f"/consultations/{consultation.pk}/edit/", {**ANSWERS_FORM, **ANALYSIS, "sign": "1"})
    assert signed.status_code == 302
    consultation.refresh_from_db()
    assert consultation.is_signed
    assert consultation.cold_sores


# What the form posts back once filled from the answers (the fields keep their imported values).
ANSWERS_FORM = {
    "routine": "Cream cleanser, SPF 50.",
    "weeks_consistent_skincare": "9",
    "goals": "Fewer whiteheads.",
    "medications": "Combined pill, warfarin 3 mg.",
    "anticoagulant_or_bleeding_disorder": "on",
    "cold_sores": "on",
    "other_conditions": "psoriasis on the elbows",
    "no_known_allergies": "on",
}
