from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from tests.aftercare.smtp_sink import Sink


@pytest.fixture
def smtp_sink() -> Iterator[Sink]:
    sink = Sink().start()
    yield sink
    sink.stop()


def smtp_mailers(port: int) -> dict[str, dict[str, object]]:
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }


@pytest.fixture
def smtp(smtp_sink: Sink) -> Iterator[Sink]:
    """Django's SMTP mailer pointed at a real SMTP server on loopback."""
    with override_settings(MAILERS=smtp_mailers(smtp_sink.port)):
        yield smtp_sink
