"""Consultation panels that other apps' pages include (appointment and patient pages)."""

from __future__ import annotations

from typing import Any

from django import template

from clinic import roles
from clinic.field_groups import FieldGroup, sees
from clinic.forms import HandOverForm
from clinic.models import Appointment, AppointmentKind, Patient, User
from clinic.roles import Role
from consultations.models import Consultation, TreatmentPlan
from consultations.questionnaire import questionnaire_url

register = template.Library()


@register.inclusion_tag("consultations/_appointment_panel.html", takes_context=True)
def consultation_panel(context: template.Context, appointment: Appointment, user: User) -> dict[str, Any]:
    """On a consultation appointment's page: its consultation, and the patient's pre-visit link."""
    if appointment.appointment_type.kind != AppointmentKind.CONSULTATION:
        return {"show": False}
    consultation = Consultation.objects.filter(appointment_id=appointment.pk).select_related("specialist").first()
    may_hand_over = (
        consultation is not None
        and not consultation.is_signed
        and (consultation.specialist_id == user.pk or user.has_perm(roles.MANAGE_CLINIC))
    )
    return {
        "show": True,
        "user": user,
        "csrf_token": context.get("csrf_token"),
        "hand_over_form": HandOverForm(role=Role.SPECIALIST, exclude_id=consultation.specialist_id)
        if may_hand_over and consultation is not None
        else None,
        "appointment": appointment,
        "consultation": consultation,
        "can_consult": user.has_perm("clinic.work_consultations"),
        "sees_decision": sees(user, FieldGroup.CLINICAL_DECISION),
        "link": None
        if not sees(user, FieldGroup.QUESTIONNAIRE_LINK)
        or (consultation is not None and (consultation.is_signed or consultation.questionnaire_received_at))
        else questionnaire_url(appointment_id=appointment.pk),
    }


@register.inclusion_tag("consultations/_patient_panel.html")
def patient_consultations(patient: Patient, user: User) -> dict[str, Any]:
    """On the patient's page: their consultations and treatment plans."""
    return {
        "consultations": Consultation.objects.for_patient(patient.pk).select_related("appointment")[:10],
        "plans": TreatmentPlan.objects.filter(patient_id=patient.pk).with_sessions_booked()[:10],
        "can_consult": user.has_perm("clinic.work_consultations"),
        "sees_decision": sees(user, FieldGroup.CLINICAL_DECISION),
    }


@register.inclusion_tag("consultations/_imported.html")
def imported_answer(form: Any, field: Any) -> dict[str, Any]:
    """Beside a field the questionnaire filled: "from the questionnaire — confirm", and its confirm box."""
    name = field.name
    if name not in getattr(form, "unconfirmed", ()):
        return {"show": False}
    return {"show": True, "confirm": form[f"confirm_{name}"]}
