"""The consultation's cautions travel into the aftercare a signed session starts."""

from __future__ import annotations

import pytest

from aftercare.models import Message, MessageKind
from consultations.selectors import nsaid_sensitive, patient_cautions
from tests.treatments.conftest import TreatmentScene
from treatments.hooks import aftercare_arguments
from treatments.services import session_sign

pytestmark = pytest.mark.django_db


def signed_sequence(scene: TreatmentScene) -> dict[str, Message]:
    session = scene.started_and_cleared()
    session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    return {m.kind: m for m in Message.objects.filter(patient=scene.patient, source=f"treatment_session:{session.pk}")}


@pytest.mark.parametrize("consultation_overrides", [{"pregnant_or_breastfeeding": True}])
def test_a_pregnant_patient_gets_no_ibuprofen_and_no_retinoid_advice_after_her_session(scene: TreatmentScene) -> None:
    assert "CA_PREGNANCY" in patient_cautions(scene.patient.pk)
    messages = signed_sequence(scene)
    assert "ibuprofen or acetaminophen" not in messages[MessageKind.AFTERCARE_RIGHT_AFTER].body_text
    assert "acetaminophen (paracetamol)" in messages[MessageKind.AFTERCARE_RIGHT_AFTER].body_text
    assert "retinoid or" not in messages[MessageKind.ACTIVES_RETURN].body_text


@pytest.mark.parametrize("consultation_overrides", [{"allergies": "Ibuprofen (hives)"}])
def test_an_nsaid_sensitive_patient_gets_no_ibuprofen_advice(scene: TreatmentScene) -> None:
    messages = signed_sequence(scene)
    assert "ibuprofen or acetaminophen" not in messages[MessageKind.AFTERCARE_RIGHT_AFTER].body_text


@pytest.mark.parametrize("consultation_overrides", [{"fitzpatrick": 5}])
def test_a_fitzpatrick_v_patient_gets_pigment_mark_advice_after_the_session(scene: TreatmentScene) -> None:
    messages = signed_sequence(scene)
    assert "post-inflammatory pigmentation" in messages[MessageKind.AFTERCARE_RIGHT_AFTER].body_text


def test_a_patient_without_cautions_gets_the_standard_sequence(scene: TreatmentScene) -> None:
    assert patient_cautions(scene.patient.pk) == ()
    messages = signed_sequence(scene)
    assert "ibuprofen or acetaminophen" in messages[MessageKind.AFTERCARE_RIGHT_AFTER].body_text
    assert MessageKind.CHECKIN_DAY3 not in messages


def test_the_review_invitation_is_keyed_on_the_plan(scene: TreatmentScene) -> None:
    session = scene.started_and_cleared()
    session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    session.refresh_from_db()
    assert aftercare_arguments(session)["review_key"] == f"plan:{scene.plan.pk}"
    review = Message.objects.get(patient=scene.patient, kind=MessageKind.PROGRESS_REVIEW)
    assert review.idempotency_key == f"plan:{scene.plan.pk}"


@pytest.mark.parametrize(
    ("allergies", "sensitive"),
    [("Ibuprofen", True), ("aspirin - asthma", True), ("NSAIDs", True), ("Lanolin", False), ("", False)],
)
def test_an_allergy_to_an_nsaid_reads_as_nsaid_sensitive(allergies: str, sensitive: bool) -> None:
    assert nsaid_sensitive(allergies) is sensitive


@pytest.mark.parametrize(
    ("caution", "kind", "text"),
    [
        ("CA_BLEEDING_RISK", MessageKind.AFTERCARE_RIGHT_AFTER, "acetaminophen (paracetamol) can help"),
        ("CA_INFECTION_RISK", MessageKind.CHECKIN_DAY3, "check once more"),
    ],
)
def test_each_caution_reaches_the_aftercare(
    scene: TreatmentScene, monkeypatch: pytest.MonkeyPatch, caution: str, kind: str, text: str
) -> None:
    # The consultation form records anticoagulants and immunosuppression (the safety work);
    # here the caution is given as the selector would read it.
    monkeypatch.setattr("treatments.hooks.patient_cautions", lambda patient_id: (caution,))
    messages = signed_sequence(scene)
    assert text in messages[kind].body_text


def test_an_anticoagulated_patient_gets_no_ibuprofen_advice(
    scene: TreatmentScene, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("treatments.hooks.patient_cautions", lambda patient_id: ("CA_BLEEDING_RISK",))
    messages = signed_sequence(scene)
    assert "ibuprofen or acetaminophen" not in messages[MessageKind.AFTERCARE_RIGHT_AFTER].body_text
