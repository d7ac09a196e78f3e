"""Whether a patient may be booked for an extraction session.

The consultation workflow (its own issue) decides this from the consultation's outcome.
"""

from __future__ import annotations

from clinic.models import Patient


def patient_cleared_for_extraction(patient: Patient) -> bool:
    """True when a consultation has cleared ``patient`` for extraction sessions.

    Placeholder until the consultation issue lands: it refuses everyone, so no extraction
    session can be booked without a consultation's decision. The consultation issue replaces
    this body (keep the name and signature: the booking service calls it).
    """
    return False
