"""What an uploaded photo must be, and what is kept of it.

Checked by content, never by name or by the browser's content type: the bytes must decode as a
JPEG, PNG or HEIC (``Image.open(formats=...)`` then ``verify()``), so a PHP script or an SVG
named ``.jpg`` is refused. The pixel count is read from the header and refused above
``PHOTO_MAX_PIXELS`` before anything is decoded (a decompression bomb is a small file that
decodes to gigabytes); Pillow's own ``DecompressionBombError`` is caught as well.

What is stored is a new JPEG: turned upright from the EXIF orientation, then saved without
any metadata (no GPS position, device serial or time). The camera's capture time is read
first and kept as a field.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import IO
from zoneinfo import ZoneInfo

import pillow_heif
from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

pillow_heif.register_heif_opener()

ACCEPTED_FORMATS = ("JPEG", "PNG", "HEIF")
JPEG_QUALITY = 88
THUMBNAIL_QUALITY = 80
EXIF_IFD = 0x8769
DATETIME_ORIGINAL = 0x9003
OFFSET_TIME_ORIGINAL = 0x9011
ORIENTATION = 0x0112
UTC_ZONE = ZoneInfo("UTC")


class ImageRefused(ValueError):
    """The upload is not a photo the clinic can keep; ``message`` says why, for the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Prepared:
    """A photo ready to store: the new JPEG's bytes, its size, and the camera's capture time."""

    data: bytes
    width: int
    height: int
    taken_at: datetime | None


def _capture_time(image: Image.Image, zone: ZoneInfo) -> datetime | None:
    """EXIF DateTimeOriginal, in its own offset when the camera wrote one, else the clinic's zone."""
    exif = image.getexif().get_ifd(EXIF_IFD)
    raw = exif.get(DATETIME_ORIGINAL)
    if not isinstance(raw, str):
        return None
    try:
        naive = datetime.strptime(raw.strip("\x00 "), "%Y:%m:%d %H:%M:%S")  # noqa: DTZ007 (zone applied below)
    except ValueError:
        return None
    offset = exif.get(OFFSET_TIME_ORIGINAL)
    if isinstance(offset, str):
        try:
            return datetime.strptime(f"{naive:%Y-%m-%d %H:%M:%S} {offset.strip()}", "%Y-%m-%d %H:%M:%S %z")
        except ValueError:
            pass
    return naive.replace(tzinfo=zone)


def _refuse_unless_photo(upload: IO[bytes]) -> None:
    """Decode the header and verify the file's structure; refuse anything that is not a photo."""
    upload.seek(0)
    try:
        with Image.open(upload, formats=ACCEPTED_FORMATS) as probe:
            if probe.width * probe.height > settings.PHOTO_MAX_PIXELS:
                raise ImageRefused(_too_many_pixels(probe.width, probe.height))
            probe.verify()
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRefused(_bomb_message()) from error
    except (UnidentifiedImageError, SyntaxError, OSError, ValueError) as error:
        raise ImageRefused(
            _("This file is not a photo the clinic can keep: take or choose a JPEG, PNG or HEIC photo.")
        ) from error


def _bomb_message() -> str:
    return _("This image has too many pixels to open safely; the most a photo may have is %(limit)d megapixels.") % {
        "limit": (Image.MAX_IMAGE_PIXELS or settings.PHOTO_MAX_PIXELS) // 1_000_000
    }


def _too_many_pixels(width: int, height: int) -> str:
    return _("This image is %(width)d × %(height)d pixels; the most a photo may have is %(limit)d megapixels.") % {
        "width": width,
        "height": height,
        "limit": settings.PHOTO_MAX_PIXELS // 1_000_000,
    }


def prepare(upload: IO[bytes], *, size: int, zone: ZoneInfo = UTC_ZONE) -> Prepared:
    """Check ``upload`` by its content and re-encode it for storage (raises :class:`ImageRefused`)."""
    if size > settings.PHOTO_MAX_UPLOAD_BYTES:
        raise ImageRefused(
            _("This file is %(size)s MB; a photo may be at most %(limit)s MB.")
            % {"size": round(size / 1_048_576, 1), "limit": settings.PHOTO_MAX_UPLOAD_BYTES // 1_048_576}
        )
    if size == 0:
        raise ImageRefused(_("This file is empty: take the photo again."))
    with warnings.catch_warnings():
        # Pillow warns (rather than refuses) between MAX_IMAGE_PIXELS and twice that: refuse both.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        _refuse_unless_photo(upload)
        upload.seek(0)
        try:
            with Image.open(upload, formats=ACCEPTED_FORMATS) as opened:
                taken_at = _capture_time(opened, zone)
                upright = ImageOps.exif_transpose(opened)
                rgb = upright if upright.mode == "RGB" else upright.convert("RGB")
                out = io.BytesIO()
                # No exif=, no icc_profile=: nothing of the original's metadata is written.
                rgb.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=False)
                width, height = rgb.size
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ImageRefused(_bomb_message()) from error
        except (OSError, ValueError, SyntaxError) as error:
            raise ImageRefused(_("This photo could not be read: it may be damaged. Take it again.")) from error
    return Prepared(out.getvalue(), width, height, taken_at)


def thumbnail(source: IO[bytes]) -> bytes:
    """A small JPEG of a stored photo. ``draft`` lets the JPEG decoder scale down by 1/2-1/8
    while decoding, so a 12 MP photo is never held at full size in the worker."""
    box = (settings.PHOTO_THUMBNAIL_PX, settings.PHOTO_THUMBNAIL_PX)
    with Image.open(source, formats=("JPEG",)) as image:
        image.draft("RGB", box)
        image.thumbnail(box, Image.Resampling.LANCZOS, reducing_gap=2.0)
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=THUMBNAIL_QUALITY)
    return out.getvalue()
