"""Template pieces other pages include: a patient's lesion trend, a specialist's alerts.

{% load treatments %}
{% lesion_trend_section patient %}    (templates/clinic/patient_detail.html)
{% specialist_alerts %}               (templates/consultations/home.html)
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from clinic import field_groups, roles
from clinic.forms import HandOverForm
from clinic.models import Appointment, Patient, User
from clinic.roles import Role
from treatments.models import TreatmentSession
from treatments.rescreen import RESCREEN_RULES_BY_ID
from treatments.selectors import open_alerts_for, treatment_record

register = template.Library()


@register.inclusion_tag("treatments/_lesion_trend_section.html", takes_context=True)
def lesion_trend_section(context: template.Context, patient: Patient) -> dict[str, Any]:
    """The patient's lesion trend over their programme, for the clinical roles only."""
    request = context.get("request")
    user = getattr(request, "user", None)
    allowed = field_groups.sees(user, field_groups.FieldGroup.SESSION_LOG)
    return {"allowed": allowed, "patient": patient, "record": treatment_record(patient) if allowed else None}


@register.inclusion_tag("treatments/_session_panel.html", takes_context=True)
def session_panel(context: template.Context, appointment: Appointment, user: User) -> dict[str, Any]:
    """On an appointment's page: who owns its open treatment session, and the hand-over form."""
    session = TreatmentSession.objects.filter(appointment_id=appointment.pk).select_related("aesthetician").first()
    if session is None or session.is_final:
        return {"session": None}
    may_hand_over = session.aesthetician_id == user.pk or user.has_perm(roles.MANAGE_CLINIC)
    return {
        "session": session,
        "csrf_token": context.get("csrf_token"),
        "hand_over_form": HandOverForm(role=Role.AESTHETICIAN, exclude_id=session.aesthetician_id)
        if may_hand_over
        else None,
    }


@register.inclusion_tag("treatments/_specialist_alerts.html", takes_context=True)
def specialist_alerts(context: template.Context) -> dict[str, Any]:
    """Sessions stopped at the re-screen, waiting for this specialist (or any specialist)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm(roles.WORK_CONSULTATIONS):
        return {"alerts": None}
    return {"alerts": open_alerts_for(user.pk), "csrf_token": context.get("csrf_token")}


@register.filter
def signed_percent(value: float | None) -> str:
    """−27.3 % / +5 % / — (no baseline to compare with)."""
    if value is None:
        return "—"
    sign = "−" if value < 0 else ("+" if value > 0 else "")
    return f"{sign}{number_format(abs(value), decimal_pos=1 if abs(value) % 1 else 0)} %"


@register.filter
def rescreen_explanation(rule_id: str) -> str:
    """The plain-language reason a re-screen rule stopped a session (the id itself if unknown)."""
    rule = RESCREEN_RULES_BY_ID.get(rule_id)
    return str(rule.explanation) if rule else rule_id


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)


SHORT_LESION_LABELS = {
    "open_comedones": _("Blackheads"),
    "closed_comedones": _("Whiteheads"),
    "papules": _("Papules"),
    "pustules": _("Pustules"),
    "nodules": _("Nodules"),
    "cysts": _("Cysts"),
}


@register.filter
def lesion_short(value: str) -> str:
    """A lesion type's short name, for narrow table columns."""
    return str(SHORT_LESION_LABELS.get(value, value))
