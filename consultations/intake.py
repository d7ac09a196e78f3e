"""The pre-visit questionnaire's answers as the consultation's structured fields (issue 13).

Pure functions, no database: what the patient typed becomes ticked boxes and allergen tags
where the words are unambiguous ("cold sores" ticks the cold-sores box, "None known" is
"no known allergies", "latex" tags latex), and the rest stays as text. The specialist then
confirms each imported answer on the consultation form; nothing here is trusted unseen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from consultations.models import Allergen, recorded_allergies

# Words in the patient's skin-conditions answer, by the health-history box they tick.
CONDITION_WORDS: dict[str, tuple[str, ...]] = {
    "cold_sores": ("cold sore", "coldsore", "herpes", "fever blister"),
    "rosacea": ("rosacea",),
    "eczema": ("eczema", "atopic dermatitis"),
    "keloid_scarring": ("keloid",),
    "immunosuppressed_or_diabetic": ("diabet", "immunosuppress", "immunocompromis"),
    "anticoagulant_or_bleeding_disorder": ("haemophilia", "hemophilia", "bleeding disorder", "von willebrand"),
}
# Words in the medications answer, by the box they tick.
MEDICATION_WORDS: dict[str, tuple[str, ...]] = {
    "isotretinoin_within_6_months": ("isotretinoin", "roaccutane", "accutane", "absorica"),
    "topical_retinoid": ("tretinoin", "adapalene", "differin", "tazarotene", "trifarotene", "retin-a"),
    "anticoagulant_or_bleeding_disorder": (
        "warfarin",
        "apixaban",
        "eliquis",
        "rivaroxaban",
        "xarelto",
        "dabigatran",
        "edoxaban",
        "heparin",
        "clopidogrel",
        "blood thinner",
    ),
    "pregnant_or_breastfeeding": ("prenatal", "pregnan"),
}
# Words in the allergies answer, by the allergen tag they set.
ALLERGEN_WORDS: dict[str, tuple[str, ...]] = {
    Allergen.BENZOYL_PEROXIDE: ("benzoyl",),
    Allergen.CHLORHEXIDINE: ("chlorhexidine",),
    Allergen.SALICYLIC_ACID: ("salicylic", "aspirin"),
    Allergen.TEA_TREE: ("tea tree",),
    Allergen.ALCOHOL: ("alcohol", "ethanol", "isopropyl"),
    Allergen.FRAGRANCE: ("fragrance", "perfume", "parfum"),
    Allergen.LANOLIN: ("lanolin",),
    Allergen.LATEX: ("latex",),
    Allergen.NICKEL: ("nickel",),
    Allergen.IODINE: ("iodine", "betadine", "povidone"),
}
# Parts of an answer: split at punctuation, not at "and" ("now and then" is one part).
_PARTS = re.compile(r"[,;/\n]+")
_NEGATED = re.compile(r"\b(no|not|never|none|without)\b", re.IGNORECASE)


def _mentions(text: str, words: tuple[str, ...]) -> bool:
    lowered = text.casefold()
    return any(word in lowered for word in words)


def _ticked_by(text: str, table: Mapping[str, tuple[str, ...]]) -> tuple[set[str], list[str]]:
    """The boxes ``text`` ticks, and its parts that ticked none (kept as text)."""
    ticked: set[str] = set()
    rest: list[str] = []
    for part in (p.strip(" .") for p in _PARTS.split(text or "")):
        if not part:
            continue
        # "no rosacea" is an answer, not a condition: a negated part ticks nothing and is kept.
        negated = _NEGATED.search(part)
        hits = set() if negated else {field for field, words in table.items() if _mentions(part, words)}
        ticked |= hits
        if not hits:
            rest.append(part)
    return ticked, rest


def structured_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    """The consultation fields the answers fill, by field name (only what the answers say)."""
    values: dict[str, Any] = {}
    for key, field in (("routine", "routine"), ("goals", "goals"), ("medications", "medications")):
        text = (answers.get(key) or "").strip()
        if text:
            values[field] = text
    if answers.get("weeks_on_routine") is not None:
        values["weeks_consistent_skincare"] = answers["weeks_on_routine"]
    for key, field in (
        ("isotretinoin", "isotretinoin_within_6_months"),
        ("topical_retinoid", "topical_retinoid"),
        ("pregnant_or_breastfeeding", "pregnant_or_breastfeeding"),
    ):
        if answers.get(key) is True:
            values[field] = True
    medication_boxes, _rest = _ticked_by(answers.get("medications") or "", MEDICATION_WORDS)
    for field in medication_boxes:
        values[field] = True
    conditions = (answers.get("skin_conditions") or "").strip()
    if conditions:
        condition_boxes, rest = _ticked_by(conditions, CONDITION_WORDS)
        for field in condition_boxes:
            values[field] = True
        # "None" and the like answer the question; they are not a condition to keep.
        if rest and recorded_allergies(", ".join(rest)):
            values["other_conditions"] = ", ".join(rest)
    allergies = (answers.get("allergies") or "").strip()
    if allergies and not recorded_allergies(allergies):
        values["no_known_allergies"] = True
    elif allergies:
        values["allergies"] = allergies
        tags, _unmatched = _ticked_by(allergies, ALLERGEN_WORDS)
        if tags:
            values["allergens"] = [tag for tag in Allergen.values if tag in tags]
    return values
