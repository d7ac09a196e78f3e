"""Small hand-made scenes for the report tests: each figure's expected value is worked out by hand."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta
from typing import Any

from clinic.models import AppointmentStatus, AppointmentStatusChange, Location, Patient, User
from clinic.roles import Role
from reports.forms import Filters
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    ExtractionTypeFactory,
    LocationFactory,
    ProductLotFactory,
    RoomFactory,
    UserFactory,
)
from treatments.models import ProductLot, ProgressReview, SessionStatus, TreatmentSession

LONDON = zoneinfo.ZoneInfo("Europe/London")
UTC = zoneinfo.ZoneInfo("UTC")


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in March 2026 (London is on GMT until the 29th, so London time is UTC)."""
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def march(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return at(date(2026, 3, day), hour, minute)


def filters(
    location: Location,
    first: date = date(2026, 3, 1),
    last: date = date(2026, 3, 31),
    *,
    late_hours: int = 24,
    by: str = "",
) -> Filters:
    return Filters(
        first_day=first,
        last_day=last,
        start=datetime.combine(first, time.min, tzinfo=LONDON),
        end=datetime.combine(last + timedelta(days=1), time.min, tzinfo=LONDON),
        location_ids=(location.pk,),
        zone="Europe/London",
        late_hours=late_hours,
        by=by,
    )


def central() -> Location:
    return LocationFactory(name="Central")


def consultation_type() -> Any:
    return AppointmentTypeFactory()


def appointment(patient: Patient, start: datetime, *, status: str = "completed", **fields: Any) -> Any:
    fields.setdefault("room", RoomFactory(location=central(), name="Room 1"))
    fields.setdefault("appointment_type", consultation_type())
    return AppointmentFactory(patient=patient, start=start, status=status, **fields)


def cancel(appointment: Any, *, hours_before: int, by: User) -> None:
    AppointmentStatusChange.objects.create(
        appointment=appointment,
        from_status=AppointmentStatus.BOOKED,
        to_status=AppointmentStatus.CANCELLED,
        by=by,
        at=appointment.start - timedelta(hours=hours_before),
        reason="Patient rang",
    )


def lot(number: str = "BP-1") -> ProductLot:
    found = ProductLot.objects.filter(lot_number=number).first()
    return found or ProductLotFactory(lot_number=number)


def signed_session(
    *,
    plan: Any,
    number: int,
    start: datetime,
    aesthetician: User | None = None,
    method: str = "manual_gauze",
    product_lot: ProductLot | None = None,
    complications: list[str] | None = None,
) -> TreatmentSession:
    aesthetician = aesthetician or UserFactory(username="aes-scene", role=Role.AESTHETICIAN)
    booked = appointment(
        plan.patient,
        start,
        appointment_type=ExtractionTypeFactory(),
        practitioner=aesthetician,
        status=AppointmentStatus.COMPLETED,
    )
    return TreatmentSession.objects.create(
        appointment=booked,
        patient=plan.patient,
        aesthetician=aesthetician,
        plan=plan,
        session_number=number,
        sessions_planned=plan.sessions_planned,
        status=SessionStatus.SIGNED,
        started_at=start,
        rescreened_at=start,
        extraction_method=method,
        pain=2,
        product_lot=product_lot or lot(),
        aftercare_explained=True,
        complications=complications or [],
        signed_at=start + timedelta(hours=1),
        signed_by=aesthetician,
    )


def review(
    plan: Any,
    *,
    decided_at: datetime,
    present: dict[str, dict[str, int]],
    iga: int | None = None,
    gags: int | None = None,
) -> ProgressReview:
    return ProgressReview.objects.create(
        patient=plan.patient,
        plan=plan,
        specialist=plan.consultation.specialist,
        decision="continue",
        lesions_present=present,
        iga=iga,
        gags_total=gags,
        decided_at=decided_at,
    )
