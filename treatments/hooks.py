"""What happens in other apps when a session is signed: the patient's aftercare starts.

``session_sign`` calls :func:`on_session_signed` inside its transaction, so the sequence's
outbox rows commit with the signing or not at all (a signing that rolls back leaves no
messages; a signed session always has them).
"""

from __future__ import annotations

from typing import Any

from aftercare.services import SessionFacts, aftercare_sequence_start
from consultations.grading import lesion_totals
from consultations.rules import CAUTIONS_BY_ID
from consultations.selectors import nsaid_sensitive, patient_cautions, plan_summary
from treatments.models import TreatmentSession

PIGMENT_CAUTION = "CA_PIGMENTATION_RISK"
SLOW_HEALING_CAUTION = "CA_INFECTION_RISK"


def aftercare_arguments(session: TreatmentSession) -> dict[str, Any]:
    """The keyword arguments of ``aftercare.services.aftercare_sequence_start`` for ``session``.

    The patient's cautions travel into the aftercare as plain facts (aftercare does not
    read consultations): no ibuprofen, no retinoid, pigment risk, slow healing.
    """
    summary = plan_summary(session.patient_id)
    cautions = [CAUTIONS_BY_ID[c] for c in patient_cautions(session.patient_id) if c in CAUTIONS_BY_ID]
    caution_ids = {caution.id for caution in cautions}
    return {
        "acting_user": session.signed_by,
        "patient": session.patient,
        "location": session.appointment.location,
        "completed_at": session.signed_at,
        # No planned_sessions: every booked session already gets its day-before reminder
        # (with confirm/reschedule links) from the booking messages, which follow the
        # appointment when it moves or is cancelled. Listing them here would send two.
        "planned_sessions": (),
        "review_date": summary.review_date,
        "source": f"treatment_session:{session.pk}",
        # One progress-review invitation per plan, whichever session's sequence writes it first.
        "review_key": f"plan:{session.plan_id}" if session.plan_id is not None else None,
        "facts": SessionFacts(
            extraction_method=session.extraction_method,
            lesions_extracted=lesion_totals(session.lesions_extracted),
            no_ibuprofen=any(caution.avoid_nsaids for caution in cautions) or nsaid_sensitive(summary.allergies),
            no_retinoid=any(caution.avoid_retinoids for caution in cautions),
            pigment_risk=PIGMENT_CAUTION in caution_ids,
            slow_healing=SLOW_HEALING_CAUTION in caution_ids,
        ),
    }


def on_session_signed(session: TreatmentSession) -> None:
    """Start the patient's aftercare sequence for the signed ``session``.

    Idempotent: ``aftercare_sequence_start`` creates nothing for a source it has seen.
    """
    aftercare_sequence_start(**aftercare_arguments(session))
