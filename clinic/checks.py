"""System checks for what a clinic deployment must not get wrong."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError

from clinic.models import Location

REQUIRED_STATIC = (
    "vendor/bootstrap/bootstrap.min.css",
    "vendor/bootstrap/bootstrap.bundle.min.js",
    "vendor/htmx/htmx.min.js",
    "css/clinic.css",
)


@register(Tags.staticfiles)
def check_vendored_assets(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """The pages load Bootstrap and htmx from static/ only (the CSP forbids a CDN)."""
    missing = [name for name in REQUIRED_STATIC if not (settings.BASE_DIR / "static" / name).exists()]
    return [
        Error(f"static/{name} is missing", hint="Vendored assets are committed under static/.", id="clinic.E001")
        for name in missing
    ]


@register(Tags.security, deploy=True)
def check_email_backend(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Patients must actually receive aftercare in production."""
    backend = str(settings.MAILERS["default"]["BACKEND"])
    if backend.endswith(("console.EmailBackend", "filebased.EmailBackend", "locmem.EmailBackend")):
        return [
            Warning(
                "EMAIL_BACKEND does not deliver email; aftercare messages will not reach patients.",
                hint="Use django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST in production.",
                id="clinic.W001",
            )
        ]
    return []


def _smtp_options() -> dict[str, Any] | None:
    mailer = settings.MAILERS["default"]
    if not str(mailer["BACKEND"]).endswith("smtp.EmailBackend"):
        return None
    options: dict[str, Any] = dict(mailer.get("OPTIONS") or {})  # type: ignore[arg-type]
    return options


@register(Tags.security, deploy=True)
def check_email_encrypted(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Password-reset links and patients' messages must not cross the network in clear text."""
    options = _smtp_options()
    if settings.DEBUG or options is None or options.get("use_tls") or options.get("use_ssl"):
        return []
    return [
        Error(
            "Email is sent over SMTP without TLS: reset links and patients' messages would travel in clear text.",
            hint="Set EMAIL_USE_TLS=true (STARTTLS, port 587) or EMAIL_USE_SSL=true (port 465).",
            id="clinic.E002",
        )
    ]


@register(Tags.security, deploy=True)
def check_site_url_https(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Links in emails (password reset, patients' answers) must open over HTTPS."""
    if settings.DEBUG or settings.SITE_URL.startswith("https://"):
        return []
    return [
        Error(
            f"CLINIC_SITE_URL is {settings.SITE_URL!r}: links in emails would open over plain HTTP.",
            hint="Set CLINIC_SITE_URL to the clinic's https:// address.",
            id="clinic.E003",
        )
    ]


@register()
def check_locations_have_a_phone(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Every patient email gives the location's phone: a patient must always be able to reach the clinic."""
    try:
        missing = list(Location.objects.active().filter(phone__regex=r"^\s*$").values_list("name", flat=True))
    except DatabaseError:
        # No database yet (before the first migrate): nothing to check.
        return []
    return [
        Error(
            f"Location {name!r} has no phone number.",
            hint="Every patient email gives the location's phone; set it on the location's set-up page.",
            id="clinic.E004",
        )
        for name in missing
    ]
