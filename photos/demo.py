"""Demo photos: drawn faces (an outline with marks), never real people. Filled in below."""

from __future__ import annotations


def seed() -> dict[str, int]:
    return {}
