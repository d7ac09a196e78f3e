from __future__ import annotations

from typing import Any

from tests.matrix import REDIRECT, Row, everyone, only

BAD_LINK = 400


def _failed_message(world: dict[str, Any]) -> Any:
    from tests.factories import MessageFactory

    if "failed_message" not in world:
        world["failed_message"] = MessageFactory(patient=world["patient"], status="failed", attempts=6)
    return world["failed_message"]


def _template(world: dict[str, Any]) -> Any:
    from aftercare.services import message_templates_ensure_defaults

    return message_templates_ensure_defaults()["checkin_day1"]


def _queue_entry(world: dict[str, Any]) -> Any:
    from aftercare.models import CheckIn, SpecialistQueueEntry
    from tests.factories import MessageFactory

    if "queue_entry" not in world:
        message = MessageFactory(patient=world["patient"], kind="checkin_day1")
        checkin = CheckIn.objects.create(message=message, patient=world["patient"], answer="worried")
        world["queue_entry"] = SpecialistQueueEntry.objects.create(checkin=checkin, patient=world["patient"])
    return world["queue_entry"]


def _reschedule_request(world: dict[str, Any]) -> Any:
    from aftercare.models import AppointmentReply
    from tests.factories import MessageFactory

    if "reschedule_request" not in world:
        appointment = world["appointment"]
        message = MessageFactory(patient=appointment.patient, kind="booking_reminder")
        world["reschedule_request"] = AppointmentReply.objects.create(
            message=message, appointment=appointment, answer="reschedule"
        )
    return world["reschedule_request"]


ROWS: dict[str, Row] = {
    "aftercare:dashboard": Row("get", lambda w: "/aftercare/", only("manager")),
    "aftercare:message_retry": Row(
        "post", lambda w: f"/aftercare/messages/{_failed_message(w).pk}/retry/", only("manager", status=REDIRECT)
    ),
    "aftercare:sequence": Row("get", lambda w: "/aftercare/sequence/", only("manager")),
    "aftercare:template_edit": Row("get", lambda w: f"/aftercare/sequence/{_template(w).pk}/", only("manager")),
    "aftercare:patient_messages": Row(
        # Messages by patient are a field group the manager does not see (clinic.field_groups).
        "get",
        lambda w: f"/aftercare/patients/{w['patient'].pk}/messages/",
        only("front_desk", "specialist", "aesthetician"),
    ),
    "aftercare:specialist_queue": Row("get", lambda w: "/aftercare/queue/", only("specialist")),
    "aftercare:queue_resolve": Row(
        "post",
        lambda w: f"/aftercare/queue/{_queue_entry(w).pk}/resolve/",
        only("specialist", status=REDIRECT),
        data=lambda w: {"resolution": "Called the patient"},
    ),
    "aftercare:reschedule_request_handled": Row(
        "post",
        lambda w: f"/aftercare/reschedule-requests/{_reschedule_request(w).pk}/handled/",
        only("front_desk", status=REDIRECT),
    ),
    # Patients' links: public, and a bad token shows the same plain page to everyone.
    "aftercare:checkin": Row("get", lambda w: "/aftercare/c/not-a-token/", everyone(BAD_LINK, anonymous=BAD_LINK)),
    "aftercare:appointment_reply": Row(
        "get", lambda w: "/aftercare/a/not-a-token/", everyone(BAD_LINK, anonymous=BAD_LINK)
    ),
    "aftercare:unsubscribe": Row("get", lambda w: "/aftercare/u/not-a-token/", everyone(BAD_LINK, anonymous=BAD_LINK)),
}
