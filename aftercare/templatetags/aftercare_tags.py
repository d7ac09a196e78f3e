"""Panels other apps' pages include: a patient's messages, the specialist's queue."""

from __future__ import annotations

from typing import Any

from django import template

from aftercare import failures, selectors
from aftercare.forms import QueueResolveForm
from clinic import field_groups
from clinic.models import Patient

register = template.Library()


@register.inclusion_tag("aftercare/_patient_messages.html", takes_context=True)
def patient_messages(context: dict[str, Any], patient: Patient) -> dict[str, Any]:
    """``{% load aftercare_tags %}{% patient_messages patient %}`` on the patient's page."""
    user = context.get("user")
    if not field_groups.sees(user, field_groups.FieldGroup.MESSAGE_CONTENTS):
        return {"show": False}
    return {
        "show": True,
        "user": user,
        "patient": patient,
        "patient_message_list": selectors.patient_messages(patient.pk),
    }


@register.inclusion_tag("aftercare/_specialist_queue.html", takes_context=True)
def specialist_queue_panel(context: dict[str, Any]) -> dict[str, Any]:
    """``{% load aftercare_tags %}{% specialist_queue_panel %}`` on the consultations home."""
    return {
        "queue_entries": selectors.open_queue(),
        "resolve_form": QueueResolveForm(),
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }


@register.filter
def failure_reason(last_error: str) -> str:
    """``{{ message.last_error|failure_reason }}``: the plain reason a message failed."""
    return failures.plain_reason(last_error or "")
