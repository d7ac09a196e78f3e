"""Consultations' entries on the patient's timeline (clinic.hooks.patient_timeline): each
consultation with its decision and any override; each plan with its consent."""

from __future__ import annotations

from django.utils.translation import gettext as _

from clinic.field_groups import FieldGroup
from clinic.hooks import TimelineEntry, TimelineKind
from clinic.models import Patient
from consultations.models import Consultation, ConsultationStatus, Outcome, TreatmentPlan

LIMIT = 100


def _consultations(patient: Patient) -> list[TimelineEntry]:
    rows = Consultation.objects.filter(patient=patient).select_related("specialist").order_by("-created_at")
    entries = []
    for consultation in rows[:LIMIT]:
        signed = consultation.status == ConsultationStatus.SIGNED
        lines = []
        if consultation.rules_outcome:
            lines.append(_("The rules said: %(outcome)s") % {"outcome": Outcome(consultation.rules_outcome).label})
        if consultation.override_outcome:
            lines.append(
                _("Overridden to “%(outcome)s”: %(reason)s")
                % {"outcome": Outcome(consultation.override_outcome).label, "reason": consultation.override_reason}
            )
        decision = consultation.get_final_outcome_display() or _("no decision yet")
        entries.append(
            TimelineEntry(
                at=consultation.signed_at or consultation.created_at,
                kind=TimelineKind.CONSULTATION,
                group=FieldGroup.CLINICAL_DECISION,
                title=_("Consultation signed: %(decision)s") % {"decision": decision}
                if signed
                else _("Consultation (draft)"),
                detail=consultation.specialist.display_name,
                url=consultation.get_absolute_url(),
                lines=tuple(lines),
            )
        )
    return entries


def _plans(patient: Patient) -> list[TimelineEntry]:
    rows = TreatmentPlan.objects.filter(patient=patient).select_related("created_by").order_by("-created_at")
    entries = []
    for plan in rows[:LIMIT]:
        url = plan.get_absolute_url()
        entries.append(
            TimelineEntry(
                at=plan.created_at,
                kind=TimelineKind.PLAN,
                group=FieldGroup.PLAN,
                title=_("Treatment plan written (%(status)s)") % {"status": plan.get_status_display()},
                detail=plan.created_by.display_name,
                url=url,
            )
        )
        if plan.consented_at is not None:
            entries.append(
                TimelineEntry(
                    at=plan.consented_at,
                    kind=TimelineKind.PLAN,
                    group=FieldGroup.PLAN,
                    title=_("Consent to the plan given"),
                    detail=_("Signed “%(name)s”, consent text %(version)s")
                    % {"name": plan.consent_name, "version": plan.consent_version},
                    url=url,
                )
            )
    return entries


def entries(*, patient: Patient, kinds: frozenset[TimelineKind], groups: frozenset[str]) -> list[TimelineEntry]:
    found: list[TimelineEntry] = []
    if TimelineKind.CONSULTATION in kinds and FieldGroup.CLINICAL_DECISION in groups:
        found += _consultations(patient)
    if TimelineKind.PLAN in kinds and FieldGroup.PLAN in groups:
        found += _plans(patient)
    return found
