"""The treatment consent texts, by version. A plan's consent records which version was read.

Never edit a published text: add a new version and point CURRENT_CONSENT_VERSION at it.
"""

from __future__ import annotations

import unicodedata

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

CONSENT_TEXTS: dict[str, Promise] = {
    "2026-1": _(
        "I understand that extraction clears blocked pores by hand or with an instrument, that my skin "
        "may be red and sensitive for a day or two afterwards, and that rarely it can bruise, mark or "
        "become infected. Extractions are not a cure: the results depend on the home-care regimen in "
        "this plan. I will tell the clinic before each session about any new medication (such as "
        "isotretinoin or a topical retinoid), pregnancy or skin problem. I may stop the programme at "
        "any time. I consent to the extraction treatment programme described in this plan."
    ),
    # Names each risk a patient must weigh (issue 10): redness and sensitivity, pigment marks,
    # scarring, broken capillaries, infection, the lancet where planned, recurrence, no guarantee.
    "2026-2": _(
        "I understand that extraction clears blocked pores by hand or with an instrument. Its risks are: "
        "redness and sensitivity for a day or two; pigment marks (darker or lighter patches), more likely in "
        "darker skin, which can last for months; scarring; broken capillaries (small red veins); and "
        "infection. Where this plan allows it, a sterile lancet may be used to open a pore, which leaves a "
        "tiny wound. Blocked pores can come back, and extractions are not a cure: the results depend on the "
        "home-care regimen in this plan, and no result is guaranteed. I will tell the clinic before each "
        "session about any new medication, pregnancy or skin problem. I may stop the programme at any time. "
        "I consent to the extraction treatment programme described in this plan."
    ),
}
CURRENT_CONSENT_VERSION = "2026-2"


def consent_text(version: str = CURRENT_CONSENT_VERSION) -> Promise:
    return CONSENT_TEXTS[version]


# Typographic variants a keyboard or phone may produce for the same name.
_NAME_PUNCTUATION = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "‐": "-", "‑": "-", "–": "-", "—": "-"})


def normalised_name(name: str) -> str:
    """A name compared as a person reads it: accents, case and spacing ignored.

    Unicode NFKD splits "é" into "e" and a combining accent, which is dropped; ``casefold``
    folds case beyond ASCII ("ß" → "ss"); runs of whitespace become one space.
    """
    decomposed = unicodedata.normalize("NFKD", name.translate(_NAME_PUNCTUATION))
    unaccented = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(unaccented.casefold().split())


def consent_name_matches(typed: str, *, first_name: str, last_name: str) -> bool:
    """Whether the name typed to consent is the patient's full name ("Zoe W." is not Zoe Walker)."""
    typed_name = normalised_name(typed)
    return bool(typed_name) and typed_name == normalised_name(f"{first_name} {last_name}")
