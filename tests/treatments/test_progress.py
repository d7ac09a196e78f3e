"""Progress measures the skin: present counts at each session and review, against the baseline's."""

from __future__ import annotations

import pytest
from django.test import Client

from clinic.models import Patient, User
from consultations.selectors import plan_summary
from tests.treatments.conftest import TreatmentScene
from treatments import demo
from treatments.models import ProgressReview, SessionStatus
from treatments.selectors import treatment_record
from treatments.services import SessionRefused, progress_review_decide, session_sign

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_signing_needs_todays_present_count(scene: TreatmentScene) -> None:
    session = scene.started_and_cleared()
    with pytest.raises(SessionRefused, match="Count the lesions present today"):
        session_sign(acting_user=scene.aesthetician, session=session, log=scene.log(lesions_present={}))
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS


def test_the_present_count_is_kept_apart_from_what_was_extracted(scene: TreatmentScene) -> None:
    session = scene.started_and_cleared()
    session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    session.refresh_from_db()
    assert session.lesions_present == {"nose": {"open_comedones": 14}, "chin": {"closed_comedones": 6}}
    assert session.lesions_extracted == {"nose": {"open_comedones": 12}, "chin": {"closed_comedones": 4}}


def test_progress_compares_present_with_present(scene: TreatmentScene) -> None:
    session = scene.started_and_cleared()
    session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    trend = treatment_record(scene.patient).trend
    assert trend.baseline is not None
    assert trend.latest is not None
    # Baseline 30 present; today 20 present (16 were extracted, which is not the skin's change).
    assert (trend.baseline.total, trend.latest.total) == (30, 20)
    assert trend.latest.total_change == -33.3
    assert trend.extracted_series() == [16]


def test_the_charts_show_present_counts_and_gags_with_extracted_apart(scene: TreatmentScene) -> None:
    session = scene.started_and_cleared()
    session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    titles = [chart.title for chart in treatment_record(scene.patient).charts]
    assert titles[0] == "Lesions present"
    assert "Severity (GAGS score)" in titles
    assert titles[-1].startswith("Lesions extracted per session")
    extracted = treatment_record(scene.patient).charts[-1]
    assert [line.values for line in extracted.lines] == [(16,)]


def test_the_session_log_page_asks_for_the_present_count_before_extraction(scene: TreatmentScene) -> None:
    session = scene.started_and_cleared()
    page = signed_in(scene.aesthetician).get(f"/treatments/sessions/{session.pk}/log/").content.decode()
    assert page.index('name="present-nose__open_comedones"') < page.index('name="extracted-nose__open_comedones"')


def test_the_review_records_its_own_present_count_iga_and_gags(scene: TreatmentScene) -> None:
    response = signed_in(scene.specialist).post(
        f"/treatments/plans/{scene.plan.pk}/review/",
        {
            "decision": "continue",
            "iga": "1",
            "present-nose__open_comedones": "6",
            "present-forehead__papules": "1",
        },
    )
    assert response.status_code == 302
    review = ProgressReview.objects.get()
    assert review.lesions_present == {"nose": {"open_comedones": 6}, "forehead": {"papules": 1}}
    assert review.iga == 1
    # GAGS: forehead papule 2x2 = 4, nose comedone 1x1 = 1.
    assert review.gags_total == 5
    trend = treatment_record(scene.patient).trend
    assert trend.latest is not None
    assert (trend.latest.point.kind, trend.latest.total, trend.latest.gags_total) == ("review", 7, 5)


def test_a_review_without_a_grade_or_a_count_is_refused_beside_its_field(scene: TreatmentScene) -> None:
    client = signed_in(scene.specialist)
    response = client.post(f"/treatments/plans/{scene.plan.pk}/review/", {"decision": "continue"})
    assert "Grade the skin today (IGA 0-4)." in response.content.decode()
    response = client.post(f"/treatments/plans/{scene.plan.pk}/review/", {"decision": "continue", "iga": "2"})
    assert "Count the lesions present today, by zone and type." in response.content.decode()
    assert not ProgressReview.objects.exists()
    # Clear skin (IGA 0) has nothing to count.
    review = progress_review_decide(
        acting_user=scene.specialist, plan=scene.plan, decision="end", notes="Clear.", lesions_present={}, iga=0
    )
    assert (review.iga, review.gags_total) == (0, 0)


def test_the_baseline_is_the_consultations_present_count(scene: TreatmentScene) -> None:
    assert plan_summary(scene.patient.pk).baseline_counts == {
        "nose": {"open_comedones": 20},
        "chin": {"closed_comedones": 10},
    }


def test_in_the_demo_graces_present_counts_and_gags_fall_together() -> None:
    demo.seed()
    grace = Patient.objects.get(first_name="Grace", last_name="Whitfield")
    trend = treatment_record(grace).trend
    totals, grades = trend.total_series(), trend.gags_series()
    assert len(totals) == 3  # baseline and two signed sessions
    assert totals == sorted(totals, reverse=True)
    assert len(set(totals)) == 3
    assert grades == sorted(grades, reverse=True)
    assert len(set(grades)) == 3
    # What was extracted is its own series, smaller than what was present.
    assert all(e < p for e, p in zip(trend.extracted_series(), totals[1:], strict=True))
