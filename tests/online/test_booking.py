"""Online booking of the free consultation: the hold, its confirmation and expiry, matching
the patient without revealing who is one, near-duplicates, and the abuse limits."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from aftercare.dispatcher import dispatch_due
from aftercare.models import Message, MessageKind, MessageStatus
from aftercare.services import booking_messages_sweep
from clinic.models import Appointment, AppointmentStatus, Patient
from online import services
from online.models import DuplicateCandidate, HoldState, OnlineHold
from tests.aftercare.smtp_sink import Sink
from tests.factories import AppointmentFactory, PatientFactory
from tests.online.conftest import booking_post, link_in, local_at, sent_emails

pytestmark = pytest.mark.django_db


def _main(content: bytes) -> str:
    page = content.decode()
    return page[page.index("<main") : page.index("</main>")]


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
    # The link goes through the outbox (one row, on the patient's record); the aftercare
    # confirmation and reminder wait for the patient's confirmation.
    assert list(Message.objects.values_list("kind", flat=True)) == [MessageKind.ONLINE_HOLD_LINK]
    [email] = sent_emails()
    assert email.to == ["ada@example.com"]
    assert "/o/confirm/" in email.body


def test_confirming_from_the_link_sends_the_questionnaire_link_and_the_calendar_file(
    client: Client, clinic_open: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    start = local_at(clinic_open["location"], 2, 10)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/book/central/time/", booking_post(start, clinic_open["specialist"]))
    link = link_in(sent_emails()[0], "/o/confirm/")
    # Opening the link changes nothing (mail scanners follow links): the page has a button.
    assert "Confirm my booking" in client.get(link).content.decode()
    assert OnlineHold.objects.get().state == HoldState.HELD
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(link)
    assert "You are booked" in response.content.decode()
    assert OnlineHold.objects.get().state == HoldState.CONFIRMED
    booked = sent_emails()[-1]
    assert "/consultations/" in booked.body
    assert "/o/appointment/" in booked.body
    assert "BEGIN:VEVENT" in booked.attachments["appointment.ics"]
    # A second click confirms nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link)
    assert len(sent_emails()) == 2


def test_an_online_booking_gets_exactly_one_confirmation_through_the_outbox(
    client: Client, clinic_open: dict[str, Any], django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    start = local_at(clinic_open["location"], 3, 10)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/book/central/time/", booking_post(start, clinic_open["specialist"]))
    link = link_in(sent_emails()[0], "/o/confirm/")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link)
        client.post(link)  # a double click
    appointment = Appointment.objects.get()
    kinds = list(Message.objects.filter(patient=appointment.patient).order_by("id").values_list("kind", "source"))
    assert kinds == [
        (MessageKind.ONLINE_HOLD_LINK, f"online_hold:{OnlineHold.objects.get().pk}"),
        (MessageKind.BOOKING_CONFIRMATION, f"appointment:{appointment.pk}"),
        (MessageKind.BOOKING_REMINDER, f"appointment:{appointment.pk}"),
    ]
    # The sweeper that mends bookings without messages writes none for it either.
    with time_machine.travel(timezone.now() + timedelta(minutes=30)):
        booking_messages_sweep()
    assert Message.objects.filter(kind=MessageKind.BOOKING_CONFIRMATION).count() == 1
    confirmations = [email for email in sent_emails() if "appointment.ics" in email.attachments]
    assert len(confirmations) == 1


def test_the_confirm_link_reaches_a_real_smtp_server_and_sends_once(
    client: Client, clinic_open: dict[str, Any], django_capture_on_commit_callbacks: Any, smtp: Sink
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/book/central/time/", booking_post(local_at(clinic_open["location"], 2, 10), clinic_open["specialist"])
        )
    assert dispatch_due().sent == 1
    assert dispatch_due().sent == 0  # run again: nothing more
    [received] = smtp.received
    assert received["To"] == "ada@example.com"
    text = next(part for part in received.walk() if part.get_content_type() == "text/plain")
    assert "/o/confirm/" in text.get_payload(decode=True).decode()
    assert Message.objects.get().status == MessageStatus.SENT


def test_the_confirm_link_reaches_a_known_patient_who_never_consented_at_the_desk(
    client: Client, clinic_open: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    # They asked for it a moment ago, typing this address and ticking consent on the page.
    PatientFactory(email="known@example.com", date_of_birth="1985-02-03", email_consent=False)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/book/central/time/",
            booking_post(
                local_at(clinic_open["location"], 2, 10),
                clinic_open["specialist"],
                email="known@example.com",
                date_of_birth="1985-02-03",
            ),
        )
    [email] = sent_emails()
    assert email.to == ["known@example.com"]
    assert Message.objects.get().status == MessageStatus.SENT


def test_an_unconfirmed_hold_of_a_new_patient_is_removed_with_the_record_made_for_it(
    client: Client, clinic_open: dict[str, Any], settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ONLINE_HOLD_MINUTES = 15
    PatientFactory(first_name="Ada", last_name="Lovelace", date_of_birth="1990-05-17", email="old@example.com")
    start = local_at(clinic_open["location"], 2, 10)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/book/central/time/", booking_post(start, clinic_open["specialist"]))
    link = link_in(sent_emails()[0], "/o/confirm/")
    hold = OnlineHold.objects.get()
    made = hold.appointment.patient
    assert DuplicateCandidate.objects.filter(patient=made).exists()
    with time_machine.travel(hold.expires_at - timedelta(minutes=1), tick=False):
        assert services.online_holds_release_expired() == 0
    with time_machine.travel(hold.expires_at + timedelta(seconds=1), tick=False):
        assert services.online_holds_release_expired() == 1
        assert services.online_holds_release_expired() == 0  # run twice: nothing more
        # Nothing of it is left where staff look: no patient, no appointment, no duplicate.
        assert not Patient.objects.filter(pk=made.pk).exists()
        assert list(Patient.objects.values_list("email", flat=True)) == ["old@example.com"]
        assert not Appointment.objects.exists()
        assert not OnlineHold.objects.exists()
        assert not DuplicateCandidate.objects.exists()
        assert not Message.objects.exists()
        # The time is free again for anyone.
        days = dict(
            services.public_days(location=clinic_open["location"], appointment_type=clinic_open["type"], days=3)
        )
        assert start in [slot.start for slot in days[start.date()]]
        assert "no longer held" in client.get(link).content.decode()
        assert "no longer held" in client.post(link).content.decode()


def test_an_unconfirmed_hold_of_an_existing_patient_is_released_and_the_patient_kept(
    client: Client, clinic_open: dict[str, Any]
) -> None:
    known = PatientFactory(email="known@example.com", date_of_birth="1985-02-03")
    client.post(
        "/book/central/time/",
        booking_post(
            local_at(clinic_open["location"], 2, 10),
            clinic_open["specialist"],
            email="known@example.com",
            date_of_birth="1985-02-03",
        ),
    )
    hold = OnlineHold.objects.get()
    assert not hold.new_patient
    with time_machine.travel(hold.expires_at + timedelta(seconds=1), tick=False):
        assert services.online_holds_release_expired() == 1
        hold.refresh_from_db()
        assert hold.state == HoldState.RELEASED
        assert hold.appointment.status == AppointmentStatus.CANCELLED
        assert "no longer held" in client.post(services.links.hold_path(hold.pk)).content.decode()
    known.refresh_from_db()
    assert Patient.objects.filter(pk=known.pk).exists()


def test_a_new_patients_record_is_kept_when_something_else_refers_to_it(
    client: Client, clinic_open: dict[str, Any]
) -> None:
    location = clinic_open["location"]
    client.post("/book/central/time/", booking_post(local_at(location, 2, 10), clinic_open["specialist"]))
    hold = OnlineHold.objects.get()
    made = hold.appointment.patient
    # Meanwhile the same person joined the waiting list (matched to the record the hold made).
    services.waitlist_join(
        acting_user=None,
        patient=made,
        appointment_type=clinic_open["type"],
        location=location,
        weekdays=[],
        earliest_time=time(9),
        latest_time=time(17),
        earliest_date=location.today(),
        latest_date=location.today() + timedelta(days=30),
    )
    with time_machine.travel(hold.expires_at + timedelta(seconds=1), tick=False):
        assert services.online_holds_release_expired() == 1
    hold.refresh_from_db()
    assert hold.state == HoldState.RELEASED
    assert hold.appointment.status == AppointmentStatus.CANCELLED
    assert Patient.objects.filter(pk=made.pk).exists()


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
    assert not Message.objects.exists()
    assert sent_emails() == []


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


def test_the_day_grid_card_says_booked_online_in_words(
    client: Client, clinic_open: dict[str, Any], front_desk: Any
) -> None:
    location = clinic_open["location"]
    online_start = local_at(location, 2, 10)
    client.post("/book/central/time/", booking_post(online_start, clinic_open["specialist"]))
    by_desk = AppointmentFactory(
        practitioner=clinic_open["specialist"], room=clinic_open["room"], start=local_at(location, 2, 14)
    )
    online = Appointment.objects.get(start=online_start)
    desk = Client()
    desk.force_login(front_desk)
    page = desk.get("/front-desk/", {"date": online_start.astimezone(location.zone).date().isoformat()})
    body = page.content.decode()

    def card(pk: int) -> str:
        opened = body.index(f'id="appointment-{pk}"')
        return body[opened : body.index('<div class="appointment-meta">', body.index("appointment-meta", opened) + 1)]

    assert ">Booked online</span>" in card(online.pk)
    assert "Booked online" not in card(by_desk.pk)
