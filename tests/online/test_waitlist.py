"""The waitlist: joining, offers in order of waiting time, idempotent offer jobs, expiry,
and extraction slots only for cleared patients past their interval."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from aftercare import timeline
from aftercare.models import Message, MessageKind
from clinic.booking.services import appointment_cancel
from clinic.field_groups import FieldGroup
from clinic.hooks import TimelineKind
from clinic.models import Appointment, AppointmentType, Location, Patient
from clinic.roles import Role
from consultations.models import PlanSession
from online import links, services
from online.models import OfferStatus, WaitlistEntry, WaitlistOffer, WaitlistStatus
from tests.factories import (
    AppointmentFactory,
    ExtractionTypeFactory,
    PatientFactory,
    StaffScheduleFactory,
    TreatmentPlanFactory,
    UserFactory,
)
from tests.online.conftest import local_at, sent_emails

pytestmark = pytest.mark.django_db


def _wait(patient: Patient, appointment_type: AppointmentType, location: Location, **overrides: Any) -> WaitlistEntry:
    today = location.today()
    fields: dict[str, Any] = {
        "patient": patient,
        "appointment_type": appointment_type,
        "location": location,
        "earliest_time": time(9),
        "latest_time": time(17),
        "earliest_date": today,
        "latest_date": today + timedelta(days=30),
    }
    fields.update(overrides)
    return WaitlistEntry.objects.create(**fields)


@pytest.fixture
def freed(clinic_open: dict[str, Any]) -> Appointment:
    """A consultation in three days at 10:00, cancelled by the desk."""
    appointment = AppointmentFactory(
        appointment_type=clinic_open["type"],
        practitioner=clinic_open["specialist"],
        room=clinic_open["room"],
        start=local_at(clinic_open["location"], 3, 10),
    )
    appointment_cancel(
        acting_user=UserFactory(username="desk-w", role=Role.FRONT_DESK), appointment=appointment, reason="Ill"
    )
    return appointment


def test_a_freed_slot_is_offered_to_matching_patients_longest_waiting_first(
    freed: Appointment, clinic_open: dict[str, Any], settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ONLINE_OFFER_FANOUT = 2
    location, kind = clinic_open["location"], clinic_open["type"]
    now = timezone.now()
    newest = _wait(PatientFactory(), kind, location, created_at=now - timedelta(days=1))
    oldest = _wait(PatientFactory(), kind, location, created_at=now - timedelta(days=9))
    middle = _wait(PatientFactory(), kind, location, created_at=now - timedelta(days=5))
    _wait(PatientFactory(), kind, location, latest_time=time(10, 30), created_at=now - timedelta(days=20))  # too late
    _wait(
        PatientFactory(),
        kind,
        location,
        weekdays=[(freed.start.weekday() + 1) % 7],
        created_at=now - timedelta(days=20),
    )
    _wait(
        PatientFactory(),
        kind,
        location,
        earliest_date=location.today() + timedelta(days=5),
        created_at=now - timedelta(days=20),
    )
    with django_capture_on_commit_callbacks(execute=True):
        offers = services.waitlist_offer_slot(appointment_id=freed.pk, start=freed.start)
    assert [offer.entry_id for offer in offers] == [oldest.pk, middle.pk]
    emails = sent_emails()
    assert sorted(email.to[0] for email in emails) == sorted([oldest.patient.email, middle.patient.email])
    assert "/o/offer/" in emails[0].body
    # Through the outbox: one row per offer, on each patient's record.
    assert Message.objects.filter(kind=MessageKind.WAITLIST_OFFER).count() == 2
    # The job runs again (a redelivery): no second offer, no second email.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.waitlist_offer_slot(appointment_id=freed.pk, start=freed.start) == []
    assert WaitlistOffer.objects.count() == 2
    assert not WaitlistOffer.objects.filter(entry=newest).exists()
    assert len(sent_emails()) == 2


def test_an_offer_accepted_books_the_patient_and_later_accepts_are_told_it_has_gone(
    client: Client, freed: Appointment, clinic_open: dict[str, Any]
) -> None:
    location, kind = clinic_open["location"], clinic_open["type"]
    first = _wait(PatientFactory(), kind, location)
    second = _wait(PatientFactory(), kind, location)
    offers = {o.entry_id: o for o in services.waitlist_offer_slot(appointment_id=freed.pk, start=freed.start)}
    path = links.offer_path(offers[second.pk].pk)
    assert "Take this time" in client.get(path).content.decode()
    accepted = client.post(path).content.decode()
    assert "It is yours" in accepted
    gone = client.post(links.offer_path(offers[first.pk].pk)).content.decode()
    assert "someone else took this time first" in gone
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (WaitlistStatus.WAITING, WaitlistStatus.BOOKED)
    booked = Appointment.objects.holding_time().get(start=freed.start)
    assert booked.patient_id == second.patient_id
    assert booked.notes == services.BOOKED_FROM_WAITLIST
    # Accepting again is a no-op (one use).
    client.post(path)
    assert Appointment.objects.holding_time().filter(start=freed.start).count() == 1


def test_an_offer_expires_and_cannot_be_accepted_after(freed: Appointment, clinic_open: dict[str, Any]) -> None:
    entry = _wait(PatientFactory(), clinic_open["type"], clinic_open["location"])
    [offer] = services.waitlist_offer_slot(appointment_id=freed.pk, start=freed.start)
    with time_machine.travel(offer.expires_at + timedelta(seconds=1), tick=False):
        assert services.waitlist_offer_accept(offer_id=offer.pk).status == OfferStatus.EXPIRED  # type: ignore[union-attr]
    assert not Appointment.objects.holding_time().filter(start=freed.start).exists()
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.WAITING
    assert services.waitlist_offers_expire() == 0


def test_the_sweeper_expires_unanswered_offers(freed: Appointment, clinic_open: dict[str, Any]) -> None:
    _wait(PatientFactory(), clinic_open["type"], clinic_open["location"])
    [offer] = services.waitlist_offer_slot(appointment_id=freed.pk, start=freed.start)
    assert services.waitlist_offers_expire() == 0
    with time_machine.travel(offer.expires_at + timedelta(seconds=1), tick=False):
        assert services.online_sweep() == (0, 1)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.EXPIRED


def test_when_every_offer_expires_the_slot_goes_to_the_next_patients_once(
    freed: Appointment, clinic_open: dict[str, Any], settings: Any
) -> None:
    settings.ONLINE_OFFER_FANOUT = 2
    location, kind = clinic_open["location"], clinic_open["type"]
    now = timezone.now()
    entries = [_wait(PatientFactory(), kind, location, created_at=now - timedelta(days=10 - n)) for n in range(5)]
    first_round = services.waitlist_offer_slot(appointment_id=freed.pk, start=freed.start)
    assert [offer.entry_id for offer in first_round] == [entries[0].pk, entries[1].pk]
    later = first_round[0].expires_at + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        assert services.waitlist_offers_expire() == 2
        second_round = WaitlistOffer.objects.filter(status=OfferStatus.OFFERED).order_by("entry__created_at")
        assert [offer.entry_id for offer in second_round] == [entries[2].pk, entries[3].pk]
        # Run twice (and the offer job redelivered): no second offer, no second email.
        assert services.waitlist_offers_expire() == 0
        assert services.waitlist_offer_slot(appointment_id=freed.pk, start=freed.start) == []
        assert len(sent_emails()) == 4
    assert WaitlistOffer.objects.count() == 4
    assert Message.objects.filter(kind=MessageKind.WAITLIST_OFFER).count() == 4
    # The second round expires too: the last patient gets it, then no one is left.
    with time_machine.travel(second_round[0].expires_at + timedelta(seconds=1), tick=False):
        assert services.waitlist_offers_expire() == 2
    [third] = WaitlistOffer.objects.filter(status=OfferStatus.OFFERED)
    assert third.entry_id == entries[4].pk
    with time_machine.travel(third.expires_at + timedelta(seconds=1), tick=False):
        assert services.waitlist_offers_expire() == 1
    assert WaitlistOffer.objects.count() == 5
    assert not WaitlistOffer.objects.filter(status=OfferStatus.OFFERED).exists()


def test_an_expired_round_is_not_offered_again_once_the_slot_is_taken(
    freed: Appointment, clinic_open: dict[str, Any], settings: Any
) -> None:
    settings.ONLINE_OFFER_FANOUT = 1
    location, kind = clinic_open["location"], clinic_open["type"]
    _wait(PatientFactory(), kind, location)
    _wait(PatientFactory(), kind, location)
    [offer] = services.waitlist_offer_slot(appointment_id=freed.pk, start=freed.start)
    AppointmentFactory(
        appointment_type=kind, practitioner=clinic_open["specialist"], room=clinic_open["room"], start=freed.start
    )
    with time_machine.travel(offer.expires_at + timedelta(seconds=1), tick=False):
        assert services.waitlist_offers_expire() == 1
    assert WaitlistOffer.objects.count() == 1


def test_a_slot_taken_again_before_the_job_runs_is_not_offered(freed: Appointment, clinic_open: dict[str, Any]) -> None:
    _wait(PatientFactory(), clinic_open["type"], clinic_open["location"])
    AppointmentFactory(
        appointment_type=clinic_open["type"],
        practitioner=clinic_open["specialist"],
        room=clinic_open["room"],
        start=freed.start,
    )
    assert services.waitlist_offer_slot(appointment_id=freed.pk, start=freed.start) == []


def test_extraction_slots_go_only_to_cleared_patients_past_their_interval(location: Location) -> None:
    aesthetician = UserFactory(username="aes-w", role=Role.AESTHETICIAN, locations=[location])
    StaffScheduleFactory.every_day(staff=aesthetician, location=location, start_time=time(9), end_time=time(17))
    extraction = ExtractionTypeFactory()
    slot = AppointmentFactory(
        appointment_type=extraction,
        practitioner=aesthetician,
        room__location=location,
        start=local_at(location, 20, 10),
    )
    cleared = TreatmentPlanFactory(interval_days=14)
    too_soon = TreatmentPlanFactory(interval_days=14)
    recent = AppointmentFactory(
        appointment_type=extraction,
        patient=too_soon.patient,
        practitioner=aesthetician,
        room__location=location,
        start=local_at(location, 12, 10),
    )
    PlanSession.objects.create(plan=too_soon, number=1, appointment=recent)
    on_hold = TreatmentPlanFactory(held_at=timezone.now(), held_reason="Day-of stop")
    unconsented = TreatmentPlanFactory(consent_version="", consent_name="", consented_at=None)
    never_seen = PatientFactory()
    now = timezone.now()
    for n, patient in enumerate([never_seen, unconsented.patient, on_hold.patient, too_soon.patient, cleared.patient]):
        _wait(patient, extraction, location, created_at=now - timedelta(days=30 - n))
    appointment_cancel(acting_user=UserFactory(username="desk-x", role=Role.FRONT_DESK), appointment=slot, reason="Ill")
    offers = services.waitlist_offer_slot(appointment_id=slot.pk, start=slot.start)
    assert [offer.entry.patient_id for offer in offers] == [cleared.patient_id]


def test_a_patient_joins_from_the_booking_page_and_the_desk_sees_the_list(
    client: Client, clinic_open: dict[str, Any], front_desk: Any
) -> None:
    today = clinic_open["location"].today()
    form = client.get("/book/central/waitlist/").content.decode()
    assert "Join the waiting list" in form
    response = client.post(
        "/book/central/waitlist/",
        {
            "first_name": "Grace",
            "last_name": "Hopper",
            "date_of_birth": "1980-12-09",
            "email": "grace@example.com",
            "phone": "07700 900456",
            "email_consent": "on",
            "weekdays": ["0", "2"],
            "earliest_time": "09:00",
            "latest_time": "12:00",
            "earliest_date": today.isoformat(),
            "latest_date": (today + timedelta(days=20)).isoformat(),
        },
    )
    assert "You are on the waiting list" in response.content.decode()
    entry = WaitlistEntry.objects.get()
    assert (entry.patient.email, entry.weekdays, entry.latest_time) == ("grace@example.com", [0, 2], time(12))
    desk = Client()
    desk.force_login(front_desk)
    assert "Grace" in desk.get("/front-desk/online/").content.decode()
    added = desk.post(
        f"/front-desk/online/waitlist/{entry.patient_id}/",
        {
            "appointment_type": str(clinic_open["type"].pk),
            "location": str(clinic_open["location"].pk),
            "earliest_time": "13:00",
            "latest_time": "12:00",
            "earliest_date": today.isoformat(),
            "latest_date": today.isoformat(),
        },
    )
    assert added.status_code == 200
    assert "Choose a time after the first one" in added.content.decode()
    assert WaitlistEntry.objects.count() == 1


@pytest.fixture
def extraction_slot(location: Location) -> dict[str, Any]:
    """An extraction slot in twenty days, freed by the desk, and a cleared patient (a plan of
    three sessions, 14 days apart, the first booked thirty days ago) waiting for one."""
    aesthetician = UserFactory(username="aes-p", role=Role.AESTHETICIAN, locations=[location])
    StaffScheduleFactory.every_day(staff=aesthetician, location=location, start_time=time(9), end_time=time(17))
    extraction = ExtractionTypeFactory()
    slot = AppointmentFactory(
        appointment_type=extraction,
        practitioner=aesthetician,
        room__location=location,
        start=local_at(location, 20, 10),
    )
    plan = TreatmentPlanFactory(interval_days=14, sessions_planned=3)
    first = AppointmentFactory(
        appointment_type=extraction,
        patient=plan.patient,
        practitioner=aesthetician,
        room=slot.room,
        start=local_at(location, 2, 10),
    )
    PlanSession.objects.create(plan=plan, number=1, appointment=first)
    entry = _wait(plan.patient, extraction, location)
    appointment_cancel(acting_user=UserFactory(username="desk-p", role=Role.FRONT_DESK), appointment=slot, reason="Ill")
    [offer] = services.waitlist_offer_slot(appointment_id=slot.pk, start=slot.start)
    return {"offer": offer, "plan": plan, "entry": entry, "slot": slot, "type": extraction, "aes": aesthetician}


def test_an_accepted_extraction_offer_books_the_plans_next_session(
    client: Client, extraction_slot: dict[str, Any]
) -> None:
    offer, plan = extraction_slot["offer"], extraction_slot["plan"]
    assert "It is yours" in client.post(links.offer_path(offer.pk)).content.decode()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    session = PlanSession.objects.get(plan=plan, number=2)
    assert session.appointment_id == offer.appointment_id
    assert session.appointment.start == extraction_slot["slot"].start
    assert session.appointment.created_by == services.online_user()


def test_an_extraction_offer_accepted_after_the_plan_was_put_on_hold_is_refused_and_offered_on(
    client: Client, extraction_slot: dict[str, Any], location: Location
) -> None:
    offer, plan = extraction_slot["offer"], extraction_slot["plan"]
    # Another cleared patient waits behind (joined after the first round went out).
    other = TreatmentPlanFactory(interval_days=14)
    _wait(other.patient, extraction_slot["type"], location)
    plan.held_at, plan.held_reason = timezone.now(), "Day-of stop"
    plan.save(update_fields=["held_at", "held_reason"])
    page = client.post(links.offer_path(offer.pk)).content.decode()
    assert "cannot book this session online" in page
    offer.refresh_from_db()
    assert offer.status == OfferStatus.REFUSED
    assert not PlanSession.objects.filter(plan=plan, number=2).exists()
    assert not Appointment.objects.holding_time().filter(start=offer.start).exists()
    extraction_slot["entry"].refresh_from_db()
    assert extraction_slot["entry"].status == WaitlistStatus.WAITING
    [next_offer] = WaitlistOffer.objects.filter(status=OfferStatus.OFFERED)
    assert next_offer.entry.patient_id == other.patient_id


def test_an_extraction_offer_accepted_too_close_to_a_session_booked_meanwhile_is_refused(
    client: Client, extraction_slot: dict[str, Any], location: Location
) -> None:
    offer, plan = extraction_slot["offer"], extraction_slot["plan"]
    meanwhile = AppointmentFactory(
        appointment_type=extraction_slot["type"],
        patient=plan.patient,
        practitioner=extraction_slot["aes"],
        room=extraction_slot["slot"].room,
        start=local_at(location, 25, 10),
    )
    PlanSession.objects.create(plan=plan, number=2, appointment=meanwhile)
    client.post(links.offer_path(offer.pk))
    offer.refresh_from_db()
    assert offer.status == OfferStatus.REFUSED
    assert not Appointment.objects.holding_time().filter(start=offer.start).exists()


def test_an_offer_email_is_on_the_patients_timeline_with_its_text(
    freed: Appointment, clinic_open: dict[str, Any]
) -> None:
    entry = _wait(PatientFactory(), clinic_open["type"], clinic_open["location"])
    services.waitlist_offer_slot(appointment_id=freed.pk, start=freed.start)
    sent_emails()
    [shown] = timeline.entries(
        patient=entry.patient,
        kinds=frozenset({TimelineKind.MESSAGE}),
        groups=frozenset({FieldGroup.MESSAGE_CONTENTS}),
    )
    assert shown.title == "Waiting list: a time has come free"
    assert shown.detail.startswith("Sent ")
    assert "/o/offer/" in shown.content
