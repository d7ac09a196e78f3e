"""Photos are served only through a view: clinical roles only, never cached, an access event each time."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from clinic.models import AccessEvent, User
from photos.models import Photo

FILE_URLS = ("image_url", "thumbnail_url")


@pytest.mark.parametrize("url", FILE_URLS)
@pytest.mark.parametrize(
    ("persona", "status"),
    [("specialist", 200), ("aesthetician", 200), ("front_desk", 403), ("manager", 403), ("outsider", 403)],
)
def test_only_the_clinical_roles_get_a_photo(
    client: Client, photo: Photo, persona: str, status: int, url: str, request: pytest.FixtureRequest
) -> None:
    client.force_login(request.getfixturevalue(persona))
    response = client.get(getattr(photo, url))
    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"] == "image/jpeg"
        assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"  # type: ignore[attr-defined]


def test_an_anonymous_visitor_is_sent_to_sign_in(client: Client, photo: Photo) -> None:
    response = client.get(photo.image_url)
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


def test_a_photo_is_never_cached(client: Client, photo: Photo, specialist: User) -> None:
    client.force_login(specialist)
    response = client.get(photo.image_url)
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_every_view_of_a_photo_writes_an_access_event(client: Client, photo: Photo, specialist: User) -> None:
    client.force_login(specialist)
    before = AccessEvent.objects.filter(patient=photo.patient).count()
    client.get(photo.image_url)
    client.get(photo.image_url)
    client.get(photo.thumbnail_url)
    events = AccessEvent.objects.filter(patient=photo.patient).order_by("at", "pk")[before:]
    assert [e.page for e in events] == [
        f"photo {photo.public_id}",
        f"photo {photo.public_id}",
        f"photo thumbnail {photo.public_id}",
    ]
    assert {e.user_id for e in events} == {specialist.pk}


def test_a_refused_role_leaves_no_access_event_and_sees_no_bytes(
    client: Client, photo: Photo, front_desk: User
) -> None:
    client.force_login(front_desk)
    before = AccessEvent.objects.count()
    response = client.get(photo.image_url)
    assert response.status_code == 403
    assert b"\xff\xd8" not in response.content
    assert AccessEvent.objects.count() == before


def test_photos_live_outside_static_and_have_no_public_url(photo: Photo) -> None:
    from django.core.files.storage import storages

    storage = storages["photos"]
    location = str(storage.location)  # type: ignore[attr-defined]
    assert not location.startswith(str(settings.BASE_DIR / "static"))
    assert not location.startswith(str(settings.STATIC_ROOT))
    with pytest.raises(ValueError, match="not accessible via a URL"):
        storage.url(str(photo.image.name))


def test_the_photo_pages_are_refused_to_the_front_desk(client: Client, photo: Photo, front_desk: User) -> None:
    client.force_login(front_desk)
    for url in (
        f"/photos/patients/{photo.patient_id}/",
        f"/photos/patients/{photo.patient_id}/compare/",
        photo.get_absolute_url(),
    ):
        assert client.get(url).status_code == 403, url


def test_by_default_photos_are_kept_under_var_with_owner_only_permissions() -> None:
    from clinic import settings as configured

    photos = configured.STORAGES["photos"]
    assert photos["BACKEND"] == "photos.storage.PrivateFileSystemStorage"
    assert photos["OPTIONS"]["location"] == str(configured.VAR_DIR / "photos")
    assert photos["OPTIONS"]["file_permissions_mode"] == 0o600
