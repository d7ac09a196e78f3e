"""Only the aesthetician who owns a session logs or signs it; the front desk cannot start one."""

from __future__ import annotations

import pytest
from django.test import Client
from pghistory.models import Events

from clinic.models import User
from clinic.roles import Role
from tests.factories import UserFactory
from tests.treatments.conftest import TreatmentScene
from treatments import services
from treatments.models import SessionStatus, TreatmentSession


def test_an_aesthetician_cannot_sign_another_aestheticians_session(
    scene: TreatmentScene, other_aesthetician: User
) -> None:
    session = scene.started_and_cleared()
    with pytest.raises(services.SessionRefused, match="belongs to another aesthetician"):
        services.session_sign(acting_user=other_aesthetician, session=session, log=scene.log())
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS
    assert session.signed_by_id is None


def test_an_aesthetician_cannot_log_another_aestheticians_session(
    scene: TreatmentScene, other_aesthetician: User
) -> None:
    session = scene.started_and_cleared()
    with pytest.raises(services.SessionRefused, match="belongs to another aesthetician"):
        services.session_log_save(acting_user=other_aesthetician, session=session, log=scene.log(notes="not mine"))
    session.refresh_from_db()
    assert session.notes == ""


def test_the_front_desk_cannot_start_a_session(scene: TreatmentScene, front_desk: User) -> None:
    with pytest.raises(services.SessionRefused, match="Only an aesthetician"):
        services.session_start(acting_user=front_desk, appointment=scene.appointment)
    assert not TreatmentSession.objects.filter(appointment=scene.appointment).exists()


def test_a_handed_over_session_is_signed_by_its_new_owner_and_the_hand_over_is_audited(
    scene: TreatmentScene, other_aesthetician: User
) -> None:
    session = scene.started_and_cleared()
    manager = UserFactory(username="boss", role=Role.MANAGER)
    services.session_hand_over(acting_user=manager, session=session, to_user=other_aesthetician, reason="Off sick")
    signed = services.session_sign(acting_user=other_aesthetician, session=session, log=scene.log())
    assert signed.status == SessionStatus.SIGNED
    assert signed.signed_by_id == other_aesthetician.pk
    event = Events.objects.filter(
        pgh_obj_model="treatments.TreatmentSession",
        pgh_obj_id=str(session.pk),
        pgh_data__aesthetician_id=other_aesthetician.pk,
    ).earliest("pgh_created_at")
    assert event.pgh_context["user"] == manager.pk
    assert event.pgh_context["hand_over_reason"] == "Off sick"


def test_a_colleague_cannot_take_a_session_over_by_themselves(scene: TreatmentScene, other_aesthetician: User) -> None:
    session = scene.started_and_cleared()
    with pytest.raises(services.SessionRefused, match="or a manager"):
        services.session_hand_over(
            acting_user=other_aesthetician, session=session, to_user=other_aesthetician, reason="Mine"
        )


def test_a_manager_hands_a_session_over_from_the_appointment_page(
    scene: TreatmentScene, other_aesthetician: User, client: Client
) -> None:
    session = scene.started_and_cleared()
    manager = UserFactory(username="boss", role=Role.MANAGER)
    client.force_login(manager)
    page = client.get(f"/appointments/{scene.appointment.pk}/").content.decode()
    assert f"/treatments/sessions/{session.pk}/hand-over/" in page
    response = client.post(
        f"/treatments/sessions/{session.pk}/hand-over/",
        {"to_user": other_aesthetician.pk, "reason": "Off sick"},
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.aesthetician_id == other_aesthetician.pk


def test_the_front_desk_cannot_hand_a_session_over(scene: TreatmentScene, front_desk: User, client: Client) -> None:
    session = scene.started_and_cleared()
    client.force_login(front_desk)
    response = client.post(f"/treatments/sessions/{session.pk}/hand-over/", {"to_user": scene.aesthetician.pk})
    assert response.status_code == 403
