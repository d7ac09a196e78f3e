"""What happens after a session is signed, outside its transaction.

``session_sign`` calls :func:`on_session_signed` through ``transaction.on_commit``, so it
runs only once the signed session is safely stored (never for a rolled-back signing).
"""

from __future__ import annotations

import logging
from typing import Any

from clinic.models import RELEASED_STATUSES, Appointment, AppointmentKind
from treatments.models import TreatmentSession
from treatments.plans import plan_summary

logger = logging.getLogger(__name__)


def aftercare_arguments(session: TreatmentSession) -> dict[str, Any]:
    """The keyword arguments of ``aftercare.services.aftercare_sequence_start`` for ``session``.

    Everything but ``facts``, which needs ``aftercare.services.SessionFacts``:
    ``SessionFacts(extraction_method=session.extraction_method,
    lesions_extracted=lesion_totals(session.lesions_extracted))``.
    """
    appointment = session.appointment
    planned = list(
        Appointment.objects.filter(
            patient_id=session.patient_id,
            appointment_type__kind=AppointmentKind.EXTRACTION,
            start__gt=appointment.start,
        )
        .exclude(status__in=RELEASED_STATUSES)
        .order_by("start")
        .values_list("start", flat=True)
    )
    return {
        "acting_user": session.signed_by,
        "patient": session.patient,
        "location": appointment.location,
        "completed_at": session.signed_at,
        "planned_sessions": planned,
        "review_date": plan_summary(session.patient_id).review_date,
        "source": f"treatment_session:{session.pk}",
    }


def on_session_signed(session_id: int) -> None:
    """Start the patient's aftercare sequence for the signed session ``session_id``.

    For now it only logs. The lead wires aftercare in here once the aftercare branch is
    merged, e.g.::

        from aftercare.services import SessionFacts, aftercare_sequence_start
        from consultations.grading import lesion_totals

        session = TreatmentSession.objects.with_related().get(pk=session_id)
        aftercare_sequence_start(
            **aftercare_arguments(session),
            facts=SessionFacts(
                extraction_method=session.extraction_method,
                lesions_extracted=lesion_totals(session.lesions_extracted),
            ),
        )

    (``aftercare_sequence_start`` is idempotent per ``source``, so a repeated call is harmless.)
    """
    logger.info("treatment session %s signed; aftercare sequence not wired yet", session_id)
