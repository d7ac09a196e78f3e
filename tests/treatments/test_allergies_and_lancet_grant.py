"""Allergies refuse a product at the plan and the log unless a reason is written; the manager grants the lancet."""

from __future__ import annotations

from datetime import timedelta

import pgtrigger
import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from clinic.models import User
from clinic.roles import Role
from consultations import services as consultation_services
from consultations.models import Consultation
from tests.factories import ConsultationFactory, UserFactory
from tests.treatments.conftest import TreatmentScene
from treatments.forms import ProductForm
from treatments.models import Product
from treatments.services import SessionRefused, session_log_save

pytestmark = pytest.mark.django_db


def _record_allergy(consultation_id: int, *tags: str, no_known: bool = False) -> None:
    # Signed records are final in the database; the test sets the recorded answer directly.
    with pgtrigger.ignore("consultations.Consultation:signed_is_final"):
        Consultation.objects.filter(pk=consultation_id).update(allergens=list(tags), no_known_allergies=no_known)


def test_a_product_matching_the_patients_allergy_is_refused_at_the_log(scene: TreatmentScene) -> None:
    Product.objects.filter(pk=scene.lot.product_id).update(allergens=["benzoyl_peroxide"])
    _record_allergy(scene.plan.consultation_id, "benzoyl_peroxide")
    scene.lot.refresh_from_db()
    session = scene.started_and_cleared()
    with pytest.raises(SessionRefused, match="allergic to Benzoyl peroxide") as raised:
        session_log_save(acting_user=scene.aesthetician, session=session, log=scene.log())
    assert raised.value.field == "product_lot"


def test_an_allergy_clash_at_the_log_can_be_overridden_with_a_reason_which_is_kept(scene: TreatmentScene) -> None:
    Product.objects.filter(pk=scene.lot.product_id).update(allergens=["benzoyl_peroxide"])
    _record_allergy(scene.plan.consultation_id, "benzoyl_peroxide")
    scene.lot.refresh_from_db()
    session = scene.started_and_cleared()
    reason = "Patch-tested today with no reaction; the specialist agreed."
    saved = session_log_save(
        acting_user=scene.aesthetician, session=session, log=scene.log(allergy_override_reason=reason)
    )
    assert saved.allergy_override_reason == reason


def test_no_known_allergies_is_not_an_allergy(scene: TreatmentScene) -> None:
    Product.objects.filter(pk=scene.lot.product_id).update(allergens=["benzoyl_peroxide"])
    _record_allergy(scene.plan.consultation_id, no_known=True)
    scene.lot.refresh_from_db()
    session = scene.started_and_cleared()
    saved = session_log_save(acting_user=scene.aesthetician, session=session, log=scene.log())
    assert saved.product_lot_id == scene.lot.pk


def _plan_values(**overrides: object) -> dict[str, object]:
    consultation = overrides.pop("consultation")
    assert isinstance(consultation, Consultation)
    start = consultation.plan_starts_on()
    return {
        "sessions_planned": 4,
        "interval_days": 21,
        "focus_zones": ["nose"],
        "home_care": "Benzoyl peroxide 2.5% wash at night, SPF 50.",
        "pause_before": "",
        "resume_after": "",
        "goals": "Clearer nose.",
        "review_on": start + timedelta(days=63),
        **overrides,
    }


def test_home_care_containing_the_patients_allergen_is_refused_at_the_plan() -> None:
    consultation = ConsultationFactory(recommended=True, allergens=["benzoyl_peroxide"])
    with pytest.raises(ValidationError) as raised:
        consultation_services.plan_create(
            acting_user=consultation.specialist,
            **_plan_values(consultation=consultation, home_care_allergens=["benzoyl_peroxide"]),  # type: ignore[arg-type]
            consultation=consultation,
        )
    assert "home_care_allergens" in raised.value.message_dict


def test_home_care_with_an_allergen_is_kept_with_a_written_reason() -> None:
    consultation = ConsultationFactory(recommended=True, allergens=["benzoyl_peroxide"])
    plan = consultation_services.plan_create(
        acting_user=consultation.specialist,
        **_plan_values(  # type: ignore[arg-type]
            consultation=consultation,
            home_care_allergens=["benzoyl_peroxide"],
            allergy_override_reason="Past reaction was to a 10% gel; 2.5% wash tolerated for a year.",
        ),
        consultation=consultation,
    )
    assert plan.allergy_override_reason.startswith("Past reaction")


def test_the_product_form_records_allergen_tags() -> None:
    form = ProductForm(
        data={"name": "Chlorhexidine 0.5%", "active_ingredient": "Chlorhexidine", "allergens": ["chlorhexidine"]}
    )
    assert form.is_valid(), form.errors
    assert form.save().allergens == ["chlorhexidine"]


def test_the_manager_grants_the_lancet_on_the_staff_form(manager: User) -> None:
    aesthetician = UserFactory(username="lancet-aes", role=Role.AESTHETICIAN)
    client = Client()
    client.force_login(manager)
    data = {
        "first_name": "Lee",
        "last_name": "Ng",
        "username": "lancet-aes",
        "email": "lee@clinic.test",
        "role": Role.AESTHETICIAN.value,
        "is_active": "on",
        "may_use_lancet": "on",
    }
    response = client.post(reverse("clinic:staff_edit", args=[aesthetician.pk]), data)
    assert response.status_code == 302
    assert User.objects.get(pk=aesthetician.pk).has_perm("treatments.use_lancet")
    data.pop("may_use_lancet")
    client.post(reverse("clinic:staff_edit", args=[aesthetician.pk]), data)
    assert not User.objects.get(pk=aesthetician.pk).has_perm("treatments.use_lancet")


def test_the_front_desk_cannot_be_granted_the_lancet(manager: User) -> None:
    desk = UserFactory(username="desk-lancet", role=Role.FRONT_DESK)
    client = Client()
    client.force_login(manager)
    data = {
        "first_name": "Dee",
        "last_name": "Sk",
        "username": "desk-lancet",
        "email": "dee@clinic.test",
        "role": Role.FRONT_DESK.value,
        "is_active": "on",
        "may_use_lancet": "on",
    }
    response = client.post(reverse("clinic:staff_edit", args=[desk.pk]), data)
    assert response.status_code == 200
    assert "may_use_lancet" in response.context["form"].errors
