"""The face map's form: the table of counts that the SVG only decorates."""

from __future__ import annotations

from django.template.loader import render_to_string

from consultations.forms import LesionCountsForm


def test_blank_inputs_count_as_zero_and_only_counts_are_kept() -> None:
    form = LesionCountsForm(data={"forehead__papules": "3", "chin__cysts": "", "nose__open_comedones": "0"})
    assert form.is_valid(), form.errors
    assert form.counts() == {"forehead": {"papules": 3}}


def test_every_zone_and_lesion_type_has_an_input() -> None:
    form = LesionCountsForm()
    rows = form.rows()
    assert [row.zone.value for row in rows] == [
        "forehead",
        "nose",
        "left_cheek",
        "right_cheek",
        "chin",
        "jawline",
        "chest",
        "back",
    ]
    assert all(len(row.fields) == 6 for row in rows)
    assert [row.optional for row in rows][-2:] == [True, True]


def test_negative_and_absurd_counts_are_refused_beside_their_field() -> None:
    form = LesionCountsForm(data={"forehead__papules": "-1", "nose__nodules": "999", "chin__pustules": "two"})
    assert not form.is_valid()
    assert form.errors["forehead__papules"] == ["Counts cannot be negative."]
    assert form.errors["nose__nodules"] == ["At most 30 here; check the count."]
    assert form.errors["chin__pustules"] == ["Enter a whole number."]
    html = render_to_string("_partials/face_map.html", {"form": form})
    assert 'id="id_forehead__papules_error"' in html
    assert "Counts cannot be negative." in html
    assert html.count('aria-invalid="true"') == 3
    assert html.count("is-invalid") == 3


def test_saved_counts_fill_the_table_again() -> None:
    form = LesionCountsForm(counts={"left_cheek": {"pustules": 4}})
    html = render_to_string("_partials/face_map.html", {"form": form})
    assert 'name="left_cheek__pustules" value="4"' in html


def test_each_svg_zone_links_to_its_row_in_the_table() -> None:
    html = render_to_string("_partials/face_map.html", {"form": LesionCountsForm(), "map_id": "analysis"})
    for zone in ("forehead", "nose", "left_cheek", "right_cheek", "chin", "jawline", "chest", "back"):
        assert f'href="#analysis-row-{zone}"' in html
        assert f'id="analysis-row-{zone}"' in html
    assert "<script" not in html
    assert "style=" not in html
