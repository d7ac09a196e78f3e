"""What happens after a session is signed, outside its transaction.

``session_sign`` calls :func:`on_session_signed` through ``transaction.on_commit``, so it
runs only once the signed session is safely stored (never for a rolled-back signing).
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


def on_session_signed(session_id: int) -> None:
    """Start the patient's aftercare sequence for the signed session ``session_id``.

    Idempotent: ``aftercare_sequence_start`` creates nothing for a source it has seen.
    """
    session = TreatmentSession.objects.with_related().get(pk=session_id)
    aftercare_sequence_start(**aftercare_arguments(session))
