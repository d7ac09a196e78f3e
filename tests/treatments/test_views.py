"""The treatment pages: forms put errors beside their fields, and nothing is half-saved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.template import Context, Template
from django.test import Client, RequestFactory

from clinic.models import AccessEvent, AppointmentStatus, User
from consultations.models import PlanStatus
from tests.factories import ProductFactory, ProductLotFactory
from tests.treatments.conftest import NOW, TreatmentScene
from treatments import demo
from treatments.models import (
    Product,
    ProductLot,
    ProgressReview,
    SessionStatus,
    SpecialistAlert,
    TreatmentSession,
)
from treatments.services import SessionRefused, progress_review_decide, session_sign

pytestmark = pytest.mark.django_db

CLEAR_ANSWERS = {
    "barrier": "intact",
    "active_infection": "no",
    "isotretinoin_since_consultation": "no",
    "topical_retinoid_since_consultation": "no",
    "sunburn": "no",
    "new_pregnancy": "no",
    "new_nodules_or_cysts": "no",
    "extreme_sensitivity": "no",
    "active_cold_sore": "no",
    "has_new_medication": "no",
}


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def log_data(scene: TreatmentScene, **overrides: str) -> dict[str, str]:
    data = {
        "cleanse_product": "Gel cleanser",
        "exfoliation": "none",
        "softening": "steam",
        "extraction_method": "comedone_extractor",
        "present-nose__open_comedones": "14",
        "present-chin__closed_comedones": "6",
        "extracted-nose__open_comedones": "9",
        "pain": "2",
        "product_lot": str(scene.lot.pk),
        "aftercare_explained": "on",
        "action": "sign",
    }
    data.update(overrides)
    return data


def test_the_aesthetician_sees_todays_session_with_plan_number_and_allergies(scene: TreatmentScene) -> None:
    page = signed_in(scene.aesthetician).get("/treatments/").content.decode()
    assert "Nora Quinn" in page
    assert "Session 1 of 6" in page
    assert "Lanolin" in page
    assert "Start session" in page


def test_the_day_list_offers_to_start_a_session_only_once_the_patient_is_checked_in(scene: TreatmentScene) -> None:
    scene.appointment.status = AppointmentStatus.CONFIRMED
    scene.appointment.save(update_fields=["status"])
    page = signed_in(scene.aesthetician).get("/treatments/").content.decode()
    assert "Awaiting check-in" in page
    assert "Start session" not in page


def test_the_home_page_keeps_a_fixed_number_of_queries(
    scene: TreatmentScene, django_assert_max_num_queries: object
) -> None:
    client = signed_in(scene.aesthetician)
    client.get("/treatments/")  # warm the session and location
    with django_assert_max_num_queries(14):  # type: ignore[operator]
        client.get("/treatments/")


def test_a_missing_rescreen_answer_is_marked_beside_its_question(scene: TreatmentScene) -> None:
    session = scene.start()
    answers = {**CLEAR_ANSWERS}
    del answers["sunburn"]
    response = signed_in(scene.aesthetician).post(f"/treatments/sessions/{session.pk}/rescreen/", answers)
    assert response.status_code == 200
    assert "Answer yes or no." in response.content.decode()
    session.refresh_from_db()
    assert session.status == SessionStatus.RESCREEN


def test_a_contraindication_from_the_form_stops_the_session(scene: TreatmentScene) -> None:
    session = scene.start()
    response = signed_in(scene.aesthetician).post(
        f"/treatments/sessions/{session.pk}/rescreen/",
        {**CLEAR_ANSWERS, "active_infection": "yes", "confirm_stop": "1"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/treatments/sessions/{session.pk}/"
    session.refresh_from_db()
    assert (session.status, session.rescreen_reasons) == (SessionStatus.STOPPED, ["RS_ACTIVE_INFECTION"])
    # The session can no longer be logged: the log page sends the aesthetician to the record.
    log = signed_in(scene.aesthetician).get(f"/treatments/sessions/{session.pk}/log/")
    assert log["Location"] == f"/treatments/sessions/{session.pk}/"


def test_the_specialist_sees_the_stopped_session_on_their_queue(scene: TreatmentScene) -> None:
    session = scene.start()
    signed_in(scene.aesthetician).post(
        f"/treatments/sessions/{session.pk}/rescreen/", {**CLEAR_ANSWERS, "sunburn": "yes", "confirm_stop": "1"}
    )
    request = RequestFactory().get("/consultations/")
    request.user = scene.specialist
    html = Template("{% load treatments %}{% specialist_alerts %}").render(Context({"request": request}))
    assert "Nora Quinn" in html
    assert "RS_SUNBURN" in html
    alert = SpecialistAlert.objects.get()
    response = signed_in(scene.specialist).post(f"/treatments/alerts/{alert.pk}/seen/")
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.resolved_by_id == scene.specialist.pk
    assert "Nora Quinn" not in Template("{% load treatments %}{% specialist_alerts %}").render(
        Context({"request": request})
    )


def test_an_expired_lot_is_refused_beside_its_field(scene: TreatmentScene) -> None:
    expired = ProductLotFactory(lot_number="BP-OLD", expires_on=NOW.date() - timedelta(days=3))
    session = scene.started_and_cleared()
    client = signed_in(scene.aesthetician)
    page = client.get(f"/treatments/sessions/{session.pk}/log/").content.decode()
    assert "BP-OLD" not in page  # expired lots are not offered
    response = client.post(f"/treatments/sessions/{session.pk}/log/", log_data(scene, product_lot=str(expired.pk)))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Lot BP-OLD expired on 28/02/2026: use another lot." in html
    assert 'id="error_1_id_product_lot"' in html
    session.refresh_from_db()
    assert (session.status, session.product_lot_id, session.lesions_extracted) == (
        SessionStatus.IN_PROGRESS,
        None,
        {},
    )


def test_signing_from_the_log_locks_the_session_and_completes_the_appointment(scene: TreatmentScene) -> None:
    session = scene.started_and_cleared()
    response = signed_in(scene.aesthetician).post(f"/treatments/sessions/{session.pk}/log/", log_data(scene))
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.SIGNED
    assert session.lesions_extracted == {"nose": {"open_comedones": 9}}
    scene.appointment.refresh_from_db()
    assert scene.appointment.status == AppointmentStatus.COMPLETED
    # Reading the record is an access to the patient's record.
    signed_in(scene.specialist).get(f"/treatments/sessions/{session.pk}/")
    assert AccessEvent.objects.filter(patient=scene.patient, page="session_detail").exists()


def test_when_the_aftercare_cannot_be_written_the_page_says_so_and_nothing_is_signed(
    scene: TreatmentScene, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise DatabaseError("the outbox is unwritable")

    monkeypatch.setattr("aftercare.services.Message.objects.bulk_create", broken)
    session = scene.started_and_cleared()
    response = signed_in(scene.aesthetician).post(f"/treatments/sessions/{session.pk}/log/", log_data(scene))
    assert response.status_code == 200
    assert "aftercare messages could not be scheduled" in response.content.decode()
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS
    scene.appointment.refresh_from_db()
    assert scene.appointment.status == AppointmentStatus.IN_PROGRESS


def test_signing_without_aftercare_explained_says_so_beside_the_field(scene: TreatmentScene) -> None:
    session = scene.started_and_cleared()
    data = log_data(scene)
    del data["aftercare_explained"]
    response = signed_in(scene.aesthetician).post(f"/treatments/sessions/{session.pk}/log/", data)
    assert response.status_code == 200
    assert "Explain the aftercare to the patient before signing." in response.content.decode()
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS


def test_saving_a_draft_keeps_the_counts_for_later(scene: TreatmentScene) -> None:
    session = scene.started_and_cleared()
    data = log_data(scene, action="save", pain="")
    response = signed_in(scene.aesthetician).post(f"/treatments/sessions/{session.pk}/log/", data)
    assert response.status_code == 302
    page = signed_in(scene.aesthetician).get(f"/treatments/sessions/{session.pk}/log/").content.decode()
    assert 'name="extracted-nose__open_comedones" value="9"' in page


def test_the_author_adds_an_addendum_on_the_record_page(scene: TreatmentScene, other_aesthetician: User) -> None:
    session = scene.started_and_cleared()
    session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    signed_in(scene.aesthetician).post(f"/treatments/sessions/{session.pk}/addenda/", {"text": "Pain was 4."})
    signed_in(other_aesthetician).post(f"/treatments/sessions/{session.pk}/addenda/", {"text": "Not mine."})
    assert list(session.addenda.values_list("text", flat=True)) == ["Pain was 4."]
    page = signed_in(other_aesthetician).get(f"/treatments/sessions/{session.pk}/").content.decode()
    assert "Pain was 4." in page
    assert 'name="text"' not in page  # only the author is offered the form


def test_the_patient_page_section_shows_progress_to_clinical_roles_only(
    scene: TreatmentScene, front_desk: User
) -> None:
    session = scene.started_and_cleared()
    session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    template = Template("{% load treatments %}{% lesion_trend_section patient %}")
    request = RequestFactory().get("/")
    request.user = scene.specialist
    html = template.render(Context({"request": request, "patient": scene.patient}))
    # Baseline 30 lesions present (20 + 10); session 1: 20 present (14 + 6) before extraction.
    assert "−33.3 %" in html
    assert "<svg" in html
    request.user = front_desk
    assert "<svg" not in template.render(Context({"request": request, "patient": scene.patient}))


def test_the_specialist_ends_the_plan_at_the_progress_review(scene: TreatmentScene) -> None:
    client = signed_in(scene.specialist)
    page = client.get(f"/treatments/plans/{scene.plan.pk}/review/")
    assert page.status_code == 200
    response = client.post(f"/treatments/plans/{scene.plan.pk}/review/", {"decision": "change", "notes": ""})
    assert "Say what changes in the plan." in response.content.decode()
    response = client.post(
        f"/treatments/plans/{scene.plan.pk}/review/", {"decision": "end", "notes": "Clear.", "iga": "0"}
    )
    assert response.status_code == 302
    scene.plan.refresh_from_db()
    assert scene.plan.status == PlanStatus.CLOSED
    assert ProgressReview.objects.get().decision == "end"


def test_changing_the_plan_sets_its_sessions_but_not_below_those_performed(scene: TreatmentScene) -> None:
    session = scene.started_and_cleared()
    session_sign(acting_user=scene.aesthetician, session=session, log=scene.log())
    with pytest.raises(SessionRefused, match="Between 1"):
        progress_review_decide(
            acting_user=scene.specialist, plan=scene.plan, decision="change", notes="More", sessions_planned=13
        )
    progress_review_decide(
        acting_user=scene.specialist, plan=scene.plan, decision="change", notes="Two more", sessions_planned=8
    )
    scene.plan.refresh_from_db()
    assert scene.plan.sessions_planned == 8


def test_the_manager_adds_a_lot_and_a_duplicate_number_is_refused_beside_it(manager: User) -> None:
    product = ProductFactory()
    client = signed_in(manager)
    url = f"/treatments/products/{product.pk}/lots/new/"
    assert client.post(url, {"lot_number": "BP-1", "expires_on": "2027-01-31"}).status_code == 302
    response = client.post(url, {"lot_number": "bp-1", "expires_on": "2027-02-28"})
    assert "This product already has a lot with that number." in response.content.decode()
    assert ProductLot.objects.count() == 1
    response = client.post(url, {"lot_number": "BP-2", "expires_on": "soon"})
    assert "Enter a valid date." in response.content.decode()


def test_the_manager_adds_a_product(manager: User) -> None:
    response = signed_in(manager).post(
        "/treatments/products/new/", {"name": "Azelaic 15% gel", "active_ingredient": "", "is_active": "on"}
    )
    assert response.status_code == 302
    assert Product.objects.filter(name="Azelaic 15% gel").exists()


def test_the_demo_seed_is_idempotent_and_shows_a_programme_in_progress() -> None:
    first = demo.seed()
    # Grace 2, Hassan 3, and one for each of the five patients a few days into their aftercare.
    assert first["sessions"] == 10
    assert demo.seed() == {"products": 0, "lots": 0, "programmes": 0, "sessions": 0, "checkins": 0}
    assert TreatmentSession.objects.filter(status=SessionStatus.SIGNED).count() == 10
    assert SpecialistAlert.objects.open().count() == 1
