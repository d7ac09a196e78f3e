"""Which role sees which group of a patient's fields: the least-privilege matrix, defined once.

Views check :func:`require` before reading a group, and templates wrap each group's markup in
``{% if user|sees:"<group>" %}<div data-field-group="<group>">…`` (the ``field_groups``
template library), so a role never receives a field its job does not need. The README's
"Security model → Roles and field groups" table is this matrix; the permission-matrix test
(``tests/clinic/test_field_groups.py``) walks pages × roles against it.
"""

from __future__ import annotations

import enum

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from clinic.roles import Role


class FieldGroup(enum.StrEnum):
    IDENTITY = "identity"  # name, date of birth, contact details, email consent
    SCHEDULING = "scheduling"  # appointments, plan session counts, room and practitioner
    FRONT_DESK_NOTES = "front-desk-notes"
    HEALTH_HISTORY = "health-history"  # medications, allergies, pregnancy, skin conditions
    CLINICAL_DECISION = "clinical-decision"  # skin analysis, grade, eligibility outcome
    PLAN = "plan"  # the plan's programme, home-care regimen, pauses and goals
    SESSION_LOG = "session-log"  # what was done in a treatment session
    CHECKIN_ANSWERS = "checkin-answers"  # the patient's aftercare check-in replies
    CLINICAL_PHOTOS = "clinical-photos"  # the patient's photos, their markers and photo consent
    MESSAGE_CONTENTS = "message-contents"  # which message went to which patient, and what it said
    QUESTIONNAIRE_LINK = "questionnaire-link"  # the signed pre-visit link (it opens the patient's form)
    AUDIT = "audit"  # who viewed or changed a record


_CLINICAL = frozenset({Role.SPECIALIST, Role.AESTHETICIAN})
_EVERYONE = frozenset(Role)

# Why each row: the front desk books and greets, so it needs who, when and its notes, and sends
# the pre-visit link; it never needs why (the decision) or what (the plan, the log). The
# aesthetician treats, so needs the history, decision, plan and log, but not the link (the
# front desk sends it). The manager runs the clinic: people and schedules, and the audit, not
# clinical content; failed messages reach them as counts, not names.
MATRIX: dict[FieldGroup, frozenset[Role]] = {
    FieldGroup.IDENTITY: _EVERYONE,
    FieldGroup.SCHEDULING: _EVERYONE,
    FieldGroup.FRONT_DESK_NOTES: _EVERYONE,
    FieldGroup.HEALTH_HISTORY: _CLINICAL,
    FieldGroup.CLINICAL_DECISION: _CLINICAL,
    FieldGroup.PLAN: _CLINICAL,
    FieldGroup.SESSION_LOG: _CLINICAL,
    FieldGroup.CHECKIN_ANSWERS: _CLINICAL,
    FieldGroup.CLINICAL_PHOTOS: _CLINICAL,
    FieldGroup.MESSAGE_CONTENTS: frozenset({Role.FRONT_DESK, Role.SPECIALIST, Role.AESTHETICIAN}),
    FieldGroup.QUESTIONNAIRE_LINK: frozenset({Role.FRONT_DESK, Role.SPECIALIST}),
    FieldGroup.AUDIT: frozenset({Role.MANAGER}),
}


def sees(user: object, group: FieldGroup | str) -> bool:
    """Whether ``user`` (a signed-in member of staff) may see ``group``."""
    if not getattr(user, "is_authenticated", False):
        return False
    allowed = MATRIX[FieldGroup(group)]
    return any(spec.role in allowed for spec in getattr(user, "role_specs", ()))


def require(user: object, group: FieldGroup) -> None:
    """A 403 that names what is withheld, for a view whose whole page is one field group."""
    if not sees(user, group):
        raise PermissionDenied(_("This part of the record is not available to your role."))
