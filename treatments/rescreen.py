"""The day-of re-screen: the aesthetician's checks before every extraction session.

Plain data plus pure functions, like ``consultations/rules.py`` (whose Rule, Kind and
Outcome types it reuses): each rule has an id, and the session records the ids that
stopped it. Importable without touching the database.

Source: ``docs/product.md`` ("Clinical knowledge the app encodes"): "The aesthetician re-screens
on the day of every session (barrier, infection, new medication such as isotretinoin or a
topical retinoid started since): a contraindication found then stops the session from being
logged as performed and tells the specialist." Sunburn is added from the issue's re-screen
list: sunburnt skin is an irritated barrier for the day.

=============================  =================================================================
id                             stops the session when
=============================  =================================================================
RS_BARRIER_COMPROMISED         barrier today is "irritated" or "inflamed"
RS_ACTIVE_INFECTION            an active skin infection is present today
RS_ISOTRETINOIN_STARTED        isotretinoin started (or taken) since the consultation
RS_TOPICAL_RETINOID_STARTED    a topical retinoid started since the consultation that the plan
                               did not prescribe (the plan's own retinoid is expected, not a stop)
RS_RETINOID_PAUSE_NOT_KEPT     the plan's retinoid was not paused before the session as planned
RS_SUNBURN                     sunburn on an area to be treated
RS_NEW_PREGNANCY               a pregnancy (or breastfeeding) since the consultation
RS_NEW_NODULES_OR_CYSTS        new nodules or cysts (cystic acne: a hard stop at consultation)
RS_EXTREME_SENSITIVITY         the skin is extremely sensitive today
RS_ACTIVE_COLD_SORE            an active cold sore (extraction spreads herpes simplex)
RS_NEW_MEDICATION              any other new medication since the consultation (named)
=============================  =================================================================

Every rule is a contraindication (outcome "defer": calm and repair first, the specialist
decides what next). A re-screen with none applying clears the session. A stop puts the
programme on hold until the specialist re-assesses (``treatments.services.session_rescreen``).

Why any new medication stops: the aesthetician cannot judge a drug (an anticoagulant, an
antibiotic that sensitises to light, an immunosuppressant); the specialist can, and the
patient's safety is worth one rebooked session. A new pregnancy stops because the plan's
home care and aftercare were chosen without it (retinoids, ibuprofen: ``CA_PREGNANCY``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from consultations.rules import BARRIER_VALUES, RULES_BY_ID, Barrier, Kind, Outcome

RESCREEN_VERSION = "2026.2"

_SOURCE = "PRODUCT.md, Clinical knowledge: day-of re-screen "


@dataclass(frozen=True, kw_only=True)
class RescreenAnswers:
    """What the aesthetician found today, before touching the skin."""

    barrier: Barrier
    active_infection: bool
    isotretinoin_since_consultation: bool
    topical_retinoid_since_consultation: bool
    sunburn: bool
    # Asked since ruleset 2026.2; defaults keep older calls working.
    new_pregnancy: bool = False
    new_nodules_or_cysts: bool = False
    extreme_sensitivity: bool = False
    active_cold_sore: bool = False
    # Any other medication started since the consultation: what it is (blank: none).
    new_medication: str = ""
    # Whether the plan prescribes a retinoid (context, not an answer): then it is expected.
    retinoid_expected: bool = False
    # Asked only when a retinoid is expected: was it paused before the session as the plan says?
    retinoid_pause_kept: bool | None = None

    def __post_init__(self) -> None:
        if self.barrier not in BARRIER_VALUES:
            raise ValueError(f"barrier must be one of {BARRIER_VALUES}, not {self.barrier!r}")


@dataclass(frozen=True, kw_only=True)
class RescreenRule:
    id: str
    kind: Kind
    outcome: Outcome
    source: str
    explanation: Promise
    check: Callable[[RescreenAnswers], bool]
    # The consultation rule this one repeats on the day, if any (same clinical reason).
    consultation_rule_id: str | None = None


RESCREEN_RULES: tuple[RescreenRule, ...] = (
    RescreenRule(
        id="RS_BARRIER_COMPROMISED",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.DEFER,
        source=_SOURCE + "(barrier); contraindication 1 (skin barrier already irritated or inflamed)",
        explanation=_("The skin barrier is irritated or inflamed today: extraction would damage it further."),
        check=lambda a: a.barrier in ("irritated", "inflamed"),
        consultation_rule_id="CI_BARRIER_COMPROMISED",
    ),
    RescreenRule(
        id="RS_ACTIVE_INFECTION",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.DEFER,
        source=_SOURCE + "(infection); contraindication 2 (active infection)",
        explanation=_("There is an active skin infection today: extraction could spread it."),
        check=lambda a: a.active_infection,
        consultation_rule_id="CI_ACTIVE_INFECTION",
    ),
    RescreenRule(
        id="RS_ISOTRETINOIN_STARTED",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.DEFER,
        source=_SOURCE + "(new medication: isotretinoin)",
        explanation=_(
            "Isotretinoin was started since the consultation: the skin is fragile and slow to heal, "
            "extraction risks tearing and scarring."
        ),
        check=lambda a: a.isotretinoin_since_consultation,
        consultation_rule_id="CI_RECENT_ISOTRETINOIN",
    ),
    RescreenRule(
        id="RS_TOPICAL_RETINOID_STARTED",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.DEFER,
        source=_SOURCE + "(new medication: a topical retinoid started)",
        explanation=_(
            "A topical retinoid was started since the consultation: the skin is thinner and more reactive "
            "while it adjusts, so extraction would irritate it."
        ),
        check=lambda a: a.topical_retinoid_since_consultation and not a.retinoid_expected,
    ),
    RescreenRule(
        id="RS_RETINOID_PAUSE_NOT_KEPT",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.DEFER,
        source=_SOURCE + "(the plan's 'pause before' instruction); consultations.rules.CA_TOPICAL_RETINOID",
        explanation=_(
            "The retinoid was not paused before the session as the plan says: the skin is thinner and more "
            "reactive, so extraction would irritate or tear it."
        ),
        check=lambda a: a.retinoid_expected and a.retinoid_pause_kept is False,
    ),
    RescreenRule(
        id="RS_SUNBURN",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.DEFER,
        source=_SOURCE + "(sunburn: an acutely irritated barrier)",
        explanation=_("The skin is sunburnt: extraction would injure it further. Let it heal first."),
        check=lambda a: a.sunburn,
    ),
    RescreenRule(
        id="RS_NEW_PREGNANCY",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.DEFER,
        source=_SOURCE + "(pregnancy); consultations.rules.CA_PREGNANCY (home care without retinoids, no NSAIDs)",
        explanation=_(
            "The patient is newly pregnant or breastfeeding: the specialist reviews the plan's home care "
            "(no retinoids) and aftercare before the next session."
        ),
        check=lambda a: a.new_pregnancy,
    ),
    RescreenRule(
        id="RS_NEW_NODULES_OR_CYSTS",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.DEFER,
        source=_SOURCE + "(skin problem); contraindication 2 (cystic acne)",
        explanation=_(
            "New nodules or cysts: extraction can drive the inflammation deeper and scar. The specialist "
            "re-assesses and may refer to a doctor."
        ),
        check=lambda a: a.new_nodules_or_cysts,
        consultation_rule_id="CI_CYSTIC_ACNE",
    ),
    RescreenRule(
        id="RS_EXTREME_SENSITIVITY",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.DEFER,
        source=_SOURCE + "(barrier); contraindication 1 (extremely sensitive or compromised skin)",
        explanation=_("The skin is extremely sensitive today: extraction would injure it."),
        check=lambda a: a.extreme_sensitivity,
        consultation_rule_id="CI_EXTREME_SENSITIVITY",
    ),
    RescreenRule(
        id="RS_ACTIVE_COLD_SORE",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.DEFER,
        source=_SOURCE + "(infection: herpes simplex)",
        explanation=_("An active cold sore: extraction spreads the herpes simplex virus."),
        check=lambda a: a.active_cold_sore,
        consultation_rule_id="CI_ACTIVE_COLD_SORE",
    ),
    RescreenRule(
        id="RS_NEW_MEDICATION",
        kind=Kind.CONTRAINDICATION,
        outcome=Outcome.DEFER,
        source=_SOURCE + "(new medication of any kind: the specialist judges it)",
        explanation=_(
            "A new medication since the consultation: the specialist checks it (bleeding, light sensitivity, "
            "healing) before the next session."
        ),
        check=lambda a: bool(a.new_medication.strip()),
    ),
)

RESCREEN_RULES_BY_ID: dict[str, RescreenRule] = {rule.id: rule for rule in RESCREEN_RULES}


def consultation_rule(rule: RescreenRule) -> object | None:
    """The consultation rule ``rule`` repeats on the day (tests check each id exists there)."""
    return RULES_BY_ID.get(rule.consultation_rule_id) if rule.consultation_rule_id else None


@dataclass(frozen=True)
class RescreenResult:
    """``stopped`` is True when any rule applies; ``reasons`` are those rules' ids."""

    reasons: tuple[str, ...]
    version: str = RESCREEN_VERSION

    @property
    def stopped(self) -> bool:
        return bool(self.reasons)

    @property
    def rules(self) -> tuple[RescreenRule, ...]:
        return tuple(RESCREEN_RULES_BY_ID[rule_id] for rule_id in self.reasons)

    @property
    def explanations(self) -> tuple[Promise, ...]:
        return tuple(rule.explanation for rule in self.rules)


def rescreen(answers: RescreenAnswers) -> RescreenResult:
    """Apply every re-screen rule to today's answers. Pure: no database, no clock."""
    return RescreenResult(reasons=tuple(rule.id for rule in RESCREEN_RULES if rule.check(answers)))
