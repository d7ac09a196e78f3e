"""Whether a patient may be booked for an extraction session.

The booking service calls this before every extraction booking (and reschedule).
"""

from __future__ import annotations

from clinic.models import Patient
from consultations.models import Consultation, Outcome, TreatmentPlan


def patient_cleared_for_extraction(patient: Patient) -> bool:
    """True when the patient's latest signed consultation clears them for extraction.

    Cleared means: that consultation's final outcome (the specialist's override if there is
    one, else the rules' outcome) is "recommended", and its treatment plan is active and
    consented, and not on hold. A later consultation that defers or does not recommend
    withdraws clearance; so does a day-of stop, which puts the plan on hold until the
    specialist resumes it (``consultations.services.plan_resume``, with a written
    re-assessment note) or signs a new consultation that recommends extraction again.
    """
    latest = (
        Consultation.objects.signed()
        .for_patient(patient.pk)
        .order_by("-signed_at", "-id")
        .only("id", "rules_outcome", "override_outcome")
        .first()
    )
    if latest is None or latest.final_outcome != Outcome.RECOMMENDED:
        return False
    return TreatmentPlan.objects.active().consented().not_held().filter(consultation_id=latest.pk).exists()
