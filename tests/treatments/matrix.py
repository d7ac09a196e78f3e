from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from clinic.models import AppointmentStatus
from clinic.roles import Role
from tests.factories import (
    AppointmentFactory,
    ExtractionTypeFactory,
    ProductLotFactory,
    TreatmentPlanFactory,
    UserFactory,
)
from tests.matrix import REDIRECT, Row, only
from treatments.models import SessionStatus, SpecialistAlert, TreatmentSession

CLINICAL = ("specialist", "aesthetician")


def treatments_world(world: dict[str, Any]) -> dict[str, Any]:
    """A plan, sessions in each state, an alert, a product lot: what the treatments URLs point at."""
    plan = TreatmentPlanFactory()
    patient = plan.patient
    worker = UserFactory(role=Role.AESTHETICIAN)
    extraction = ExtractionTypeFactory()

    def appointment(hours: int, status: str) -> Any:
        return AppointmentFactory(
            appointment_type=extraction,
            patient=patient,
            practitioner=worker,
            start=timezone.now() + timedelta(hours=hours),
            status=status,
        )

    def session(status: str, **fields: Any) -> TreatmentSession:
        return TreatmentSession.objects.create(
            appointment=appointment(len(made) + 1, AppointmentStatus.IN_PROGRESS),
            patient=patient,
            aesthetician=worker,
            plan=plan,
            session_number=len(made) + 1,
            status=status,
            **fields,
        )

    made: list[TreatmentSession] = []
    made.append(session(SessionStatus.RESCREEN))
    made.append(session(SessionStatus.IN_PROGRESS, rescreened_at=timezone.now()))
    stopped = session(
        SessionStatus.STOPPED,
        rescreened_at=timezone.now(),
        stopped_at=timezone.now(),
        rescreen_reasons=["RS_SUNBURN"],
    )
    made.append(stopped)
    alert = SpecialistAlert.objects.create(session=stopped, patient=patient, reasons=["RS_SUNBURN"])
    return {
        "treatment_plan": plan,
        "checked_in": appointment(10, AppointmentStatus.CHECKED_IN),
        "rescreen_session": made[0],
        "log_session": made[1],
        "stopped_session": stopped,
        "alert": alert,
        "lot": ProductLotFactory(),
    }


ROWS: dict[str, Row] = {
    "treatments:home": Row("get", lambda w: "/treatments/", only("aesthetician")),
    "treatments:session_start": Row(
        "post", lambda w: f"/treatments/start/{w['checked_in'].pk}/", only("aesthetician", status=REDIRECT)
    ),
    "treatments:session_hand_over": Row(
        "post",
        lambda w: f"/treatments/sessions/{w['log_session'].pk}/hand-over/",
        only("aesthetician", "manager", status=REDIRECT),
        data=lambda w: {"reason": "Off sick"},
    ),
    "treatments:session_detail": Row(
        "get", lambda w: f"/treatments/sessions/{w['stopped_session'].pk}/", only(*CLINICAL)
    ),
    "treatments:session_rescreen": Row(
        "get", lambda w: f"/treatments/sessions/{w['rescreen_session'].pk}/rescreen/", only("aesthetician")
    ),
    "treatments:session_log": Row(
        "get", lambda w: f"/treatments/sessions/{w['log_session'].pk}/log/", only("aesthetician")
    ),
    "treatments:session_addendum": Row(
        "post",
        lambda w: f"/treatments/sessions/{w['stopped_session'].pk}/addenda/",
        only("aesthetician", status=REDIRECT),
        data=lambda w: {"text": "A correction"},
    ),
    "treatments:treatment_record": Row(
        "get", lambda w: f"/treatments/patients/{w['treatment_plan'].patient_id}/progress/", only(*CLINICAL)
    ),
    "treatments:progress_review": Row(
        "get", lambda w: f"/treatments/plans/{w['treatment_plan'].pk}/review/", only("specialist")
    ),
    "treatments:alert_resume": Row("get", lambda w: f"/treatments/alerts/{w['alert'].pk}/resume/", only("specialist")),
    "treatments:alert_resolve": Row(
        "post", lambda w: f"/treatments/alerts/{w['alert'].pk}/seen/", only("specialist", status=REDIRECT)
    ),
    "treatments:product_list": Row("get", lambda w: "/treatments/products/", only("manager")),
    "treatments:product_create": Row("get", lambda w: "/treatments/products/new/", only("manager")),
    "treatments:product_edit": Row("get", lambda w: f"/treatments/products/{w['lot'].product_id}/", only("manager")),
    "treatments:lot_create": Row(
        "get", lambda w: f"/treatments/products/{w['lot'].product_id}/lots/new/", only("manager")
    ),
    "treatments:lot_withdraw": Row(
        "post", lambda w: f"/treatments/lots/{w['lot'].pk}/withdraw/", only("manager", status=REDIRECT)
    ),
}
