"""Recording security events: who signed in or failed to, from where, with which browser.

Written from Django's auth signals, axes' lockout signal and the 403 response: recording
an event is not business logic, and the signals are where the facts are known.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from clinic.models import SecurityEvent, SecurityEventKind, User

MAX_USER_AGENT = 300
MAX_PATH = 500


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind the proxy the address it appended.

    With ``DJANGO_BEHIND_PROXY`` the one trustworthy X-Forwarded-For entry is the last
    one (the proxy's own); anything before it is whatever the client sent.
    """
    address = request.META.get("REMOTE_ADDR", "")
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            address = forwarded.split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def is_direct_loopback(request: HttpRequest) -> bool:
    """A caller on this machine, not a request a local reverse proxy forwarded."""
    if request.META.get("HTTP_X_FORWARDED_FOR") or request.META.get("HTTP_FORWARDED"):
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def record(
    kind: SecurityEventKind,
    *,
    request: HttpRequest | None = None,
    user: User | None = None,
    username: str = "",
    actor: User | None = None,
) -> SecurityEvent:
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        username=(username or (user.get_username() if user is not None else ""))[:150],
        actor=actor,
        ip_address=client_ip(request) if request is not None else None,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:MAX_USER_AGENT] if request is not None else "",
        path=request.path[:MAX_PATH] if request is not None else "",
    )


def _user_or_none(user: Any) -> User | None:
    return user if isinstance(user, User) else None


@receiver(user_logged_in, dispatch_uid="clinic.security.signed_in")
def _signed_in(sender: object, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    record(SecurityEventKind.SIGNED_IN, request=request, user=user)


@receiver(user_logged_out, dispatch_uid="clinic.security.signed_out")
def _signed_out(sender: object, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and getattr(request, "idle_sign_out", False):
        return  # recorded as an idle sign-out by the middleware
    record(SecurityEventKind.SIGNED_OUT, request=request, user=_user_or_none(user))


@receiver(user_login_failed, dispatch_uid="clinic.security.sign_in_failed")
def _sign_in_failed(
    sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))
    known = User.objects.filter(username=username).first() if username else None
    record(SecurityEventKind.SIGN_IN_FAILED, request=request, user=known, username=username)


@receiver(user_locked_out, dispatch_uid="clinic.security.locked_out")
def _locked_out(sender: object, request: HttpRequest, username: str | None = None, **kwargs: Any) -> None:
    name = username or ""
    known = User.objects.filter(username=name).first() if name else None
    record(SecurityEventKind.LOCKED_OUT, request=request, user=known, username=name)
