from __future__ import annotations

import io

import pytest
from django.core.files.storage import storages
from PIL import Image

from clinic import demo as clinic_demo
from consultations import demo as consultations_demo
from photos import demo
from photos.models import Photo, PhotoMarker
from photos.selectors import comparison
from treatments import demo as treatments_demo

pytestmark = pytest.mark.django_db


def test_the_demo_has_drawn_photos_baseline_and_later_with_a_marker_and_a_second_run_adds_nothing() -> None:
    clinic_demo.seed()
    consultations_demo.seed()
    treatments_demo.seed()
    first = demo.seed()
    assert first["photos"] >= 10
    assert first["photo_markers"] >= 1
    grace = Photo.objects.filter(patient__first_name="Grace")
    assert grace.count() == 10  # five standard views at the consultation and at the latest session
    pairs = comparison(grace[0].patient)
    assert [pair.view.value for pair in pairs] == ["front", "left_45", "right_45", "left_profile", "right_profile"]
    assert all(pair.later is not None for pair in pairs)
    front = pairs[0]
    assert front.baseline.gags_total is not None
    assert front.later is not None
    assert front.later.gags_total is not None
    assert front.later.gags_total <= front.baseline.gags_total
    assert all(photo.thumbnail for photo in Photo.objects.all())
    with (
        storages["photos"].open(str(grace[0].image.name), "rb") as handle,
        Image.open(io.BytesIO(handle.read())) as drawn,
    ):
        assert drawn.size == demo.SIZE
    assert PhotoMarker.objects.exists()
    count = Photo.objects.count()
    assert demo.seed() == {"photos": 0, "photo_markers": 0}
    assert Photo.objects.count() == count
