"""The extraction decision rules (consultations/rules.py): every rule alone, combinations, overrides.

None of these tests touches the database: pytest-django refuses DB access without the
``db`` fixture, so passing here also proves the rules are pure.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from consultations.rules import (
    MILD_CLOSED_COMEDONES_MAX,
    NO_INDICATION,
    RULES,
    RULES_BY_ID,
    RULESET_VERSION,
    Findings,
    Kind,
    OverrideNeedsReason,
    assess,
    decide,
)


def findings(**overrides: Any) -> Findings:
    """Findings for which no rule applies, changed by ``overrides``."""
    base: dict[str, Any] = {
        "barrier": "intact",
        "sensitivity": "normal",
        "active_infection": False,
        "open_comedones": 0,
        "closed_comedones": 0,
        "papules": 0,
        "pustules": 0,
        "nodules": 0,
        "cysts": 0,
        "congestion": "none",
        "weeks_consistent_skincare": None,
        "whiteheads_often_inflame": False,
        "isotretinoin_within_6_months": False,
    }
    base.update(overrides)
    return Findings(**base)


# Each rule triggered alone: the findings, the outcome, the reason.
ALONE = [
    ({"closed_comedones": 25, "weeks_consistent_skincare": 8}, "recommended", "IND_PERSISTENT_WHITEHEADS"),
    ({"congestion": "widespread"}, "recommended", "IND_WIDESPREAD_CONGESTION"),
    ({"closed_comedones": 25, "whiteheads_often_inflame": True}, "recommended", "IND_WHITEHEADS_OFTEN_INFLAME"),
    ({"open_comedones": 12, "weeks_consistent_skincare": 10}, "recommended", "IND_CLOGGED_PORES_HINDER_PROGRESS"),
    ({"barrier": "irritated"}, "defer", "CI_BARRIER_COMPROMISED"),
    ({"barrier": "inflamed"}, "defer", "CI_BARRIER_COMPROMISED"),
    ({"active_infection": True}, "defer", "CI_ACTIVE_INFECTION"),
    ({"sensitivity": "extreme"}, "defer", "CI_EXTREME_SENSITIVITY"),
    ({"isotretinoin_within_6_months": True}, "defer", "CI_RECENT_ISOTRETINOIN"),
    ({"nodules": 1}, "not_recommended", "CI_CYSTIC_ACNE"),
    ({"cysts": 2}, "not_recommended", "CI_CYSTIC_ACNE"),
    ({"closed_comedones": 6}, "not_recommended", "CI_MILD_WHITEHEADS"),
    ({}, "not_recommended", "NO_INDICATION"),
]


@pytest.mark.parametrize(("overrides", "outcome", "reason"), ALONE)
def test_each_rule_alone_decides_with_its_own_id(overrides: dict[str, Any], outcome: str, reason: str) -> None:
    result = assess(findings(**overrides))
    assert result.outcome == outcome
    assert result.reasons == (reason,)
    assert result.outweighed == ()
    assert result.ruleset_version == RULESET_VERSION


def test_every_rule_is_tested_alone() -> None:
    tested = {reason for _, _, reason in ALONE}
    assert tested == set(RULES_BY_ID)


def test_every_rule_is_documented_with_a_source_and_an_explanation() -> None:
    import consultations.rules as module

    for rule in (*RULES, NO_INDICATION):
        assert rule.source.strip()
        assert str(rule.explanation).strip()
        assert rule.id in (module.__doc__ or ""), f"{rule.id} is missing from the module docstring"
        if rule.kind is Kind.CONTRAINDICATION:
            assert rule.meanwhile is not None, f"{rule.id} must say what to do meanwhile"
        if rule.outcome == "defer":
            assert rule.recheck_after_days, f"{rule.id} must carry a re-check interval"


def test_rule_ids_are_unique() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))


def test_sensitive_but_not_extreme_skin_is_no_contraindication() -> None:
    result = assess(findings(sensitivity="sensitive", congestion="widespread"))
    assert result.outcome == "recommended"
    assert result.reasons == ("IND_WIDESPREAD_CONGESTION",)


def test_localised_congestion_alone_is_no_indication() -> None:
    assert assess(findings(congestion="localized")).reasons == ("NO_INDICATION",)


@pytest.mark.parametrize(
    ("closed", "weeks", "reason"),
    [
        (1, None, "CI_MILD_WHITEHEADS"),
        (MILD_CLOSED_COMEDONES_MAX, None, "CI_MILD_WHITEHEADS"),
        (MILD_CLOSED_COMEDONES_MAX + 1, None, "NO_INDICATION"),
        (5, 7, "CI_MILD_WHITEHEADS"),
        (5, 8, "IND_PERSISTENT_WHITEHEADS"),
        (5, 10, "IND_PERSISTENT_WHITEHEADS"),
        (40, 7, "NO_INDICATION"),
        (40, 8, "IND_PERSISTENT_WHITEHEADS"),
    ],
)
def test_whitehead_thresholds(closed: int, weeks: int | None, reason: str) -> None:
    assert assess(findings(closed_comedones=closed, weeks_consistent_skincare=weeks)).reasons == (reason,)


def test_whiteheads_that_often_inflame_are_not_mild_even_when_few() -> None:
    result = assess(findings(closed_comedones=3, whiteheads_often_inflame=True))
    assert result.outcome == "recommended"
    assert result.reasons == ("IND_WHITEHEADS_OFTEN_INFLAME",)


def test_a_tendency_to_inflame_without_whiteheads_today_is_no_indication() -> None:
    assert assess(findings(whiteheads_often_inflame=True)).reasons == ("NO_INDICATION",)


def test_unknown_weeks_of_skincare_never_count_as_a_full_trial() -> None:
    assert assess(findings(open_comedones=30, weeks_consistent_skincare=None)).reasons == ("NO_INDICATION",)


def test_several_indications_are_all_reported() -> None:
    result = assess(
        findings(
            closed_comedones=30,
            open_comedones=10,
            weeks_consistent_skincare=9,
            congestion="widespread",
            whiteheads_often_inflame=True,
        )
    )
    assert result.outcome == "recommended"
    assert result.reasons == (
        "IND_PERSISTENT_WHITEHEADS",
        "IND_WIDESPREAD_CONGESTION",
        "IND_WHITEHEADS_OFTEN_INFLAME",
        "IND_CLOGGED_PORES_HINDER_PROGRESS",
    )


def test_a_contraindication_beats_every_indication() -> None:
    result = assess(
        findings(congestion="widespread", closed_comedones=30, weeks_consistent_skincare=12, barrier="irritated")
    )
    assert result.outcome == "defer"
    assert result.reasons == ("CI_BARRIER_COMPROMISED",)
    assert result.outweighed == ("IND_PERSISTENT_WHITEHEADS", "IND_WIDESPREAD_CONGESTION")


def test_several_contraindications_are_all_reported_with_the_longest_recheck() -> None:
    result = assess(
        findings(
            barrier="inflamed",
            active_infection=True,
            sensitivity="extreme",
            isotretinoin_within_6_months=True,
            congestion="widespread",
        )
    )
    assert result.outcome == "defer"
    assert result.reasons == (
        "CI_BARRIER_COMPROMISED",
        "CI_ACTIVE_INFECTION",
        "CI_EXTREME_SENSITIVITY",
        "CI_RECENT_ISOTRETINOIN",
    )
    assert result.recheck_after_days == 90
    assert len(result.meanwhile) == 4


def test_defer_says_what_to_do_meanwhile_and_when_to_look_again() -> None:
    result = assess(findings(barrier="irritated", congestion="widespread"))
    assert "barrier" in str(result.meanwhile[0]).lower()
    assert result.recheck_after_days == 28
    assert result.recheck_date(date(2026, 3, 1)) == date(2026, 3, 29)


def test_cystic_acne_is_referred_even_when_the_barrier_also_needs_calming() -> None:
    result = assess(findings(nodules=2, barrier="irritated", congestion="widespread"))
    assert result.outcome == "not_recommended"
    assert result.reasons == ("CI_BARRIER_COMPROMISED", "CI_CYSTIC_ACNE")
    assert result.recheck_after_days is None
    assert any("dermatologist" in str(text) for text in result.meanwhile)


def test_mild_whiteheads_with_an_infection_need_topical_care_first() -> None:
    result = assess(findings(closed_comedones=4, active_infection=True))
    assert result.outcome == "not_recommended"
    assert result.reasons == ("CI_ACTIVE_INFECTION", "CI_MILD_WHITEHEADS")


def test_not_recommended_says_why() -> None:
    for overrides in ({"cysts": 1}, {"closed_comedones": 3}, {}):
        result = assess(findings(**overrides))
        assert result.outcome == "not_recommended"
        assert all(str(rule.explanation) for rule in result.rules)
        assert result.meanwhile, overrides


@pytest.mark.parametrize(
    "bad",
    [
        {"barrier": "broken"},
        {"sensitivity": "very"},
        {"congestion": "localised"},  # the API spells it "localized"
        {"papules": -1},
        {"nodules": 1.5},
        {"cysts": True},
        {"weeks_consistent_skincare": -2},
    ],
)
def test_findings_refuse_values_outside_the_api(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        findings(**bad)


def test_findings_take_keywords_only_and_are_immutable() -> None:
    f = findings()
    with pytest.raises(AttributeError):
        f.papules = 3  # type: ignore[misc]
    assert replace(f, papules=3).papules == 3


# --- The override path ---------------------------------------------------------------


def test_without_an_override_the_rules_outcome_is_final() -> None:
    decision = decide(assess(findings(congestion="widespread")))
    assert decision.final_outcome == "recommended"
    assert not decision.overridden


def test_an_override_needs_a_written_reason() -> None:
    assessment = assess(findings(closed_comedones=4))
    with pytest.raises(OverrideNeedsReason):
        decide(assessment, override="recommended")
    with pytest.raises(OverrideNeedsReason):
        decide(assessment, override="recommended", override_reason="   ")


def test_an_override_keeps_the_rules_outcome_and_the_reason() -> None:
    assessment = assess(findings(closed_comedones=4))
    decision = decide(assessment, override="recommended", override_reason="  Event in 3 weeks; patient informed.  ")
    assert decision.final_outcome == "recommended"
    assert decision.assessment.outcome == "not_recommended"
    assert decision.assessment.reasons == ("CI_MILD_WHITEHEADS",)
    assert decision.override_reason == "Event in 3 weeks; patient informed."
    assert decision.overridden


def test_overriding_to_the_rules_own_outcome_is_no_override() -> None:
    decision = decide(assess(findings(congestion="widespread")), override="recommended")
    assert not decision.overridden


def test_an_override_must_be_a_known_outcome() -> None:
    with pytest.raises(ValueError, match="override"):
        decide(assess(findings()), override="maybe", override_reason="because")
