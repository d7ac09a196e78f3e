"""The capture guide and the side-by-side: baseline against a later day, with that day's figures."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.test import Client

from clinic.models import Location, Patient, User
from photos import services
from photos.models import Photo
from photos.selectors import capture_guide, comparison
from tests.factories import AppointmentFactory, ConsultationFactory, TreatmentPlanFactory
from tests.photos import pictures
from treatments.models import ProgressReview, ReviewDecision

BASELINE_COUNTS = {
    "forehead": {"closed_comedones": 12},
    "left_cheek": {"papules": 3},
    "right_cheek": {"closed_comedones": 7},
    "chest": {"open_comedones": 5},
}
REVIEW_COUNTS = {"forehead": {"closed_comedones": 4}, "left_cheek": {"papules": 1}}


@pytest.fixture
def programme(location: Location, specialist: User) -> dict[str, Any]:
    """A patient analysed 70 days ago (chest included) and reviewed today."""
    started = location.today() - timedelta(days=70)
    consultation = ConsultationFactory(
        recommended=True,
        iga=3,
        lesion_counts=BASELINE_COUNTS,
        appointment=AppointmentFactory(
            start=datetime.combine(started, time(10), tzinfo=location.zone), status="completed"
        ),
    )
    plan = TreatmentPlanFactory(consultation=consultation)
    ProgressReview.objects.create(
        patient=plan.patient,
        plan=plan,
        specialist=specialist,
        decision=ReviewDecision.CONTINUE,
        lesions_present=REVIEW_COUNTS,
        iga=1,
        gags_total=4,
    )
    services.photo_consent_record(acting_user=specialist, patient=plan.patient, scope="clinical")
    return {"patient": plan.patient, "started": started}


def take(patient: Patient, user: User, on: date, context: str, **views: bytes) -> list[Photo]:
    return services.photo_store(
        acting_user=user,
        patient=patient,
        uploads=[services.Upload(view=v, file=io.BytesIO(d), size=len(d)) for v, d in views.items()],
        context=context,
        taken_on=on,
        zone=__import__("zoneinfo").ZoneInfo("Europe/London"),
    )


def test_the_guide_lists_the_standard_views_and_chest_when_it_was_analysed(
    programme: dict[str, Any], aesthetician: User, location: Location
) -> None:
    patient = programme["patient"]
    guide = capture_guide(patient.pk, location.today())
    assert [row.view.value for row in guide] == [
        "front",
        "left_45",
        "right_45",
        "left_profile",
        "right_profile",
        "chest",
    ]
    assert all(row.missing for row in guide)

    take(patient, aesthetician, location.today(), "review", front=pictures.jpeg(), chest=pictures.jpeg())
    missing = [row.view.value for row in capture_guide(patient.pk, location.today()) if row.missing]
    assert missing == ["left_45", "right_45", "left_profile", "right_profile"]


def test_without_chest_or_back_analysed_the_guide_asks_for_the_face_only(patient: Patient, location: Location) -> None:
    assert [row.view.value for row in capture_guide(patient.pk, location.today())] == [
        "front",
        "left_45",
        "right_45",
        "left_profile",
        "right_profile",
    ]


def test_each_side_carries_that_days_counts_for_the_zones_the_view_shows_with_gags_and_iga(
    programme: dict[str, Any], aesthetician: User, location: Location
) -> None:
    patient = programme["patient"]
    take(patient, aesthetician, programme["started"], "consultation", left_45=pictures.jpeg())
    take(patient, aesthetician, location.today(), "review", left_45=pictures.jpeg())

    [pair] = comparison(patient)

    assert pair.view == "left_45"
    # Left 45° shows the forehead, nose, left cheek, chin and jawline: not the right cheek.
    assert pair.baseline.zone_counts == [
        ("Forehead", 12),
        ("Nose", 0),
        ("Left cheek", 3),
        ("Chin", 0),
        ("Jawline", 0),
    ]
    assert pair.baseline.iga == 3
    assert pair.baseline.gags_total is not None
    assert pair.baseline.gags_total > 0
    assert pair.later is not None
    assert pair.later.zone_counts == [("Forehead", 4), ("Nose", 0), ("Left cheek", 1), ("Chin", 0), ("Jawline", 0)]
    assert pair.later.iga == 1
    assert pair.later.gags_total is not None
    assert pair.later.gags_total < pair.baseline.gags_total


def test_the_comparison_page_shows_the_wipe_slider_and_both_days(
    client: Client, programme: dict[str, Any], specialist: User, location: Location
) -> None:
    patient = programme["patient"]
    [baseline] = take(patient, specialist, programme["started"], "consultation", front=pictures.jpeg())
    [later] = take(patient, specialist, location.today(), "review", front=pictures.jpeg())
    client.force_login(specialist)
    response = client.get(f"/photos/patients/{patient.pk}/compare/?view=front&later={later.public_id}")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'type="range"' in page
    assert "data-wipe-control" in page
    assert baseline.image_url in page
    assert later.image_url in page
    assert "js/photo_compare.js" in page
    assert "<script>" not in page  # CSP: no inline script


def test_the_progress_review_page_shows_the_photo_pairs(
    client: Client, programme: dict[str, Any], specialist: User, location: Location
) -> None:
    patient = programme["patient"]
    [baseline] = take(patient, specialist, programme["started"], "consultation", front=pictures.jpeg())
    [later] = take(patient, specialist, location.today(), "review", front=pictures.jpeg())
    plan = patient.treatment_plans.get()
    client.force_login(specialist)
    page = client.get(f"/treatments/plans/{plan.pk}/review/").content.decode()
    assert baseline.thumbnail_url in page
    assert later.thumbnail_url in page


def test_the_printed_treatment_record_has_the_clinical_thumbnails(
    client: Client, programme: dict[str, Any], aesthetician: User, location: Location
) -> None:
    patient = programme["patient"]
    [photo] = take(patient, aesthetician, location.today(), "review", front=pictures.jpeg())
    client.force_login(aesthetician)
    page = client.get(f"/treatments/patients/{patient.pk}/progress/").content.decode()
    assert photo.thumbnail_url in page


def test_a_marker_points_a_zone_and_lesion_at_the_photo(client: Client, photo: Photo, specialist: User) -> None:
    client.force_login(specialist)
    response = client.post(
        f"/photos/{photo.public_id}/markers/",
        {"zone": "forehead", "lesion": "closed_comedones", "x": "420", "y": "180", "note": "Cluster"},
    )
    assert response.status_code == 302
    marker = photo.markers.get()
    assert (marker.zone, marker.lesion, marker.x, marker.y) == ("forehead", "closed_comedones", 420, 180)
    page = client.get(photo.get_absolute_url()).content.decode()
    assert "Forehead, Closed comedones (whiteheads)" in page
    assert 'data-x="420"' in page


def test_a_marker_off_the_photo_is_refused_beside_its_field(client: Client, photo: Photo, specialist: User) -> None:
    client.force_login(specialist)
    response = client.post(f"/photos/{photo.public_id}/markers/", {"zone": "forehead", "x": "1500", "y": "10"})
    assert response.status_code == 400
    assert "less than or equal to 1000" in response.content.decode()
    assert not photo.markers.exists()
