"""What is kept of an upload: checked by content, re-encoded upright without EXIF, under a random name."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from django.core.files.storage import storages
from PIL import Image

from clinic.models import Location, Patient
from photos.models import Photo
from photos.services import PhotoRefused
from tests.photos import pictures

Store = Callable[..., list[Photo]]


def stored_bytes(photo: Photo) -> bytes:
    with storages["photos"].open(str(photo.image.name), "rb") as handle:
        return handle.read()


def files_in(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()]


def test_it_refuses_a_photo_without_clinical_consent_and_says_how_to_record_it(
    patient: Patient, store: Store, private_photo_storage: Path
) -> None:
    with pytest.raises(PhotoRefused) as refused:
        store(patient, front=pictures.jpeg())
    assert "has not consented to clinical photos" in refused.value.messages[0]
    assert "record it under “Photo consent”" in refused.value.messages[0]
    assert Photo.objects.count() == 0
    assert files_in(private_photo_storage) == []


def test_the_stored_file_has_no_exif_gps_serial_or_time_but_the_capture_time_is_kept(
    consented: Patient, store: Store, location: Location
) -> None:
    original = pictures.jpeg(taken="2026:11:20 10:15:00")
    assert pictures.SERIAL.encode() in original  # the test file really carries the metadata

    photo = store(consented, front=original)[0]

    data = stored_bytes(photo)
    with Image.open(io.BytesIO(data)) as kept:
        assert kept.format == "JPEG"
        assert dict(kept.getexif()) == {}
        assert "exif" not in kept.info
    assert pictures.SERIAL.encode() not in data
    assert b"Exif" not in data
    assert b"PhoneMaker" not in data
    # The camera's clock, read as the clinic's local time (the EXIF had no offset).
    assert photo.taken_at == datetime(2026, 11, 20, 10, 15, tzinfo=location.zone)


def test_the_photo_is_turned_upright_from_its_exif_orientation(consented: Patient, store: Store) -> None:
    # Orientation 6: the camera held sideways; the pixels are 60 wide, the scene is 60 tall.
    photo = store(consented, front=pictures.jpeg(60, 40, orientation=6))[0]
    assert (photo.width, photo.height) == (40, 60)
    with Image.open(io.BytesIO(stored_bytes(photo))) as kept:
        assert kept.size == (40, 60)


def test_png_and_heic_are_kept_as_jpeg(consented: Patient, store: Store) -> None:
    photos = store(consented, front=pictures.png(), left_45=pictures.heic())
    assert [p.view for p in photos] == ["front", "left_45"]
    for photo in photos:
        with Image.open(io.BytesIO(stored_bytes(photo))) as kept:
            assert kept.format == "JPEG"


def test_the_stored_name_reveals_nothing_and_cannot_be_guessed(consented: Patient, store: Store) -> None:
    first, second = store(consented, front=pictures.jpeg(), left_45=pictures.jpeg())
    for photo in (first, second):
        name = str(photo.image.name)
        assert str(consented.pk) not in name.split("/")[-1]
        assert "front" not in name
        assert "quinn" not in name.lower()
        assert len(name.split("/")[-1]) >= 32
    assert first.image.name != second.image.name


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"<?php system($_GET['c']); ?>", "photo.jpg"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>',
            "photo.jpg",
        ),
        (b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 20, "photo.jpg"),
        (b"GIF89a" + b"\x00" * 40, "photo.png"),
    ],
    ids=["php-named-jpg", "svg-named-jpg", "jpeg-magic-then-junk", "gif"],
)
def test_it_checks_the_content_not_the_name(
    consented: Patient, store: Store, private_photo_storage: Path, data: bytes, name: str
) -> None:
    with pytest.raises(PhotoRefused) as refused:
        store(consented, front=data)
    assert refused.value.field == "front"
    assert (
        "not a photo the clinic can keep" in refused.value.messages[0]
        or "could not be read" in (refused.value.messages[0])
    )
    assert Photo.objects.count() == 0
    assert files_in(private_photo_storage) == []


def test_it_refuses_a_file_over_the_size_cap(consented: Patient, store: Store, settings: object) -> None:
    settings.PHOTO_MAX_UPLOAD_BYTES = 2048  # type: ignore[attr-defined]
    with pytest.raises(PhotoRefused) as refused:
        store(consented, front=pictures.jpeg(400, 400) + b"\x00" * 4096)
    assert "a photo may be at most" in refused.value.messages[0]
    assert Photo.objects.count() == 0


def test_it_refuses_a_decompression_bomb_before_decoding_it(consented: Patient, store: Store) -> None:
    bomb = pictures.bomb()
    assert len(bomb) < 100_000  # small on disk, 100 megapixels decoded
    with pytest.raises(PhotoRefused) as refused:
        store(consented, front=bomb)
    assert "too many pixels to open safely; the most a photo may have is 50 megapixels" in refused.value.messages[0]
    assert Photo.objects.count() == 0


def test_its_own_pixel_limit_holds_even_without_pillows_guard(
    consented: Patient, store: Store, settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    settings.PHOTO_MAX_PIXELS = 10_000_000  # type: ignore[attr-defined]
    with pytest.raises(PhotoRefused) as refused:
        store(consented, front=pictures.bomb())
    assert "10000 × 10000 pixels; the most a photo may have is 10 megapixels" in refused.value.messages[0]


def test_one_bad_file_stores_none_of_the_visit(consented: Patient, store: Store, private_photo_storage: Path) -> None:
    with pytest.raises(PhotoRefused) as refused:
        store(consented, front=pictures.jpeg(), left_45=b"<?php ?>")
    assert refused.value.field == "left_45"
    assert Photo.objects.count() == 0
    assert files_in(private_photo_storage) == []
