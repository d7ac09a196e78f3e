"""Online booking of the free consultation: the hold, its confirmation and expiry, matching
the patient without revealing who is one, near-duplicates, and the abuse limits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client

from aftercare.models import Message
from clinic.models import Appointment, AppointmentStatus, Patient
from online import services
from online.models import DuplicateCandidate, HoldState, OnlineHold
from tests.factories import PatientFactory
from tests.online.conftest import booking_post, local_at

pytestmark = pytest.mark.django_db


def _main(content: bytes) -> str:
    page = content.decode()
    return page[page.index("<main") : page.index("</main>")]


def _link_in(message: mail.EmailMessage) -> str:
    line = next(line for line in str(message.body).splitlines() if line.startswith("http"))
    return line.split("http://127.0.0.1:8000", 1)[-1].strip()


def test_the_public_page_lists_free_times_without_sign_in(client: Client, clinic_open: dict[str, Any]) -> None:
    response = client.get("/book/central/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Book a free consultation" in page
    assert 'data-start="' in page
    assert client.get("/book/nowhere/").status_code == 404


def test_a_booking_holds_the_slot_emails_a_link_and_sends_no_booking_messages_yet(
    client: Client, clinic_open: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    start = local_at(clinic_open["location"], 2, 10)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/book/central/time/", booking_post(start, clinic_open["specialist"]))
    assert response.status_code == 302
    assert response["Location"] == "/book/central/sent/"
    appointment = Appointment.objects.get()
    assert appointment.start == start
    assert appointment.notes == services.BOOKED_ONLINE
    assert appointment.created_by == services.online_user()
    hold = OnlineHold.objects.get()
    assert hold.state == HoldState.HELD
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    assert "/o/confirm/" in mail.outbox[0].body
    # The aftercare confirmation and reminder wait for the patient's confirmation.
    assert not Message.objects.exists()


def test_confirming_from_the_link_sends_the_questionnaire_link_and_the_calendar_file(
    client: Client, clinic_open: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    start = local_at(clinic_open["location"], 2, 10)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/book/central/time/", booking_post(start, clinic_open["specialist"]))
    link = _link_in(mail.outbox[0])
    # Opening the link changes nothing (mail scanners follow links): the page has a button.
    assert "Confirm my booking" in client.get(link).content.decode()
    assert OnlineHold.objects.get().state == HoldState.HELD
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(link)
    assert "You are booked" in response.content.decode()
    assert OnlineHold.objects.get().state == HoldState.CONFIRMED
    booked = mail.outbox[-1]
    assert "/consultations/" in booked.body
    assert "/o/appointment/" in booked.body
    assert booked.attachments[0][0] == "appointment.ics"
    assert "BEGIN:VEVENT" in booked.attachments[0][1]
    assert Message.objects.filter(source=f"appointment:{Appointment.objects.get().pk}").exists()
    # A second click confirms nothing new.
    sent = len(mail.outbox)
    client.post(link)
    assert len(mail.outbox) == sent


def test_an_unconfirmed_hold_is_released_after_its_time_and_the_link_then_says_so(
    client: Client, clinic_open: dict[str, Any], settings: Any
) -> None:
    settings.ONLINE_HOLD_MINUTES = 15
    start = local_at(clinic_open["location"], 2, 10)
    client.post("/book/central/time/", booking_post(start, clinic_open["specialist"]))
    hold = OnlineHold.objects.get()
    with time_machine.travel(hold.expires_at - timedelta(minutes=1), tick=False):
        assert services.online_holds_release_expired() == 0
    with time_machine.travel(hold.expires_at + timedelta(seconds=1), tick=False):
        assert services.online_holds_release_expired() == 1
        assert services.online_holds_release_expired() == 0  # run twice: nothing more
        hold.refresh_from_db()
        assert hold.state == HoldState.RELEASED
        assert hold.appointment.status == AppointmentStatus.CANCELLED
        # The time is free again for anyone.
        days = dict(
            services.public_days(location=clinic_open["location"], appointment_type=clinic_open["type"], days=3)
        )
        assert start in [slot.start for slot in days[start.date()]]
        response = client.post(_link_in(mail.outbox[0]) if mail.outbox else services.links.hold_path(hold.pk))
        assert "no longer held" in response.content.decode()


def test_an_existing_patient_is_matched_by_email_and_date_of_birth_and_the_answer_is_the_same(
    client: Client, clinic_open: dict[str, Any]
) -> None:
    known = PatientFactory(email="known@example.com", date_of_birth="1985-02-03")
    location = clinic_open["location"]
    first = client.post(
        "/book/central/time/",
        booking_post(
            local_at(location, 2, 10), clinic_open["specialist"], email="Known@Example.com", date_of_birth="1985-02-03"
        ),
    )
    second = client.post(
        "/book/central/time/",
        booking_post(local_at(location, 2, 11), clinic_open["specialist"], email="stranger@example.com"),
    )
    # Same status, same place, same page: nothing says who is already a patient.
    assert (first.status_code, first["Location"]) == (second.status_code, second["Location"])
    assert _main(client.get(first["Location"]).content) == _main(client.get(second["Location"]).content)
    assert Appointment.objects.get(start=local_at(location, 2, 10)).patient == known
    assert Patient.objects.filter(email="stranger@example.com").count() == 1
    assert Patient.objects.count() == 2


def test_a_near_duplicate_goes_to_the_front_desk_list_not_a_silent_merge(
    client: Client, clinic_open: dict[str, Any], front_desk: Any
) -> None:
    known = PatientFactory(first_name="Ada", last_name="Lovelace", date_of_birth="1990-05-17", email="old@example.com")
    client.post(
        "/book/central/time/", booking_post(local_at(clinic_open["location"], 2, 10), clinic_open["specialist"])
    )
    candidate = DuplicateCandidate.objects.get()
    assert candidate.similar_to == known
    assert candidate.patient != known
    assert "Same name and date of birth" in candidate.reason
    desk = Client()
    desk.force_login(front_desk)
    page = desk.get("/front-desk/online/").content.decode()
    assert f'data-duplicate="{candidate.pk}"' in page
    desk.post(f"/front-desk/online/duplicates/{candidate.pk}/resolve/")
    candidate.refresh_from_db()
    assert candidate.resolved_at is not None


def test_a_burst_of_bookings_from_one_address_is_refused_politely(
    client: Client, clinic_open: dict[str, Any], settings: Any
) -> None:
    settings.ONLINE_REQUESTS_PER_IP_PER_HOUR = 3
    settings.ONLINE_HOLDS_PER_ADDRESS = 10
    location = clinic_open["location"]
    codes = [
        client.post(
            "/book/central/time/",
            booking_post(local_at(location, 2, 9 + n), clinic_open["specialist"], email=f"p{n}@example.com"),
        ).status_code
        for n in range(6)
    ]
    assert codes == [302, 302, 302, 429, 429, 429]
    refused = client.post(
        "/book/central/time/", booking_post(local_at(location, 3, 9), clinic_open["specialist"], email="z@example.com")
    )
    assert refused.status_code == 429
    assert "Please try again later" in refused.content.decode()
    assert OnlineHold.objects.count() == 3


def test_requests_per_email_and_holds_per_address_are_limited(
    client: Client, clinic_open: dict[str, Any], settings: Any
) -> None:
    settings.ONLINE_REQUESTS_PER_IP_PER_HOUR = 100
    settings.ONLINE_REQUESTS_PER_EMAIL_PER_HOUR = 100
    settings.ONLINE_HOLDS_PER_ADDRESS = 2
    location = clinic_open["location"]
    codes = [
        client.post(
            "/book/central/time/", booking_post(local_at(location, 2, 9 + n), clinic_open["specialist"])
        ).status_code
        for n in range(3)
    ]
    assert codes == [302, 302, 429]
    settings.ONLINE_HOLDS_PER_ADDRESS = 100
    settings.ONLINE_REQUESTS_PER_EMAIL_PER_HOUR = 3  # three asked already: the fourth is one too many
    other_ip = Client(REMOTE_ADDR="10.0.0.9")
    assert (
        other_ip.post(
            "/book/central/time/", booking_post(local_at(location, 3, 9), clinic_open["specialist"])
        ).status_code
        == 429
    )


def test_the_honeypot_holds_nothing_and_says_nothing(client: Client, clinic_open: dict[str, Any]) -> None:
    response = client.post(
        "/book/central/time/",
        booking_post(local_at(clinic_open["location"], 2, 10), clinic_open["specialist"], website="http://spam"),
    )
    assert response.status_code == 302
    assert not Appointment.objects.exists()
    assert mail.outbox == []


def test_a_time_taken_meanwhile_is_refused_beside_the_form(client: Client, clinic_open: dict[str, Any]) -> None:
    start = local_at(clinic_open["location"], 2, 10)
    client.post("/book/central/time/", booking_post(start, clinic_open["specialist"]))
    response = client.post("/book/central/time/", booking_post(start, clinic_open["specialist"], email="b@example.com"))
    assert response.status_code == 200
    assert "just been taken" in response.content.decode()
    assert Appointment.objects.count() == 1


def test_bad_details_are_answered_beside_the_fields(client: Client, clinic_open: dict[str, Any]) -> None:
    response = client.post(
        "/book/central/time/",
        booking_post(
            local_at(clinic_open["location"], 2, 10), clinic_open["specialist"], email="not-an-email", phone="x"
        ),
    )
    assert response.status_code == 200
    assert "Enter a valid email address" in response.content.decode()
    assert not Appointment.objects.exists()


def test_the_front_desk_sees_the_booking_marked_booked_online(
    client: Client, clinic_open: dict[str, Any], front_desk: Any
) -> None:
    client.post(
        "/book/central/time/", booking_post(local_at(clinic_open["location"], 2, 10), clinic_open["specialist"])
    )
    appointment = Appointment.objects.get()
    desk = Client()
    desk.force_login(front_desk)
    page = desk.get(f"/appointments/{appointment.pk}/").content.decode()
    assert "Booked online" in page
    assert "Patient (online)" in page
