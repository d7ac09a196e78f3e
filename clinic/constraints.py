"""Length limits on free text, held by the database as well as by the forms.

A form's ``max_length`` stops a person; the CHECK stops every other writer (a service, a
command, an import) from storing a 100,000-character note that every page would then render.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext_lazy as _

# The limits, by what the text is. A note is a few paragraphs; a reason is a sentence or two.
REASON = 500
NOTE = 2000
LONG_NOTE = 5000


def text_fits(model: str, field: str, limit: int) -> models.CheckConstraint:
    """A CHECK that ``field`` holds at most ``limit`` characters, named after ``model``."""
    return models.CheckConstraint(
        condition=LessThanOrEqual(Length(field), limit),
        name=f"{model}_{field}_max_length",
        violation_error_message=_("Keep this to %(limit)d characters.") % {"limit": limit},
    )
