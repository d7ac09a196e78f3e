"""Bar charts (treatments.charts.bar_chart): figures side by side across categories."""

from __future__ import annotations

import pytest

from treatments import charts


def test_bars_stand_on_the_axis_with_heights_in_proportion_to_their_values() -> None:
    chart = charts.bar_chart(title="t", x_labels=["A", "B"], series=[("Sessions", [10, 5]), ("Booked", [4, 0])])
    bottom = charts.HEIGHT - charts.BOTTOM
    sessions, booked = chart.lines
    for bar in sessions.bars + booked.bars:
        assert bar.y + bar.height == pytest.approx(bottom)
    # 10 fills the axis up to its top tick (10); 5 is half as tall; 0 has no height.
    assert sessions.bars[0].height == pytest.approx(2 * sessions.bars[1].height)
    assert booked.bars[1].height == 0
    assert chart.y_ticks[-1].label == "10"


def test_each_label_s_bars_sit_side_by_side_inside_its_own_band_and_series_differ_in_fill() -> None:
    chart = charts.bar_chart(
        title="t", x_labels=["A", "B", "C"], series=[("one", [1, 2, 3]), ("two", [3, 2, 1]), ("three", [1, 1, 1])]
    )
    band = (charts.WIDTH - charts.LEFT - charts.RIGHT) / 3
    for index in range(3):
        lo, hi = charts.LEFT + band * index, charts.LEFT + band * (index + 1)
        bars = [line.bars[index] for line in chart.lines]
        assert all(lo <= bar.x and bar.x + bar.width <= hi for bar in bars)
        assert [bar.x for bar in bars] == sorted(bar.x for bar in bars)
        assert all(a.x + a.width <= b.x + 1e-9 for a, b in zip(bars, bars[1:], strict=False))
        # The tick sits in the middle of the band.
        assert chart.x_ticks[index].position == pytest.approx((lo + hi) / 2)
    assert [line.fill for line in chart.lines] == ["solid", "hatch", "dots"]
    assert chart.kind == "bar"


def test_a_label_longer_than_its_band_takes_two_lines_and_values_show_only_when_bars_are_wide_enough() -> None:
    wide = charts.bar_chart(
        title="t",
        x_labels=["Short", "Manual, fingers wrapped in cotton", "Manual, fingers wrapped in gauze", "Lancet"],
        series=[("n", [1, 2, 3, 4])],
    )
    assert (wide.x_ticks[0].label, wide.x_ticks[0].sublabel) == ("Short", "")
    cotton, gauze = wide.x_ticks[1], wide.x_ticks[2]
    # Broken between words; the ends, where the two differ, stay readable.
    assert cotton.label == "Manual, fingers"
    assert cotton.sublabel.endswith("in cotton")
    assert gauze.sublabel.endswith("in gauze")
    assert wide.bar_labels
    crowded = charts.bar_chart(title="t", x_labels=[str(i) for i in range(60)], series=[("n", [1] * 60)])
    assert not crowded.bar_labels
    one_word = charts.bar_chart(title="t", x_labels=["Supercalifragilistic"] * 8, series=[("n", [1] * 8)])
    assert one_word.x_ticks[0].label.endswith("…")
    assert len(one_word.x_ticks[0].label) < len("Supercalifragilistic")


def test_a_series_with_the_wrong_number_of_values_is_refused() -> None:
    with pytest.raises(ValueError, match="2 values for 3 x labels"):
        charts.bar_chart(title="t", x_labels=["a", "b", "c"], series=[("n", [1, 2])])
