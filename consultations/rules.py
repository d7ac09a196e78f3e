"""The extraction decision: every indication and contraindication as data plus a pure check.

Public API (stable; used by the consultation form and by anyone integrating)::

    from consultations.rules import Findings, assess
    result = assess(Findings(barrier="intact", sensitivity="normal", active_infection=False,
                             open_comedones=0, closed_comedones=0, papules=0, pustules=0,
                             nodules=0, cysts=0, congestion="none",
                             weeks_consistent_skincare=None, whiteheads_often_inflame=False,
                             isotretinoin_within_6_months=False))
    result.outcome   # "recommended" | "defer" | "not_recommended"
    result.reasons   # tuple of rule ids, never empty

Importable after ``django.setup()`` without touching the database (explanations are
lazy translations; nothing here queries).

Source of every rule: ``PRODUCT.md`` ("Clinical knowledge the app encodes"), which cites
the clinic's treatment description and a dermatology guide on professional whitehead
extraction. Lesion counts are whole-face totals (all zones added together).

Thresholds (chosen here, documented in ``consultations/RULES.md`` too):

- ``CONSISTENT_SKINCARE_WEEKS = 8``: the product says "8-10 weeks"; the lower bound is used,
  because by 8 weeks of a consistent routine comedonal lesions should visibly respond.
  ``weeks_consistent_skincare=None`` (unknown) never satisfies it.
- ``MILD_CLOSED_COMEDONES_MAX = 19``: "mild whiteheads" means 1-19 closed comedones in total,
  after Lehmann et al. 2002 (JAAD 47:231), where fewer than 20 comedones is mild acne.
  They count as "likely to respond to topical care" only while topical care has not yet had
  its fair trial (unknown or under 8 weeks), congestion is not widespread and the whiteheads
  do not often inflame: otherwise one of the indications describes the patient better.

Rule ids, kinds and outcomes (the decision records the ids):

=================================  ===============  ================  ===========================================
id                                 kind             outcome           applies when
=================================  ===============  ================  ===========================================
IND_PERSISTENT_WHITEHEADS          indication       recommended       closed_comedones >= 1 and
                                                                      weeks_consistent_skincare >= 8
IND_WIDESPREAD_CONGESTION          indication       recommended       congestion == "widespread"
IND_WHITEHEADS_OFTEN_INFLAME       indication       recommended       whiteheads_often_inflame and closed >= 1
IND_CLOGGED_PORES_HINDER_PROGRESS  indication       recommended       open_comedones >= 1 and weeks >= 8 (clogged
                                                                      pores still there after a full trial of the
                                                                      home programme: they hold progress back)
CI_BARRIER_COMPROMISED             contraindication defer             barrier in ("irritated", "inflamed")
CI_ACTIVE_INFECTION                contraindication defer             active_infection
CI_EXTREME_SENSITIVITY             contraindication defer             sensitivity == "extreme"
CI_RECENT_ISOTRETINOIN             contraindication defer             isotretinoin_within_6_months (compromised
                                                                      skin: fragile, slow to heal)
CI_CYSTIC_ACNE                     contraindication not_recommended   nodules + cysts >= 1 (refer to a doctor)
CI_MILD_WHITEHEADS                 contraindication not_recommended   1 <= closed <= 19, weeks unknown or < 8,
                                                                      congestion not widespread, not often
                                                                      inflamed (topical care first)
NO_INDICATION                      none             not_recommended   nothing above applies (topical care first,
                                                                      re-assess after 8 weeks of it)
=================================  ===============  ================  ===========================================

How the outcome is reached:

1. Any contraindication wins over every indication. All contraindications that apply are
   reported, in the order of ``RULES``. "not_recommended" contraindications outrank "defer"
   ones (cystic acne is referred even when the barrier also needs calming; mild whiteheads
   need topical care whatever else happens), but the meanwhile advice of every deferring
   rule is still carried.
2. Otherwise, if indications apply, the outcome is "recommended" and they are the reasons.
3. Otherwise the outcome is "not_recommended" with the single reason ``NO_INDICATION``:
   extraction needs a reason, and topical care comes first.

A "defer" result carries what to do meanwhile and ``recheck_after_days`` (the longest of
its rules' intervals); ``recheck_date(on)`` turns it into a date.

The specialist may override the outcome with :func:`decide`, which insists on a written
reason; the consultation keeps the rules' outcome, the override and ``RULESET_VERSION``.
Bump ``RULESET_VERSION`` whenever a rule or threshold changes.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, cast

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

RULESET_VERSION = "2026.1"

CONSISTENT_SKINCARE_WEEKS = 8
MILD_CLOSED_COMEDONES_MAX = 19

Barrier = Literal["intact", "irritated", "inflamed"]
Sensitivity = Literal["normal", "sensitive", "extreme"]
Congestion = Literal["none", "localized", "widespread"]
OutcomeValue = Literal["recommended", "defer", "not_recommended"]

BARRIER_VALUES: tuple[str, ...] = ("intact", "irritated", "inflamed")
SENSITIVITY_VALUES: tuple[str, ...] = ("normal", "sensitive", "extreme")
CONGESTION_VALUES: tuple[str, ...] = ("none", "localized", "widespread")

_SOURCE = "PRODUCT.md, Clinical knowledge: "


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
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number >= 0, not {value!r}")
        weeks = self.weeks_consistent_skincare
        if weeks is not None and (isinstance(weeks, bool) or not isinstance(weeks, int) or weeks < 0):
            raise ValueError(f"weeks_consistent_skincare must be None or a whole number >= 0, not {weeks!r}")

    @property
    def skincare_trial_complete(self) -> bool:
        weeks = self.weeks_consistent_skincare
        return weeks is not None and weeks >= CONSISTENT_SKINCARE_WEEKS


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


def _persistent_whiteheads(f: Findings) -> bool:
    return f.closed_comedones >= 1 and f.skincare_trial_complete


def _widespread_congestion(f: Findings) -> bool:
    return f.congestion == "widespread"


def _whiteheads_often_inflame(f: Findings) -> bool:
    return f.whiteheads_often_inflame and f.closed_comedones >= 1


def _clogged_pores_hinder_progress(f: Findings) -> bool:
    return f.open_comedones >= 1 and f.skincare_trial_complete


def _barrier_compromised(f: Findings) -> bool:
    return f.barrier in ("irritated", "inflamed")


def _active_infection(f: Findings) -> bool:
    return f.active_infection


def _extreme_sensitivity(f: Findings) -> bool:
    return f.sensitivity == "extreme"


def _recent_isotretinoin(f: Findings) -> bool:
    return f.isotretinoin_within_6_months


def _cystic_acne(f: Findings) -> bool:
    return f.nodules + f.cysts >= 1


def _mild_whiteheads(f: Findings) -> bool:
    return (
        1 <= f.closed_comedones <= MILD_CLOSED_COMEDONES_MAX
        and not f.skincare_trial_complete
        and f.congestion != "widespread"
        and not f.whiteheads_often_inflame
    )


RULES: tuple[Rule, ...] = (
    Rule(
        id="IND_PERSISTENT_WHITEHEADS",
        kind=Kind.INDICATION,
        outcome=Outcome.RECOMMENDED,
        source=_SOURCE + "indication 1 (whiteheads persisting despite consistent skincare for 8-10 weeks)",
        explanation=_(
            "Whiteheads persist after at least 8 weeks of a consistent skin-care routine: "
            "extraction can clear what topical care has not."
        ),
        check=_persistent_whiteheads,
    ),
    Rule(
        id="IND_WIDESPREAD_CONGESTION",
        kind=Kind.INDICATION,
        outcome=Outcome.RECOMMENDED,
        source=_SOURCE + "indication 2 (widespread congestion causing uneven texture)",
        explanation=_("Widespread congestion is making the skin's texture uneven: extraction can clear it."),
        check=_widespread_congestion,
    ),
    Rule(
        id="IND_WHITEHEADS_OFTEN_INFLAME",
        kind=Kind.INDICATION,
        outcome=Outcome.RECOMMENDED,
        source=_SOURCE + "indication 3 (whiteheads frequently turning into inflamed acne)",
        explanation=_("The patient's whiteheads often turn into inflamed spots: clearing them early can prevent that."),
        check=_whiteheads_often_inflame,
    ),
    Rule(
        id="IND_CLOGGED_PORES_HINDER_PROGRESS",
        kind=Kind.INDICATION,
        outcome=Outcome.RECOMMENDED,
        source=_SOURCE + "indication 4 (clogged pores interfering with treatment progress)",
        explanation=_(
            "Clogged pores (blackheads) remain after at least 8 weeks of the home programme and hold "
            "its progress back: extraction can unblock them."
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
        source=_SOURCE + "contraindication 2 (active infection)",
        explanation=_("There is an active skin infection: extraction could spread it."),
        meanwhile=_(
            "Have the infection treated (by the patient's doctor if it needs a prescription); "
            "keep the area clean and do not pick."
        ),
        recheck_after_days=14,
        check=_active_infection,
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
        id="CI_CYSTIC_ACNE",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.NOT_RECOMMENDED,
        source=_SOURCE + "contraindication 2 (cystic acne: nodules or cysts present)",
        explanation=_(
            "Nodules or cysts are present (cystic acne): extraction can drive the inflammation deeper "
            "and scar. Refer the patient to a doctor or dermatologist."
        ),
        meanwhile=_("Refer to the patient's doctor or a dermatologist for medical treatment."),
        check=_cystic_acne,
    ),
    Rule(
        id="CI_MILD_WHITEHEADS",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.NOT_RECOMMENDED,
        source=_SOURCE + "contraindication 3 (whiteheads that are mild and likely to respond to topical care)",
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
    explanation=_("None of the indications for extraction applies: extraction has nothing to gain now."),
    meanwhile=_(
        "Continue consistent topical care for 8-10 weeks and re-assess if whiteheads or clogged pores persist."
    ),
    check=lambda f: True,
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in (*RULES, NO_INDICATION)}


@dataclass(frozen=True)
class Assessment:
    """What ``assess`` concluded. ``reasons`` are the ids of the rules that decided ``outcome``."""

    outcome: OutcomeValue
    reasons: tuple[str, ...]
    # Indications that applied but were outweighed by a contraindication (shown, not decisive).
    outweighed: tuple[str, ...] = ()
    recheck_after_days: int | None = None
    ruleset_version: str = RULESET_VERSION

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(RULES_BY_ID[rule_id] for rule_id in self.reasons)

    @property
    def meanwhile(self) -> tuple[Promise, ...]:
        return tuple(rule.meanwhile for rule in self.rules if rule.meanwhile is not None)

    @property
    def outcome_label(self) -> Promise:
        return Outcome(self.outcome).label

    def recheck_date(self, on: date) -> date | None:
        return on + timedelta(days=self.recheck_after_days) if self.recheck_after_days is not None else None


def assess(findings: Findings) -> Assessment:
    """Apply every rule to ``findings``. Pure: no database, no clock."""
    applying = [rule for rule in RULES if rule.check(findings)]
    contraindications = [rule for rule in applying if rule.kind is Kind.CONTRAINDICATION]
    indications = [rule for rule in applying if rule.kind is Kind.INDICATION]
    if contraindications:
        outcome = max((rule.outcome for rule in contraindications), key=_OUTCOME_RANK.__getitem__)
        deferring = [rule.recheck_after_days for rule in contraindications if rule.recheck_after_days is not None]
        return Assessment(
            outcome=outcome.value,
            reasons=tuple(rule.id for rule in contraindications),
            outweighed=tuple(rule.id for rule in indications),
            recheck_after_days=max(deferring) if outcome is Outcome.DEFER else None,
        )
    if indications:
        return Assessment(outcome=Outcome.RECOMMENDED.value, reasons=tuple(rule.id for rule in indications))
    return Assessment(outcome=Outcome.NOT_RECOMMENDED.value, reasons=(NO_INDICATION.id,))


class OverrideNeedsReason(ValueError):
    """An override of the rules' outcome was given without a written reason."""


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

    An override equal to the rules' outcome is no override. An override without a reason
    (blank or whitespace) raises ``OverrideNeedsReason``.
    """
    if override in (None, "") or override == assessment.outcome:
        return Decision(assessment=assessment)
    if override not in {o.value for o in Outcome}:
        raise ValueError(f"override must be one of {[o.value for o in Outcome]}, not {override!r}")
    reason = override_reason.strip()
    if not reason:
        raise OverrideNeedsReason("an override needs a written reason")
    # Checked against the Outcome values above, so it is one of the OutcomeValue literals.
    return Decision(assessment=assessment, override=cast(OutcomeValue, override), override_reason=reason)
