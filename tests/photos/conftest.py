from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest

from clinic.models import Patient, User
from photos import services
from photos.models import Context, Photo, Scope
from tests.factories import PatientFactory
from tests.photos import pictures


@pytest.fixture
def patient(db: None) -> Patient:
    return PatientFactory(first_name="Nora", last_name="Quinn")


@pytest.fixture
def consented(patient: Patient, specialist: User) -> Patient:
    services.photo_consent_record(acting_user=specialist, patient=patient, scope=Scope.CLINICAL)
    return patient


@pytest.fixture
def store(aesthetician: User, location: Any) -> Callable[..., list[Photo]]:
    """Store photos through the service: ``store(patient, front=jpeg_bytes, ...)``."""

    def _store(patient: Patient, context: str = Context.SESSION_BEFORE, **files: bytes) -> list[Photo]:
        uploads = [services.Upload(view=view, file=io.BytesIO(data), size=len(data)) for view, data in files.items()]
        return services.photo_store(
            acting_user=aesthetician,
            patient=patient,
            uploads=uploads,
            context=context,
            taken_on=location.today(),
            zone=location.zone,
        )

    return _store


@pytest.fixture
def photo(consented: Patient, store: Callable[..., list[Photo]]) -> Photo:
    return store(consented, front=pictures.jpeg())[0]
