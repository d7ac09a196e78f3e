"""The photos' private file storage: the filesystem under var/, with no URL at all."""

from __future__ import annotations

from django.core.files.storage import FileSystemStorage


class PrivateFileSystemStorage(FileSystemStorage):
    """A filesystem storage that refuses to make a URL: nothing may link to a photo's file,
    which is sent only by ``photos.views`` after the role check and the access event."""

    def url(self, name: str | None) -> str:
        raise ValueError("Clinical photos are not accessible via a URL: serve them through photos.views.")
