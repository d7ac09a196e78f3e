"""Sign-in's second step, enrolment, the account page, password self-service and the
manager's account actions (unlock, reset second factor, set a password, security events)."""

from __future__ import annotations

from base64 import b32encode
from datetime import datetime, time, timedelta
from typing import Any

import segno
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import roles
from clinic.accounts import events, services
from clinic.accounts.forms import EnrolForm, SecurityEventFilterForm, StaffPasswordForm, TokenForm
from clinic.accounts.middleware import has_second_factor, is_verified
from clinic.forms import SignInForm
from clinic.http import MAX_NEXT_LENGTH, AuthenticatedHttpRequest
from clinic.models import SecurityEvent, SecurityEventKind, User

ENROL_KEY_SESSION = "clinic_enrol_key"
EVENTS_PAGE_SIZE = 200


def _next_url(request: HttpRequest) -> str:
    """Where to go after this step: a printable path on this site, never a URL name to reverse."""
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if (
        target.startswith("/")
        and target.isprintable()
        and len(target) <= MAX_NEXT_LENGTH
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _passed_second_factor(request: AuthenticatedHttpRequest, device: Any) -> None:
    otp_login(request, device)
    # A new session key once fully signed in: a key seen before the second factor is no use.
    request.session.cycle_key()
    events.record(SecurityEventKind.SECOND_FACTOR_PASSED, request=request, user=request.user)


def verify(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Sign-in, step two: a code from the authenticator app or a recovery code."""
    if is_verified(request.user):
        return HttpResponseRedirect(_next_url(request))
    if not has_second_factor(request.user):
        return redirect("accounts:enrol")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"])
        if device is not None:
            _passed_second_factor(request, device)
            return HttpResponseRedirect(_next_url(request))
        events.record(SecurityEventKind.SECOND_FACTOR_FAILED, request=request, user=request.user)
        form.add_error("token", _("That code is not right, or it has expired. Try the newest code."))
    return render(request, "clinic/account_verify.html", {"form": form, "next": _next_url(request)})


def enrol(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Set up the authenticator app: scan the QR code, type one code to prove it works."""
    if has_second_factor(request.user) and (is_verified(request.user) or settings.CLINIC_REQUIRE_2FA):
        # Replacing a working device needs the manager's reset (or the account page's renewal).
        return redirect("accounts:account" if is_verified(request.user) else "accounts:verify")
    key = request.session.get(ENROL_KEY_SESSION)
    if not isinstance(key, str):
        key = services.new_totp_key()
        request.session[ENROL_KEY_SESSION] = key
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.totp_token_matches(key, form.cleaned_data["token"]):
            device, codes = services.second_factor_enrol(acting_user=request.user, key_hex=key, request=request)
            del request.session[ENROL_KEY_SESSION]
            _passed_second_factor(request, device)
            return render(request, "clinic/account_recovery_codes.html", {"codes": codes, "next": _next_url(request)})
        form.add_error("token", _("That code does not match. Check the app's clock and try the newest code."))
    device = TOTPDevice(user=request.user, name=services.TOTP_DEVICE_NAME, key=key)
    context = {
        "form": form,
        "qr_data_uri": segno.make(device.config_url, error="m").svg_data_uri(scale=5),
        "secret": _base32(key),
        "next": _next_url(request),
    }
    return render(request, "clinic/account_enrol.html", context)


def _base32(key_hex: str) -> str:
    text = b32encode(bytes.fromhex(key_hex)).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def account(request: AuthenticatedHttpRequest) -> HttpResponse:
    recent = SecurityEvent.objects.filter(user=request.user).select_related("actor")[:10]
    return render(request, "clinic/account.html", {"recent_events": recent})


@require_POST
def sessions_end_others(request: AuthenticatedHttpRequest) -> HttpResponse:
    services.sessions_end_others(acting_user=request.user, request=request)
    messages.success(request, _("Every other session of yours has been signed out."))
    return redirect("accounts:account")


@require_POST
def recovery_codes_renew(request: AuthenticatedHttpRequest) -> HttpResponse:
    codes = services.recovery_codes_renew(acting_user=request.user, request=request)
    return render(request, "clinic/account_recovery_codes.html", {"codes": codes, "next": reverse("accounts:account")})


@require_POST
def keep_alive(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The idle warning's "Stay signed in": the request itself renews the activity stamp."""
    return HttpResponse(status=204)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "clinic/account_password_change.html"
    success_url = reverse_lazy("accounts:account")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.password_changed(acting_user=self.request.user, request=self.request)  # type: ignore[arg-type]
        messages.success(self.request, _("Your password has been changed."))
        return response


class ThrottledPasswordResetForm(PasswordResetForm):
    """Django's reset form, which never says whether an address has an account; it sends
    nothing at all once the address or the client asked too often."""

    def save(self, **kwargs: Any) -> None:  # type: ignore[override]
        request: HttpRequest | None = kwargs.get("request")
        email = self.cleaned_data["email"]
        ip_address = events.client_ip(request) if request is not None else None
        if services.password_reset_throttled(email=email, ip_address=ip_address):
            events.record(SecurityEventKind.PASSWORD_RESET_THROTTLED, request=request, username=email)
            return
        events.record(SecurityEventKind.PASSWORD_RESET_REQUESTED, request=request, username=email)
        super().save(**kwargs)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ThrottledPasswordResetForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")
    # Links are built from CLINIC_SITE_URL, never from the request's Host header.
    extra_email_context = {"site_url": settings.SITE_URL, "site_name": settings.CLINIC_NAME}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        user = form.user
        if user.must_change_password:
            user.must_change_password = False
            user.save(update_fields=["must_change_password"])
        events.record(SecurityEventKind.PASSWORD_RESET_DONE, request=self.request, user=user)
        return response


def locked_out(request: HttpRequest, original_response: HttpResponseBase | None, credentials: Any) -> HttpResponse:
    """What axes answers while an account or client is locked: the sign-in page, plainly."""
    context = {
        "form": SignInForm(request),
        "locked_out": True,
        "next": request.POST.get(REDIRECT_FIELD_NAME, ""),
        "lockout_minutes": settings.CLINIC_LOCKOUT_MINUTES,
    }
    return render(request, "registration/login.html", context, status=429)


# --- The manager's side ----------------------------------------------------------------------


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def staff_security(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    staff = get_object_or_404(User, pk=pk)
    password_form = StaffPasswordForm(staff=staff)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "unlock":
            services.account_unlock(acting_user=request.user, staff=staff, request=request)
            messages.success(request, _("%(name)s can try to sign in again.") % {"name": staff.display_name})
            return redirect("accounts:staff_security", pk=staff.pk)
        if action == "reset_second_factor":
            services.second_factor_reset(acting_user=request.user, staff=staff, request=request)
            messages.success(
                request,
                _("%(name)s will set up a new authenticator at their next sign-in.") % {"name": staff.display_name},
            )
            return redirect("accounts:staff_security", pk=staff.pk)
        if action == "set_password":
            password_form = StaffPasswordForm(request.POST, staff=staff)
            if password_form.is_valid():
                services.staff_password_set(
                    acting_user=request.user,
                    staff=staff,
                    password=password_form.cleaned_data["password1"],
                    request=request,
                )
                messages.success(
                    request,
                    _("New password set. %(name)s must choose their own at the next sign-in.")
                    % {"name": staff.display_name},
                )
                return redirect("accounts:staff_security", pk=staff.pk)
    context = {
        "staff": staff,
        "is_locked": _is_locked(staff),
        "has_second_factor": has_second_factor(staff),
        "password_form": password_form,
        "recent_events": SecurityEvent.objects.filter(user=staff).select_related("actor")[:20],
    }
    return render(request, "clinic/staff_security.html", context)


def _is_locked(staff: User) -> bool:
    return AccessAttempt.objects.filter(
        username=staff.username, failures_since_start__gte=settings.AXES_FAILURE_LIMIT
    ).exists()


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def security_events(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = SecurityEventFilterForm(request.GET or None)
    found = SecurityEvent.objects.select_related("user", "actor")
    if form.is_valid():
        if form.cleaned_data["user"]:
            found = found.filter(user=form.cleaned_data["user"])
        if form.cleaned_data["kind"]:
            found = found.filter(kind=form.cleaned_data["kind"])
        if form.cleaned_data["day"]:
            start = timezone.make_aware(datetime.combine(form.cleaned_data["day"], time.min))
            found = found.filter(at__gte=start, at__lt=start + timedelta(days=1))
    context = {"form": form, "events": found[:EVENTS_PAGE_SIZE], "page_size": EVENTS_PAGE_SIZE}
    return render(request, "clinic/security_events.html", context)
