"""The consultation feeds the rules the whole health history; hard stops; cautions travel."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from consultations import services
from consultations.forms import ConsultationForm
from consultations.models import Consultation
from consultations.selectors import deferred_due_for_recheck, patient_cautions, patient_lancet_allowed
from tests.factories import ConsultationFactory, LocationFactory, RoomFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/London"))

COMPLETE = {
    "fitzpatrick": 3,
    "skin_type": "combination",
    "barrier": "intact",
    "sensitivity": "normal",
    "congestion": "widespread",
    "iga": 2,
    "weeks_consistent_skincare": 10,
}
COUNTS = {"forehead": {"closed_comedones": 25, "papules": 2}, "nose": {"open_comedones": 30}}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def consultation() -> Consultation:
    location = LocationFactory(name="Central")
    return ConsultationFactory(appointment__room=RoomFactory(location=location), appointment__start=NOW)


def sign(consultation: Consultation, counts: dict[str, dict[str, int]] | None = None, **values: object) -> Consultation:
    override = {k: values.pop(k) for k in ("override_outcome", "override_reason") if k in values}
    return services.consultation_sign(
        acting_user=consultation.specialist,
        consultation=consultation,
        values={**COMPLETE, **values},
        lesion_counts=COUNTS if counts is None else counts,
        **override,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("values", "caution"),
    [
        ({"fitzpatrick": 5}, "CA_PIGMENTATION_RISK"),
        ({"keloid_scarring": True}, "CA_KELOID_HISTORY"),
        ({"anticoagulant_or_bleeding_disorder": True}, "CA_BLEEDING_RISK"),
        ({"immunosuppressed_or_diabetic": True}, "CA_INFECTION_RISK"),
        ({"pregnant_or_breastfeeding": True}, "CA_PREGNANCY"),
        ({"topical_retinoid": True}, "CA_TOPICAL_RETINOID"),
    ],
)
def test_each_recorded_history_fact_gives_its_caution(
    consultation: Consultation, values: dict[str, object], caution: str
) -> None:
    signed = sign(consultation, **values)
    assert signed.rules_outcome == "recommended"
    assert signed.cautions == [caution]


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"active_cold_sore": True}, "CI_ACTIVE_COLD_SORE"),
        ({"rosacea": True, "rosacea_or_eczema_flare": True}, "CI_ROSACEA_OR_ECZEMA_FLARE"),
        ({"open_wound_or_sunburn": True}, "CI_OPEN_WOUND_OR_SUNBURN"),
        ({"resurfaced_on": date(2026, 2, 25)}, "CI_RECENT_RESURFACING"),
    ],
)
def test_each_recorded_analysis_fact_defers(consultation: Consultation, values: dict[str, object], reason: str) -> None:
    signed = sign(consultation, **values)
    assert signed.rules_outcome == "defer"
    assert reason in signed.rules_reasons
    assert signed.recheck_on is not None


def test_resurfacing_two_weeks_before_the_consultation_no_longer_defers(consultation: Consultation) -> None:
    signed = sign(consultation, resurfaced_on=date(2026, 2, 16))
    assert signed.rules_outcome == "recommended"


def test_a_named_stalled_treatment_makes_clogged_pores_an_indication() -> None:
    counts = {"nose": {"open_comedones": 6}}
    values = {**COMPLETE, "congestion": "localized", "weeks_consistent_skincare": 4, "iga": 1}
    without = services.consultation_preview(values=values, lesion_counts=counts).assessment
    stalled = {**values, "stalled_treatment": "adapalene 0.1% nightly for 12 weeks, no change since week 6"}
    with_it = services.consultation_preview(values=stalled, lesion_counts=counts).assessment
    assert without.outcome == "not_recommended"
    assert (with_it.outcome, with_it.reasons) == ("recommended", ("IND_CLOGGED_PORES_HINDER_PROGRESS",))


def test_the_lancet_is_ruled_out_by_a_caution_and_read_by_other_apps(consultation: Consultation) -> None:
    signed = sign(consultation, fitzpatrick=5, anticoagulant_or_bleeding_disorder=True)
    assert signed.lancet_allowed is False
    assert patient_cautions(signed.patient_id) == ("CA_PIGMENTATION_RISK", "CA_BLEEDING_RISK")
    assert patient_lancet_allowed(signed.patient_id) is False


def test_a_patient_without_a_signed_consultation_has_no_cautions_and_no_lancet(consultation: Consultation) -> None:
    assert patient_cautions(consultation.patient_id) == ()
    assert patient_lancet_allowed(consultation.patient_id) is False


def test_a_hard_stop_cannot_be_overridden_to_recommended(consultation: Consultation) -> None:
    with pytest.raises(ValidationError) as raised:
        sign(
            consultation,
            counts={**COUNTS, "chin": {"cysts": 1}},
            iga=3,
            override_outcome="recommended",
            override_reason="ok",
        )
    assert "override_outcome" in raised.value.message_dict
    assert "No override can recommend extraction" in raised.value.message_dict["override_outcome"][0]


def test_a_hard_stop_is_refused_in_a_draft_too(consultation: Consultation) -> None:
    with pytest.raises(ValidationError, match="No override"):
        services.consultation_save_draft(
            acting_user=consultation.specialist,
            consultation=consultation,
            values={**COMPLETE, "active_infection": True},
            lesion_counts=COUNTS,
            override_outcome="recommended",
            override_reason="patient insists",
        )


def test_a_barrier_defer_can_be_overridden_with_a_written_reason(consultation: Consultation) -> None:
    signed = sign(
        consultation,
        barrier="irritated",
        override_outcome="recommended",
        override_reason="Irritation is from a mask, limited to the jawline; extraction on the nose only.",
    )
    assert signed.rules_outcome == "defer"
    assert signed.final_outcome == "recommended"
    assert signed.override_reason.startswith("Irritation")


def test_signing_refuses_widespread_congestion_with_no_lesions_counted(consultation: Consultation) -> None:
    with pytest.raises(ValidationError) as raised:
        sign(consultation, counts={}, iga=0)
    assert "congestion" in raised.value.message_dict


def test_signing_refuses_a_flare_without_rosacea_or_eczema(consultation: Consultation) -> None:
    with pytest.raises(ValidationError) as raised:
        sign(consultation, rosacea_or_eczema_flare=True)
    assert "rosacea_or_eczema_flare" in raised.value.message_dict


def test_a_draft_with_unrecorded_congestion_is_not_inconsistent(consultation: Consultation) -> None:
    saved = services.consultation_save_draft(
        acting_user=consultation.specialist, consultation=consultation, values={}, lesion_counts=COUNTS
    )
    assert saved.pk == consultation.pk


def test_the_form_shows_an_inconsistency_beside_its_field(consultation: Consultation) -> None:
    client = Client()
    client.force_login(consultation.specialist)
    data = {**COMPLETE, "sign": "1"}
    response = client.post(reverse("consultations:consultation_edit", args=[consultation.pk]), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert "congestion" in form.errors


def test_the_form_says_why_a_hard_stop_cannot_be_overridden(consultation: Consultation) -> None:
    client = Client()
    client.force_login(consultation.specialist)
    data = {
        **COMPLETE,
        "active_infection": "on",
        "override_outcome": "recommended",
        "override_reason": "ok",
        "lesions-nose__open_comedones": "30",
        "save": "1",
    }
    response = client.post(reverse("consultations:consultation_edit", args=[consultation.pk]), data)
    assert response.status_code == 400
    assert "No override can recommend extraction" in str(response.context["form"].errors["override_outcome"])


def test_the_form_refuses_no_known_allergies_beside_a_recorded_allergy() -> None:
    form = ConsultationForm(data={"no_known_allergies": "on", "allergens": ["lanolin"]})
    form.is_valid()
    assert "no_known_allergies" in form.errors


def test_a_deferred_patient_appears_on_the_worklist_when_the_recheck_date_comes(consultation: Consultation) -> None:
    signed = sign(consultation, open_wound_or_sunburn=True)
    location = signed.appointment.location
    assert signed.recheck_on is not None
    assert deferred_due_for_recheck(location, NOW.date()) == []
    assert deferred_due_for_recheck(location, signed.recheck_on) == [signed]


def test_a_deferred_patient_gets_the_meanwhile_advice_with_the_clinics_phone_by_email(
    consultation: Consultation,
) -> None:
    from aftercare.models import Message, MessageKind

    location = consultation.appointment.location
    location.phone = "+44 20 7946 0000"
    location.save(update_fields=["phone"])
    signed = sign(consultation, open_wound_or_sunburn=True)
    message = Message.objects.get(patient=signed.patient, kind=MessageKind.DEFERRAL_ADVICE)
    assert "020 7946 0000" in message.body_text  # shown the way the clinic region writes it
    assert "re-check" in message.body_text
    assert message.to_user_id is None


def test_a_recommended_consultation_sends_no_deferral_advice(consultation: Consultation) -> None:
    from aftercare.models import Message, MessageKind

    sign(consultation)
    assert not Message.objects.filter(kind=MessageKind.DEFERRAL_ADVICE).exists()
