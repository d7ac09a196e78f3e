"""Only the owner of a draft consultation writes or signs it; others need an audited hand-over."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from pghistory.models import Events

from clinic.models import User
from clinic.roles import Role
from consultations import services
from consultations.models import Consultation
from tests.factories import ConsultationFactory, LocationFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/London"))
COMPLETE = {
    "fitzpatrick": 3,
    "skin_type": "combination",
    "barrier": "intact",
    "sensitivity": "normal",
    "congestion": "widespread",
    "iga": 2,
    "weeks_consistent_skincare": 10,
}
COUNTS = {"forehead": {"closed_comedones": 25, "papules": 2}, "nose": {"open_comedones": 30}}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def draft() -> Consultation:
    owner = UserFactory(username="owner", role=Role.SPECIALIST)
    room = RoomFactory(location=LocationFactory(name="Central"))
    return ConsultationFactory(appointment__room=room, appointment__start=NOW, appointment__practitioner=owner)


@pytest.fixture
def colleague() -> User:
    return UserFactory(username="colleague", role=Role.SPECIALIST)


def _sign(consultation: Consultation, user: User) -> Consultation:
    return services.consultation_sign(
        acting_user=user, consultation=consultation, values=COMPLETE, lesion_counts=COUNTS
    )


def test_a_specialist_cannot_sign_another_specialists_draft(draft: Consultation, colleague: User) -> None:
    with pytest.raises(ValidationError, match="belongs to another specialist"):
        _sign(draft, colleague)
    draft.refresh_from_db()
    assert not draft.is_signed
    assert draft.specialist.username == "owner"


def test_a_specialist_cannot_save_another_specialists_draft(draft: Consultation, colleague: User) -> None:
    with pytest.raises(ValidationError, match="belongs to another specialist"):
        services.consultation_save_draft(
            acting_user=colleague, consultation=draft, values={"goals": "mine now"}, lesion_counts={}
        )
    draft.refresh_from_db()
    assert draft.goals != "mine now"


def test_signing_keeps_the_owner_as_the_specialist(draft: Consultation) -> None:
    signed = _sign(draft, draft.specialist)
    assert signed.is_signed
    assert signed.specialist.username == "owner"


def test_a_manager_hands_a_draft_over_and_the_new_owner_signs_it(draft: Consultation, colleague: User) -> None:
    manager = UserFactory(username="boss", role=Role.MANAGER)
    services.consultation_hand_over(acting_user=manager, consultation=draft, to_user=colleague, reason="Off sick")
    draft.refresh_from_db()
    assert draft.specialist_id == colleague.pk
    assert _sign(draft, colleague).is_signed


def test_a_hand_over_is_audited_with_who_to_whom_and_why(draft: Consultation, colleague: User) -> None:
    owner = draft.specialist
    services.consultation_hand_over(acting_user=owner, consultation=draft, to_user=colleague, reason="Leaving early")
    # The time is frozen, so the event is found by what it recorded, not by when.
    event = Events.objects.get(
        pgh_obj_model="consultations.Consultation",
        pgh_obj_id=str(draft.pk),
        pgh_data__specialist_id=colleague.pk,
    )
    assert event.pgh_context["user"] == owner.pk
    assert event.pgh_context["hand_over_reason"] == "Leaving early"
    assert event.pgh_context["hand_over_to"] == colleague.pk


def test_a_colleague_cannot_take_a_draft_over_by_themselves(draft: Consultation, colleague: User) -> None:
    with pytest.raises(ValidationError, match="or a manager"):
        services.consultation_hand_over(acting_user=colleague, consultation=draft, to_user=colleague, reason="Mine")
    draft.refresh_from_db()
    assert draft.specialist.username == "owner"


def test_a_draft_is_handed_only_to_a_specialist_and_with_a_reason(draft: Consultation) -> None:
    front_desk = UserFactory(username="desk", role=Role.FRONT_DESK)
    with pytest.raises(ValidationError, match="only be handed to a specialist"):
        services.consultation_hand_over(
            acting_user=draft.specialist, consultation=draft, to_user=front_desk, reason="Cover"
        )
    with pytest.raises(ValidationError, match="Say why"):
        services.consultation_hand_over(
            acting_user=draft.specialist, consultation=draft, to_user=UserFactory(role=Role.SPECIALIST), reason=" "
        )


def test_the_owner_hands_a_draft_over_from_the_appointment_page(draft: Consultation, colleague: User) -> None:
    client = Client()
    client.force_login(draft.specialist)
    page = client.get(f"/appointments/{draft.appointment_id}/").content.decode()
    assert f"/consultations/{draft.pk}/hand-over/" in page
    response = client.post(f"/consultations/{draft.pk}/hand-over/", {"to_user": colleague.pk, "reason": "Called away"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.specialist_id == colleague.pk


def test_a_colleague_is_not_offered_the_hand_over(draft: Consultation, colleague: User) -> None:
    client = Client()
    client.force_login(colleague)
    page = client.get(f"/appointments/{draft.appointment_id}/").content.decode()
    assert "only they sign it" in page
    assert f"/consultations/{draft.pk}/hand-over/" not in page
