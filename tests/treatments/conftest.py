from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pgtrigger
import pytest
import time_machine

from clinic.models import Appointment, AppointmentStatus, Patient, User
from clinic.roles import Role
from consultations import rules
from consultations.grading import Counts
from consultations.models import PlanSession, TreatmentPlan
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    ConsultationFactory,
    ExtractionTypeFactory,
    PatientFactory,
    ProductLotFactory,
    RoomFactory,
    TreatmentPlanFactory,
    UserFactory,
)
from treatments.models import ProductLot, TreatmentSession
from treatments.rescreen import RescreenAnswers
from treatments.services import SessionLog, session_rescreen, session_start

# Tuesday 3 March 2026, 10:00 in London (GMT, so also 10:00 UTC).
NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)

CLEAR = RescreenAnswers(
    barrier="intact",
    active_infection=False,
    isotretinoin_since_consultation=False,
    topical_retinoid_since_consultation=False,
    sunburn=False,
)


@dataclass
class TreatmentScene:
    aesthetician: User
    specialist: User
    patient: Patient
    appointment: Appointment
    lot: ProductLot
    plan: TreatmentPlan

    def log(self, **overrides: object) -> SessionLog:
        counts: Counts = {"nose": {"open_comedones": 12}, "chin": {"closed_comedones": 4}}
        fields: dict[str, object] = {
            "cleanse_product": "Gentle gel cleanser",
            "exfoliation": "enzyme",
            "softening": "steam",
            "extraction_method": "manual_gauze",
            "lesions_extracted": counts,
            # Counted before extraction: what progress compares with the baseline.
            "lesions_present": {"nose": {"open_comedones": 14}, "chin": {"closed_comedones": 6}},
            "pain": 3,
            "complications": ["pinpoint_bleeding"],
            "complication_notes": "",
            "product_lot": self.lot,
            "aftercare_explained": True,
        }
        fields.update(overrides)
        return SessionLog(**fields)  # type: ignore[arg-type]

    def start(self) -> TreatmentSession:
        return session_start(acting_user=self.aesthetician, appointment=self.appointment)

    def started_and_cleared(self) -> TreatmentSession:
        session = self.start()
        session_rescreen(acting_user=self.aesthetician, session=session, answers=CLEAR)
        return session


@pytest.fixture
def frozen_now() -> Iterator[object]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def consultation_overrides() -> dict[str, object]:
    """Fields of the scene's consultation to change: parametrize this to give the patient a caution."""
    return {}


@pytest.fixture
def scene(
    db: None,
    frozen_now: object,
    aesthetician: User,
    specialist: User,
    consultation_overrides: dict[str, object],
) -> TreatmentScene:
    patient = PatientFactory(first_name="Nora", last_name="Quinn")
    room = RoomFactory()
    # The consultation the specialist held three weeks ago, and the plan of 6 sessions it wrote.
    consultation = ConsultationFactory(
        recommended=True,
        appointment=AppointmentFactory(
            appointment_type=AppointmentTypeFactory(),
            patient=patient,
            practitioner=specialist,
            room=room,
            start=NOW - timedelta(days=21),
            status=AppointmentStatus.COMPLETED,
        ),
        **{
            "allergies": "Lanolin",
            "lesion_counts": {"nose": {"open_comedones": 20}, "chin": {"closed_comedones": 10}},
            **consultation_overrides,
        },
    )
    # What signing stores (consultations.services): the cautions travel from the record.
    assessment = rules.assess(consultation.findings())
    consultation.cautions = list(assessment.cautions)
    consultation.lancet_allowed = assessment.lancet_allowed
    # The factory makes it signed already; signing would have stored these in the same save.
    with pgtrigger.ignore("consultations.Consultation:signed_is_final"):
        consultation.save(update_fields=["cautions", "lancet_allowed"])
    plan = TreatmentPlanFactory(
        consultation=consultation, sessions_planned=6, starts_on=(NOW - timedelta(days=21)).date()
    )
    appointment = AppointmentFactory(
        appointment_type=ExtractionTypeFactory(),
        patient=patient,
        practitioner=aesthetician,
        room=room,
        start=NOW,
        status=AppointmentStatus.CHECKED_IN,
    )
    PlanSession.objects.create(plan=plan, number=1, appointment=appointment)
    lot = ProductLotFactory(lot_number="BP-2207", expires_on=NOW.date() + timedelta(days=90))
    return TreatmentScene(aesthetician, specialist, patient, appointment, lot, plan)


@pytest.fixture
def other_aesthetician(db: None) -> User:
    return UserFactory(username="aes2", role=Role.AESTHETICIAN)
