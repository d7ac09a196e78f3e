"""GAGS (Doshi et al. 1997) from lesion counts per zone."""

from __future__ import annotations

import pytest

from consultations.grading import GAGS_MAX, Band, gags, gags_band, lesion_totals


def test_it_grades_a_known_face_as_zone_weight_times_its_worst_lesion() -> None:
    counts = {
        "forehead": {"open_comedones": 14, "closed_comedones": 20},  # 2 x 1
        "right_cheek": {"papules": 3, "closed_comedones": 5},  # 2 x 2
        "left_cheek": {"pustules": 1, "papules": 2},  # 2 x 3
        "nose": {"open_comedones": 30},  # 1 x 1
        "chin": {"nodules": 1},  # 1 x 4
    }
    result = gags(counts)
    assert [z.grade for z in result.zones] == [2, 4, 6, 1, 4, 0]
    assert result.total == 17
    assert result.band == Band.MILD


def test_chest_and_back_together_are_one_zone_of_weight_three() -> None:
    assert gags({"chest": {"pustules": 2}}).total == 9
    assert gags({"chest": {"pustules": 2}, "back": {"papules": 9}}).total == 9
    assert gags({"back": {"cysts": 1}}).total == 12


def test_jawline_folds_into_the_chin_zone_without_counting_twice() -> None:
    assert gags({"jawline": {"pustules": 1}}).total == 3
    assert gags({"jawline": {"pustules": 1}, "chin": {"open_comedones": 4}}).total == 3
    assert gags({"jawline": {"papules": 1}, "chin": {"nodules": 1}}).total == 4


def test_a_zone_scores_its_most_severe_lesion_not_how_many() -> None:
    assert gags({"forehead": {"closed_comedones": 250}}).total == 2
    assert gags({"forehead": {"papules": 1}}).total == 4


def test_cysts_score_as_nodules_and_both_comedones_as_comedones() -> None:
    assert gags({"nose": {"cysts": 1}}).total == gags({"nose": {"nodules": 1}}).total == 4
    assert gags({"nose": {"open_comedones": 1}}).total == gags({"nose": {"closed_comedones": 1}}).total == 1


def test_zero_counts_score_nothing() -> None:
    result = gags({"forehead": {"papules": 0}})
    assert result.total == 0
    assert result.band == Band.NONE


def test_the_worst_face_reaches_the_published_maximum() -> None:
    every_zone = ("forehead", "nose", "left_cheek", "right_cheek", "chin", "jawline", "chest", "back")
    result = gags({zone: {"nodules": 1} for zone in every_zone})
    assert result.total == GAGS_MAX == 44
    assert result.band == Band.VERY_SEVERE


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, Band.NONE),
        (1, Band.MILD),
        (18, Band.MILD),
        (19, Band.MODERATE),
        (30, Band.MODERATE),
        (31, Band.SEVERE),
        (38, Band.SEVERE),
        (39, Band.VERY_SEVERE),
        (44, Band.VERY_SEVERE),
    ],
)
def test_it_bands_a_total_at_doshis_published_cut_offs(total: int, band: Band) -> None:
    assert gags_band(total) == band


def test_lesion_totals_add_every_zone() -> None:
    totals = lesion_totals({"forehead": {"papules": 2}, "chin": {"papules": 1, "cysts": 1}})
    assert totals["papules"] == 3
    assert totals["cysts"] == 1
    assert totals["open_comedones"] == 0
