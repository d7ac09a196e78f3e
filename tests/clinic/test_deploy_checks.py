"""`check --deploy` refuses what a clinic must not run with in production."""

from __future__ import annotations

from typing import Any

from django.test import override_settings

from clinic.checks import check_email_encrypted, check_site_url_https


def _smtp(**options: Any) -> dict[str, Any]:
    return {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": options}}


@override_settings(DEBUG=False, MAILERS=_smtp(host="mail.example", use_tls=False, use_ssl=False))
def test_deploy_check_fails_when_email_is_sent_without_tls() -> None:
    assert [m.id for m in check_email_encrypted(None)] == ["clinic.E002"]


@override_settings(DEBUG=False, MAILERS=_smtp(host="mail.example", use_tls=True, use_ssl=False))
def test_deploy_check_passes_email_over_starttls() -> None:
    assert check_email_encrypted(None) == []


@override_settings(DEBUG=False, MAILERS=_smtp(host="mail.example", use_tls=False, use_ssl=True))
def test_deploy_check_passes_email_over_ssl() -> None:
    assert check_email_encrypted(None) == []


@override_settings(DEBUG=False, SITE_URL="http://clinic.example.com")
def test_deploy_check_fails_when_the_site_url_is_not_https() -> None:
    assert [m.id for m in check_site_url_https(None)] == ["clinic.E003"]


@override_settings(DEBUG=False, SITE_URL="https://clinic.example.com")
def test_deploy_check_passes_an_https_site_url() -> None:
    assert check_site_url_https(None) == []


@override_settings(DEBUG=True, SITE_URL="http://127.0.0.1:8000")
def test_local_development_is_not_held_to_the_deploy_checks() -> None:
    assert check_site_url_https(None) == []
