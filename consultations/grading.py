"""Acne severity from lesion counts: the Global Acne Grading System (GAGS), plus the IGA.

GAGS: Doshi A, Zaheer A, Stiller MJ. "A comparison of current acne grading systems and
proposal of a novel system." Int J Dermatol 1997;36(6):416-418.

- Six GAGS zones with published weights: forehead 2, right cheek 2, left cheek 2, nose 1,
  chin 1, chest and upper back 3.
- Each zone scores its most severe lesion present: none 0, comedone 1, papule 2,
  pustule 3, nodule 4. The zone's grade is ``weight x score``; the total is their sum (0-44).
- Total -> band: 0 none (clear), 1-18 mild, 19-30 moderate, 31-38 severe, 39+ very severe.

How the product's zones map onto GAGS:

- forehead, nose, left cheek, right cheek, chin: the GAGS zone of the same name.
- jawline: GAGS has no jawline zone; Doshi's lower-face zone is the chin. The jawline's
  lesions are folded into the chin zone (its score is the most severe lesion over chin and
  jawline together). Because a zone scores its most severe lesion once, folding can never
  count a lesion twice, and the total stays within GAGS's published range of 0-44.
  (Folding it into both cheeks would have doubled a single jawline lesion.) The per-zone
  counts themselves are kept, so the jawline is still visible to the specialist.
- chest and back (optional in the product, usually left empty): together they are GAGS's
  "chest and upper back" zone, weight 3. Not examined means counts of 0, which scores 0.
- open and closed comedones both score as comedones (1); cysts score as nodules (4),
  as GAGS groups nodulocystic lesions.

IGA: the investigator's global assessment, 0-4 (clear, almost clear, mild, moderate,
severe), as in the FDA's 2018 guidance for acne trials. The specialist records it; it is not
computed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Zone(models.TextChoices):
    FOREHEAD = "forehead", _("Forehead")
    NOSE = "nose", _("Nose")
    LEFT_CHEEK = "left_cheek", _("Left cheek")
    RIGHT_CHEEK = "right_cheek", _("Right cheek")
    CHIN = "chin", _("Chin")
    JAWLINE = "jawline", _("Jawline")
    CHEST = "chest", _("Chest")
    BACK = "back", _("Back")


FACE_ZONES: tuple[Zone, ...] = (
    Zone.FOREHEAD,
    Zone.NOSE,
    Zone.LEFT_CHEEK,
    Zone.RIGHT_CHEEK,
    Zone.CHIN,
    Zone.JAWLINE,
)
OPTIONAL_ZONES: tuple[Zone, ...] = (Zone.CHEST, Zone.BACK)


class Lesion(models.TextChoices):
    OPEN_COMEDONES = "open_comedones", _("Open comedones (blackheads)")
    CLOSED_COMEDONES = "closed_comedones", _("Closed comedones (whiteheads)")
    PAPULES = "papules", _("Papules")
    PUSTULES = "pustules", _("Pustules")
    NODULES = "nodules", _("Nodules")
    CYSTS = "cysts", _("Cysts")


# Column headings where a table is narrow (the full label is the heading's tooltip).
LESION_SHORT_LABELS: dict[Lesion, Promise] = {
    Lesion.OPEN_COMEDONES: _("Blackheads"),
    Lesion.CLOSED_COMEDONES: _("Whiteheads"),
    Lesion.PAPULES: _("Papules"),
    Lesion.PUSTULES: _("Pustules"),
    Lesion.NODULES: _("Nodules"),
    Lesion.CYSTS: _("Cysts"),
}

# A count above this in one zone is a typing error, not a finding.
LESION_MAX_PER_ZONE: dict[Lesion, int] = {
    Lesion.OPEN_COMEDONES: 300,
    Lesion.CLOSED_COMEDONES: 300,
    Lesion.PAPULES: 100,
    Lesion.PUSTULES: 100,
    Lesion.NODULES: 30,
    Lesion.CYSTS: 30,
}

# GAGS lesion scores (Doshi 1997).
LESION_SCORE: dict[Lesion, int] = {
    Lesion.OPEN_COMEDONES: 1,
    Lesion.CLOSED_COMEDONES: 1,
    Lesion.PAPULES: 2,
    Lesion.PUSTULES: 3,
    Lesion.NODULES: 4,
    Lesion.CYSTS: 4,
}


@dataclass(frozen=True)
class GagsZone:
    key: str
    label: Promise
    weight: int
    zones: tuple[Zone, ...]


GAGS_ZONES: tuple[GagsZone, ...] = (
    GagsZone("forehead", _("Forehead"), 2, (Zone.FOREHEAD,)),
    GagsZone("right_cheek", _("Right cheek"), 2, (Zone.RIGHT_CHEEK,)),
    GagsZone("left_cheek", _("Left cheek"), 2, (Zone.LEFT_CHEEK,)),
    GagsZone("nose", _("Nose"), 1, (Zone.NOSE,)),
    GagsZone("chin", _("Chin and jawline"), 1, (Zone.CHIN, Zone.JAWLINE)),
    GagsZone("chest_back", _("Chest and upper back"), 3, (Zone.CHEST, Zone.BACK)),
)
GAGS_MAX = sum(zone.weight * max(LESION_SCORE.values()) for zone in GAGS_ZONES)  # 44


class Band(models.TextChoices):
    NONE = "none", _("Clear")
    MILD = "mild", _("Mild")
    MODERATE = "moderate", _("Moderate")
    SEVERE = "severe", _("Severe")
    VERY_SEVERE = "very_severe", _("Very severe")


def gags_band(total: int) -> Band:
    if total <= 0:
        return Band.NONE
    if total <= 18:
        return Band.MILD
    if total <= 30:
        return Band.MODERATE
    if total <= 38:
        return Band.SEVERE
    return Band.VERY_SEVERE


class Iga(models.IntegerChoices):
    CLEAR = 0, _("0 · Clear")
    ALMOST_CLEAR = 1, _("1 · Almost clear")
    MILD = 2, _("2 · Mild")
    MODERATE = 3, _("3 · Moderate")
    SEVERE = 4, _("4 · Severe")


# Counts: {zone: {lesion: count}}; missing zones or lesions count as 0.
Counts = Mapping[str, Mapping[str, int]]


@dataclass(frozen=True)
class GagsZoneGrade:
    zone: GagsZone
    score: int  # the most severe lesion's score, 0-4

    @property
    def grade(self) -> int:
        return self.zone.weight * self.score


@dataclass(frozen=True)
class GagsResult:
    zones: tuple[GagsZoneGrade, ...]

    @property
    def total(self) -> int:
        return sum(zone.grade for zone in self.zones)

    @property
    def band(self) -> Band:
        return gags_band(self.total)


def gags(counts: Counts) -> GagsResult:
    """The GAGS grade of ``counts``: per GAGS zone, weight x its most severe lesion's score."""
    grades = []
    for gags_zone in GAGS_ZONES:
        score = 0
        for zone in gags_zone.zones:
            for lesion, count in counts.get(zone.value, {}).items():
                if count > 0:
                    score = max(score, LESION_SCORE[Lesion(lesion)])
        grades.append(GagsZoneGrade(gags_zone, score))
    return GagsResult(tuple(grades))


def lesion_totals(counts: Counts) -> dict[str, int]:
    """Whole-body totals per lesion type (what the rules' Findings take)."""
    totals = dict.fromkeys(Lesion.values, 0)
    for per_lesion in counts.values():
        for lesion, count in per_lesion.items():
            totals[Lesion(lesion).value] += count
    return totals
