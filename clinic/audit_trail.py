"""The privacy audit as one list: who saw or changed which patient, when and from where.

Reads come from AccessEvent (one row per record read, or per patient on a list page);
changes from pghistory's events, with their context (who, which page). Each source is
filtered and limited in PostgreSQL; only the newest ``limit`` rows of each are merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pghistory.models
from django.db.models import Q

from clinic.models import AccessEvent, Patient, User


class Kind:
    READ = "read"
    LISTED = "listed"
    CHANGE = "change"
    ALL = (READ, LISTED, CHANGE)


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    kind: str
    user_id: int | None
    patient_id: int | None
    what: str
    ip: str
    session: str
    user_agent: str


@dataclass(frozen=True)
class AuditFilter:
    patient_id: int | None = None
    user_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    kinds: tuple[str, ...] = Kind.ALL


def _access_rows(chosen: AuditFilter, limit: int) -> list[AuditRow]:
    kinds = [k for k in chosen.kinds if k in (Kind.READ, Kind.LISTED)]
    if not kinds:
        return []
    events = AccessEvent.objects.filter(listed__in=[k == Kind.LISTED for k in kinds])
    if chosen.patient_id is not None:
        events = events.filter(patient_id=chosen.patient_id)
    if chosen.user_id is not None:
        events = events.filter(user_id=chosen.user_id)
    if chosen.since is not None:
        events = events.filter(at__gte=chosen.since)
    if chosen.until is not None:
        events = events.filter(at__lt=chosen.until)
    fields = ("at", "listed", "user_id", "patient_id", "page", "ip", "session_hash", "user_agent")
    return [
        AuditRow(
            at=at,
            kind=Kind.LISTED if listed else Kind.READ,
            user_id=user_id,
            patient_id=patient_id,
            what=page,
            ip=ip or "",
            session=session[:12],
            user_agent=agent,
        )
        for at, listed, user_id, patient_id, page, ip, session, agent in events.order_by("-at", "-pk").values_list(
            *fields
        )[:limit]
    ]


def _patient_of(data: dict[str, Any], model: str, obj_id: str) -> int | None:
    if model == "clinic.Patient":
        return int(obj_id)
    value = data.get("patient_id", data.get("patient"))
    return int(value) if isinstance(value, int) or (isinstance(value, str) and value.isdigit()) else None


def _change_rows(chosen: AuditFilter, limit: int) -> list[AuditRow]:
    if Kind.CHANGE not in chosen.kinds:
        return []
    events = pghistory.models.Events.objects.all()
    if chosen.patient_id is not None:
        # The patient's own events and every event whose row points at the patient.
        events = events.references(Patient(pk=chosen.patient_id))  # type: ignore[no-untyped-call]
    filters = Q()
    if chosen.user_id is not None:
        filters &= Q(pgh_context__user=chosen.user_id)
    if chosen.since is not None:
        filters &= Q(pgh_created_at__gte=chosen.since)
    if chosen.until is not None:
        filters &= Q(pgh_created_at__lt=chosen.until)
    rows = []
    for event in events.filter(filters).order_by("-pgh_created_at")[:limit]:
        context = event.pgh_context or {}
        user = context.get("user")
        rows.append(
            AuditRow(
                at=event.pgh_created_at,
                kind=Kind.CHANGE,
                user_id=user if isinstance(user, int) else None,
                patient_id=chosen.patient_id or _patient_of(event.pgh_data, event.pgh_obj_model, event.pgh_obj_id),
                what=f"{event.pgh_obj_model} {event.pgh_label}"
                + (f" ({context['url']})" if context.get("url") else ""),
                ip="",
                session="",
                user_agent="",
            )
        )
    return rows


def audit_trail(chosen: AuditFilter, *, limit: int = 500) -> list[AuditRow]:
    """The newest ``limit`` reads and changes matching ``chosen``, newest first."""
    rows = _access_rows(chosen, limit) + _change_rows(chosen, limit)
    rows.sort(key=lambda row: row.at, reverse=True)
    return rows[:limit]


def names(rows: list[AuditRow]) -> tuple[dict[int, str], dict[int, str]]:
    """Display names for the users and patients in ``rows`` (two queries)."""
    user_ids = {r.user_id for r in rows if r.user_id is not None}
    patient_ids = {r.patient_id for r in rows if r.patient_id is not None}
    users = {u.pk: u.get_full_name() or u.username for u in User.objects.filter(pk__in=user_ids)}
    patients = {p.pk: p.full_name for p in Patient.objects.filter(pk__in=patient_ids)}
    return users, patients
