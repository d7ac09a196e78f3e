"""``{% photo_pairs patient record %}``: the photo pairs per view, for the treatments pages.

The treatments templates load this library (a template reaching up to the photos app, as the
clinic's templates link to higher apps' URLs); treatments' Python never imports photos.
"""

from __future__ import annotations

from typing import Any

from django import template

from clinic.field_groups import FieldGroup, sees
from clinic.models import Patient
from photos.selectors import comparison
from treatments.selectors import TreatmentRecord

register = template.Library()


@register.inclusion_tag("photos/_pairs_section.html", takes_context=True)
def photo_pairs(context: template.Context, patient: Patient, record: TreatmentRecord | None = None) -> dict[str, Any]:
    user = context.get("user")
    if not sees(user, FieldGroup.CLINICAL_PHOTOS):
        return {"shown": False}
    return {"shown": True, "patient": patient, "pairs": comparison(patient, record=record)}
