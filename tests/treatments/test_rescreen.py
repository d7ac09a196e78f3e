"""The day-of re-screen rules: pure data and functions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from consultations.models import BarrierStatus
from consultations.rules import RULES_BY_ID, Kind, Outcome
from treatments.rescreen import RESCREEN_RULES, RescreenAnswers, consultation_rule, rescreen

CLEAR = RescreenAnswers(
    barrier="intact",
    active_infection=False,
    isotretinoin_since_consultation=False,
    topical_retinoid_since_consultation=False,
    sunburn=False,
)


def test_a_clear_rescreen_stops_nothing() -> None:
    result = rescreen(CLEAR)
    assert (result.stopped, result.reasons) == (False, ())


@pytest.mark.parametrize("barrier", ["irritated", "inflamed"])
def test_an_irritated_or_inflamed_barrier_today_stops_the_session(barrier: str) -> None:
    assert rescreen(replace(CLEAR, barrier=barrier)).reasons == ("RS_BARRIER_COMPROMISED",)


def test_every_finding_at_once_gives_every_reason_in_rule_order() -> None:
    # With no retinoid in the plan, every rule but the plan's-retinoid pause can apply at once.
    result = rescreen(
        RescreenAnswers(
            barrier="inflamed",
            active_infection=True,
            isotretinoin_since_consultation=True,
            topical_retinoid_since_consultation=True,
            sunburn=True,
            new_pregnancy=True,
            new_nodules_or_cysts=True,
            extreme_sensitivity=True,
            active_cold_sore=True,
            new_medication="doxycycline 100 mg since last week",
        )
    )
    expected = tuple(rule.id for rule in RESCREEN_RULES if rule.id != "RS_RETINOID_PAUSE_NOT_KEPT")
    assert result.reasons == expected
    assert len(result.explanations) == len(RESCREEN_RULES) - 1


@pytest.mark.parametrize(
    ("answer", "rule_id"),
    [
        ({"new_pregnancy": True}, "RS_NEW_PREGNANCY"),
        ({"new_nodules_or_cysts": True}, "RS_NEW_NODULES_OR_CYSTS"),
        ({"extreme_sensitivity": True}, "RS_EXTREME_SENSITIVITY"),
        ({"active_cold_sore": True}, "RS_ACTIVE_COLD_SORE"),
        ({"new_medication": "warfarin"}, "RS_NEW_MEDICATION"),
    ],
)
def test_each_new_rescreen_question_stops_the_session_alone(answer: dict[str, object], rule_id: str) -> None:
    assert rescreen(replace(CLEAR, **answer)).reasons == (rule_id,)  # type: ignore[arg-type]


def test_a_blank_new_medication_is_no_new_medication() -> None:
    assert not rescreen(replace(CLEAR, new_medication="   ")).stopped


def test_the_plans_own_retinoid_is_expected_not_a_stop() -> None:
    answers = replace(CLEAR, topical_retinoid_since_consultation=True, retinoid_expected=True, retinoid_pause_kept=True)
    assert not rescreen(answers).stopped


def test_an_unplanned_retinoid_still_stops_the_session() -> None:
    answers = replace(CLEAR, topical_retinoid_since_consultation=True, retinoid_expected=False)
    assert rescreen(answers).reasons == ("RS_TOPICAL_RETINOID_STARTED",)


def test_the_plans_retinoid_not_paused_as_planned_stops_the_session() -> None:
    answers = replace(CLEAR, retinoid_expected=True, retinoid_pause_kept=False)
    assert rescreen(answers).reasons == ("RS_RETINOID_PAUSE_NOT_KEPT",)


def test_the_retinoid_pause_is_not_judged_when_the_plan_has_no_retinoid() -> None:
    assert not rescreen(replace(CLEAR, retinoid_expected=False, retinoid_pause_kept=False)).stopped


def test_every_rule_is_a_deferring_contraindication_with_a_source() -> None:
    for rule in RESCREEN_RULES:
        assert rule.kind is Kind.CONTRAINDICATION
        assert rule.outcome is Outcome.DEFER
        assert rule.source.startswith("PRODUCT.md")


def test_repeated_consultation_rules_exist_in_the_consultation_rules() -> None:
    repeated = [rule for rule in RESCREEN_RULES if rule.consultation_rule_id]
    assert {rule.consultation_rule_id for rule in repeated} == {
        "CI_BARRIER_COMPROMISED",
        "CI_ACTIVE_INFECTION",
        "CI_RECENT_ISOTRETINOIN",
        "CI_CYSTIC_ACNE",
        "CI_EXTREME_SENSITIVITY",
        "CI_ACTIVE_COLD_SORE",
    }
    for rule in repeated:
        assert consultation_rule(rule) is RULES_BY_ID[rule.consultation_rule_id or ""]


def test_an_unknown_barrier_value_is_refused() -> None:
    with pytest.raises(ValueError, match="barrier"):
        replace(CLEAR, barrier="dry")  # type: ignore[arg-type]


def test_the_session_form_and_the_rules_share_the_barrier_vocabulary() -> None:
    from consultations.rules import BARRIER_VALUES

    assert tuple(BarrierStatus.values) == BARRIER_VALUES
