"""Sessions and responses to a clinical standard (HIPAA 164.312(a)(2)(iii), (d)).

- ``SecurityHeadersMiddleware``: no page is cached anywhere (``Cache-Control: no-store``),
  the browser features the app never uses are off (``Permissions-Policy``), and every 403
  is recorded as a security event.
- ``IdleTimeoutMiddleware``: a session unused for ``CLINIC_IDLE_TIMEOUT_MINUTES`` ends.
- ``SecondFactorMiddleware``: after the password, nothing but the second factor (or its
  enrolment) and then a password change, when one is due.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django_otp import user_has_device

from clinic.accounts import events
from clinic.models import SecurityEventKind, User

# Camera for the skin photos that are coming; nothing else a clinic page needs.
PERMISSIONS_POLICY = ", ".join(
    [
        "camera=(self)",
        "microphone=()",
        "geolocation=()",
        "payment=()",
        "usb=()",
        "serial=()",
        "bluetooth=()",
        "hid=()",
        "midi=()",
        "magnetometer=()",
        "gyroscope=()",
        "accelerometer=()",
        "display-capture=()",
        "browsing-topics=()",
    ]
)

LAST_ACTIVITY_KEY = "clinic_last_activity"
# Writing the session on every request would cost a database write per page; a stamp this
# fresh is good enough for a timeout counted in minutes.
ACTIVITY_RESOLUTION_SECONDS = 10

# Views a signed-in person may reach before the second factor (by URL name).
SECOND_FACTOR_OPEN = frozenset({"logout", "accounts:verify", "accounts:enrol", "accounts:keep_alive"})
# ... and before replacing a password the manager set.
PASSWORD_CHANGE_OPEN = SECOND_FACTOR_OPEN | {"accounts:password_change"}


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Static files are answered by WhiteNoise before this middleware; everything else may
        # show patient data (staff pages, patients' own links) and must not sit in a cache.
        patch_cache_control(response, no_store=True)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if response.status_code == 403:
            user = getattr(request, "user", None)
            events.record(
                SecurityEventKind.FORBIDDEN,
                request=request,
                user=user if isinstance(user, User) else None,
            )
        return response


@receiver(user_logged_in, dispatch_uid="clinic.accounts.stamp_activity")
def _stamp_activity_at_sign_in(sender: object, request: HttpRequest | None, **kwargs: Any) -> None:
    # Signing in is activity; stamping it here spares the first page a session write.
    if request is not None and hasattr(request, "session"):
        request.session[LAST_ACTIVITY_KEY] = time.time()


class IdleTimeoutMiddleware:
    """Ends a signed-in session that saw no request for the idle time.

    The page warns a minute before (static/js/idle.js) and its "Stay signed in" button
    posts to the keep-alive URL; this is the enforcement, which does not trust the page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        now = time.time()
        last = request.session.get(LAST_ACTIVITY_KEY)
        if isinstance(last, (int, float)) and now - last > settings.CLINIC_IDLE_TIMEOUT_SECONDS:
            return self._sign_out(request, user)
        resolution = min(ACTIVITY_RESOLUTION_SECONDS, settings.CLINIC_IDLE_TIMEOUT_SECONDS // 10)
        if not isinstance(last, (int, float)) or now - last >= resolution:
            request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)

    def _sign_out(self, request: HttpRequest, user: User) -> HttpResponse:
        events.record(SecurityEventKind.IDLE_SIGNED_OUT, request=request, user=user)
        request.idle_sign_out = True  # type: ignore[attr-defined]
        logout(request)
        messages.info(request, _("You were signed out because the session was idle. Please sign in again."))
        target = request.get_full_path() if request.method == "GET" else reverse("home")
        response = redirect_to_login(target)
        if request.headers.get("HX-Request"):
            # An htmx swap would put the sign-in page inside the page; send the browser there.
            response["HX-Redirect"] = response["Location"]
        return response


def _url_name(request: HttpRequest) -> str:
    match = request.resolver_match
    return match.view_name if match is not None else ""


class SecondFactorMiddleware:
    """Between the password and the second factor, only the verify and enrol pages open.

    django-otp's ``OTPMiddleware`` (before this one) tells whether this session passed a
    device. ``CLINIC_REQUIRE_2FA`` (on by default) applies it to every signed-in account:
    all four roles read clinical data or manage staff.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not getattr(view_func, "login_required", True):
            return None  # public pages (patients' links, health check, password reset)
        name = _url_name(request)
        if settings.CLINIC_REQUIRE_2FA and not is_verified(user):
            if name in SECOND_FACTOR_OPEN:
                return None
            target = "accounts:verify" if has_second_factor(user) else "accounts:enrol"
            return _redirect_keeping_next(request, target)
        if user.must_change_password and name not in PASSWORD_CHANGE_OPEN:
            return _redirect_keeping_next(request, "accounts:password_change")
        return None


def is_verified(user: User) -> bool:
    """Whether this request's session passed a second-factor device (set by OTPMiddleware)."""
    check = getattr(user, "is_verified", None)
    return bool(check()) if callable(check) else False


def has_second_factor(user: User) -> bool:
    return bool(user_has_device(user, confirmed=True))


def _redirect_keeping_next(request: HttpRequest, name: str) -> HttpResponse:
    url = reverse(name)
    if request.method == "GET" and not request.headers.get("HX-Request"):
        url = f"{url}?{urlencode({'next': request.get_full_path()})}"
    response = redirect(url)
    if request.headers.get("HX-Request"):
        response["HX-Redirect"] = url
    return response
