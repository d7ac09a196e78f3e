"""Properties of the extraction decision that hold for any findings (hypothesis).

Pure: no database. Each property is one the clinic relies on whatever the numbers are.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consultations.rules import (
    BARRIER_VALUES,
    CAUTIONS,
    CONGESTION_VALUES,
    HARD_STOP_IDS,
    MIN_COMEDONES_FOR_INDICATION,
    RULES,
    SENSITIVITY_VALUES,
    WIDESPREAD_CONGESTION_MIN_COMEDONES,
    Findings,
    Kind,
    OverrideRefused,
    assess,
    decide,
    inconsistencies,
    override_allowed,
)

counts = st.integers(min_value=0, max_value=120)

any_findings = st.builds(
    Findings,
    barrier=st.sampled_from(BARRIER_VALUES),
    sensitivity=st.sampled_from(SENSITIVITY_VALUES),
    active_infection=st.booleans(),
    open_comedones=counts,
    closed_comedones=counts,
    papules=counts,
    pustules=counts,
    nodules=st.integers(min_value=0, max_value=5),
    cysts=st.integers(min_value=0, max_value=5),
    congestion=st.sampled_from(CONGESTION_VALUES),
    weeks_consistent_skincare=st.none() | st.integers(min_value=0, max_value=52),
    whiteheads_often_inflame=st.booleans(),
    isotretinoin_within_6_months=st.booleans(),
    fitzpatrick=st.none() | st.integers(min_value=1, max_value=6),
    iga=st.none() | st.integers(min_value=0, max_value=4),
    pregnant_or_breastfeeding=st.booleans(),
    active_cold_sore=st.booleans(),
    keloid_history=st.booleans(),
    anticoagulant_or_bleeding_disorder=st.booleans(),
    immunosuppressed_or_diabetic=st.booleans(),
    rosacea_or_eczema_flare=st.booleans(),
    open_wound_or_sunburn=st.booleans(),
    days_since_resurfacing=st.none() | st.integers(min_value=0, max_value=60),
    topical_retinoid=st.booleans(),
    stalled_treatment=st.sampled_from(["", "  ", "Adapalene 0.1% nightly, 12 weeks, plateaued"]),
)

# The hard-stop conditions, each forced onto otherwise arbitrary findings.
HARD_STOP_CONDITIONS: list[dict[str, Any]] = [
    {"active_infection": True},
    {"active_cold_sore": True},
    {"nodules": 1},
    {"cysts": 3},
    {"iga": 4},
    {"papules": 26, "pustules": 25},
]


@settings(max_examples=300, deadline=None)
@given(f=any_findings, condition=st.sampled_from(HARD_STOP_CONDITIONS))
def test_findings_with_a_hard_stop_never_yield_an_overridable_recommendation(
    f: Findings, condition: dict[str, Any]
) -> None:
    stopped = replace(f, **condition)
    result = assess(stopped)
    assert result.outcome != "recommended"
    assert result.hard_stops
    assert not result.overridable
    assert not override_allowed(result, "recommended")
    with pytest.raises(OverrideRefused):
        decide(result, override="recommended", override_reason="The patient insists.")


@settings(max_examples=300, deadline=None)
@given(f=any_findings)
def test_any_findings_get_a_reasoned_outcome_that_a_contraindication_always_decides(f: Findings) -> None:
    result = assess(f)
    assert result.reasons
    applying = [rule for rule in RULES if rule.check(f)]
    contraindications = [rule.id for rule in applying if rule.kind is Kind.CONTRAINDICATION]
    if contraindications:
        assert result.reasons == tuple(contraindications)
        assert result.outcome != "recommended"
    assert (result.outcome == "recommended") == (
        not contraindications and any(rule.kind is Kind.INDICATION for rule in applying)
    )
    assert set(result.hard_stops) == set(result.reasons) & HARD_STOP_IDS


@settings(max_examples=300, deadline=None)
@given(f=any_findings)
def test_cautions_follow_the_history_and_never_change_the_outcome(f: Findings) -> None:
    result = assess(f)
    assert result.cautions == tuple(caution.id for caution in CAUTIONS if caution.check(f))
    no_lancet = (f.fitzpatrick or 0) >= 4 or f.keloid_history or f.anticoagulant_or_bleeding_disorder
    assert result.lancet_allowed is not no_lancet
    without_cautions = replace(
        f,
        fitzpatrick=None,
        keloid_history=False,
        anticoagulant_or_bleeding_disorder=False,
        immunosuppressed_or_diabetic=False,
        pregnant_or_breastfeeding=False,
        topical_retinoid=False,
    )
    bare = assess(without_cautions)
    assert (bare.outcome, bare.reasons) == (result.outcome, result.reasons)


@settings(max_examples=300, deadline=None)
@given(f=any_findings)
def test_an_indication_never_rests_on_a_lesion_or_two_or_on_uncounted_congestion(f: Findings) -> None:
    result = assess(f)
    indications = {*result.outweighed, *(r for r in result.reasons if r.startswith("IND_"))}
    if indications:
        assert f.comedones >= MIN_COMEDONES_FOR_INDICATION
    if "IND_WIDESPREAD_CONGESTION" in indications:
        assert f.comedones >= WIDESPREAD_CONGESTION_MIN_COMEDONES
        assert all(item.field != "congestion" for item in inconsistencies(f))
