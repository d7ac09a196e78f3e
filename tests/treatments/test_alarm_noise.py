"""Alarm noise (issue 13): "None known" and its variants are answers, not allergies."""

from __future__ import annotations

import pytest
from django.test import Client

from consultations.models import recorded_allergies
from consultations.selectors import plan_summary
from tests.treatments.conftest import TreatmentScene

NO_ALLERGY = ["None known.", "none", "Nil", "No known allergies", "NKDA", "n/a", "  None  known  "]


@pytest.mark.parametrize("typed", NO_ALLERGY)
def test_no_allergy_answers_read_as_no_allergy(typed: str) -> None:
    assert recorded_allergies(typed) == ""


def test_a_real_allergy_reads_as_typed_with_spacing_tidied() -> None:
    assert recorded_allergies("Lanolin,  latex ") == "Lanolin, latex"
    assert recorded_allergies("None known except plasters") == "None known except plasters"


def _pages(scene: TreatmentScene) -> list[str]:
    client = Client()
    client.force_login(scene.aesthetician)
    session = scene.start()
    return [
        client.get("/treatments/").content.decode(),
        client.get(f"/treatments/sessions/{session.pk}/rescreen/").content.decode(),
        client.get(f"/treatments/patients/{scene.patient.pk}/progress/").content.decode(),
    ]


@pytest.mark.parametrize("consultation_overrides", [{"allergies": "None known."}])
def test_none_known_raises_no_red_alert_on_the_day_list_banner_or_record(scene: TreatmentScene) -> None:
    assert plan_summary(scene.patient.pk).allergies == ""
    pages = _pages(scene)
    assert len(pages) == 3
    for page in pages:
        assert "None known" not in page
        assert 'class="badge alert-badge"' not in page


@pytest.mark.parametrize("consultation_overrides", [{"allergies": "", "no_known_allergies": True}])
def test_structured_no_known_allergies_raises_no_red_alert(scene: TreatmentScene) -> None:
    for page in _pages(scene):
        assert 'class="badge alert-badge"' not in page


def test_a_recorded_allergy_still_raises_the_red_alert(scene: TreatmentScene) -> None:
    pages = _pages(scene)
    assert all("Lanolin" in page and 'class="badge alert-badge"' in page for page in pages[:2])
