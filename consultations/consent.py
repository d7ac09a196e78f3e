"""The treatment consent texts, by version. A plan's consent records which version was read.

Never edit a published text: add a new version and point CURRENT_CONSENT_VERSION at it.
"""

from __future__ import annotations

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
