"""Phone numbers: stored in E.164 (+442079460100), shown in the clinic region's national form.

The clinic's region is the setting ``CLINIC_PHONE_REGION`` (ISO 3166 code, "GB" by default,
as the demo's numbers are British). A number from another country is shown in its
international form, so it can still be dialled from here.
"""

from __future__ import annotations

import phonenumbers
from django.conf import settings


def _parsed(value: str, region: str | None = None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(value, region or settings.CLINIC_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None


def to_e164(value: str, region: str | None = None) -> str | None:
    """The number in E.164, or None when it is not a possible phone number."""
    parsed = _parsed(value, region)
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def display(value: str | None) -> str:
    """Show "+442079460100" as "020 7946 0100" in the clinic's region; text that is no number stays."""
    if not value:
        return ""
    parsed = _parsed(value)
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        return value
    # By country code, not region_code_for_number: that needs a number in an allocated range,
    # and the drama ranges the demo uses (07700 900xxx) are deliberately unallocated.
    home = phonenumbers.country_code_for_region(settings.CLINIC_PHONE_REGION)
    form = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if parsed.country_code == home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, form)


def dial_uri(value: str | None) -> str:
    """The ``tel:`` URI (RFC 3966) for a link, or "" when the value is no number."""
    if not value:
        return ""
    parsed = _parsed(value)
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.RFC3966)
