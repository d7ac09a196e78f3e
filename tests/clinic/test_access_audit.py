"""Reads of patient data leave access events, and the manager's audit page shows them.

HIPAA 164.312(b): every page that shows a patient (a record, or a name on a list) says
who saw it, when and from where.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from aftercare.models import CheckIn, MessageStatus, SpecialistQueueEntry
from clinic.audit import acting_as
from clinic.models import AccessEvent, Appointment, AppointmentKind, Location, Patient, User
from clinic.roles import Role
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    MessageFactory,
    PatientFactory,
    RoomFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (front desk tablet)"


@pytest.fixture
def today_appointment(location: Location) -> Appointment:
    start = location.local(timezone.now()).replace(hour=12, minute=0, second=0, microsecond=0)
    return AppointmentFactory(
        room=RoomFactory(location=location),
        patient=PatientFactory(first_name="Lena", last_name="Ortiz"),
        start=start,
    )


def _listed(user: User, page: str) -> list[AccessEvent]:
    return list(AccessEvent.objects.filter(user=user, page=page, listed=True))


@pytest.mark.parametrize(
    ("url", "page"),
    [
        ("/front-desk/", "day_schedule"),
        ("/front-desk/week/", "week_schedule"),
        ("/front-desk/day-sheet/", "day_sheet"),
        ("/patients/?q=Ortiz", "patient_search"),
    ],
)
def test_each_front_desk_page_records_the_patients_it_shows(
    client: Client, front_desk: User, today_appointment: Appointment, url: str, page: str
) -> None:
    client.force_login(front_desk)
    response = client.get(url, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 200
    (event,) = _listed(front_desk, page)
    assert event.patient_id == today_appointment.patient_id
    assert (event.ip, event.user_agent) == ("10.0.0.7", BROWSER)
    session_key = client.session.session_key
    assert session_key is not None
    assert len(event.session_hash) == 64
    assert session_key not in event.session_hash  # the key signs in; only its hash is kept


def test_a_list_page_writes_one_insert_for_all_its_patients(
    client: Client, front_desk: User, location: Location, django_assert_max_num_queries: object
) -> None:
    room = RoomFactory(location=location)
    start = location.local(timezone.now()).replace(hour=9, minute=0, second=0, microsecond=0)
    for hour in range(4):
        AppointmentFactory(room=room, start=start + timedelta(hours=hour))
    client.force_login(front_desk)
    client.get("/front-desk/day-sheet/")
    events = _listed(front_desk, "day_sheet")
    assert len(events) == 4
    assert len({e.view_id for e in events}) == 1  # one page view, one INSERT


def test_the_specialists_home_and_queue_record_their_patients(
    client: Client, specialist: User, location: Location
) -> None:
    start = location.local(timezone.now()).replace(hour=12, minute=0, second=0, microsecond=0)
    # Her home lists her own appointments of the day.
    appointment = AppointmentFactory(
        room=RoomFactory(location=location),
        appointment_type=AppointmentTypeFactory(kind=AppointmentKind.CONSULTATION),
        practitioner=specialist,
        start=start,
    )
    client.force_login(specialist)
    assert client.get("/consultations/").status_code == 200
    assert [e.patient_id for e in _listed(specialist, "specialist_home")] == [appointment.patient_id]
    message = MessageFactory(kind="checkin_day1")
    checkin = CheckIn.objects.create(message=message, patient=message.patient, answer="worried")
    SpecialistQueueEntry.objects.create(checkin=checkin, patient=message.patient, location=location)
    assert client.get("/aftercare/queue/").status_code == 200
    assert [e.patient_id for e in _listed(specialist, "specialist_queue")] == [message.patient_id]


def test_the_aftercare_dashboard_records_the_patients_of_failed_messages(client: Client, manager: User) -> None:
    message = MessageFactory(status=MessageStatus.FAILED, attempts=6)
    client.force_login(manager)
    assert client.get("/aftercare/").status_code == 200
    assert [e.patient_id for e in _listed(manager, "aftercare_dashboard")] == [message.patient_id]


def test_the_admin_records_patient_lists_and_records() -> None:
    admin = UserFactory(username="root", role=Role.MANAGER, is_staff=True, is_superuser=True)
    patient = PatientFactory()
    client = Client()
    client.force_login(admin)
    assert client.get(f"/{settings.ADMIN_URL}clinic/patient/").status_code == 200
    assert [e.patient_id for e in _listed(admin, "admin:clinic.patient:list")] == [patient.pk]
    assert client.get(f"/{settings.ADMIN_URL}clinic/patient/{patient.pk}/change/").status_code == 200
    assert AccessEvent.objects.filter(user=admin, patient=patient, page="admin:clinic.patient:change").exists()


# --- The audit page ------------------------------------------------------------------------


@pytest.fixture
def trail(client: Client, front_desk: User, manager: User) -> Patient:
    patient = PatientFactory(first_name="Iris", last_name="Vale")
    client.force_login(front_desk)
    client.get(f"/patients/{patient.pk}/", REMOTE_ADDR="10.0.0.9")
    with acting_as(front_desk, url="clinic:patient_edit"):
        Patient.objects.filter(pk=patient.pk).update(last_name="Vale-Moss")
    client.force_login(manager)
    return patient


def test_only_the_manager_opens_the_audit_page(client: Client, front_desk: User, manager: User) -> None:
    client.force_login(front_desk)
    assert client.get("/clinic/audit/").status_code == 403
    client.force_login(manager)
    assert client.get("/clinic/audit/").status_code == 200


def test_the_audit_page_shows_who_read_a_patient_and_from_where(
    client: Client, trail: Patient, front_desk: User
) -> None:
    page = client.get(f"/clinic/audit/?patient={trail.pk}").content.decode()
    assert "10.0.0.9" in page
    assert "patient_detail" in page
    assert front_desk.get_full_name() or front_desk.username in page


def test_the_audit_page_filters_by_user_and_kind(client: Client, trail: Patient, front_desk: User) -> None:
    response = client.get(f"/clinic/audit/?patient={trail.pk}&user={front_desk.pk}&kinds=read")
    kinds = {row.kind for row, _user, _patient in response.context["entries"]}
    assert kinds == {"read"}
    other = UserFactory(username="someone_else", role=Role.FRONT_DESK)
    response = client.get(f"/clinic/audit/?patient={trail.pk}&user={other.pk}")
    assert response.context["entries"] == []


def test_the_audit_page_filters_by_date(client: Client, trail: Patient) -> None:
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = client.get(f"/clinic/audit/?patient={trail.pk}&since={tomorrow}")
    assert response.context["entries"] == []


def test_the_audit_exports_reads_and_changes_as_csv(client: Client, trail: Patient, front_desk: User) -> None:
    response = client.get(f"/clinic/audit/?patient={trail.pk}&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    kinds = {row["kind"] for row in rows}
    assert {"read", "change"} <= kinds
    # The edit is attributed to the front desk (the factory's insert, to nobody).
    assert str(front_desk.pk) in {row["user_id"] for row in rows if row["kind"] == "change"}
    assert all(row["patient_id"] == str(trail.pk) for row in rows if row["kind"] == "read")


def test_a_bad_audit_filter_is_refused_not_a_500(client: Client, manager: User) -> None:
    client.force_login(manager)
    assert client.get("/clinic/audit/?since=9999-99-99&patient=abc").status_code == 400


def test_the_aestheticians_home_records_its_patients(client: Client, aesthetician: User, location: Location) -> None:
    start = location.local(timezone.now()).replace(hour=12, minute=0, second=0, microsecond=0)
    appointment = AppointmentFactory(
        room=RoomFactory(location=location),
        appointment_type=AppointmentTypeFactory(kind=AppointmentKind.EXTRACTION),
        start=start,
    )
    client.force_login(aesthetician)
    assert client.get("/treatments/").status_code == 200
    assert [e.patient_id for e in _listed(aesthetician, "aesthetician_home")] == [appointment.patient_id]
