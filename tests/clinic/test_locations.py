"""Location scope: staff work at one or more locations, and see and act only there."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.test import Client

from clinic.models import Appointment, AppointmentStatus, Location, User
from clinic.roles import Role
from clinic.selectors import SESSION_LOCATION_KEY
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    ConsultationFactory,
    LocationFactory,
    PatientFactory,
    RoomFactory,
    StaffScheduleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 08:00 in London
TUESDAY = date(2026, 3, 3)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def central() -> Location:
    return LocationFactory(name="Central")


@pytest.fixture
def riverside() -> Location:
    return LocationFactory(name="Riverside")


@pytest.fixture
def desk(client: Client, central: Location) -> Client:
    """A front desk who works at Central only."""
    client.force_login(UserFactory(username="desk", role=Role.FRONT_DESK, locations=[central]))
    return client


def at(hour: int) -> datetime:
    return datetime.combine(TUESDAY, time(hour), tzinfo=LocationFactory(name="Central").zone)


@pytest.fixture
def elsewhere(riverside: Location) -> Appointment:
    return AppointmentFactory(room=RoomFactory(location=riverside, name="River room"), start=at(10))


def test_reading_an_appointment_at_another_location_is_a_404(desk: Client, elsewhere: Appointment) -> None:
    assert desk.get(f"/appointments/{elsewhere.pk}/").status_code == 404


def test_confirming_an_appointment_at_another_location_is_a_404(desk: Client, elsewhere: Appointment) -> None:
    response = desk.post(f"/appointments/{elsewhere.pk}/status/", {"status": AppointmentStatus.CONFIRMED})
    assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.status == AppointmentStatus.BOOKED


def test_cancelling_an_appointment_at_another_location_is_a_404(desk: Client, elsewhere: Appointment) -> None:
    response = desk.post(f"/appointments/{elsewhere.pk}/cancel/", {"reason": "Patient called"})
    assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.status == AppointmentStatus.BOOKED


def test_an_appointment_at_the_persons_own_location_opens(desk: Client, central: Location) -> None:
    here = AppointmentFactory(room=RoomFactory(location=central), start=at(10))
    assert desk.get(f"/appointments/{here.pk}/").status_code == 200


def test_booking_a_room_at_another_location_is_refused(desk: Client, central: Location, riverside: Location) -> None:
    sara = UserFactory(username="sara", role=Role.SPECIALIST, locations=[central, riverside])
    StaffScheduleFactory.every_day(staff=sara, location=riverside)
    river_room = RoomFactory(location=riverside, name="River room")
    patient = PatientFactory()
    response = desk.post(
        f"/patients/{patient.pk}/book/",
        {
            "appointment_type": AppointmentTypeFactory().pk,
            "practitioner": sara.pk,
            "room": river_room.pk,
            "start": at(9).isoformat(),
        },
    )
    assert response.status_code == 400
    assert "another location" in response.content.decode()
    assert not Appointment.objects.exists()


def test_switching_to_a_location_the_person_does_not_work_at_is_refused(
    desk: Client, central: Location, riverside: Location
) -> None:
    response = desk.post("/location/", {"location": riverside.pk})
    assert response.status_code == 404
    assert desk.session.get(SESSION_LOCATION_KEY) != riverside.pk


def test_the_switcher_offers_only_the_persons_locations(client: Client, central: Location, riverside: Location) -> None:
    LocationFactory(name="Harbour")
    person = UserFactory(username="both", role=Role.FRONT_DESK, locations=[central, riverside])
    client.force_login(person)
    response = client.get("/front-desk/")
    assert [location.name for location in response.context["all_locations"]] == ["Central", "Riverside"]
    assert client.post("/location/", {"location": riverside.pk}).status_code == 302
    assert client.get("/front-desk/").context["location"] == riverside


def test_a_consultation_at_another_location_is_a_404(client: Client, central: Location, elsewhere: Appointment) -> None:
    specialist = UserFactory(username="spec-central", role=Role.SPECIALIST, locations=[central])
    consultation = ConsultationFactory(appointment=elsewhere, specialist=specialist)
    client.force_login(specialist)
    assert client.get(f"/consultations/{consultation.pk}/edit/").status_code == 404


def test_the_patients_page_lists_appointments_only_at_the_persons_locations(
    desk: Client, central: Location, elsewhere: Appointment
) -> None:
    AppointmentFactory(patient=elsewhere.patient, room=RoomFactory(location=central), start=at(11))
    response = desk.get(f"/patients/{elsewhere.patient.pk}/")
    assert response.status_code == 200
    assert [a.location.name for a in response.context["upcoming"]] == ["Central"]


def test_a_manager_edits_rooms_only_at_their_locations(client: Client, central: Location, riverside: Location) -> None:
    client.force_login(UserFactory(username="boss", role=Role.MANAGER, locations=[central]))
    river_room = RoomFactory(location=riverside, name="River room")
    assert client.get(f"/clinic/setup/rooms/{river_room.pk}/").status_code == 404


def test_staff_with_no_location_have_no_working_location(client: Client, central: Location) -> None:
    nowhere: User = UserFactory(username="nowhere", role=Role.FRONT_DESK, locations=[])
    client.force_login(nowhere)
    assert client.get("/front-desk/week/").status_code == 403
