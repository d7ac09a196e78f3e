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


def test_the_demo_shows_a_caution_a_held_programme_and_a_deferred_patient_due_for_recheck() -> None:
    from clinic import hooks
    from clinic.models import Location
    from consultations.selectors import deferred_due_for_recheck, patient_cautions
    from treatments import demo as treatments_demo
    from treatments.models import Product

    treatments_demo.seed()
    demo.seed()
    farah = Consultation.objects.signed().get(patient__first_name="Farah")
    assert patient_cautions(farah.patient_id) == ("CA_PIGMENTATION_RISK",)
    assert farah.lancet_allowed is False
    held = TreatmentPlan.objects.held().get()
    assert held.patient.first_name == "Ivy"
    assert not patient_cleared_for_extraction(held.patient)
    location = held.consultation.appointment.location
    # Ivy's five booked sessions are one call to make, not five.
    [call] = hooks.calls_to_make(location)
    assert call.patient_name == held.patient.full_name
    assert "5 booked sessions" in call.reason
    due = deferred_due_for_recheck(Location.objects.get(pk=location.pk), location.today())
    assert [c.patient.first_name for c in due] == ["Ben"]
    assert not Product.objects.filter(name__icontains="tea tree").exists()
    assert Product.objects.filter(allergens__contains=["chlorhexidine"]).exists()
