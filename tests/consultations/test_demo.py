from __future__ import annotations

import pytest

from consultations import demo
from consultations.eligibility import patient_cleared_for_extraction
from consultations.models import Consultation, TreatmentPlan

pytestmark = pytest.mark.django_db


def test_the_demo_shows_every_consultation_stage_and_seeds_once() -> None:
    first = demo.seed()
    assert first == {"consultations": 5, "plans": 3, "questionnaires": 1}
    assert demo.seed() == {"consultations": 0, "plans": 0, "questionnaires": 0}
    outcomes = {c.patient.first_name: c.final_outcome for c in Consultation.objects.signed().select_related("patient")}
    assert outcomes == {
        "Anna": "recommended",
        "Farah": "recommended",
        "Eva": "recommended",
        "Ben": "defer",
        "Daniel": "not_recommended",
    }
    assert Consultation.objects.drafts().get().questionnaire_answers
    for plan in TreatmentPlan.objects.select_related("patient"):
        assert patient_cleared_for_extraction(plan.patient)
        assert plan.sessions.exists()
