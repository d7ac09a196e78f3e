"""Test pictures made with Pillow: drawn shapes, never a real person; EXIF written on purpose."""

from __future__ import annotations

import io

import pillow_heif
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

GPS_IFD = 0x8825
EXIF_IFD = 0x8769
SERIAL = "SN-CAMERA-0042"


def face(width: int = 60, height: int = 80, colour: str = "#d9b38c") -> Image.Image:
    image = Image.new("RGB", (width, height), "#f4f4f4")
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.15, height * 0.1, width * 0.85, height * 0.9), fill=colour, outline="#6b4a2b")
    return image


def jpeg(
    width: int = 60,
    height: int = 80,
    *,
    taken: str | None = "2026:11:20 10:15:00",
    orientation: int | None = None,
    gps: bool = True,
) -> bytes:
    """A JPEG with the metadata a phone writes: capture time, GPS position, body serial, orientation."""
    image = face(width, height)
    exif = image.getexif()
    exif[0x010F] = "PhoneMaker"  # Make
    if orientation is not None:
        exif[0x0112] = orientation
    details = exif.get_ifd(EXIF_IFD)
    details[0xA431] = SERIAL  # BodySerialNumber
    if taken:
        details[0x9003] = taken  # DateTimeOriginal
    if gps:
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (51.0, 30.0, 26.0), 3: "W", 4: (0.0, 7.0, 39.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def png(width: int = 60, height: int = 80) -> bytes:
    out = io.BytesIO()
    face(width, height).save(out, format="PNG")
    return out.getvalue()


def heic(width: int = 64, height: int = 80) -> bytes:
    pillow_heif.register_heif_opener()  # also registers the HEIF encoder with Pillow
    out = io.BytesIO()
    face(width, height).save(out, format="HEIF", quality=80)
    return out.getvalue()


def bomb() -> bytes:
    """A tiny PNG that decodes to 100 megapixels (one bit each, so making it costs 12 MB)."""
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, format="PNG", optimize=True)
    return out.getvalue()


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)
