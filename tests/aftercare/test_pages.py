"""Patients' one-click links and the staff pages."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pghistory.models
import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from aftercare import links
from aftercare.models import (
    CheckIn,
    CheckInAnswer,
    EmailWithdrawal,
    LinkAction,
    LinkClick,
    LinkOutcome,
    MailServerState,
    Message,
    MessageKind,
    MessageStatus,
    MessageTemplate,
    SpecialistQueueEntry,
)
from aftercare.services import SessionFacts, aftercare_sequence_start, message_templates_ensure_defaults
from clinic.models import AccessEvent, Location, Patient, User
from tests.factories import MessageFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkin_message(location: Location) -> Message:
    patient = PatientFactory(first_name="Nora")
    aftercare_sequence_start(
        acting_user=None,
        patient=patient,
        location=location,
        completed_at=timezone.now(),
        facts=SessionFacts(extraction_method="comedone_extractor"),
    )
    return Message.objects.get(patient=patient, kind=MessageKind.CHECKIN_DAY1)


def test_a_fine_answer_is_recorded_with_the_button_on_the_link_page(client: Client, checkin_message: Message) -> None:
    path = links.checkin_path(checkin_message.token, CheckInAnswer.FINE)
    assert client.get(path).status_code == 200
    assert not CheckIn.objects.exists()  # mail scanners follow links: GET records nothing
    response = client.post(path)
    assert response.status_code == 200
    assert "glad your skin is settling" in response.content.decode()
    checkin = CheckIn.objects.get(message=checkin_message)
    assert checkin.answer == CheckInAnswer.FINE
    assert checkin.patient_id == checkin_message.patient_id
    assert not SpecialistQueueEntry.objects.exists()


def test_the_links_in_the_email_are_the_ones_that_work(client: Client, checkin_message: Message) -> None:
    found = re.findall(r"http://\S+?(/aftercare/c/\S+?/)(?:\s|$)", checkin_message.body_text)
    assert len(found) == 3
    assert client.post(found[1]).status_code == 200
    assert CheckIn.objects.get().answer == CheckInAnswer.RED_OR_SENSITIVE


def test_worried_puts_the_patient_on_the_queue_and_alerts_the_specialist_once(
    client: Client, checkin_message: Message, specialist: User, location: Location
) -> None:
    specialist.home_location = location
    specialist.save()
    UserFactory(username="spec_elsewhere", role=None)  # not a specialist: never alerted
    path = links.checkin_path(checkin_message.token, CheckInAnswer.WORRIED)
    response = client.post(path)
    client.post(path)  # a second click adds nothing
    assert response.status_code == 200
    assert "specialist has been told" in response.content.decode()
    entry = SpecialistQueueEntry.objects.get()
    assert entry.patient_id == checkin_message.patient_id
    alert = Message.objects.get(kind=MessageKind.SPECIALIST_ALERT)
    assert alert.to_user_id == specialist.pk
    assert alert.due_at <= timezone.now()
    assert "Nora" not in alert.subject + alert.body_text  # no patient detail in the staff email


def test_the_patient_can_add_a_note_after_answering(client: Client, checkin_message: Message) -> None:
    path = links.checkin_path(checkin_message.token, CheckInAnswer.WORRIED)
    client.post(path)
    response = client.post(path, {"note": "The left cheek is swollen and warm."})
    assert response.status_code == 200
    assert "Your note has been added" in response.content.decode()
    assert CheckIn.objects.get().note == "The left cheek is swollen and warm."


def test_an_empty_note_is_refused_beside_the_field(client: Client, checkin_message: Message) -> None:
    path = links.checkin_path(checkin_message.token, CheckInAnswer.FINE)
    client.post(path)
    response = client.post(path, {"note": ""})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()


@pytest.mark.parametrize("kind", ["checkin", "unsubscribe"])
def test_a_tampered_link_reveals_nothing(client: Client, checkin_message: Message, kind: str) -> None:
    if kind == "checkin":
        path = links.checkin_path(checkin_message.token, CheckInAnswer.FINE)
    else:
        path = links.unsubscribe_path(checkin_message.token)
    tampered = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    response = client.get(tampered)
    assert response.status_code == 400
    body = response.content.decode()
    assert "This link does not work" in body
    assert checkin_message.patient.first_name not in body
    assert not CheckIn.objects.exists()
    checkin_message.patient.refresh_from_db()
    assert checkin_message.patient.email_consent is True


def test_a_check_in_link_for_one_purpose_is_useless_for_another(client: Client, checkin_message: Message) -> None:
    token = links.checkin_token(checkin_message.token, CheckInAnswer.FINE)
    assert client.get(f"/aftercare/u/{token}/").status_code == 400
    checkin_message.patient.refresh_from_db()
    assert checkin_message.patient.email_consent is True


def test_an_expired_check_in_link_reveals_nothing(client: Client, checkin_message: Message) -> None:
    path = links.checkin_path(checkin_message.token, CheckInAnswer.WORRIED)
    with time_machine.travel(timezone.now() + links.CHECKIN_MAX_AGE + timedelta(hours=1)):
        response = client.get(path)
    assert response.status_code == 400
    assert not SpecialistQueueEntry.objects.exists()


def test_the_unsubscribe_button_withdraws_consent_at_once(client: Client, checkin_message: Message) -> None:
    patient = checkin_message.patient
    response = client.post(links.unsubscribe_path(checkin_message.token))
    assert response.status_code == 200
    assert "You will not get emails from us" in response.content.decode()
    patient.refresh_from_db()
    assert patient.email_consent is False
    assert patient.email_consent_at is not None
    assert timezone.now() - patient.email_consent_at < timedelta(minutes=1)
    assert EmailWithdrawal.objects.filter(patient=patient).count() == 1
    client.post(links.unsubscribe_path(checkin_message.token))
    assert EmailWithdrawal.objects.filter(patient=patient).count() == 1


def test_mail_clients_one_click_unsubscribe_posts_without_a_csrf_token(checkin_message: Message) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(links.unsubscribe_path(checkin_message.token), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    checkin_message.patient.refresh_from_db()
    assert checkin_message.patient.email_consent is False


def test_the_patients_messages_show_what_when_and_why_not(client: Client, front_desk: User) -> None:
    patient = PatientFactory()
    MessageFactory(patient=patient, status=MessageStatus.SENT, sent_at=timezone.now())
    MessageFactory(patient=patient, status=MessageStatus.SKIPPED_NO_CONSENT)
    MessageFactory(patient=patient, status=MessageStatus.FAILED, attempts=6, last_error="SMTPDataError: 554 no")
    client.force_login(front_desk)
    response = client.get(f"/aftercare/patients/{patient.pk}/messages/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Sent" in body
    assert "The patient has not agreed to email." in body
    assert "Gave up after 6 attempts" in body
    assert AccessEvent.objects.filter(patient=patient, user=front_desk).exists()


def test_the_patients_messages_page_keeps_a_fixed_number_of_queries(
    client: Client, front_desk: User, django_assert_max_num_queries: object
) -> None:
    patient = PatientFactory()
    MessageFactory.create_batch(15, patient=patient)
    client.force_login(front_desk)
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        assert client.get(f"/aftercare/patients/{patient.pk}/messages/").status_code == 200


def test_the_manager_sees_that_the_mail_server_is_refusing_and_when_sending_resumes(
    client: Client, manager: User
) -> None:
    client.force_login(manager)
    assert 'data-mail-server="refusing"' not in client.get("/aftercare/").content.decode()
    MailServerState.objects.create(
        mailer="default",
        refusals=3,
        open_until=timezone.now() + timedelta(minutes=2),
        last_error="SMTPSenderRefused: (421, b'4.3.2 Service not available')",
    )
    body = client.get("/aftercare/").content.decode()
    assert 'data-mail-server="refusing"' in body
    assert "refused the last 3 attempts" in body
    assert "4.3.2 Service not available" in body


def test_the_manager_sees_figures_and_can_retry_a_failed_message(client: Client, manager: User) -> None:
    failed = MessageFactory(status=MessageStatus.FAILED, attempts=6, attempt_limit=6, last_error="550 unknown user")
    MessageFactory(status=MessageStatus.SENT, sent_at=timezone.now())
    MessageFactory(status=MessageStatus.SKIPPED_NO_CONSENT)
    CheckIn.objects.create(
        message=MessageFactory(kind=MessageKind.CHECKIN_DAY1), patient=PatientFactory(), answer="fine"
    )
    client.force_login(manager)
    body = client.get("/aftercare/").content.decode()
    assert 'data-figure="sent">1<' in body
    assert 'data-figure="failed">1<' in body
    assert 'data-figure="skipped">1<' in body
    assert 'data-figure="fine">1<' in body
    assert "550 unknown user" in body
    response = client.post(f"/aftercare/messages/{failed.pk}/retry/")
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == MessageStatus.SCHEDULED
    assert failed.attempt_limit == 12
    assert failed.next_attempt_at <= timezone.now()


def test_the_manager_edits_a_step_of_the_sequence(client: Client, manager: User) -> None:
    template = message_templates_ensure_defaults()[MessageKind.CHECKIN_DAY1]
    client.force_login(manager)
    response = client.post(
        f"/aftercare/sequence/{template.pk}/",
        {"is_active": "on", "offset_days": "2", "send_time": "09:30", "subject": "Hi $first_name", "body_text": "Hi"},
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.offset_days, template.send_time.strftime("%H:%M")) == (2, "09:30")
    assert template.updated_by_id == manager.pk
    assert "day 2 at 09:30" in client.get("/aftercare/sequence/").content.decode()


def test_an_unknown_placeholder_is_refused_beside_the_field_and_nothing_is_saved(client: Client, manager: User) -> None:
    template = message_templates_ensure_defaults()[MessageKind.CHECKIN_DAY1]
    client.force_login(manager)
    response = client.post(
        f"/aftercare/sequence/{template.pk}/",
        {"offset_days": "1", "send_time": "10:00", "subject": "Hi $firstname", "body_text": "Hello"},
    )
    assert response.status_code == 200
    assert "Unknown placeholder: $firstname" in response.content.decode()
    assert MessageTemplate.objects.get(pk=template.pk).subject == template.subject


def test_a_reminder_cannot_be_set_after_the_session(client: Client, manager: User) -> None:
    template = message_templates_ensure_defaults()[MessageKind.SESSION_REMINDER]
    client.force_login(manager)
    response = client.post(
        f"/aftercare/sequence/{template.pk}/",
        {"offset_days": "3", "send_time": "10:00", "subject": "Reminder", "body_text": "See you"},
    )
    assert response.status_code == 200
    assert "before and the day of the session" in response.content.decode()


def test_the_specialist_closes_a_queue_entry_with_what_was_done(
    client: Client, specialist: User, checkin_message: Message
) -> None:
    client.post(links.checkin_path(checkin_message.token, CheckInAnswer.WORRIED))
    entry = SpecialistQueueEntry.objects.get()
    client.force_login(specialist)
    page = client.get("/aftercare/queue/").content.decode()
    assert checkin_message.patient.full_name in page
    response = client.post(f"/aftercare/queue/{entry.pk}/resolve/", {"resolution": "Called; reassured."})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.resolved_by_id == specialist.pk
    assert client.get("/aftercare/queue/").context["queue_entries"] == []


def test_the_panels_other_pages_include_render(checkin_message: Message, specialist: User, manager: User) -> None:
    from django.template import Context, Template

    patient: Patient = checkin_message.patient
    panels = Template("{% load aftercare_tags %}{% patient_messages patient %}{% specialist_queue_panel %}")
    html = panels.render(Context({"patient": patient, "user": specialist}))
    assert "How is your skin today?" not in html  # subjects are not listed, kinds are
    assert "Next-day check-in" in html
    assert "Nobody is waiting" in html
    # The manager's field groups do not include a patient's messages (clinic.field_groups).
    assert "Next-day check-in" not in panels.render(Context({"patient": patient, "user": manager}))


def test_the_first_check_in_answer_stands_and_later_clicks_are_kept(client: Client, checkin_message: Message) -> None:
    client.post(links.checkin_path(checkin_message.token, CheckInAnswer.WORRIED))
    response = client.post(links.checkin_path(checkin_message.token, CheckInAnswer.FINE))
    body = response.content.decode()
    assert "We already have your answer" in body
    assert "Worried" in body
    assert CheckIn.objects.get().answer == CheckInAnswer.WORRIED
    assert SpecialistQueueEntry.objects.filter(resolved_at__isnull=True).count() == 1
    clicks = list(LinkClick.objects.for_message(checkin_message.pk).values_list("answer", "outcome"))
    assert clicks == [
        (CheckInAnswer.WORRIED, LinkOutcome.RECORDED),
        (CheckInAnswer.FINE, LinkOutcome.ALREADY_ANSWERED),
    ]


def test_a_later_click_offers_the_locations_phone(client: Client, checkin_message: Message) -> None:
    Location.objects.filter(pk=checkin_message.location_id).update(phone="020 7946 0000")
    client.post(links.checkin_path(checkin_message.token, CheckInAnswer.FINE))
    body = client.get(links.checkin_path(checkin_message.token, CheckInAnswer.WORRIED)).content.decode()
    assert "We already have your answer" in body
    assert "020 7946 0000" in body


def test_the_first_note_stands(client: Client, checkin_message: Message) -> None:
    path = links.checkin_path(checkin_message.token, CheckInAnswer.WORRIED)
    client.post(path)
    client.post(path, {"note": "Swollen and warm."})
    response = client.post(path, {"note": "All fine now, ignore me."})
    assert "We already have a note from you" in response.content.decode()
    assert CheckIn.objects.get().note == "Swollen and warm."
    notes = LinkClick.objects.filter(action=LinkAction.CHECKIN_NOTE).values_list("note", "outcome")
    assert list(notes) == [
        ("Swollen and warm.", LinkOutcome.RECORDED),
        ("All fine now, ignore me.", LinkOutcome.ALREADY_ANSWERED),
    ]


def test_opening_a_check_in_link_changes_nothing(client: Client, checkin_message: Message) -> None:
    response = client.get(links.checkin_path(checkin_message.token, CheckInAnswer.WORRIED))
    assert response.status_code == 200
    assert 'method="post"' in response.content.decode()
    assert not CheckIn.objects.exists()
    assert not SpecialistQueueEntry.objects.exists()
    assert not LinkClick.objects.exists()


def test_a_cancelled_check_in_says_so_and_records_nothing(client: Client, checkin_message: Message) -> None:
    Message.objects.filter(pk=checkin_message.pk).update(status=MessageStatus.CANCELLED)
    path = links.checkin_path(checkin_message.token, CheckInAnswer.WORRIED)
    assert "no longer open" in client.get(path).content.decode()
    assert "no longer open" in client.post(path).content.decode()
    assert not CheckIn.objects.exists()
    assert not SpecialistQueueEntry.objects.exists()


def test_opening_the_unsubscribe_link_asks_and_changes_nothing(client: Client, checkin_message: Message) -> None:
    response = client.get(links.unsubscribe_path(checkin_message.token))
    assert response.status_code == 200
    assert 'method="post"' in response.content.decode()
    checkin_message.patient.refresh_from_db()
    assert checkin_message.patient.email_consent is True
    assert not EmailWithdrawal.objects.exists()


def test_no_audit_context_holds_a_patients_link_token(client: Client, checkin_message: Message) -> None:
    checkin_token = links.checkin_token(checkin_message.token, CheckInAnswer.WORRIED)
    unsubscribe_token = links.unsubscribe_token(checkin_message.token)
    client.post(f"/aftercare/c/{checkin_token}/")
    client.post(f"/aftercare/c/{checkin_token}/", {"note": "Warm."})
    client.post(f"/aftercare/u/{unsubscribe_token}/")
    contexts = list(pghistory.models.Context.objects.values_list("metadata", flat=True))
    assert contexts  # the clicks were audited
    text = json.dumps(contexts)
    assert checkin_token not in text
    assert unsubscribe_token not in text
    assert str(checkin_message.token) not in text
    # The fixture's own writes are the system's (no request, no url).
    assert {c["url"] for c in contexts if "url" in c} == {"aftercare:checkin", "aftercare:unsubscribe"}


def test_staff_see_every_click_in_the_patients_message_history(
    client: Client, checkin_message: Message, front_desk: User
) -> None:
    Message.objects.filter(pk=checkin_message.pk).update(status=MessageStatus.SENT, sent_at=timezone.now())
    client.post(links.checkin_path(checkin_message.token, CheckInAnswer.WORRIED))
    client.post(links.checkin_path(checkin_message.token, CheckInAnswer.FINE))
    client.force_login(front_desk)
    page = client.get(f"/aftercare/patients/{checkin_message.patient_id}/messages/").content.decode()
    assert "“worried”" in page
    assert "“fine”" in page
    assert "the first answer stands" in page
