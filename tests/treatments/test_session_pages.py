"""The aesthetician's session pages (issue 13): signing lists every missing entry; a stopping re-screen confirms."""

from __future__ import annotations

import pytest
from django.test import Client

from clinic.models import AppointmentStatus, User
from tests.treatments.conftest import TreatmentScene
from treatments.models import SessionStatus, SpecialistAlert, TreatmentSession

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_signing_an_empty_log_lists_every_missing_entry_at_once(scene: TreatmentScene) -> None:
    session = scene.started_and_cleared()
    response = signed_in(scene.aesthetician).post(
        f"/treatments/sessions/{session.pk}/log/", {"action": "sign", "cleanse_product": "Gel"}
    )
    page = response.content.decode()
    expected = [
        "Count the lesions present today, by zone and type, before signing.",
        "Choose the extraction method.",
        "Record the pain score (0-10).",
        "Record the antibacterial product lot applied.",
        "Explain the aftercare to the patient before signing.",
    ]
    for message in expected:
        assert message in page
    assert (
        "Before signing, complete: the lesions present today, the extraction method, the pain score, "
        "the antibacterial product lot, the aftercare explained." in page
    )
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS
    assert session.cleanse_product == ""


CLEAR = {
    "barrier": "intact",
    "active_infection": "no",
    "isotretinoin_since_consultation": "no",
    "topical_retinoid_since_consultation": "no",
    "sunburn": "no",
    "new_pregnancy": "no",
    "new_nodules_or_cysts": "no",
    "extreme_sensitivity": "no",
    "active_cold_sore": "no",
    "has_new_medication": "no",
    "retinoid_pause_kept": "yes",
}


def test_a_rescreen_that_would_stop_asks_for_confirmation_and_changes_nothing(scene: TreatmentScene) -> None:
    session = scene.start()
    client = signed_in(scene.aesthetician)
    response = client.post(f"/treatments/sessions/{session.pk}/rescreen/", {**CLEAR, "sunburn": "yes"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="confirm-stop"' in page
    assert "the appointment is cancelled with this reason" in page
    assert "Stop the session and cancel the appointment" in page
    session.refresh_from_db()
    scene.appointment.refresh_from_db()
    assert session.status == SessionStatus.RESCREEN
    assert scene.appointment.status != AppointmentStatus.CANCELLED
    assert not SpecialistAlert.objects.exists()

    confirmed = client.post(
        f"/treatments/sessions/{session.pk}/rescreen/", {**CLEAR, "sunburn": "yes", "confirm_stop": "1"}
    )
    assert confirmed.status_code == 302
    session.refresh_from_db()
    scene.appointment.refresh_from_db()
    assert session.status == SessionStatus.STOPPED
    assert scene.appointment.status == AppointmentStatus.CANCELLED


def test_a_clear_rescreen_goes_straight_on_without_a_confirmation(scene: TreatmentScene) -> None:
    session = scene.start()
    response = signed_in(scene.aesthetician).post(f"/treatments/sessions/{session.pk}/rescreen/", CLEAR)
    assert response.status_code == 302
    assert TreatmentSession.objects.get(pk=session.pk).status == SessionStatus.IN_PROGRESS
