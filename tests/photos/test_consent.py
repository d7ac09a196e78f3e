"""Photo consent has scopes: clinical (required to store), teaching and marketing (optional)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from clinic.models import Patient, User
from photos import services
from photos.models import CONSENT_TEXT_VERSIONS, Photo, PhotoConsent, Scope
from photos.services import PhotoRefused
from tests.photos import pictures

Store = Callable[..., list[Photo]]


def test_consent_is_recorded_with_its_date_text_version_and_who_recorded_it(patient: Patient, specialist: User) -> None:
    consent = services.photo_consent_record(acting_user=specialist, patient=patient, scope=Scope.CLINICAL)
    assert consent.text_version == CONSENT_TEXT_VERSIONS[Scope.CLINICAL]
    assert consent.given_at is not None
    assert consent.recorded_by_id == specialist.pk
    again = services.photo_consent_record(acting_user=specialist, patient=patient, scope=Scope.CLINICAL)
    assert again.pk == consent.pk  # recording it again while it holds changes nothing


def test_a_photo_records_the_scopes_that_held_when_it_was_taken(
    consented: Patient, store: Store, specialist: User
) -> None:
    clinical_only = store(consented, front=pictures.jpeg())[0]
    services.photo_consent_record(acting_user=specialist, patient=consented, scope=Scope.TEACHING)
    both = store(consented, left_45=pictures.jpeg())[0]
    assert clinical_only.scopes == [Scope.CLINICAL]
    assert both.scopes == [Scope.CLINICAL, Scope.TEACHING]
    # Consent given later does not reach back to a photo taken without it.
    assert list(Photo.objects.usable_for_teaching()) == [both]


def test_withdrawing_teaching_consent_removes_every_photo_from_that_use_at_once(
    consented: Patient, store: Store, specialist: User
) -> None:
    teaching = services.photo_consent_record(acting_user=specialist, patient=consented, scope=Scope.TEACHING)
    photos = store(consented, front=pictures.jpeg(), left_45=pictures.jpeg(), right_45=pictures.jpeg())
    assert Photo.objects.usable_for_teaching().count() == 3

    services.photo_consent_withdraw(acting_user=specialist, consent=teaching)

    assert Photo.objects.usable_for_teaching().count() == 0
    # The clinical record keeps them; new photos carry the clinical scope only.
    assert Photo.objects.clinical().count() == 3
    assert store(consented, front=pictures.jpeg())[0].scopes == [Scope.CLINICAL]
    assert {tuple(p.scopes) for p in Photo.objects.filter(pk__in=[p.pk for p in photos])} == {
        (Scope.CLINICAL, Scope.TEACHING)
    }


def test_withdrawing_clinical_consent_stops_new_photos(consented: Patient, store: Store, specialist: User) -> None:
    store(consented, front=pictures.jpeg())
    consent = PhotoConsent.objects.get(patient=consented, scope=Scope.CLINICAL)
    services.photo_consent_withdraw(acting_user=specialist, consent=consent)
    with pytest.raises(PhotoRefused):
        store(consented, front=pictures.jpeg())
    assert Photo.objects.count() == 1
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    assert consent.withdrawn_by_id == specialist.pk


def test_consent_can_be_given_again_after_a_withdrawal(patient: Patient, specialist: User) -> None:
    first = services.photo_consent_record(acting_user=specialist, patient=patient, scope=Scope.TEACHING)
    services.photo_consent_withdraw(acting_user=specialist, consent=first)
    second = services.photo_consent_record(acting_user=specialist, patient=patient, scope=Scope.TEACHING)
    assert second.pk != first.pk
    assert PhotoConsent.objects.holding().filter(patient=patient).count() == 1


def test_the_capture_page_records_and_withdraws_consent(client: Client, aesthetician: User, patient: Patient) -> None:
    client.force_login(aesthetician)
    refused = client.post(f"/photos/patients/{patient.pk}/consent/", {"scope": "clinical"})
    assert refused.status_code == 302
    assert not PhotoConsent.objects.exists()  # not confirmed as read to the patient

    client.post(f"/photos/patients/{patient.pk}/consent/", {"scope": "clinical", "read_to_patient": "on"})
    consent = PhotoConsent.objects.get()
    assert consent.holds
    client.post(f"/photos/consents/{consent.pk}/withdraw/")
    consent.refresh_from_db()
    assert not consent.holds


def test_the_upload_form_without_consent_answers_with_the_way_to_record_it(
    client: Client, aesthetician: User, patient: Patient, location: object
) -> None:
    client.force_login(aesthetician)
    response = client.post(
        f"/photos/patients/{patient.pk}/",
        {"context": "session_before", "photo_front": pictures.upload(pictures.jpeg())},
    )
    assert response.status_code == 400
    assert "record it under “Photo consent”" in response.content.decode()
    assert Photo.objects.count() == 0
