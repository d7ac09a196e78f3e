"""Aftercare adapts to the patient's cautions and to their check-in answers."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client

from aftercare.models import AppointmentReplyAnswer, CheckInAnswer, Message, MessageKind, MessageStatus
from aftercare.services import (
    SessionFacts,
    aftercare_sequence_start,
    appointment_reply_record,
    booking_messages_cancel,
    booking_messages_schedule,
    checkin_answer,
    message_template_variants,
)
from clinic.models import Appointment, Location, Patient, User
from consultations.models import PlanSession
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    ExtractionTypeFactory,
    LocationFactory,
    PatientFactory,
    TreatmentPlanFactory,
)

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")
COMPLETED = datetime(2026, 6, 10, 15, 30, tzinfo=LONDON)


def start(patient: Patient, location: Location, facts: SessionFacts, source: str, **kwargs: Any) -> list[Message]:
    with time_machine.travel(COMPLETED, tick=False):
        return aftercare_sequence_start(
            acting_user=None,
            patient=patient,
            location=location,
            completed_at=COMPLETED,
            facts=facts,
            source=source,
            **kwargs,
        )


def by_kind(messages: list[Message]) -> dict[str, Message]:
    return {m.kind: m for m in messages}


PREGNANT = SessionFacts(extraction_method="manual_gauze", no_ibuprofen=True, no_retinoid=True)


def test_a_pregnant_patient_gets_no_ibuprofen_advice(location: Location) -> None:
    right_after = by_kind(start(PatientFactory(), location, PREGNANT, "s:1"))[MessageKind.AFTERCARE_RIGHT_AFTER]
    assert "ibuprofen or acetaminophen" not in right_after.body_text
    assert "acetaminophen (paracetamol) can help" in right_after.body_text
    assert "do not take ibuprofen" in right_after.body_text


def test_a_patient_without_cautions_keeps_the_standard_pain_relief_advice(location: Location) -> None:
    facts = SessionFacts(extraction_method="manual_gauze")
    right_after = by_kind(start(PatientFactory(), location, facts, "s:1"))[MessageKind.AFTERCARE_RIGHT_AFTER]
    assert "ibuprofen or acetaminophen" in right_after.body_text


def test_pregnancy_gets_no_bring_your_retinoid_back_message(location: Location) -> None:
    actives = by_kind(start(PatientFactory(), location, PREGNANT, "s:1"))[MessageKind.ACTIVES_RETURN]
    assert "bring your actives" not in actives.body_text
    assert "retinoid or" not in actives.body_text
    assert "Please do not use retinoids while you are pregnant or breastfeeding." in actives.body_text


def test_fitzpatrick_iv_to_vi_gets_pigment_mark_and_sun_protection_advice(location: Location) -> None:
    facts = SessionFacts(extraction_method="manual_gauze", pigment_risk=True)
    right_after = by_kind(start(PatientFactory(), location, facts, "s:1"))[MessageKind.AFTERCARE_RIGHT_AFTER]
    assert "post-inflammatory pigmentation" in right_after.body_text
    assert "SPF 30 or higher every day" in right_after.body_text
    plain = by_kind(start(PatientFactory(), location, SessionFacts("manual_gauze"), "s:2"))
    assert "post-inflammatory pigmentation" not in plain[MessageKind.AFTERCARE_RIGHT_AFTER].body_text


def test_an_immunosuppressed_or_diabetic_patient_also_gets_a_day3_checkin(location: Location) -> None:
    facts = SessionFacts(extraction_method="manual_gauze", slow_healing=True)
    kinds = by_kind(start(PatientFactory(), location, facts, "s:1"))
    assert kinds[MessageKind.CHECKIN_DAY3].due_at == datetime(2026, 6, 13, 10, 0, tzinfo=LONDON)
    assert "How is your skin today" not in kinds[MessageKind.CHECKIN_DAY3].subject
    # Answered with one click, like the next-day check-in.
    assert "Still red or sensitive: http" in kinds[MessageKind.CHECKIN_DAY3].body_text
    others = by_kind(start(PatientFactory(), location, SessionFacts("manual_gauze"), "s:2"))
    assert MessageKind.CHECKIN_DAY3 not in others


def test_a_deactivated_caution_variant_sends_nothing_rather_than_the_standard_text(location: Location) -> None:
    variant = message_template_variants()[(MessageKind.AFTERCARE_RIGHT_AFTER, "no_ibuprofen")]
    variant.is_active = False
    variant.save()
    kinds = by_kind(start(PatientFactory(), location, PREGNANT, "s:1"))
    assert MessageKind.AFTERCARE_RIGHT_AFTER not in kinds


# --- Check-in answers ------------------------------------------------------------------------


def sequence(location: Location) -> tuple[Patient, dict[str, Message]]:
    patient = PatientFactory()
    return patient, by_kind(start(patient, location, SessionFacts("manual_gauze"), "treatment_session:5"))


def test_still_red_holds_back_the_actives_message(location: Location) -> None:
    patient, kinds = sequence(location)
    with time_machine.travel(COMPLETED + timedelta(days=1), tick=False):
        checkin_answer(message_token=kinds[MessageKind.CHECKIN_DAY1].token, answer=CheckInAnswer.RED_OR_SENSITIVE)
    actives = Message.objects.get(patient=patient, kind=MessageKind.ACTIVES_RETURN)
    assert actives.status == MessageStatus.CANCELLED
    waiting = Message.objects.get(patient=patient, kind=MessageKind.ACTIVES_WAIT)
    assert waiting.status == MessageStatus.SCHEDULED
    # At the moment "bring actives back" would have gone out, the other message goes instead.
    assert waiting.due_at == actives.due_at
    assert "give it two more days" in waiting.body_text


def test_answering_still_red_twice_schedules_one_two_more_days_message(location: Location) -> None:
    patient, kinds = sequence(location)
    token = kinds[MessageKind.CHECKIN_DAY1].token
    checkin_answer(message_token=token, answer=CheckInAnswer.RED_OR_SENSITIVE)
    checkin_answer(message_token=token, answer=CheckInAnswer.RED_OR_SENSITIVE)
    assert Message.objects.filter(patient=patient, kind=MessageKind.ACTIVES_WAIT).count() == 1


def test_a_later_fine_on_the_same_check_in_keeps_the_first_answer_and_the_actives_held(location: Location) -> None:
    # The first answer stands (a later click is only kept as a click): a "fine" clicked after
    # "still red" on the same day-1 link changes nothing, so "two more days" still goes.
    patient, kinds = sequence(location)
    token = kinds[MessageKind.CHECKIN_DAY1].token
    checkin_answer(message_token=token, answer=CheckInAnswer.RED_OR_SENSITIVE)
    later = checkin_answer(message_token=token, answer=CheckInAnswer.FINE)
    assert later is not None
    assert not later.recorded
    statuses = dict(Message.objects.filter(patient=patient).values_list("kind", "status"))
    assert statuses[MessageKind.ACTIVES_RETURN] == MessageStatus.CANCELLED
    assert statuses[MessageKind.ACTIVES_WAIT] == MessageStatus.SCHEDULED


def test_fine_leaves_the_actives_message_as_it_is(location: Location) -> None:
    patient, kinds = sequence(location)
    checkin_answer(message_token=kinds[MessageKind.CHECKIN_DAY1].token, answer=CheckInAnswer.FINE)
    assert Message.objects.get(patient=patient, kind=MessageKind.ACTIVES_RETURN).status == MessageStatus.SCHEDULED
    assert not Message.objects.filter(patient=patient, kind=MessageKind.ACTIVES_WAIT).exists()


# --- One review invitation per plan ---------------------------------------------------------


def test_one_review_invitation_per_plan(location: Location) -> None:
    patient = PatientFactory()
    facts = SessionFacts("manual_gauze")
    start(patient, location, facts, "treatment_session:1", review_key="plan:3")
    start(patient, location, facts, "treatment_session:2", review_key="plan:3")
    assert Message.objects.filter(patient=patient, kind=MessageKind.PROGRESS_REVIEW).count() == 1
    # Each session still gets its own aftercare.
    assert Message.objects.filter(patient=patient, kind=MessageKind.AFTERCARE_RIGHT_AFTER).count() == 2


# --- A way to reach the clinic --------------------------------------------------------------


def test_every_patient_email_gives_the_locations_phone_and_the_out_of_hours_route() -> None:
    location = LocationFactory(name="North", phone="+44 20 7946 0999", out_of_hours="Out of hours: call 0800 000 111.")
    messages = start(PatientFactory(), location, SessionFacts("manual_gauze"), "s:1")
    assert messages
    for message in messages:
        assert "Call us on 020 7946 0999." in message.body_text
        assert "Out of hours: call 0800 000 111." in message.body_text
        assert "020 7946 0999" in message.body_html
        assert "Out of hours: call 0800 000 111." in message.body_html


def test_without_its_own_text_a_location_gives_the_standard_out_of_hours_route(location: Location) -> None:
    message = start(PatientFactory(), location, SessionFacts("manual_gauze"), "s:1")[0]
    assert "out-of-hours medical service" in message.body_text


def test_a_location_without_a_phone_fails_the_system_check() -> None:
    LocationFactory(name="Phoneless", phone="")
    with pytest.raises(SystemCheckError, match="Location 'Phoneless' has no phone number"):
        call_command("check")


def test_locations_with_phones_pass_the_system_check(location: Location) -> None:
    call_command("check")


# --- One reminder per planned session ---------------------------------------------------------

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def extraction(location: Location, **kwargs: Any) -> Appointment:
    appointment: Appointment = AppointmentFactory(
        appointment_type=ExtractionTypeFactory(),
        location=location,
        start=datetime(2026, 3, 6, 14, 0, tzinfo=LONDON),
        **kwargs,
    )
    return appointment


def scheduled(appointment: Appointment) -> dict[str, Message]:
    rows = Message.objects.filter(source=f"appointment:{appointment.pk}", status=MessageStatus.SCHEDULED)
    return {m.kind: m for m in rows}


def test_an_extraction_session_gets_one_session_reminder_instead_of_the_booking_reminder(location: Location) -> None:
    appointment = extraction(location)
    with time_machine.travel(NOW, tick=False):
        booking_messages_schedule(appointment=appointment, new=True)
    kinds = scheduled(appointment)
    assert set(kinds) == {MessageKind.BOOKING_CONFIRMATION, MessageKind.SESSION_REMINDER}
    reminder = kinds[MessageKind.SESSION_REMINDER]
    assert reminder.due_at == datetime(2026, 3, 5, 10, 0, tzinfo=LONDON)
    assert "new medication" in reminder.body_text
    assert "I need another time: http" in reminder.body_text
    # A consultation keeps the generic reminder.
    consultation = AppointmentFactory(
        appointment_type=AppointmentTypeFactory(), location=location, start=datetime(2026, 3, 6, 16, 0, tzinfo=LONDON)
    )
    with time_machine.travel(NOW, tick=False):
        booking_messages_schedule(appointment=consultation, new=True)
    assert MessageKind.BOOKING_REMINDER in scheduled(consultation)


def test_the_session_reminder_carries_the_plans_pause_instructions(location: Location) -> None:
    plan = TreatmentPlanFactory(pause_before="Stop adapalene 3 days before your session.")
    appointment = extraction(location, patient=plan.patient)
    PlanSession.objects.create(plan=plan, number=1, appointment=appointment)
    with time_machine.travel(NOW, tick=False):
        booking_messages_schedule(appointment=appointment, new=True)
    reminder = scheduled(appointment)[MessageKind.SESSION_REMINDER]
    assert "Before you come: Stop adapalene 3 days before your session." in reminder.body_text


def test_the_session_reminder_follows_a_move_and_a_cancellation(location: Location) -> None:
    appointment = extraction(location)
    with time_machine.travel(NOW, tick=False):
        booking_messages_schedule(appointment=appointment, new=True)
        appointment.start = datetime(2026, 3, 9, 11, 0, tzinfo=LONDON)
        appointment.end = appointment.start + timedelta(hours=1)
        appointment.save(update_fields=["start", "end"])
        booking_messages_schedule(appointment=appointment)
    reminders = Message.objects.filter(source=f"appointment:{appointment.pk}", kind=MessageKind.SESSION_REMINDER)
    assert sorted(reminders.values_list("status", flat=True)) == [MessageStatus.CANCELLED, MessageStatus.SCHEDULED]
    assert scheduled(appointment)[MessageKind.SESSION_REMINDER].due_at == datetime(2026, 3, 8, 10, 0, tzinfo=LONDON)
    booking_messages_cancel(appointment=appointment)
    assert MessageKind.SESSION_REMINDER not in scheduled(appointment)
    assert not Message.objects.filter(source=f"appointment:{appointment.pk}", kind=MessageKind.BOOKING_REMINDER)


# --- The manager edits them -------------------------------------------------------------------


def test_the_sequence_editor_lists_the_new_kinds_and_variants(manager: User) -> None:
    client = Client()
    client.force_login(manager)
    page = client.get("/aftercare/sequence/").content.decode()
    for label in (
        "Day-3 check-in (slow healing)",
        "Give it two more days (still red)",
        "No ibuprofen (pregnancy, anticoagulants, NSAID sensitivity)",
        "No retinoid (pregnancy or breastfeeding)",
        "Reminder before a planned session",
    ):
        assert label in page


def test_still_red_on_the_day3_checkin_also_holds_back_the_actives_message(location: Location) -> None:
    patient = PatientFactory()
    facts = SessionFacts("manual_gauze", slow_healing=True)
    kinds = by_kind(start(patient, location, facts, "treatment_session:9"))
    checkin_answer(message_token=kinds[MessageKind.CHECKIN_DAY3].token, answer=CheckInAnswer.RED_OR_SENSITIVE)
    assert Message.objects.get(patient=patient, kind=MessageKind.ACTIVES_RETURN).status == MessageStatus.CANCELLED
    assert Message.objects.get(patient=patient, kind=MessageKind.ACTIVES_WAIT).status == MessageStatus.SCHEDULED


def test_the_patient_answers_the_session_reminder_as_any_reminder(location: Location) -> None:
    appointment = extraction(location)
    with time_machine.travel(NOW, tick=False):
        booking_messages_schedule(appointment=appointment, new=True)
    reminder = scheduled(appointment)[MessageKind.SESSION_REMINDER]
    result = appointment_reply_record(message_token=reminder.token, answer=AppointmentReplyAnswer.CONFIRM)
    assert result is not None
    assert result.recorded
    assert result.reply is not None
    assert result.reply.appointment_id == appointment.pk
