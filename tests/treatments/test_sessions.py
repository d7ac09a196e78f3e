"""A treatment session: start, day-of re-screen, log, sign, lock and addenda."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, transaction

from aftercare.models import Message, MessageKind
from clinic.models import Appointment, AppointmentStatus, User
from tests.factories import AppointmentFactory, ProductLotFactory
from tests.treatments.conftest import CLEAR, NOW, TreatmentScene
from treatments.models import SessionAddendum, SessionStatus, SpecialistAlert, TreatmentSession
from treatments.services import (
    SessionRefused,
    session_add_addendum,
    session_log_save,
    session_rescreen,
    session_sign,
    session_start,
)

pytestmark = pytest.mark.django_db


def test_starting_a_checked_in_extraction_sets_the_appointment_in_progress(scene: TreatmentScene) -> None:
    session = scene.start()
    scene.appointment.refresh_from_db()
    assert scene.appointment.status == AppointmentStatus.IN_PROGRESS
    assert (session.status, session.session_number, session.aesthetician_id) == (
        SessionStatus.RESCREEN,
        1,
        scene.aesthetician.pk,
    )
    assert session.patient_id == scene.patient.pk


def test_starting_twice_returns_the_same_session(scene: TreatmentScene) -> None:
    first = scene.start()
    second = scene.start()
    assert first.pk == second.pk
    assert TreatmentSession.objects.count() == 1


def test_it_refuses_to_start_before_the_patient_is_checked_in(scene: TreatmentScene) -> None:
    booked = AppointmentFactory(
        appointment_type=scene.appointment.appointment_type,
        patient=scene.patient,
        practitioner=scene.aesthetician,
        room=scene.appointment.room,
        start=NOW + timedelta(days=14),
    )
    with pytest.raises(SessionRefused, match="Check the patient in first"):
        session_start(acting_user=scene.aesthetician, appointment=booked)
    assert not TreatmentSession.objects.exists()


def test_an_appointment_the_desk_already_set_in_progress_gets_its_session(scene: TreatmentScene) -> None:
    scene.appointment.begin(by=scene.aesthetician)
    session = scene.start()
    scene.appointment.refresh_from_db()
    assert scene.appointment.status == AppointmentStatus.IN_PROGRESS
    assert session.appointment_id == scene.appointment.pk
    assert scene.appointment.status_changes.filter(to_status=AppointmentStatus.IN_PROGRESS).count() == 1


def test_it_refuses_to_start_a_session_from_a_consultation(scene: TreatmentScene) -> None:
    consultation = Appointment.objects.get(appointment_type__kind="consultation")
    with pytest.raises(SessionRefused, match="Only an extraction session"):
        session_start(acting_user=scene.aesthetician, appointment=consultation)


def test_the_session_takes_its_number_from_the_plan(scene: TreatmentScene) -> None:
    session = scene.start()
    assert (session.plan_id, session.session_number, session.sessions_planned) == (scene.plan.pk, 1, 6)
    assert session.number_label == "1 of 6"


def test_a_session_booked_outside_the_plan_counts_the_signed_sessions_before(scene: TreatmentScene) -> None:
    session = scene.started_and_cleared()
    session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    later = AppointmentFactory(
        appointment_type=scene.appointment.appointment_type,
        patient=scene.patient,
        practitioner=scene.aesthetician,
        room=scene.appointment.room,
        start=NOW + timedelta(days=14),
        status=AppointmentStatus.CHECKED_IN,
    )
    second = session_start(acting_user=scene.aesthetician, appointment=later)
    assert (second.plan_id, second.number_label) == (scene.plan.pk, "2 of 6")


@pytest.mark.parametrize(
    ("answer", "rule_id"),
    [
        ({"barrier": "irritated"}, "RS_BARRIER_COMPROMISED"),
        ({"active_infection": True}, "RS_ACTIVE_INFECTION"),
        ({"isotretinoin_since_consultation": True}, "RS_ISOTRETINOIN_STARTED"),
        ({"topical_retinoid_since_consultation": True}, "RS_TOPICAL_RETINOID_STARTED"),
        ({"sunburn": True}, "RS_SUNBURN"),
    ],
)
def test_a_contraindication_at_the_rescreen_stops_the_session_and_tells_the_specialist(
    scene: TreatmentScene, answer: dict[str, Any], rule_id: str
) -> None:
    session = scene.start()
    result = session_rescreen(acting_user=scene.aesthetician, session=session, answers=replace(CLEAR, **answer))
    assert result.stopped
    assert result.reasons == (rule_id,)
    session.refresh_from_db()
    assert session.status == SessionStatus.STOPPED
    assert session.rescreen_reasons == [rule_id]
    scene.appointment.refresh_from_db()
    assert scene.appointment.status == AppointmentStatus.CANCELLED
    assert scene.appointment.cancel_reason.startswith("Stopped at the day-of re-screen:")
    alert = SpecialistAlert.objects.get(session=session)
    # The specialist who held the patient's consultation is told.
    assert (alert.specialist_id, alert.reasons, alert.resolved_at) == (scene.specialist.pk, [rule_id], None)


def test_a_stopped_session_cannot_be_logged_or_signed(scene: TreatmentScene) -> None:
    session = scene.start()
    session_rescreen(acting_user=scene.aesthetician, session=session, answers=replace(CLEAR, sunburn=True))
    with pytest.raises(SessionRefused):
        session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    with pytest.raises(SessionRefused):
        session_log_save(acting_user=scene.aesthetician, session=session, log=scene.log())
    session.refresh_from_db()
    assert session.status == SessionStatus.STOPPED
    assert session.signed_at is None


def test_a_clear_rescreen_lets_the_session_go_on(scene: TreatmentScene) -> None:
    session = scene.start()
    result = session_rescreen(acting_user=scene.aesthetician, session=session, answers=CLEAR)
    assert not result.stopped
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS
    assert session.rescreened_at == NOW
    assert not SpecialistAlert.objects.exists()


def test_signing_completes_the_session_and_the_appointment_and_starts_the_aftercare_in_one_transaction(
    scene: TreatmentScene, django_capture_on_commit_callbacks: Any
) -> None:
    session = scene.started_and_cleared()
    with django_capture_on_commit_callbacks(execute=False):
        session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
        # Written before the commit, with the signing: nothing waits for an after-commit step.
        assert Message.objects.filter(source=f"treatment_session:{session.pk}").exists()
    session.refresh_from_db()
    assert (session.status, session.signed_at, session.signed_by_id) == (
        SessionStatus.SIGNED,
        NOW,
        scene.aesthetician.pk,
    )
    assert session.lesions_extracted == {"nose": {"open_comedones": 12}, "chin": {"closed_comedones": 4}}
    scene.appointment.refresh_from_db()
    assert scene.appointment.status == AppointmentStatus.COMPLETED


def test_signing_kicks_the_dispatcher_only_once_it_has_committed(
    scene: TreatmentScene, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aftercare.tasks import dispatch_due

    kicked: list[object] = []
    monkeypatch.setattr(dispatch_due, "delay", lambda: kicked.append("kick"))
    session = scene.started_and_cleared()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    assert kicked == []  # nothing is enqueued inside the transaction
    for callback in callbacks:
        callback()
    assert kicked == ["kick"]


def test_a_broker_that_is_down_does_not_turn_a_signed_session_into_an_error(
    scene: TreatmentScene, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aftercare.tasks import dispatch_due

    def broker_down() -> None:
        raise ConnectionRefusedError("redis is down")

    monkeypatch.setattr(dispatch_due, "delay", broker_down)
    session = scene.started_and_cleared()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    assert len(callbacks) == 1  # the kick ran, failed, and was logged; the rows wait for beat
    session.refresh_from_db()
    assert session.status == SessionStatus.SIGNED
    assert Message.objects.filter(source=f"treatment_session:{session.pk}").exists()


def test_a_failure_writing_the_aftercare_rolls_the_signing_back_and_says_so(
    scene: TreatmentScene, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise DatabaseError("the outbox is unwritable")

    monkeypatch.setattr("aftercare.services.Message.objects.bulk_create", broken)
    session = scene.started_and_cleared()
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(SessionRefused, match="not signed"):
        session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    assert callbacks == []
    session.refresh_from_db()
    assert (session.status, session.signed_at) == (SessionStatus.IN_PROGRESS, None)
    scene.appointment.refresh_from_db()
    assert scene.appointment.status == AppointmentStatus.IN_PROGRESS
    assert not Message.objects.filter(patient=scene.patient).exists()


def test_a_refused_signing_writes_no_aftercare_and_enqueues_nothing(
    scene: TreatmentScene, django_capture_on_commit_callbacks: Any
) -> None:
    session = scene.started_and_cleared()
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(SessionRefused):
        session_sign(acting_user=scene.aesthetician, session=session, log=scene.log(aftercare_explained=False))
    assert callbacks == []
    assert not Message.objects.filter(patient=scene.patient).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"extraction_method": ""}, "extraction_method"),
        ({"pain": None}, "pain"),
        ({"product_lot": None}, "product_lot"),
        ({"aftercare_explained": False}, "aftercare_explained"),
        ({"pain": 11}, "pain"),
    ],
)
def test_signing_needs_a_complete_log(scene: TreatmentScene, overrides: dict[str, Any], field: str) -> None:
    session = scene.started_and_cleared()
    with pytest.raises(SessionRefused) as refused:
        session_sign(acting_user=scene.aesthetician, session=session, log=scene.log(**overrides))
    assert refused.value.field == field
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS


def test_an_expired_lot_is_refused(scene: TreatmentScene) -> None:
    expired = ProductLotFactory(lot_number="BP-OLD", expires_on=NOW.date() - timedelta(days=1))
    session = scene.started_and_cleared()
    with pytest.raises(SessionRefused, match="Lot BP-OLD expired on 02/03/2026") as refused:
        session_sign(acting_user=scene.aesthetician, session=session, log=scene.log(product_lot=expired))
    assert refused.value.field == "product_lot"
    with pytest.raises(SessionRefused, match="expired"):
        session_log_save(acting_user=scene.aesthetician, session=session, log=scene.log(product_lot=expired))
    session.refresh_from_db()
    assert (session.status, session.product_lot_id) == (SessionStatus.IN_PROGRESS, None)


def test_a_lot_is_usable_on_its_expiry_date(scene: TreatmentScene) -> None:
    last_day = ProductLotFactory(lot_number="BP-LAST", expires_on=NOW.date())
    session = scene.started_and_cleared()
    session_sign(acting_user=scene.aesthetician, session=session, log=scene.log(product_lot=last_day))
    session.refresh_from_db()
    assert session.product_lot_id == last_day.pk


def test_a_signed_session_is_locked_in_the_database(scene: TreatmentScene) -> None:
    session = scene.started_and_cleared()
    session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        TreatmentSession.objects.filter(pk=session.pk).update(pain=0)
    session.notes = "edited quietly"
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        session.save()
    session.refresh_from_db()
    assert (session.pain, session.notes) == (3, "")


def test_signing_again_changes_nothing(scene: TreatmentScene) -> None:
    session = scene.started_and_cleared()
    session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    again = session_sign(acting_user=scene.aesthetician, session=session, log=scene.log(pain=9))
    assert again.pain == 3


def test_a_correction_is_a_dated_addendum_by_the_sessions_author(scene: TreatmentScene) -> None:
    session = scene.started_and_cleared()
    session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    addendum = session_add_addendum(
        acting_user=scene.aesthetician, session=session, text="  Pain was 4, not 3: patient said so on leaving. "
    )
    assert (addendum.author_id, addendum.written_at, addendum.text) == (
        scene.aesthetician.pk,
        NOW,
        "Pain was 4, not 3: patient said so on leaving.",
    )
    session.refresh_from_db()
    assert session.pain == 3  # the record itself is unchanged


def test_only_the_author_adds_addenda(scene: TreatmentScene, other_aesthetician: User) -> None:
    session = scene.started_and_cleared()
    session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    with pytest.raises(SessionRefused, match="author"):
        session_add_addendum(acting_user=other_aesthetician, session=session, text="Not mine to correct")
    assert not SessionAddendum.objects.exists()


def test_an_unsigned_session_takes_no_addendum_and_a_blank_one_is_refused(scene: TreatmentScene) -> None:
    session = scene.started_and_cleared()
    with pytest.raises(SessionRefused, match="not signed"):
        session_add_addendum(acting_user=scene.aesthetician, session=session, text="Too early")
    session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    with pytest.raises(SessionRefused, match="Write the addendum"):
        session_add_addendum(acting_user=scene.aesthetician, session=session, text="   ")


def test_addenda_are_append_only(scene: TreatmentScene) -> None:
    session = scene.started_and_cleared()
    session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    addendum = session_add_addendum(acting_user=scene.aesthetician, session=session, text="Swelling settled")
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        SessionAddendum.objects.filter(pk=addendum.pk).update(text="rewritten")


def test_the_database_refuses_a_signed_session_without_its_lot(scene: TreatmentScene) -> None:
    session = scene.started_and_cleared()
    with pytest.raises(IntegrityError, match="session_signed_is_complete"), transaction.atomic():
        TreatmentSession.objects.filter(pk=session.pk).update(
            status=SessionStatus.SIGNED, signed_at=NOW, signed_by=scene.aesthetician
        )


def test_signing_a_session_schedules_the_patients_aftercare_once(
    scene: TreatmentScene, django_capture_on_commit_callbacks: Any
) -> None:
    from treatments.hooks import on_session_signed

    session = scene.started_and_cleared()
    with django_capture_on_commit_callbacks(execute=True):
        session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    source = f"treatment_session:{session.pk}"
    kinds = set(Message.objects.filter(patient_id=session.patient_id, source=source).values_list("kind", flat=True))
    assert {MessageKind.AFTERCARE_RIGHT_AFTER, MessageKind.CHECKIN_DAY1, MessageKind.ACTIVES_RETURN} <= kinds
    # Booked sessions are reminded by the booking messages, not a second time here.
    assert MessageKind.SESSION_REMINDER not in kinds
    count = Message.objects.filter(source__startswith=source).count()
    # Signing again (a double click, a retried request) and the hook itself add nothing.
    session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    on_session_signed(TreatmentSession.objects.with_related().get(pk=session.pk))
    assert Message.objects.filter(source__startswith=source).count() == count


def test_a_session_service_outside_any_request_records_its_acting_user(scene: TreatmentScene) -> None:
    session = scene.started_and_cleared()
    session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    event = TreatmentSession.pgh_event_models["update"].objects.filter(pgh_obj_id=session.pk).order_by("pgh_id").last()  # type: ignore[attr-defined]
    assert event is not None
    assert event.status == SessionStatus.SIGNED
    assert event.pgh_context.metadata["user"] == scene.aesthetician.pk
    # The aftercare written with it belongs to the same change, by the same person.
    message_event = (
        Message.pgh_event_models["insert"].objects.filter(pgh_obj__source=f"treatment_session:{session.pk}").first()
    )  # type: ignore[attr-defined]
    assert message_event is not None
    assert message_event.pgh_context_id == event.pgh_context_id
