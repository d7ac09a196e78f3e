"""The extraction decision rules (consultations/rules.py): every rule alone, combinations, overrides.

Below the original rules: the whole health history (issue 10): the new rules, cautions,
hard stops, the consistency checks and every vignette the issue reported. Property tests
are in ``test_rules_properties.py``.

None of these tests touches the database: pytest-django refuses DB access without the
``db`` fixture, so passing here also proves the rules are pure.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from consultations.rules import (
    CAUTIONS,
    CAUTIONS_BY_ID,
    HARD_STOP_IDS,
    INFLAMMATORY_ACNE_MIN,
    MILD_CLOSED_COMEDONES_MAX,
    MIN_COMEDONES_FOR_INDICATION,
    MODERATE_INFLAMMATORY_LESIONS_MIN,
    NO_INDICATION,
    RESURFACING_WAIT_DAYS,
    RETINOID_PAUSE_DAYS,
    RULES,
    RULES_BY_ID,
    RULESET_VERSION,
    SEVERE_INFLAMMATORY_LESIONS_OVER,
    WIDESPREAD_CONGESTION_MIN_COMEDONES,
    Findings,
    Kind,
    OverrideNeedsReason,
    OverrideRefused,
    assess,
    decide,
    inconsistencies,
    override_allowed,
    override_refusal,
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
    ({"congestion": "widespread", "open_comedones": 20}, "recommended", "IND_WIDESPREAD_CONGESTION"),
    ({"closed_comedones": 25, "whiteheads_often_inflame": True}, "recommended", "IND_WHITEHEADS_OFTEN_INFLAME"),
    (
        {"open_comedones": 12, "stalled_treatment": "Adapalene 0.1% nightly, 12 weeks, no change since week 6"},
        "recommended",
        "IND_CLOGGED_PORES_HINDER_PROGRESS",
    ),
    ({"barrier": "irritated"}, "defer", "CI_BARRIER_COMPROMISED"),
    ({"barrier": "inflamed"}, "defer", "CI_BARRIER_COMPROMISED"),
    ({"active_infection": True}, "defer", "CI_ACTIVE_INFECTION"),
    ({"sensitivity": "extreme"}, "defer", "CI_EXTREME_SENSITIVITY"),
    ({"isotretinoin_within_6_months": True}, "defer", "CI_RECENT_ISOTRETINOIN"),
    ({"active_cold_sore": True}, "defer", "CI_ACTIVE_COLD_SORE"),
    ({"rosacea_or_eczema_flare": True}, "defer", "CI_ROSACEA_OR_ECZEMA_FLARE"),
    ({"open_wound_or_sunburn": True}, "defer", "CI_OPEN_WOUND_OR_SUNBURN"),
    ({"days_since_resurfacing": 3}, "defer", "CI_RECENT_RESURFACING"),
    ({"nodules": 1}, "not_recommended", "CI_CYSTIC_ACNE"),
    ({"cysts": 2}, "not_recommended", "CI_CYSTIC_ACNE"),
    ({"iga": 4}, "not_recommended", "CI_SEVERE_INFLAMMATORY_ACNE"),
    ({"pustules": 51}, "not_recommended", "CI_SEVERE_INFLAMMATORY_ACNE"),
    ({"papules": 10}, "not_recommended", "CI_INFLAMMATORY_ACNE"),
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


def test_no_two_rules_or_cautions_share_an_id() -> None:
    ids = [rule.id for rule in RULES] + [caution.id for caution in CAUTIONS]
    assert len(ids) == len(set(ids))


def test_sensitive_but_not_extreme_skin_is_no_contraindication() -> None:
    result = assess(findings(sensitivity="sensitive", congestion="widespread", open_comedones=30))
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
        (1, 8, "NO_INDICATION"),
        (MIN_COMEDONES_FOR_INDICATION - 1, 12, "NO_INDICATION"),
    ],
)
def test_whiteheads_are_mild_below_twenty_and_an_indication_from_five_after_eight_weeks_of_care(
    closed: int, weeks: int | None, reason: str
) -> None:
    assert assess(findings(closed_comedones=closed, weeks_consistent_skincare=weeks)).reasons == (reason,)


def test_whiteheads_that_often_inflame_are_not_mild_even_when_few() -> None:
    result = assess(findings(closed_comedones=MIN_COMEDONES_FOR_INDICATION, whiteheads_often_inflame=True))
    assert result.outcome == "recommended"
    assert result.reasons == ("IND_WHITEHEADS_OFTEN_INFLAME",)


def test_a_tendency_to_inflame_without_whiteheads_today_is_no_indication() -> None:
    assert assess(findings(whiteheads_often_inflame=True)).reasons == ("NO_INDICATION",)


def test_unknown_weeks_of_skincare_never_count_as_a_full_trial() -> None:
    assert assess(findings(closed_comedones=30, weeks_consistent_skincare=None)).reasons == ("NO_INDICATION",)


def test_several_indications_are_all_reported() -> None:
    result = assess(
        findings(
            closed_comedones=30,
            open_comedones=10,
            weeks_consistent_skincare=9,
            congestion="widespread",
            whiteheads_often_inflame=True,
            stalled_treatment="Salicylic acid cleanser and adapalene, 10 weeks, plateaued",
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


def test_a_not_recommended_outcome_gives_its_reasons_and_what_to_do_meanwhile() -> None:
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
        {"fitzpatrick": 0},
        {"fitzpatrick": 7},
        {"iga": 5},
        {"iga": -1},
        {"days_since_resurfacing": -1},
        {"stalled_treatment": None},
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
    decision = decide(assess(findings(congestion="widespread", open_comedones=30)))
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
    decision = decide(assess(findings(congestion="widespread", open_comedones=30)), override="recommended")
    assert not decision.overridden


def test_an_override_must_be_a_known_outcome() -> None:
    with pytest.raises(ValueError, match="override"):
        decide(assess(findings()), override="maybe", override_reason="because")


# --- The whole health history (issue 10) -----------------------------------------------

# Findings the rules recommend extraction for: many persistent whiteheads, well counted.
RECOMMENDED = {"closed_comedones": 25, "open_comedones": 10, "weeks_consistent_skincare": 10}

STALLED = "Adapalene 0.1% nightly for 12 weeks; no change since week 6"

# Each caution triggered alone: the findings and the caution id.
CAUTION_ALONE = [
    ({"fitzpatrick": 4}, "CA_PIGMENTATION_RISK"),
    ({"fitzpatrick": 6}, "CA_PIGMENTATION_RISK"),
    ({"keloid_history": True}, "CA_KELOID_HISTORY"),
    ({"anticoagulant_or_bleeding_disorder": True}, "CA_BLEEDING_RISK"),
    ({"immunosuppressed_or_diabetic": True}, "CA_INFECTION_RISK"),
    ({"pregnant_or_breastfeeding": True}, "CA_PREGNANCY"),
    ({"topical_retinoid": True}, "CA_TOPICAL_RETINOID"),
]


def test_the_thirteen_field_call_of_before_still_works_and_reports_no_caution() -> None:
    result = assess(findings(**RECOMMENDED))
    assert result.outcome == "recommended"
    assert result.cautions == ()
    assert result.lancet_allowed
    assert result.hard_stops == ()
    assert result.overridable


def test_the_ruleset_version_was_bumped_for_the_health_history() -> None:
    assert RULESET_VERSION != "2026.1"
    assert assess(findings()).ruleset_version == RULESET_VERSION


@pytest.mark.parametrize(("overrides", "caution"), CAUTION_ALONE)
def test_each_caution_alone_travels_with_the_patient_and_leaves_the_outcome(
    overrides: dict[str, Any], caution: str
) -> None:
    result = assess(findings(**RECOMMENDED, **overrides))
    assert result.outcome == "recommended"
    assert result.reasons == ("IND_PERSISTENT_WHITEHEADS",)
    assert result.cautions == (caution,)


def test_rules_md_lists_every_rule_and_caution_and_the_current_version() -> None:
    import consultations.rules as module

    text = (Path(module.__file__).parent / "RULES.md").read_text(encoding="utf-8")
    for rule_id in (*RULES_BY_ID, *CAUTIONS_BY_ID):
        assert f"`{rule_id}`" in text, f"{rule_id} is missing from consultations/RULES.md"
    assert f"**{RULESET_VERSION}**" in text


def test_the_retinoid_pause_in_the_advice_is_the_documented_one() -> None:
    assert f"{RETINOID_PAUSE_DAYS} days" in str(CAUTIONS_BY_ID["CA_TOPICAL_RETINOID"].advice)


def test_every_caution_is_tested_alone() -> None:
    assert {caution for _, caution in CAUTION_ALONE} == set(CAUTIONS_BY_ID)


def test_every_caution_is_documented_with_a_source_an_explanation_and_advice() -> None:
    import consultations.rules as module

    for caution in CAUTIONS:
        assert caution.source.strip()
        assert str(caution.explanation).strip()
        assert str(caution.advice).strip()
        assert caution.id in (module.__doc__ or ""), f"{caution.id} is missing from the module docstring"


@pytest.mark.parametrize("fitzpatrick", [None, 1, 2, 3])
def test_fitzpatrick_i_to_iii_or_unrecorded_is_no_pigmentation_caution(fitzpatrick: int | None) -> None:
    assert assess(findings(**RECOMMENDED, fitzpatrick=fitzpatrick)).cautions == ()


def test_cautions_accumulate_in_a_fixed_order_whatever_the_outcome() -> None:
    every_caution = {key: value for overrides, _ in CAUTION_ALONE for key, value in overrides.items()}
    for base in (RECOMMENDED, {"barrier": "irritated"}, {"nodules": 1}, {}):
        result = assess(findings(**base, **every_caution))
        assert result.cautions == tuple(caution.id for caution in CAUTIONS), base


@pytest.mark.parametrize(
    ("overrides", "lancet"),
    [
        ({"fitzpatrick": 5}, False),
        ({"keloid_history": True}, False),
        ({"anticoagulant_or_bleeding_disorder": True}, False),
        ({"immunosuppressed_or_diabetic": True}, True),
        ({"pregnant_or_breastfeeding": True}, True),
        ({"topical_retinoid": True}, True),
        ({"fitzpatrick": 3}, True),
    ],
)
def test_the_lancet_is_ruled_out_by_pigmentation_keloid_and_bleeding_cautions_only(
    overrides: dict[str, Any], lancet: bool
) -> None:
    assert assess(findings(**RECOMMENDED, **overrides)).lancet_allowed is lancet


def test_pregnancy_rules_out_retinoids_and_ibuprofen_and_bleeding_rules_out_ibuprofen() -> None:
    pregnant = assess(findings(**RECOMMENDED, pregnant_or_breastfeeding=True))
    assert not pregnant.retinoids_allowed
    assert not pregnant.nsaids_allowed
    bleeding = assess(findings(**RECOMMENDED, anticoagulant_or_bleeding_disorder=True))
    assert bleeding.retinoids_allowed
    assert not bleeding.nsaids_allowed
    plain = assess(findings(**RECOMMENDED))
    assert plain.retinoids_allowed
    assert plain.nsaids_allowed


def test_the_retinoid_caution_says_to_pause_it_before_each_session() -> None:
    (caution,) = assess(findings(**RECOMMENDED, topical_retinoid=True)).caution_rules
    assert "before each session" in str(caution.advice)


def test_the_pregnancy_caution_advises_acetaminophen_rather_than_ibuprofen_and_no_retinoids() -> None:
    advice = str(CAUTIONS_BY_ID["CA_PREGNANCY"].advice).lower()
    assert "acetaminophen" in advice
    assert "without retinoids" in advice


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"active_cold_sore": True}, "CI_ACTIVE_COLD_SORE"),
        ({"rosacea_or_eczema_flare": True}, "CI_ROSACEA_OR_ECZEMA_FLARE"),
        ({"open_wound_or_sunburn": True}, "CI_OPEN_WOUND_OR_SUNBURN"),
        ({"days_since_resurfacing": 0}, "CI_RECENT_RESURFACING"),
    ],
)
def test_each_new_defer_beats_a_strong_indication_and_says_what_to_do_meanwhile(
    overrides: dict[str, Any], reason: str
) -> None:
    result = assess(findings(**RECOMMENDED, congestion="widespread", **overrides))
    assert result.outcome == "defer"
    assert result.reasons == (reason,)
    assert result.outweighed == ("IND_PERSISTENT_WHITEHEADS", "IND_WIDESPREAD_CONGESTION")
    assert result.meanwhile
    assert result.recheck_after_days


def test_the_cold_sore_defer_says_extraction_spreads_the_herpes_virus() -> None:
    (rule,) = assess(findings(active_cold_sore=True)).rules
    assert "herpes simplex" in str(rule.explanation)


@pytest.mark.parametrize(
    ("days", "deferred"),
    [(0, True), (RESURFACING_WAIT_DAYS - 1, True), (RESURFACING_WAIT_DAYS, False), (60, False), (None, False)],
)
def test_resurfacing_defers_for_fourteen_days(days: int | None, deferred: bool) -> None:
    result = assess(findings(**RECOMMENDED, days_since_resurfacing=days))
    assert ("CI_RECENT_RESURFACING" in result.reasons) is deferred
    assert result.outcome == ("defer" if deferred else "recommended")


def test_every_contraindication_that_applies_is_reported_and_referral_outranks_defer() -> None:
    result = assess(
        findings(
            **RECOMMENDED,
            barrier="inflamed",
            active_infection=True,
            sensitivity="extreme",
            isotretinoin_within_6_months=True,
            active_cold_sore=True,
            rosacea_or_eczema_flare=True,
            open_wound_or_sunburn=True,
            days_since_resurfacing=2,
            nodules=1,
            iga=4,
        )
    )
    assert result.outcome == "not_recommended"
    assert result.reasons == (
        "CI_BARRIER_COMPROMISED",
        "CI_ACTIVE_INFECTION",
        "CI_EXTREME_SENSITIVITY",
        "CI_RECENT_ISOTRETINOIN",
        "CI_ACTIVE_COLD_SORE",
        "CI_ROSACEA_OR_ECZEMA_FLARE",
        "CI_OPEN_WOUND_OR_SUNBURN",
        "CI_RECENT_RESURFACING",
        "CI_CYSTIC_ACNE",
        "CI_SEVERE_INFLAMMATORY_ACNE",
    )
    assert result.outweighed == ("IND_PERSISTENT_WHITEHEADS",)
    assert result.recheck_after_days is None
    assert set(result.hard_stops) == HARD_STOP_IDS


def test_new_defers_together_take_the_longest_recheck() -> None:
    result = assess(findings(active_cold_sore=True, rosacea_or_eczema_flare=True, open_wound_or_sunburn=True))
    assert result.outcome == "defer"
    assert result.recheck_after_days == 28
    assert len(result.meanwhile) == 3


# Severity gates the decision.


@pytest.mark.parametrize(
    ("inflammatory", "reason"),
    [
        (SEVERE_INFLAMMATORY_LESIONS_OVER, "CI_INFLAMMATORY_ACNE"),
        (SEVERE_INFLAMMATORY_LESIONS_OVER + 1, "CI_SEVERE_INFLAMMATORY_ACNE"),
    ],
)
def test_more_than_fifty_papules_and_pustules_is_severe(inflammatory: int, reason: str) -> None:
    result = assess(findings(papules=inflammatory // 2, pustules=inflammatory - inflammatory // 2))
    assert result.outcome == "not_recommended"
    assert result.reasons == (reason,)


def test_severe_inflammatory_acne_beats_every_comedonal_indication() -> None:
    result = assess(findings(**RECOMMENDED, congestion="widespread", papules=30, pustules=21))
    assert result.outcome == "not_recommended"
    assert result.reasons == ("CI_SEVERE_INFLAMMATORY_ACNE",)
    assert result.outweighed == ("IND_PERSISTENT_WHITEHEADS", "IND_WIDESPREAD_CONGESTION")


@pytest.mark.parametrize("iga", [None, 0, 1, 2, 3])
def test_an_iga_below_four_does_not_gate_a_comedonal_indication(iga: int | None) -> None:
    result = assess(findings(**RECOMMENDED, papules=3, iga=iga))
    assert result.outcome == "recommended"


@pytest.mark.parametrize(
    ("papules", "pustules", "reason"),
    [
        (1, 0, "NO_INDICATION"),
        (INFLAMMATORY_ACNE_MIN, 0, "CI_INFLAMMATORY_ACNE"),
        (0, 12, "CI_INFLAMMATORY_ACNE"),
    ],
)
def test_inflammatory_acne_without_a_comedonal_indication_is_referred_from_two_lesions(
    papules: int, pustules: int, reason: str
) -> None:
    assert assess(findings(papules=papules, pustules=pustules)).reasons == (reason,)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        # Comedonal acne with a couple of papules, topical care not yet tried: no referral.
        ({"closed_comedones": 25, "open_comedones": 30, "papules": 2}, "NO_INDICATION"),
        ({"closed_comedones": 6, "open_comedones": 4, "papules": 3}, "CI_MILD_WHITEHEADS"),
        # Papules and pustules outnumber the comedones: inflammatory acne.
        ({"open_comedones": 3, "papules": 3}, "CI_INFLAMMATORY_ACNE"),
        # A moderate inflammatory count is inflammatory acne whatever the comedones.
        (
            {"closed_comedones": 40, "papules": 10, "pustules": MODERATE_INFLAMMATORY_LESIONS_MIN - 10},
            "CI_INFLAMMATORY_ACNE",
        ),
        ({"closed_comedones": 40, "papules": 10, "pustules": MODERATE_INFLAMMATORY_LESIONS_MIN - 11}, "NO_INDICATION"),
    ],
)
def test_acne_is_inflammatory_when_papules_and_pustules_predominate_or_reach_a_moderate_count(
    overrides: dict[str, Any], reason: str
) -> None:
    assert assess(findings(**overrides)).reasons == (reason,)


def test_inflammatory_lesions_beside_a_comedonal_indication_do_not_refer() -> None:
    result = assess(findings(**RECOMMENDED, papules=8, pustules=6))
    assert result.outcome == "recommended"
    assert result.reasons == ("IND_PERSISTENT_WHITEHEADS",)


def test_inflammatory_acne_with_mild_whiteheads_reports_both_reasons() -> None:
    result = assess(findings(closed_comedones=4, papules=10))
    assert result.reasons == ("CI_INFLAMMATORY_ACNE", "CI_MILD_WHITEHEADS")


# Indications need a minimum burden.


@pytest.mark.parametrize(
    ("comedones", "applies"),
    [(0, False), (WIDESPREAD_CONGESTION_MIN_COMEDONES - 1, False), (WIDESPREAD_CONGESTION_MIN_COMEDONES, True)],
)
def test_widespread_congestion_is_an_indication_only_with_twenty_comedones_counted(
    comedones: int, applies: bool
) -> None:
    result = assess(findings(congestion="widespread", open_comedones=comedones))
    assert ("IND_WIDESPREAD_CONGESTION" in result.reasons) is applies


@pytest.mark.parametrize(
    ("overrides", "applies"),
    [
        ({"open_comedones": 30, "weeks_consistent_skincare": 12}, False),
        ({"open_comedones": MIN_COMEDONES_FOR_INDICATION - 1, "stalled_treatment": STALLED}, False),
        ({"open_comedones": MIN_COMEDONES_FOR_INDICATION, "stalled_treatment": STALLED}, True),
        ({"open_comedones": 2, "closed_comedones": 3, "stalled_treatment": STALLED}, True),
        ({"open_comedones": 30, "stalled_treatment": "   "}, False),
    ],
)
def test_clogged_pores_hinder_progress_only_when_a_named_treatment_has_stalled(
    overrides: dict[str, Any], applies: bool
) -> None:
    result = assess(findings(**overrides))
    assert ("IND_CLOGGED_PORES_HINDER_PROGRESS" in result.reasons) is applies


def test_a_stalled_treatment_means_few_whiteheads_are_not_mild_any_more() -> None:
    result = assess(findings(closed_comedones=6, stalled_treatment=STALLED))
    assert result.reasons == ("IND_CLOGGED_PORES_HINDER_PROGRESS",)


def test_whiteheads_that_often_inflame_need_five_today_to_be_an_indication() -> None:
    few = assess(findings(closed_comedones=MIN_COMEDONES_FOR_INDICATION - 1, whiteheads_often_inflame=True))
    assert few.reasons == ("CI_MILD_WHITEHEADS",)


# --- Hard stops and the override ------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "stop"),
    [
        ({"active_infection": True}, "CI_ACTIVE_INFECTION"),
        ({"active_cold_sore": True}, "CI_ACTIVE_COLD_SORE"),
        ({"nodules": 1}, "CI_CYSTIC_ACNE"),
        ({"cysts": 1}, "CI_CYSTIC_ACNE"),
        ({"iga": 4}, "CI_SEVERE_INFLAMMATORY_ACNE"),
        ({"papules": 40, "pustules": 11}, "CI_SEVERE_INFLAMMATORY_ACNE"),
    ],
)
def test_a_hard_stop_cannot_be_overridden_to_recommended_whatever_the_reason(
    overrides: dict[str, Any], stop: str
) -> None:
    assessment = assess(findings(**RECOMMENDED, **overrides))
    assert assessment.hard_stops == (stop,)
    assert not assessment.overridable
    assert not override_allowed(assessment, "recommended")
    refusal = override_refusal(assessment, "recommended")
    assert refusal is not None
    assert str(RULES_BY_ID[stop].explanation) in refusal
    with pytest.raises(OverrideRefused, match="No override"):
        decide(assessment, override="recommended", override_reason="Patient insists; fully informed.")


def test_a_hard_stop_may_still_be_overridden_to_another_outcome_with_a_reason() -> None:
    assessment = assess(findings(active_infection=True))
    assert override_allowed(assessment, "not_recommended")
    decision = decide(assessment, override="not_recommended", override_reason="Refer instead: recurrent.")
    assert decision.final_outcome == "not_recommended"


def test_a_refused_override_is_also_caught_as_an_override_needing_a_reason() -> None:
    # Callers that only know OverrideNeedsReason still refuse rather than fail.
    with pytest.raises(OverrideNeedsReason):
        decide(assess(findings(nodules=2)), override="recommended", override_reason="ok")


@pytest.mark.parametrize(
    "overrides",
    [
        {"barrier": "irritated"},
        {"barrier": "inflamed"},
        {"sensitivity": "extreme"},
        {"rosacea_or_eczema_flare": True},
        {"closed_comedones": 4},
        {},
    ],
)
def test_a_defer_for_barrier_or_sensitivity_or_a_soft_no_can_be_overridden_with_a_written_reason(
    overrides: dict[str, Any],
) -> None:
    assessment = assess(findings(**overrides))
    assert assessment.hard_stops == ()
    assert assessment.overridable
    assert override_allowed(assessment, "recommended")
    with pytest.raises(OverrideNeedsReason):
        decide(assessment, override="recommended")
    decision = decide(assessment, override="recommended", override_reason="Event in 3 weeks; patient informed.")
    assert decision.final_outcome == "recommended"


# --- Findings that contradict each other ------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"congestion": "widespread"}, "congestion"),
        ({"congestion": "widespread", "closed_comedones": WIDESPREAD_CONGESTION_MIN_COMEDONES - 1}, "congestion"),
        ({"congestion": "none", "open_comedones": 25}, "congestion"),
        ({"iga": 0, "closed_comedones": 1}, "iga"),
        ({"iga": 1, "papules": 2}, "iga"),
        ({"iga": 1, "nodules": 1}, "iga"),
        ({"iga": 2, "cysts": 1}, "iga"),
        ({"iga": 3, "nodules": 2}, "iga"),
        ({"iga": 2, "papules": 30, "pustules": 25}, "iga"),
        ({"iga": 4}, "iga"),
    ],
)
def test_contradicting_findings_are_named_beside_their_field(overrides: dict[str, Any], field: str) -> None:
    found = inconsistencies(findings(**overrides))
    assert [item.field for item in found] == [field]
    assert str(found[0]).strip()


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"congestion": "widespread", "open_comedones": 15, "closed_comedones": 5},
        {"congestion": "localized", "closed_comedones": 3},
        {"congestion": "none", "closed_comedones": 4},
        {"iga": 0},
        {"iga": 1, "closed_comedones": 3, "papules": 1},
        {"iga": 2, "closed_comedones": 12, "papules": 4},
        {"iga": 3, "congestion": "localized", "open_comedones": 30, "pustules": 15, "nodules": 1},
        {"iga": 4, "papules": 40, "pustules": 20, "nodules": 3},
    ],
)
def test_consistent_findings_have_no_inconsistency(overrides: dict[str, Any]) -> None:
    assert inconsistencies(findings(**overrides)) == ()


# --- Every finding the issue reported, reproduced --------------------------------------------


def test_iga_4_with_30_pustules_at_10_weeks_is_referred_not_recommended() -> None:
    result = assess(findings(**RECOMMENDED, pustules=30, iga=4))
    assert result.outcome == "not_recommended"
    assert result.reasons == ("CI_SEVERE_INFLAMMATORY_ACNE",)
    assert any("doctor" in str(text) for text in result.meanwhile)
    assert not result.overridable


def test_30_pustules_and_20_papules_without_comedones_get_the_inflammatory_referral_not_no_indication() -> None:
    result = assess(findings(pustules=30, papules=20))
    assert result.outcome == "not_recommended"
    assert result.reasons == ("CI_INFLAMMATORY_ACNE",)
    assert "nothing to gain" not in str(result.rules[0].explanation)
    assert any("doctor" in str(text) for text in result.meanwhile)


def test_one_whitehead_after_8_weeks_is_not_an_indication() -> None:
    result = assess(findings(closed_comedones=1, weeks_consistent_skincare=8))
    assert result.outcome == "not_recommended"
    assert result.reasons == ("NO_INDICATION",)


def test_one_blackhead_after_8_weeks_without_a_stalled_treatment_is_not_clogged_pores_interfering() -> None:
    result = assess(findings(open_comedones=1, weeks_consistent_skincare=8))
    assert result.outcome == "not_recommended"
    assert result.reasons == ("NO_INDICATION",)


def test_one_blackhead_is_no_indication_even_beside_a_stalled_treatment() -> None:
    assert assess(findings(open_comedones=1, stalled_treatment=STALLED)).reasons == ("NO_INDICATION",)


def test_widespread_congestion_with_no_lesions_counted_is_inconsistent_and_not_recommended() -> None:
    f = findings(congestion="widespread", weeks_consistent_skincare=12)
    assert [item.field for item in inconsistencies(f)] == ["congestion"]
    assert assess(f).outcome != "recommended"


@pytest.mark.parametrize(
    ("overrides", "caution", "reason"),
    [
        ({"pregnant_or_breastfeeding": True}, "CA_PREGNANCY", None),
        ({"rosacea_or_eczema_flare": True}, None, "CI_ROSACEA_OR_ECZEMA_FLARE"),
        ({"active_cold_sore": True}, None, "CI_ACTIVE_COLD_SORE"),
        ({"keloid_history": True}, "CA_KELOID_HISTORY", None),
        ({"topical_retinoid": True}, "CA_TOPICAL_RETINOID", None),
        ({"fitzpatrick": 5}, "CA_PIGMENTATION_RISK", None),
        ({"anticoagulant_or_bleeding_disorder": True}, "CA_BLEEDING_RISK", None),
        ({"immunosuppressed_or_diabetic": True}, "CA_INFECTION_RISK", None),
    ],
)
def test_every_recorded_history_item_yields_its_caution_or_defer(
    overrides: dict[str, Any], caution: str | None, reason: str | None
) -> None:
    result = assess(findings(**RECOMMENDED, **overrides))
    if caution is not None:
        assert caution in result.cautions
    if reason is not None:
        assert result.outcome == "defer"
        assert reason in result.reasons


def test_a_cystic_acne_no_cannot_be_overridden_to_recommended_with_ok() -> None:
    assessment = assess(findings(**RECOMMENDED, cysts=2))
    with pytest.raises(OverrideRefused):
        decide(assessment, override="recommended", override_reason="ok")
