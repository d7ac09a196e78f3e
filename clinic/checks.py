"""System checks for what a clinic deployment must not get wrong."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

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
