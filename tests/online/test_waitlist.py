"""The waitlist: joining, offers in order of waiting time, idempotent offer jobs, expiry,
and extraction slots only for cleared patients past their interval."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from clinic.booking.services import appointment_cancel
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
from tests.online.conftest import local_at

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
    assert sorted(m.to[0] for m in mail.outbox) == sorted([oldest.patient.email, middle.patient.email])
    assert "/o/offer/" in mail.outbox[0].body
    # The job runs again (a redelivery): no second offer, no second email.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.waitlist_offer_slot(appointment_id=freed.pk, start=freed.start) == []
    assert WaitlistOffer.objects.count() == 2
    assert not WaitlistOffer.objects.filter(entry=newest).exists()
    assert len(mail.outbox) == 2


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
