"""Consultation panels that other apps' pages include (appointment and patient pages)."""

from __future__ import annotations

from typing import Any

from django import template

from clinic.field_groups import FieldGroup, sees
from clinic.models import Appointment, AppointmentKind, Patient, User
from consultations.models import Consultation, TreatmentPlan
from consultations.questionnaire import questionnaire_url

register = template.Library()


@register.inclusion_tag("consultations/_appointment_panel.html")
def consultation_panel(appointment: Appointment, user: User) -> dict[str, Any]:
    """On a consultation appointment's page: its consultation, and the patient's pre-visit link."""
    if appointment.appointment_type.kind != AppointmentKind.CONSULTATION:
        return {"show": False}
    consultation = Consultation.objects.filter(appointment_id=appointment.pk).first()
    return {
        "show": True,
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
