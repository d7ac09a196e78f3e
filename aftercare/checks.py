"""System checks for the outbox's settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

# Each SMTP command of one send (MAIL, RCPT, DATA, the body's reply) may wait EMAIL_TIMEOUT,
# and the lease is renewed only between sends: it must outlast a whole slow send.
LEASE_TO_TIMEOUT = 10


@register(Tags.compatibility)
def check_sending_lease(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """A lease shorter than a slow send lets another dispatcher send the same message meanwhile."""
    options = settings.MAILERS["default"].get("OPTIONS") or {}
    timeout = options.get("timeout") if isinstance(options, dict) else None
    if isinstance(timeout, int | float) and LEASE_TO_TIMEOUT * timeout > settings.AFTERCARE_SENDING_LEASE_SECONDS:
        return [
            Warning(
                f"AFTERCARE_SENDING_LEASE_SECONDS ({settings.AFTERCARE_SENDING_LEASE_SECONDS}) is under "
                f"{LEASE_TO_TIMEOUT} x EMAIL_TIMEOUT ({timeout}): a slow mail server can outlast a claim.",
                hint=f"Set AFTERCARE_SENDING_LEASE_SECONDS to at least {int(LEASE_TO_TIMEOUT * timeout)}.",
                id="aftercare.W001",
            )
        ]
    return []
