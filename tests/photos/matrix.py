from __future__ import annotations

import io
from typing import Any

from clinic.roles import Role
from photos import services
from photos.models import Context, PhotoMarker, Scope
from tests.factories import LocationFactory, PatientFactory, UserFactory
from tests.matrix import REDIRECT, Row, only
from tests.photos import pictures

CLINICAL = ("specialist", "aesthetician")


def photos_world(world: dict[str, Any]) -> dict[str, Any]:
    """A consented patient with one photo and a marker on it: what the photos URLs point at."""
    patient = PatientFactory()
    taker = UserFactory(role=Role.AESTHETICIAN)
    location = LocationFactory(name="Central")
    consent = services.photo_consent_record(acting_user=taker, patient=patient, scope=Scope.CLINICAL)
    data = pictures.jpeg()
    [photo] = services.photo_store(
        acting_user=taker,
        patient=patient,
        uploads=[services.Upload(view="front", file=io.BytesIO(data), size=len(data))],
        context=Context.CONSULTATION,
        taken_on=location.today(),
        zone=location.zone,
    )
    marker = PhotoMarker.objects.create(photo=photo, zone="forehead", x=500, y=200, added_by=taker)
    return {"photo_patient": patient, "photo": photo, "photo_consent": consent, "photo_marker": marker}


ROWS: dict[str, Row] = {
    "photos:patient_photos": Row("get", lambda w: f"/photos/patients/{w['photo_patient'].pk}/", only(*CLINICAL)),
    "photos:consent_record": Row(
        "post",
        lambda w: f"/photos/patients/{w['photo_patient'].pk}/consent/",
        only(*CLINICAL, status=REDIRECT),
        data=lambda w: {"scope": "teaching", "read_to_patient": "on"},
    ),
    "photos:consent_withdraw": Row(
        "post", lambda w: f"/photos/consents/{w['photo_consent'].pk}/withdraw/", only(*CLINICAL, status=REDIRECT)
    ),
    "photos:compare": Row("get", lambda w: f"/photos/patients/{w['photo_patient'].pk}/compare/", only(*CLINICAL)),
    "photos:photo_detail": Row("get", lambda w: f"/photos/{w['photo'].public_id}/", only(*CLINICAL)),
    "photos:photo_image": Row("get", lambda w: f"/photos/{w['photo'].public_id}/image/", only(*CLINICAL)),
    "photos:photo_thumbnail": Row("get", lambda w: f"/photos/{w['photo'].public_id}/thumbnail/", only(*CLINICAL)),
    "photos:marker_add": Row(
        "post",
        lambda w: f"/photos/{w['photo'].public_id}/markers/",
        only(*CLINICAL, status=REDIRECT),
        data=lambda w: {"zone": "nose", "x": "10", "y": "10"},
    ),
    "photos:marker_remove": Row(
        "post", lambda w: f"/photos/markers/{w['photo_marker'].pk}/remove/", only(*CLINICAL, status=REDIRECT)
    ),
}
