"""Shared pieces of the permission matrix (tests/clinic/test_permissions.py).

Each app lists its URL names in ``tests/<app>/matrix.py`` as ``ROWS``: what every persona
gets. A URL pattern missing from every ROWS fails the matrix test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PERSONAS = ("front_desk", "specialist", "aesthetician", "manager", "outsider", "anonymous")
OK, REDIRECT, FORBIDDEN, NOT_FOUND, LOGIN = 200, 302, 403, 404, "login"
ALL_STAFF_VIEWERS = ("front_desk", "specialist", "aesthetician", "manager")


@dataclass(frozen=True)
class Row:
    """One URL: how to request it (``path`` gets the world built by ``setup``) and what each persona gets."""

    method: str
    path: Callable[[dict[str, Any]], str]
    expect: dict[str, int | str]
    data: Callable[[dict[str, Any]], dict[str, str]] = field(default=lambda world: {})


def everyone(status: int | str, **overrides: int | str) -> dict[str, int | str]:
    """``status`` for every signed-in persona, the sign-in page for anonymous, then overrides."""
    expect: dict[str, int | str] = dict.fromkeys(PERSONAS, status)
    expect["anonymous"] = LOGIN
    expect.update(overrides)
    return expect


def only(*allowed: str, status: int = OK) -> dict[str, int | str]:
    return everyone(FORBIDDEN, **dict.fromkeys(allowed, status))
