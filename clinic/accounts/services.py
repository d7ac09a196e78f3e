"""Account workflows: second factor, unlock, passwords, sessions.

Each takes the person acting and records a security event (the audit of account changes);
writes to audited tables run inside ``acting_as`` so pghistory names that person too.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts import events
from clinic.audit import acting_as
from clinic.models import SecurityEvent, SecurityEventKind, User

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


def new_totp_key() -> str:
    """A fresh 160-bit TOTP secret, hex-encoded as django-otp stores it."""
    return secrets.token_hex(20)


def totp_token_matches(key_hex: str, token: str) -> bool:
    """Whether ``token`` is the current code (± one 30 s step) for a not-yet-saved key."""
    if not token.isdigit():
        return False
    totp = TOTP(bytes.fromhex(key_hex), step=30, t0=0, digits=6, drift=0)
    return bool(totp.verify(int(token), tolerance=1))


def _end_all_sessions(user: User) -> None:
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])


@transaction.atomic
def second_factor_enrol(
    *, acting_user: User, key_hex: str, request: HttpRequest | None = None
) -> tuple[TOTPDevice, list[str]]:
    """Give ``acting_user`` an authenticator device and fresh recovery codes.

    Replaces any earlier devices: one person, one authenticator. Returns the device and the
    recovery codes, which are shown once and stored only as the static device's tokens.
    """
    with acting_as(acting_user, action="second_factor_enrol"):
        TOTPDevice.objects.filter(user=acting_user).delete()
        StaticDevice.objects.filter(user=acting_user).delete()
        device = TOTPDevice.objects.create(user=acting_user, name=TOTP_DEVICE_NAME, key=key_hex, confirmed=True)
        codes = _new_recovery_codes(acting_user)
        events.record(SecurityEventKind.SECOND_FACTOR_ENROLLED, request=request, user=acting_user)
    return device, codes


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@transaction.atomic
def recovery_codes_renew(*, acting_user: User, request: HttpRequest | None = None) -> list[str]:
    """New recovery codes for ``acting_user``; the old ones stop working."""
    with acting_as(acting_user, action="recovery_codes_renew"):
        codes = _new_recovery_codes(acting_user)
        events.record(SecurityEventKind.RECOVERY_CODES_RENEWED, request=request, user=acting_user)
    return codes


@transaction.atomic
def second_factor_reset(*, acting_user: User, staff: User, request: HttpRequest | None = None) -> None:
    """The manager clears a staff member's second factor (a lost phone).

    Their sessions end too; at the next sign-in they set up a new authenticator.
    """
    with acting_as(acting_user, action="second_factor_reset", staff=staff.pk):
        TOTPDevice.objects.filter(user=staff).delete()
        StaticDevice.objects.filter(user=staff).delete()
        _end_all_sessions(staff)
        events.record(SecurityEventKind.SECOND_FACTOR_RESET, request=request, user=staff, actor=acting_user)


@transaction.atomic
def account_unlock(*, acting_user: User, staff: User, request: HttpRequest | None = None) -> int:
    """Clear the failed sign-ins that locked ``staff`` out; returns how many were cleared."""
    with acting_as(acting_user, action="account_unlock", staff=staff.pk):
        cleared = int(axes_reset(username=staff.username))
        events.record(SecurityEventKind.ACCOUNT_UNLOCKED, request=request, user=staff, actor=acting_user)
    return cleared


@transaction.atomic
def staff_password_set(*, acting_user: User, staff: User, password: str, request: HttpRequest | None = None) -> None:
    """The manager sets a password for someone; they must replace it when they next sign in."""
    with acting_as(acting_user, action="staff_password_set", staff=staff.pk):
        staff.set_password(password)
        staff.must_change_password = True
        staff.save(update_fields=["password", "must_change_password"])
        events.record(SecurityEventKind.PASSWORD_SET_BY_MANAGER, request=request, user=staff, actor=acting_user)


@transaction.atomic
def password_changed(*, acting_user: User, request: HttpRequest | None = None) -> None:
    """After a person chose their own password: the manager's one is gone, so is the flag."""
    with acting_as(acting_user, action="password_change"):
        if acting_user.must_change_password:
            acting_user.must_change_password = False
            acting_user.save(update_fields=["must_change_password"])
        events.record(SecurityEventKind.PASSWORD_CHANGED, request=request, user=acting_user)


@transaction.atomic
def sessions_end_others(*, acting_user: User, request: HttpRequest) -> None:
    """Sign ``acting_user`` out everywhere but this browser (a tablet left signed in)."""
    with acting_as(acting_user, action="sessions_end_others"):
        _end_all_sessions(acting_user)
        update_session_auth_hash(request, acting_user)
        events.record(SecurityEventKind.OTHER_SESSIONS_ENDED, request=request, user=acting_user)


def password_reset_throttled(*, email: str, ip_address: str | None) -> bool:
    """Whether a reset email for this address, or from this client, was asked for too often.

    Counted from the security events, so the limit holds across processes and restarts.
    """
    since = timezone.now() - timedelta(hours=1)
    asked = SecurityEvent.objects.of_kind(SecurityEventKind.PASSWORD_RESET_REQUESTED).since(since)
    if asked.filter(username__iexact=email).count() >= settings.CLINIC_PASSWORD_RESET_PER_EMAIL_PER_HOUR:
        return True
    return (
        ip_address is not None
        and asked.filter(ip_address=ip_address).count() >= settings.CLINIC_PASSWORD_RESET_PER_IP_PER_HOUR
    )
