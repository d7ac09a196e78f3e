"""The span of days the clinic accepts in any form.

Python's calendar ends at the years 1 and 9999. A day at either end breaks the arithmetic
around it (the next day, the week it falls in, a local time converted to UTC), and a
timestamp there may not come back out of PostgreSQL. No appointment, time off, review or
lot expiry lies outside these bounds.
"""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)


def day_in_range(day: date) -> bool:
    return EARLIEST_DAY <= day <= LATEST_DAY


def validate_day_in_range(value: date | datetime) -> None:
    """A form-field validator for a date or a date and time."""
    day = value.date() if isinstance(value, datetime) else value
    if not day_in_range(day):
        raise ValidationError(
            _("Choose a day between %(first)s and %(last)s."),
            code="out_of_range",
            params={"first": EARLIEST_DAY.isoformat(), "last": LATEST_DAY.isoformat()},
        )
