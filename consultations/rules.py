"""The extraction decision: every indication, contraindication and caution as data plus a pure check.

Public API (stable; used by the consultation form and by anyone integrating)::

    from consultations.rules import Findings, assess, decide, inconsistencies, override_allowed
    result = assess(Findings(barrier="intact", sensitivity="normal", active_infection=False,
                             open_comedones=0, closed_comedones=0, papules=0, pustules=0,
                             nodules=0, cysts=0, congestion="none",
                             weeks_consistent_skincare=None, whiteheads_often_inflame=False,
                             isotretinoin_within_6_months=False))
    result.outcome         # "recommended" | "defer" | "not_recommended"
    result.reasons         # tuple of rule ids, never empty
    result.cautions        # tuple of caution ids (they never change the outcome)
    result.lancet_allowed  # False when a caution rules the lancet out
    result.hard_stops      # rule ids that no override may turn into "recommended"

The health-history fields (``fitzpatrick``, ``iga``, ``pregnant_or_breastfeeding``,
``active_cold_sore``, ``keloid_history``, ``anticoagulant_or_bleeding_disorder``,
``immunosuppressed_or_diabetic``, ``rosacea_or_eczema_flare``, ``open_wound_or_sunburn``,
``days_since_resurfacing``, ``topical_retinoid``, ``stalled_treatment``) are keyword fields
with benign defaults, so the 13-field call above still works.

Importable after ``django.setup()`` without touching the database (explanations are
lazy translations; nothing here queries).

Sources: ``docs/product.md`` ("Clinical knowledge the app encodes": the clinic's treatment
description and a dermatology guide on professional whitehead extraction) and the
published scales and guidelines that ``consultations/RULES.md`` names for each threshold.
Lesion counts are whole-face totals (all zones added together).

Thresholds (each one's source and why are in ``consultations/RULES.md``):

- ``CONSISTENT_SKINCARE_WEEKS = 8``: the product's "8-10 weeks", lower bound.
- ``MIN_COMEDONES_FOR_INDICATION = 5``: the clinic's floor; one whitehead or blackhead (or
  a couple) is never an indication.
- ``MILD_CLOSED_COMEDONES_MAX = 19`` and ``WIDESPREAD_CONGESTION_MIN_COMEDONES = 20``:
  Lehmann et al. 2002, mild acne is fewer than 20 comedones.
- ``INFLAMMATORY_ACNE_MIN = 2``: FDA 2005 IGA, "almost clear" allows one small inflammatory
  lesion; two or more, at least as many as the comedones, is inflammatory acne.
- ``MODERATE_INFLAMMATORY_LESIONS_MIN = 15``: Lehmann et al. 2002, 15 or more inflammatory
  lesions is moderate acne, inflammatory whatever the comedones.
- ``SEVERE_INFLAMMATORY_LESIONS_OVER = 50`` and ``SEVERE_IGA = 4``: Lehmann et al. 2002 (severe:
  more than 50 inflammatory lesions) and the FDA IGA (4 = severe).
- ``RESURFACING_WAIT_DAYS = 14``: the clinic's choice.
- ``FITZPATRICK_PIH_RISK_MIN = 4``: Davis & Callender 2010 (PIH in skin of colour).
- ``RETINOID_PAUSE_DAYS = 5``: the clinic's choice.

Rule ids, kinds and outcomes (the decision records the ids):

=====================================  ================  ===============  ==========================================
id                                     kind              outcome          applies when
=====================================  ================  ===============  ==========================================
IND_PERSISTENT_WHITEHEADS              indication        recommended      closed >= 5 and weeks >= 8
IND_WIDESPREAD_CONGESTION              indication        recommended      congestion "widespread" and open + closed
                                                                          >= 20 (counted, not just ticked)
IND_WHITEHEADS_OFTEN_INFLAME           indication        recommended      whiteheads_often_inflame and closed >= 5
IND_CLOGGED_PORES_HINDER_PROGRESS      indication        recommended      stalled_treatment named and open + closed
                                                                          >= 5
CI_BARRIER_COMPROMISED                 contraindication  defer            barrier "irritated" or "inflamed"
CI_ACTIVE_INFECTION                    contraindication  defer (hard)     active_infection
CI_EXTREME_SENSITIVITY                 contraindication  defer            sensitivity "extreme"
CI_RECENT_ISOTRETINOIN                 contraindication  defer            isotretinoin_within_6_months
CI_ACTIVE_COLD_SORE                    contraindication  defer (hard)     active_cold_sore
CI_ROSACEA_OR_ECZEMA_FLARE             contraindication  defer            rosacea_or_eczema_flare (on the area)
CI_OPEN_WOUND_OR_SUNBURN               contraindication  defer            open_wound_or_sunburn (on the area)
CI_RECENT_RESURFACING                  contraindication  defer            days_since_resurfacing < 14
CI_CYSTIC_ACNE                         contraindication  not_rec (hard)   nodules + cysts >= 1 (refer)
CI_SEVERE_INFLAMMATORY_ACNE            contraindication  not_rec (hard)   iga == 4 or papules + pustules > 50 (refer)
CI_INFLAMMATORY_ACNE                   contraindication  not_rec          papules + pustules >= 15, or >= 2 and
                                                                          >= open + closed; no comedonal
                                                                          indication; not severe (refer)
CI_MILD_WHITEHEADS                     contraindication  not_rec          1 <= closed <= 19, weeks unknown or < 8,
                                                                          no stalled treatment, no indication
                                                                          (topical care first)
NO_INDICATION                          none              not_rec          nothing above applies
=====================================  ================  ===============  ==========================================

Cautions never change the outcome; they travel into the plan, the session and the aftercare:

=======================  =====================================  =========
id                       applies when                           lancet
=======================  =====================================  =========
CA_PIGMENTATION_RISK     fitzpatrick >= 4 (IV-VI)               no
CA_KELOID_HISTORY        keloid_history                         no
CA_BLEEDING_RISK         anticoagulant_or_bleeding_disorder     no
CA_INFECTION_RISK        immunosuppressed_or_diabetic           yes
CA_PREGNANCY             pregnant_or_breastfeeding              yes
CA_TOPICAL_RETINOID      topical_retinoid                       yes
=======================  =====================================  =========

How the outcome is reached:

1. Any contraindication wins over every indication. All contraindications that apply are
   reported, in the order of ``RULES``. "not_recommended" contraindications outrank "defer"
   ones, but the meanwhile advice of every deferring rule is still carried.
2. Otherwise, if indications apply, the outcome is "recommended" and they are the reasons.
3. Otherwise the outcome is "not_recommended" with the single reason ``NO_INDICATION``.

Every caution that applies is reported whatever the outcome.

A "defer" result carries what to do meanwhile and ``recheck_after_days`` (the longest of
its rules' intervals); ``recheck_date(on)`` turns it into a date.

The specialist may override the outcome with :func:`decide`, which insists on a written
reason and refuses to turn a hard stop into "recommended" (:func:`override_allowed`,
:func:`override_refusal`). :func:`inconsistencies` names findings that contradict each other,
for the form to refuse. Bump ``RULESET_VERSION`` whenever a rule or threshold changes.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, cast

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

RULESET_VERSION = "2026.2"

CONSISTENT_SKINCARE_WEEKS = 8
MIN_COMEDONES_FOR_INDICATION = 5
MILD_CLOSED_COMEDONES_MAX = 19
WIDESPREAD_CONGESTION_MIN_COMEDONES = 20
INFLAMMATORY_ACNE_MIN = 2
MODERATE_INFLAMMATORY_LESIONS_MIN = 15
SEVERE_INFLAMMATORY_LESIONS_OVER = 50
SEVERE_IGA = 4
RESURFACING_WAIT_DAYS = 14
FITZPATRICK_PIH_RISK_MIN = 4
RETINOID_PAUSE_DAYS = 5

Barrier = Literal["intact", "irritated", "inflamed"]
Sensitivity = Literal["normal", "sensitive", "extreme"]
Congestion = Literal["none", "localized", "widespread"]
OutcomeValue = Literal["recommended", "defer", "not_recommended"]

BARRIER_VALUES: tuple[str, ...] = ("intact", "irritated", "inflamed")
SENSITIVITY_VALUES: tuple[str, ...] = ("normal", "sensitive", "extreme")
CONGESTION_VALUES: tuple[str, ...] = ("none", "localized", "widespread")

_SOURCE = "PRODUCT.md, Clinical knowledge: "
_LEHMANN = (
    "Lehmann HP, Robinson KA, Andrews JS, Holloway V, Goodman SN. Acne therapy: a methodologic "
    "review. J Am Acad Dermatol 2002;47:231-240 (combined acne severity classification)"
)
_FDA_IGA = "US FDA draft guidance 'Acne Vulgaris: Developing Drugs for Treatment' (2005), IGA 0-4"
_AAD = "Zaenglein AL et al. Guidelines of care for the management of acne vulgaris. J Am Acad Dermatol 2016;74:945-973"


class Outcome(enum.StrEnum):
    RECOMMENDED = "recommended"
    DEFER = "defer"
    NOT_RECOMMENDED = "not_recommended"

    @property
    def label(self) -> Promise:
        return OUTCOME_LABELS[self]


OUTCOME_LABELS: dict[Outcome, Promise] = {
    Outcome.RECOMMENDED: _("Extraction recommended"),
    Outcome.DEFER: _("Defer: calm and repair first"),
    Outcome.NOT_RECOMMENDED: _("Extraction not recommended"),
}

# "not_recommended" outranks "defer", which outranks "recommended".
_OUTCOME_RANK = {Outcome.RECOMMENDED: 0, Outcome.DEFER: 1, Outcome.NOT_RECOMMENDED: 2}


class Kind(enum.StrEnum):
    INDICATION = "indication"
    CONTRAINDICATION = "contraindication"
    NONE = "none"


def _whole_number(value: object, *, low: int = 0, high: int | None = None) -> bool:
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return value >= low and (high is None or value <= high)


@dataclass(frozen=True, kw_only=True)
class Findings:
    """What the skin analysis and history found. Counts are whole-face totals."""

    barrier: Barrier
    sensitivity: Sensitivity
    active_infection: bool
    open_comedones: int
    closed_comedones: int
    papules: int
    pustules: int
    nodules: int
    cysts: int
    congestion: Congestion
    weeks_consistent_skincare: int | None
    whiteheads_often_inflame: bool
    isotretinoin_within_6_months: bool
    # The whole health history. Defaults are the benign answer, so older calls keep working.
    fitzpatrick: int | None = None  # phototype I-VI as 1-6
    iga: int | None = None  # investigator's global assessment 0-4
    pregnant_or_breastfeeding: bool = False
    active_cold_sore: bool = False
    keloid_history: bool = False
    anticoagulant_or_bleeding_disorder: bool = False
    immunosuppressed_or_diabetic: bool = False
    rosacea_or_eczema_flare: bool = False  # a flare on the area to be treated
    open_wound_or_sunburn: bool = False  # on the area to be treated
    days_since_resurfacing: int | None = None  # peel, laser, microneedling or waxing on the area
    topical_retinoid: bool = False
    # The treatment in progress that has stalled (e.g. "adapalene 0.1% nightly for 12 weeks,
    # no change since week 6"); blank when none. Naming it is what makes indication 4 apply.
    stalled_treatment: str = ""

    def __post_init__(self) -> None:
        for name, allowed in (
            ("barrier", BARRIER_VALUES),
            ("sensitivity", SENSITIVITY_VALUES),
            ("congestion", CONGESTION_VALUES),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, not {getattr(self, name)!r}")
        for name in ("open_comedones", "closed_comedones", "papules", "pustules", "nodules", "cysts"):
            value = getattr(self, name)
            if not _whole_number(value):
                raise ValueError(f"{name} must be a whole number >= 0, not {value!r}")
        for name, low, high in (
            ("weeks_consistent_skincare", 0, None),
            ("days_since_resurfacing", 0, None),
            ("fitzpatrick", 1, 6),
            ("iga", 0, 4),
        ):
            value = getattr(self, name)
            if value is not None and not _whole_number(value, low=low, high=high):
                bounds = f">= {low}" if high is None else f"from {low} to {high}"
                raise ValueError(f"{name} must be None or a whole number {bounds}, not {value!r}")
        if not isinstance(self.stalled_treatment, str):
            raise ValueError(f"stalled_treatment must be text, not {self.stalled_treatment!r}")

    @property
    def skincare_trial_complete(self) -> bool:
        weeks = self.weeks_consistent_skincare
        return weeks is not None and weeks >= CONSISTENT_SKINCARE_WEEKS

    @property
    def comedones(self) -> int:
        return self.open_comedones + self.closed_comedones

    @property
    def inflammatory_lesions(self) -> int:
        """Papules and pustules: the inflammatory lesions that lesion-count scales add up."""
        return self.papules + self.pustules

    @property
    def nodular_lesions(self) -> int:
        return self.nodules + self.cysts

    @property
    def lesions(self) -> int:
        return self.comedones + self.inflammatory_lesions + self.nodular_lesions

    @property
    def has_stalled_treatment(self) -> bool:
        return bool(self.stalled_treatment.strip())


@dataclass(frozen=True, kw_only=True)
class Rule:
    id: str
    kind: Kind
    # What the rule does to the outcome when it applies.
    outcome: Outcome
    source: str
    explanation: Promise
    check: Callable[[Findings], bool]
    # Contraindications: what to do meanwhile, and (deferring ones) when to look again.
    meanwhile: Promise | None = None
    recheck_after_days: int | None = None
    # A hard stop: no override, whatever its reason, turns it into "recommended".
    hard_stop: bool = False


@dataclass(frozen=True, kw_only=True)
class Caution:
    """A fact that leaves the outcome as it is but changes how the clinic treats the patient."""

    id: str
    source: str
    explanation: Promise
    # What the plan, the session and the aftercare do about it.
    advice: Promise
    check: Callable[[Findings], bool]
    forbids_lancet: bool = False
    # The aftercare leaves out ibuprofen (NSAID) advice / "bring your retinoid back" advice.
    avoid_nsaids: bool = False
    avoid_retinoids: bool = False


# --- Indications -------------------------------------------------------------------------


def _persistent_whiteheads(f: Findings) -> bool:
    return f.closed_comedones >= MIN_COMEDONES_FOR_INDICATION and f.skincare_trial_complete


def _widespread_congestion(f: Findings) -> bool:
    # "Widespread" is a judgement; the counts must back it (see inconsistencies()).
    return f.congestion == "widespread" and f.comedones >= WIDESPREAD_CONGESTION_MIN_COMEDONES


def _whiteheads_often_inflame(f: Findings) -> bool:
    return f.whiteheads_often_inflame and f.closed_comedones >= MIN_COMEDONES_FOR_INDICATION


def _clogged_pores_hinder_progress(f: Findings) -> bool:
    return f.has_stalled_treatment and f.comedones >= MIN_COMEDONES_FOR_INDICATION


_COMEDONAL_INDICATIONS: tuple[Callable[[Findings], bool], ...] = (
    _persistent_whiteheads,
    _widespread_congestion,
    _whiteheads_often_inflame,
    _clogged_pores_hinder_progress,
)


def _any_indication(f: Findings) -> bool:
    return any(check(f) for check in _COMEDONAL_INDICATIONS)


# --- Contraindications -------------------------------------------------------------------


def _barrier_compromised(f: Findings) -> bool:
    return f.barrier in ("irritated", "inflamed")


def _active_infection(f: Findings) -> bool:
    return f.active_infection


def _extreme_sensitivity(f: Findings) -> bool:
    return f.sensitivity == "extreme"


def _recent_isotretinoin(f: Findings) -> bool:
    return f.isotretinoin_within_6_months


def _active_cold_sore(f: Findings) -> bool:
    return f.active_cold_sore


def _rosacea_or_eczema_flare(f: Findings) -> bool:
    return f.rosacea_or_eczema_flare


def _open_wound_or_sunburn(f: Findings) -> bool:
    return f.open_wound_or_sunburn


def _recent_resurfacing(f: Findings) -> bool:
    return f.days_since_resurfacing is not None and f.days_since_resurfacing < RESURFACING_WAIT_DAYS


def _cystic_acne(f: Findings) -> bool:
    return f.nodular_lesions >= 1


def _severe_inflammatory_acne(f: Findings) -> bool:
    return f.iga == SEVERE_IGA or f.inflammatory_lesions > SEVERE_INFLAMMATORY_LESIONS_OVER


def _inflammatory_acne(f: Findings) -> bool:
    # Acne is "inflammatory" when papules and pustules predominate, or reach a moderate count
    # whatever the comedones. A couple of papules beside many comedones is comedonal acne that
    # has not yet earned an indication (NO_INDICATION or CI_MILD_WHITEHEADS says so). Severe
    # inflammatory acne has its own, hard-stop reason.
    inflammatory = f.inflammatory_lesions
    predominant = inflammatory >= INFLAMMATORY_ACNE_MIN and inflammatory >= f.comedones
    return (
        (predominant or inflammatory >= MODERATE_INFLAMMATORY_LESIONS_MIN)
        and not _any_indication(f)
        and not _severe_inflammatory_acne(f)
    )


def _mild_whiteheads(f: Findings) -> bool:
    # "Likely to respond to topical care" only while topical care has not had its fair trial
    # and nothing (congestion, a tendency to inflame, a stalled treatment) says otherwise.
    return (
        1 <= f.closed_comedones <= MILD_CLOSED_COMEDONES_MAX
        and not f.skincare_trial_complete
        and not f.has_stalled_treatment
        and not _any_indication(f)
    )


_REFER = _("Refer the patient to their doctor or a dermatologist for medical treatment.")

RULES: tuple[Rule, ...] = (
    Rule(
        id="IND_PERSISTENT_WHITEHEADS",
        kind=Kind.INDICATION,
        outcome=Outcome.RECOMMENDED,
        source=_SOURCE + "indication 1 (whiteheads persisting despite consistent skincare for 8-10 weeks); "
        "minimum of 5 closed comedones: the clinic's choice",
        explanation=_(
            "At least 5 whiteheads persist after at least 8 weeks of a consistent skin-care routine: "
            "extraction can clear what topical care has not."
        ),
        check=_persistent_whiteheads,
    ),
    Rule(
        id="IND_WIDESPREAD_CONGESTION",
        kind=Kind.INDICATION,
        outcome=Outcome.RECOMMENDED,
        source=_SOURCE + "indication 2 (widespread congestion causing uneven texture); at least 20 comedones "
        "counted: " + _LEHMANN + " (20 or more comedones is beyond mild)",
        explanation=_(
            "Widespread congestion (at least 20 comedones counted) is making the skin's texture uneven: "
            "extraction can clear it."
        ),
        check=_widespread_congestion,
    ),
    Rule(
        id="IND_WHITEHEADS_OFTEN_INFLAME",
        kind=Kind.INDICATION,
        outcome=Outcome.RECOMMENDED,
        source=_SOURCE + "indication 3 (whiteheads frequently turning into inflamed acne); minimum of 5 closed "
        "comedones: the clinic's choice",
        explanation=_(
            "The patient's whiteheads (at least 5 today) often turn into inflamed spots: clearing them early "
            "can prevent that."
        ),
        check=_whiteheads_often_inflame,
    ),
    Rule(
        id="IND_CLOGGED_PORES_HINDER_PROGRESS",
        kind=Kind.INDICATION,
        outcome=Outcome.RECOMMENDED,
        source=_SOURCE + "indication 4 (clogged pores interfering with treatment progress); needs a named "
        "treatment in progress that has stalled; minimum of 5 comedones: the clinic's choice",
        explanation=_(
            "A treatment in progress has stalled and at least 5 clogged pores remain: extraction can unblock "
            "them so the treatment can work."
        ),
        check=_clogged_pores_hinder_progress,
    ),
    Rule(
        id="CI_BARRIER_COMPROMISED",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.DEFER,
        source=_SOURCE + "contraindication 1 (skin barrier already irritated or inflamed)",
        explanation=_("The skin barrier is irritated or inflamed: extraction would damage it further."),
        meanwhile=_(
            "Calm and repair the barrier: a gentle cleanser, a barrier-repair moisturiser and sun "
            "protection; pause exfoliating acids, scrubs and retinoids."
        ),
        recheck_after_days=28,
        check=_barrier_compromised,
    ),
    Rule(
        id="CI_ACTIVE_INFECTION",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.DEFER,
        source=_SOURCE + "contraindication 2 (active infection); a hard stop (PRODUCT.md)",
        explanation=_("There is an active skin infection: extraction could spread it."),
        meanwhile=_(
            "Have the infection treated (by the patient's doctor if it needs a prescription); "
            "keep the area clean and do not pick."
        ),
        recheck_after_days=14,
        check=_active_infection,
        hard_stop=True,
    ),
    Rule(
        id="CI_EXTREME_SENSITIVITY",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.DEFER,
        source=_SOURCE + "contraindication 4 (extremely sensitive or compromised skin)",
        explanation=_("The skin is extremely sensitive or compromised: it cannot tolerate extraction now."),
        meanwhile=_(
            "A minimal, fragrance-free routine focused on barrier support and sun protection until "
            "the skin tolerates it comfortably."
        ),
        recheck_after_days=42,
        check=_extreme_sensitivity,
    ),
    Rule(
        id="CI_RECENT_ISOTRETINOIN",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.DEFER,
        source=_SOURCE + "contraindication 4 (compromised skin); isotretinoin is screened for at every session",
        explanation=_(
            "Isotretinoin within the last 6 months leaves the skin fragile and slow to heal: "
            "extraction risks tearing and scarring."
        ),
        meanwhile=_(
            "Continue the prescriber's plan with gentle, hydrating care and sun protection; re-assess "
            "once 6 months have passed since the last dose."
        ),
        recheck_after_days=90,
        check=_recent_isotretinoin,
    ),
    Rule(
        id="CI_ACTIVE_COLD_SORE",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.DEFER,
        source=_SOURCE + "the whole health history (an active cold sore defers; a hard stop). Manipulating the "
        "skin spreads herpes simplex virus (HSV-1) to the treated area",
        explanation=_(
            "There is an active cold sore: extraction would spread the herpes simplex virus to the treated skin."
        ),
        meanwhile=_(
            "Let the cold sore heal completely (a pharmacist or doctor can advise on an antiviral) and do not "
            "touch it. If cold sores come often, ask the doctor about antiviral cover before sessions."
        ),
        recheck_after_days=14,
        check=_active_cold_sore,
        hard_stop=True,
    ),
    Rule(
        id="CI_ROSACEA_OR_ECZEMA_FLARE",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.DEFER,
        source=_SOURCE + "the whole health history (a rosacea or eczema flare defers); contraindication 1 "
        "(a barrier already inflamed)",
        explanation=_(
            "Rosacea or eczema is flaring on the area: extraction would inflame it further and prolong the flare."
        ),
        meanwhile=_(
            "Calm the flare first (with the patient's doctor if it needs prescription treatment): gentle, "
            "fragrance-free care, no scrubs, acids or retinoids, sun protection."
        ),
        recheck_after_days=28,
        check=_rosacea_or_eczema_flare,
    ),
    Rule(
        id="CI_OPEN_WOUND_OR_SUNBURN",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.DEFER,
        source=_SOURCE + "the whole health history (an open wound or sunburn defers); contraindication 4 "
        "(compromised skin)",
        explanation=_(
            "There is an open wound or sunburn on the area: extraction would injure the skin further and risk "
            "infection."
        ),
        meanwhile=_("Let the skin heal: keep it clean and moisturised, avoid the sun, and do not pick."),
        recheck_after_days=14,
        check=_open_wound_or_sunburn,
    ),
    Rule(
        id="CI_RECENT_RESURFACING",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.DEFER,
        source=_SOURCE + "the whole health history (recent resurfacing defers); 14 days: the clinic's choice",
        explanation=_(
            "The area was resurfaced (a peel, laser, microneedling or waxing) within the last 14 days: the "
            "skin is still healing and would tear or react."
        ),
        meanwhile=_(
            "Follow the resurfacing aftercare: gentle cleansing, barrier-repair moisturiser, strict sun "
            "protection; no other actives or procedures on the area."
        ),
        recheck_after_days=RESURFACING_WAIT_DAYS,
        check=_recent_resurfacing,
    ),
    Rule(
        id="CI_CYSTIC_ACNE",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.NOT_RECOMMENDED,
        source=_SOURCE + "contraindication 2 (cystic acne: nodules or cysts present); a hard stop; " + _AAD,
        explanation=_(
            "Nodules or cysts are present (cystic acne): extraction can drive the inflammation deeper "
            "and scar. Refer the patient to a doctor or dermatologist."
        ),
        meanwhile=_REFER,
        check=_cystic_acne,
        hard_stop=True,
    ),
    Rule(
        id="CI_SEVERE_INFLAMMATORY_ACNE",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.NOT_RECOMMENDED,
        source=_SOURCE
        + "the whole health history (severe inflammatory acne is referred; a hard stop); "
        + _LEHMANN
        + " (severe: more than 50 inflammatory lesions); "
        + _FDA_IGA
        + " (4 = severe); "
        + _AAD,
        explanation=_(
            "The acne is severe and inflammatory (IGA 4, or more than 50 papules and pustules): it needs "
            "medical treatment, and extraction would spread the inflammation and scar."
        ),
        meanwhile=_REFER,
        check=_severe_inflammatory_acne,
        hard_stop=True,
    ),
    Rule(
        id="CI_INFLAMMATORY_ACNE",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.NOT_RECOMMENDED,
        source=_SOURCE
        + "extraction clears clogged pores, not inflamed lesions; "
        + _FDA_IGA
        + " (IGA 1 allows no more than one small inflammatory lesion); "
        + _LEHMANN
        + " (15 or more inflammatory lesions is moderate); "
        + _AAD,
        explanation=_(
            "The acne is inflammatory (papules and pustules) and there are not enough clogged pores for "
            "extraction to help: inflamed spots need medical treatment, not extraction."
        ),
        meanwhile=_(
            "Refer the patient to their doctor or a dermatologist for treatment of the inflammatory acne; "
            "keep a gentle routine with sun protection, and do not pick."
        ),
        check=_inflammatory_acne,
    ),
    Rule(
        id="CI_MILD_WHITEHEADS",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.NOT_RECOMMENDED,
        source=_SOURCE + "contraindication 3 (whiteheads that are mild and likely to respond to topical care); "
        "mild = fewer than 20: " + _LEHMANN,
        explanation=_(
            "The whiteheads are mild (fewer than 20) and have not yet had 8 weeks of consistent topical "
            "care, to which they are likely to respond."
        ),
        meanwhile=_(
            "Topical care first: a consistent routine (e.g. a retinoid when appropriate, barrier support, "
            "sun protection) for 8-10 weeks, then re-assess."
        ),
        check=_mild_whiteheads,
    ),
)

NO_INDICATION = Rule(
    id="NO_INDICATION",
    kind=Kind.NONE,
    outcome=Outcome.NOT_RECOMMENDED,
    source="consultations/rules.py: extraction needs an indication (PRODUCT.md lists them)",
    explanation=_(
        "None of the indications for extraction applies (a few scattered lesions are not one): extraction has "
        "too little to gain now."
    ),
    meanwhile=_(
        "Continue consistent topical care for 8-10 weeks and re-assess if whiteheads or clogged pores persist."
    ),
    check=lambda f: True,
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in (*RULES, NO_INDICATION)}
HARD_STOP_IDS: frozenset[str] = frozenset(rule.id for rule in RULES if rule.hard_stop)


# --- Cautions ----------------------------------------------------------------------------

CAUTIONS: tuple[Caution, ...] = (
    Caution(
        id="CA_PIGMENTATION_RISK",
        source="Davis EC, Callender VD. Postinflammatory hyperpigmentation: a review of the epidemiology, "
        "clinical features, and treatment options in skin of color. J Clin Aesthet Dermatol 2010;3(7):20-31",
        explanation=_(
            "Fitzpatrick phototype IV-VI: skin that marks easily after inflammation (post-inflammatory "
            "hyperpigmentation)."
        ),
        advice=_("Gentle technique, no lancet, strict daily sun protection; tell the patient about pigment marks."),
        check=lambda f: f.fitzpatrick is not None and f.fitzpatrick >= FITZPATRICK_PIH_RISK_MIN,
        forbids_lancet=True,
    ),
    Caution(
        id="CA_KELOID_HISTORY",
        source="PRODUCT.md, the whole health history (keloid history: no lancet); keloids form after minor "
        "dermal injury in prone skin: Gauglitz GG et al. Hypertrophic scarring and keloids. Mol Med "
        "2011;17:113-125",
        explanation=_("A history of keloid scarring: any break in the skin may scar."),
        advice=_("No lancet; gentle manual extraction only, no force on resistant lesions."),
        check=lambda f: f.keloid_history,
        forbids_lancet=True,
    ),
    Caution(
        id="CA_BLEEDING_RISK",
        source="PRODUCT.md, the whole health history (anticoagulants: no lancet); the clinic's choice",
        explanation=_("An anticoagulant or a bleeding disorder: the skin bruises and bleeds easily."),
        advice=_("No lancet; light pressure only; no ibuprofen or aspirin for discomfort (they add to bleeding)."),
        check=lambda f: f.anticoagulant_or_bleeding_disorder,
        forbids_lancet=True,
        avoid_nsaids=True,
    ),
    Caution(
        id="CA_INFECTION_RISK",
        source="PRODUCT.md, the whole health history (immunosuppression or diabetes); the clinic's choice",
        explanation=_("Immunosuppressed or diabetic: a higher risk of infection and slower healing."),
        advice=_("Strict asepsis; check the skin again a few days after each session."),
        check=lambda f: f.immunosuppressed_or_diabetic,
    ),
    Caution(
        id="CA_PREGNANCY",
        source="PRODUCT.md, the whole health history (pregnancy); " + _AAD + " (topical retinoids avoided in "
        "pregnancy); US FDA Drug Safety Communication, 15 October 2020 (avoid NSAIDs from 20 weeks of pregnancy)",
        explanation=_("Pregnant or breastfeeding."),
        advice=_("Home care without retinoids; acetaminophen (paracetamol) rather than ibuprofen for discomfort."),
        check=lambda f: f.pregnant_or_breastfeeding,
        avoid_nsaids=True,
        avoid_retinoids=True,
    ),
    Caution(
        id="CA_TOPICAL_RETINOID",
        source="PRODUCT.md, the whole health history (topical retinoid); pause of 5 days: the clinic's choice",
        explanation=_("Uses a topical retinoid: the skin is thinner and more reactive while on it."),
        advice=_("Pause the retinoid for 5 days before each session and until the skin has settled afterwards."),
        check=lambda f: f.topical_retinoid,
    ),
)

CAUTIONS_BY_ID: dict[str, Caution] = {caution.id: caution for caution in CAUTIONS}


@dataclass(frozen=True)
class Assessment:
    """What ``assess`` concluded. ``reasons`` are the ids of the rules that decided ``outcome``."""

    outcome: OutcomeValue
    reasons: tuple[str, ...]
    # Indications that applied but were outweighed by a contraindication (shown, not decisive).
    outweighed: tuple[str, ...] = ()
    recheck_after_days: int | None = None
    ruleset_version: str = RULESET_VERSION
    # Caution ids: they never change the outcome, and travel into the plan, session and aftercare.
    cautions: tuple[str, ...] = ()

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(RULES_BY_ID[rule_id] for rule_id in self.reasons)

    @property
    def caution_rules(self) -> tuple[Caution, ...]:
        return tuple(CAUTIONS_BY_ID[caution_id] for caution_id in self.cautions)

    @property
    def outweighed_rules(self) -> tuple[Rule, ...]:
        return tuple(RULES_BY_ID[rule_id] for rule_id in self.outweighed)

    @property
    def meanwhile(self) -> tuple[Promise, ...]:
        return tuple(rule.meanwhile for rule in self.rules if rule.meanwhile is not None)

    @property
    def outcome_label(self) -> Promise:
        return Outcome(self.outcome).label

    @property
    def hard_stops(self) -> tuple[str, ...]:
        """The reasons that no override may turn into "recommended"."""
        return tuple(rule_id for rule_id in self.reasons if rule_id in HARD_STOP_IDS)

    @property
    def overridable(self) -> bool:
        """Whether the specialist may override this outcome to "recommended" (with a written reason)."""
        return not self.hard_stops

    @property
    def lancet_allowed(self) -> bool:
        return not any(caution.forbids_lancet for caution in self.caution_rules)

    @property
    def nsaids_allowed(self) -> bool:
        """Whether aftercare may suggest ibuprofen (an NSAID) for discomfort."""
        return not any(caution.avoid_nsaids for caution in self.caution_rules)

    @property
    def retinoids_allowed(self) -> bool:
        """Whether home care and aftercare may include a retinoid."""
        return not any(caution.avoid_retinoids for caution in self.caution_rules)

    def recheck_date(self, on: date) -> date | None:
        return on + timedelta(days=self.recheck_after_days) if self.recheck_after_days is not None else None


def assess(findings: Findings) -> Assessment:
    """Apply every rule and caution to ``findings``. Pure: no database, no clock."""
    applying = [rule for rule in RULES if rule.check(findings)]
    contraindications = [rule for rule in applying if rule.kind is Kind.CONTRAINDICATION]
    indications = [rule for rule in applying if rule.kind is Kind.INDICATION]
    cautions = tuple(caution.id for caution in CAUTIONS if caution.check(findings))
    if contraindications:
        outcome = max((rule.outcome for rule in contraindications), key=_OUTCOME_RANK.__getitem__)
        deferring = [rule.recheck_after_days for rule in contraindications if rule.recheck_after_days is not None]
        return Assessment(
            outcome=outcome.value,
            reasons=tuple(rule.id for rule in contraindications),
            outweighed=tuple(rule.id for rule in indications),
            recheck_after_days=max(deferring) if outcome is Outcome.DEFER else None,
            cautions=cautions,
        )
    if indications:
        return Assessment(
            outcome=Outcome.RECOMMENDED.value, reasons=tuple(rule.id for rule in indications), cautions=cautions
        )
    return Assessment(outcome=Outcome.NOT_RECOMMENDED.value, reasons=(NO_INDICATION.id,), cautions=cautions)


# --- The override ------------------------------------------------------------------------


class OverrideNeedsReason(ValueError):
    """An override of the rules' outcome was given without a written reason."""


class OverrideRefused(OverrideNeedsReason):
    """An override that no written reason allows: a hard stop turned into "recommended".

    A subclass of ``OverrideNeedsReason`` so that a caller which only catches that one still
    refuses the override instead of failing; ``str(error)`` is the person-readable reason.
    """


def override_refusal(assessment: Assessment, to_outcome: str) -> str | None:
    """Why overriding ``assessment`` to ``to_outcome`` is refused, or None when it may be (with a reason).

    Only "recommended" is ever refused, and only over a hard stop: an infection, a cold sore,
    nodules or cysts, or severe inflammatory acne. A defer for the barrier or sensitivity can
    still be overridden with a written reason.
    """
    if to_outcome != Outcome.RECOMMENDED or not assessment.hard_stops:
        return None
    explanations = " ".join(str(RULES_BY_ID[rule_id].explanation) for rule_id in assessment.hard_stops)
    return gettext("No override can recommend extraction here. %(why)s") % {"why": explanations}


def override_allowed(assessment: Assessment, to_outcome: str) -> bool:
    """Whether the specialist may override ``assessment`` to ``to_outcome`` (a written reason still needed)."""
    return override_refusal(assessment, to_outcome) is None


@dataclass(frozen=True)
class Decision:
    """The rules' assessment, and the specialist's override of it if any."""

    assessment: Assessment
    override: OutcomeValue | None = None
    override_reason: str = ""

    @property
    def final_outcome(self) -> OutcomeValue:
        return self.override or self.assessment.outcome

    @property
    def overridden(self) -> bool:
        return self.override is not None


def decide(assessment: Assessment, *, override: str | None = None, override_reason: str = "") -> Decision:
    """The final decision: the rules' outcome unless the specialist overrides it in writing.

    An override equal to the rules' outcome is no override. An override of a hard stop to
    "recommended" raises ``OverrideRefused``; any other override without a reason (blank or
    whitespace) raises ``OverrideNeedsReason``.
    """
    if override in (None, "") or override == assessment.outcome:
        return Decision(assessment=assessment)
    if override not in {o.value for o in Outcome}:
        raise ValueError(f"override must be one of {[o.value for o in Outcome]}, not {override!r}")
    refusal = override_refusal(assessment, override)
    if refusal is not None:
        raise OverrideRefused(refusal)
    reason = override_reason.strip()
    if not reason:
        raise OverrideNeedsReason("an override needs a written reason")
    # Checked against the Outcome values above, so it is one of the OutcomeValue literals.
    return Decision(assessment=assessment, override=cast(OutcomeValue, override), override_reason=reason)


# --- Findings that contradict each other -------------------------------------------------


@dataclass(frozen=True)
class Inconsistency:
    """Two findings that cannot both be true; ``field`` is the one the form shows it beside."""

    field: str
    message: str

    def __str__(self) -> str:
        return self.message


def inconsistencies(findings: Findings) -> tuple[Inconsistency, ...]:
    """Findings that contradict each other, for the form to refuse. Pure; empty when consistent.

    Congestion is checked against the comedones counted (Lehmann 2002: 20 or more is beyond
    mild), the IGA against the counts its own definitions allow (FDA 2005 IGA).
    """
    f = findings
    found: list[Inconsistency] = []
    if f.congestion == "widespread" and f.comedones == 0:
        found.append(
            Inconsistency(
                "congestion", gettext("Widespread congestion is recorded but no comedones are counted: count them.")
            )
        )
    elif f.congestion == "widespread" and f.comedones < WIDESPREAD_CONGESTION_MIN_COMEDONES:
        found.append(
            Inconsistency(
                "congestion",
                gettext(
                    "Widespread congestion needs at least %(min)d comedones counted; %(n)d are. "
                    "Count the rest, or record the congestion as localized."
                )
                % {"min": WIDESPREAD_CONGESTION_MIN_COMEDONES, "n": f.comedones},
            )
        )
    if f.congestion == "none" and f.comedones >= WIDESPREAD_CONGESTION_MIN_COMEDONES:
        found.append(
            Inconsistency(
                "congestion",
                gettext("No congestion is recorded but %(n)d comedones are counted.") % {"n": f.comedones},
            )
        )
    iga_message = _iga_inconsistency(f)
    if iga_message is not None:
        found.append(Inconsistency("iga", iga_message))
    return tuple(found)


def _iga_inconsistency(f: Findings) -> str | None:
    # The FDA 2005 IGA definitions: 0 clear (no lesions), 1 almost clear (rare comedones, no more
    # than one small inflammatory lesion), 2 mild (no nodular lesions), 3 moderate (no more than
    # one small nodular lesion), 4 severe.
    if f.iga is None:
        return None
    values = {"iga": f.iga, "n": f.lesions, "inflammatory": f.inflammatory_lesions, "nodular": f.nodular_lesions}
    if f.iga == 0 and f.lesions:
        return gettext("IGA 0 means clear skin, but %(n)d lesions are counted.") % values
    if f.iga == 1 and (f.inflammatory_lesions > 1 or f.nodular_lesions):
        return (
            gettext(
                "IGA 1 (almost clear) allows no more than one small inflammatory lesion and no nodules or cysts; "
                "%(inflammatory)d papules and pustules and %(nodular)d nodules and cysts are counted."
            )
            % values
        )
    if f.iga == 2 and f.nodular_lesions:
        return gettext("IGA 2 (mild) has no nodules or cysts, but %(nodular)d are counted.") % values
    if f.iga == 3 and f.nodular_lesions > 1:
        return gettext("IGA 3 (moderate) allows one small nodule at most, but %(nodular)d are counted.") % values
    if f.iga <= 2 and f.inflammatory_lesions > SEVERE_INFLAMMATORY_LESIONS_OVER:
        return gettext("%(inflammatory)d papules and pustules is severe acne, not IGA %(iga)d.") % values
    if f.iga >= 3 and f.lesions == 0:
        return gettext("IGA %(iga)d describes acne, but no lesions are counted.") % values
    return None
