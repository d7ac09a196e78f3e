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
    result = rescreen(
        RescreenAnswers(
            barrier="inflamed",
            active_infection=True,
            isotretinoin_since_consultation=True,
            topical_retinoid_since_consultation=True,
            sunburn=True,
        )
    )
    assert result.reasons == tuple(rule.id for rule in RESCREEN_RULES)
    assert len(result.explanations) == 5


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
    }
    for rule in repeated:
        assert consultation_rule(rule) is RULES_BY_ID[rule.consultation_rule_id or ""]


def test_an_unknown_barrier_value_is_refused() -> None:
    with pytest.raises(ValueError, match="barrier"):
        replace(CLEAR, barrier="dry")  # type: ignore[arg-type]


def test_the_session_form_and_the_rules_share_the_barrier_vocabulary() -> None:
    from consultations.rules import BARRIER_VALUES

    assert tuple(BarrierStatus.values) == BARRIER_VALUES
