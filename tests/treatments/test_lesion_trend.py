"""The lesion trend (figures per baseline and session) and its charts, from known counts."""

from __future__ import annotations

from datetime import date

import pytest

from treatments.charts import line_chart, nice_step
from treatments.lesion_trend import BASELINE, REVIEW, SESSION, Point, lesion_trend, percent_change

BASELINE_COUNTS = {
    "forehead": {"closed_comedones": 20, "papules": 4},
    "nose": {"open_comedones": 30},
    "chin": {"closed_comedones": 10, "pustules": 2},
}
SESSION_1 = {
    "forehead": {"closed_comedones": 14, "papules": 2},
    "nose": {"open_comedones": 24},
    "chin": {"closed_comedones": 8},
}
SESSION_2 = {"forehead": {"closed_comedones": 6}, "nose": {"open_comedones": 12}, "chin": {"closed_comedones": 3}}


def points() -> list[Point]:
    # Given out of order: the baseline always comes first, then sessions by date.
    return [
        Point(SESSION, date(2026, 2, 17), SESSION_2, number=2),
        Point(BASELINE, date(2026, 1, 20), BASELINE_COUNTS),
        Point(SESSION, date(2026, 2, 3), SESSION_1, number=1),
    ]


def test_percent_change_is_negative_for_fewer_lesions_and_none_without_a_baseline_count() -> None:
    assert percent_change(66, 21) == -68.2
    assert percent_change(10, 15) == 50.0
    assert percent_change(10, 10) == 0.0
    assert percent_change(0, 5) is None


def test_the_baseline_comes_first_and_each_session_reports_its_total_change_from_it() -> None:
    result = lesion_trend(points())
    assert [row.point.kind for row in result.rows] == [BASELINE, SESSION, SESSION]
    assert result.total_series() == [66, 48, 21]
    assert [row.total_change for row in result.rows] == [None, -27.3, -68.2]


def test_each_lesion_type_is_summed_over_every_zone_at_each_point() -> None:
    series = lesion_trend(points()).lesion_series()
    assert series["closed_comedones"] == [30, 22, 9]
    assert series["open_comedones"] == [30, 24, 12]
    assert series["papules"] == [4, 2, 0]
    assert series["pustules"] == [2, 0, 0]
    assert series["cysts"] == [0, 0, 0]


def test_zone_changes_compare_baseline_to_latest_and_leave_out_zones_empty_at_both() -> None:
    result = lesion_trend(points())
    assert result.zone_series()["forehead"] == [24, 16, 6]
    assert result.zone_series()["nose"] == [30, 24, 12]
    assert result.zone_series()["left_cheek"] == [0, 0, 0]
    changes = {change.label: (change.baseline, change.latest, change.percent) for change in result.zone_changes()}
    assert changes == {"Forehead": (24, 6, -75.0), "Nose": (30, 12, -60.0), "Chin": (12, 3, -75.0)}


def test_each_point_is_graded_by_the_gags_score_of_its_own_counts() -> None:
    result = lesion_trend(points())
    # Baseline: forehead papule 2x2=4, nose comedone 1x1=1, chin pustule 1x3=3 -> 8 (mild).
    # Session 1: forehead 2x2=4, nose 1, chin comedone 1 -> 6. Session 2: 2 + 1 + 1 -> 4.
    assert result.gags_series() == [8, 6, 4]
    assert {row.band for row in result.rows} == {"mild"}


def test_optional_zones_appear_only_when_counted() -> None:
    assert [zone.value for zone in lesion_trend(points()).zones][-1] == "jawline"
    with_back = [*points(), Point(SESSION, date(2026, 3, 3), {"back": {"papules": 3}}, number=3)]
    assert [zone.value for zone in lesion_trend(with_back).zones][-1] == "back"


def test_without_a_baseline_there_is_no_change_to_report() -> None:
    result = lesion_trend([Point(SESSION, date(2026, 2, 3), SESSION_1, number=1)])
    assert result.baseline is None
    assert result.rows[0].total_change is None
    assert result.zone_changes() == []


@pytest.mark.parametrize(("maximum", "step"), [(0, 1), (4, 1), (9, 2), (48, 10), (66, 20), (240, 50)])
def test_chart_y_axis_steps_are_1_2_or_5_times_a_power_of_ten(maximum: int, step: int) -> None:
    assert nice_step(maximum) == step


def test_a_chart_puts_zero_at_the_bottom_and_the_maximum_within_the_plot() -> None:
    chart = line_chart(title="Total", x_labels=["Baseline", "1", "2"], series=[("Total", [66, 48, 21])])
    line = chart.lines[0]
    ys = [marker.y for marker in line.markers]
    assert ys[0] < ys[1] < ys[2] < chart.bottom_edge
    assert min(ys) >= chart.top
    assert chart.y_ticks[0].label == "0"
    assert chart.y_ticks[0].position == chart.bottom_edge
    assert chart.y_ticks[-1].label == "80"
    assert [marker.x for marker in line.markers] == [chart.left, (chart.left + chart.right_edge) / 2, chart.right_edge]


def test_a_chart_refuses_a_series_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="2 values for 3"):
        line_chart(title="x", x_labels=["a", "b", "c"], series=[("s", [1, 2])])


def test_extracted_counts_are_a_separate_series_of_the_sessions_only() -> None:
    extracted_1 = {"nose": {"open_comedones": 20}}
    extracted_2 = {"nose": {"open_comedones": 9}, "chin": {"closed_comedones": 3}}
    result = lesion_trend(
        [
            Point(BASELINE, date(2026, 1, 20), BASELINE_COUNTS),
            Point(SESSION, date(2026, 2, 3), SESSION_1, number=1, extracted=extracted_1),
            Point(SESSION, date(2026, 2, 17), SESSION_2, number=2, extracted=extracted_2),
            Point(REVIEW, date(2026, 3, 24), {"nose": {"open_comedones": 5}}),
        ]
    )
    # What is present drives the totals and the change; what was extracted never does.
    assert result.total_series() == [66, 48, 21, 5]
    assert [row.point.kind for row in result.extracted_rows()] == [SESSION, SESSION]
    assert result.extracted_series() == [20, 12]
    assert result.latest is not None
    assert result.latest.point.kind == REVIEW
    assert result.latest.total_change == -92.4
