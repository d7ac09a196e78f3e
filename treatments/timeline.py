"""Treatments' entries on the patient's timeline (clinic.hooks.patient_timeline): each
session with its re-screen result and its addenda."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from clinic.field_groups import FieldGroup
from clinic.hooks import TimelineEntry, TimelineKind
from clinic.models import Patient
from treatments.models import SessionAddendum, SessionStatus, TreatmentSession
from treatments.rescreen import RESCREEN_RULES

LIMIT = 100
EXPLAINED = {rule.id: rule.explanation for rule in RESCREEN_RULES}


def entries(*, patient: Patient, kinds: frozenset[TimelineKind], groups: frozenset[str]) -> list[TimelineEntry]:
    if TimelineKind.SESSION not in kinds or FieldGroup.SESSION_LOG not in groups:
        return []
    rows = (
        TreatmentSession.objects.filter(patient=patient)
        .select_related("aesthetician")
        .prefetch_related(
            Prefetch("addenda", queryset=SessionAddendum.objects.select_related("author").order_by("written_at"))
        )
        .order_by("-started_at")[:LIMIT]
    )
    found = []
    for session in rows:
        lines = []
        if session.rescreened_at is not None:
            if session.status == SessionStatus.STOPPED:
                # Plain language, never the rule ids (they stay on the printed record for audit).
                reasons = " ".join(
                    str(EXPLAINED.get(rule, _("A contraindication."))) for rule in session.rescreen_reasons
                )
                lines.append(_("Re-screen stopped the session. %(reasons)s") % {"reasons": reasons})
            else:
                lines.append(_("Re-screen passed"))
        for addendum in session.addenda.all():
            lines.append(
                _("Addendum %(at)s by %(author)s: %(text)s")
                % {
                    "at": date_format(addendum.written_at, "j M Y, H:i"),
                    "author": addendum.author.display_name,
                    "text": addendum.text,
                }
            )
        found.append(
            TimelineEntry(
                at=session.signed_at or session.stopped_at or session.started_at,
                kind=TimelineKind.SESSION,
                group=FieldGroup.SESSION_LOG,
                title=_("Treatment session: %(status)s") % {"status": session.get_status_display()},
                detail=session.aesthetician.display_name,
                url=session.get_absolute_url(),
                lines=tuple(lines),
            )
        )
    return found
