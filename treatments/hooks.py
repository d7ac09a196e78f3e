"""What happens in other apps when a session is signed: the patient's aftercare starts.

``session_sign`` calls :func:`on_session_signed` inside its transaction, so the sequence's
outbox rows commit with the signing or not at all (a signing that rolls back leaves no
messages; a signed session always has them).
"""

from __future__ import annotations

from typing import Any

from aftercare.services import SessionFacts, aftercare_sequence_start
from consultations.grading import lesion_totals
from consultations.selectors import plan_summary
from treatments.models import TreatmentSession


def aftercare_arguments(session: TreatmentSession) -> dict[str, Any]:
    """The keyword arguments of ``aftercare.services.aftercare_sequence_start`` for ``session``."""
    return {
        "acting_user": session.signed_by,
        "patient": session.patient,
        "location": session.appointment.location,
        "completed_at": session.signed_at,
        # No planned_sessions: every booked session already gets its day-before reminder
        # (with confirm/reschedule links) from the booking messages, which follow the
        # appointment when it moves or is cancelled. Listing them here would send two.
        "planned_sessions": (),
        "review_date": plan_summary(session.patient_id).review_date,
        "source": f"treatment_session:{session.pk}",
        "facts": SessionFacts(
            extraction_method=session.extraction_method,
            lesions_extracted=lesion_totals(session.lesions_extracted),
        ),
    }


def on_session_signed(session: TreatmentSession) -> None:
    """Start the patient's aftercare sequence for the signed ``session``.

    Idempotent: ``aftercare_sequence_start`` creates nothing for a source it has seen.
    """
    aftercare_sequence_start(**aftercare_arguments(session))
