"""A failed message says why in plain words, with the technical text behind a disclosure."""

from __future__ import annotations

import smtplib
import socket

import pytest
from django.test import Client

from aftercare.failures import plain_reason
from aftercare.models import MessageStatus
from clinic.models import User
from tests.factories import MessageFactory


def _stored(error: Exception) -> str:
    # What the dispatcher keeps on the row (aftercare/dispatcher.py, send_one).
    return f"{type(error).__name__}: {error}"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            smtplib.SMTPRecipientsRefused({"zoe@example.test": (550, b"5.1.1 User unknown")}),
            "the patient's mail server rejected the address",
        ),
        (smtplib.SMTPRecipientsRefused({"zoe@example.test": (552, b"5.2.2 Mailbox full")}), "mailbox is full"),
        (smtplib.SMTPDataError(554, b"5.7.1 Message rejected as spam"), "spam or policy"),
        (smtplib.SMTPRecipientsRefused({"zoe@example.test": (450, b"4.2.0 Greylisted")}), "asked to try later"),
        (ConnectionRefusedError(111, "Connection refused"), "could not be reached"),
        (TimeoutError("timed out"), "could not be reached"),
        (socket.gaierror(-2, "Name or service not known"), "could not be reached"),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), "could not be reached"),
        (smtplib.SMTPAuthenticationError(535, b"5.7.8 Bad credentials"), "refused the clinic's sign-in"),
        (ValueError("Invalid address; only zoe could be parsed"), "email address is not valid"),
    ],
)
def test_a_stored_send_error_reads_as_a_plain_reason(error: Exception, expected: str) -> None:
    assert expected.lower() in plain_reason(_stored(error)).lower()


def test_an_unknown_error_still_gets_a_sentence_and_an_empty_one_says_so() -> None:
    assert plain_reason("KeyError: 'x'") == "The message could not be sent."
    assert plain_reason("") == "No reason was recorded."


@pytest.mark.django_db
def test_the_dashboard_shows_the_plain_reason_with_the_technical_text_behind_a_disclosure(
    client: Client, manager: User
) -> None:
    stored = _stored(smtplib.SMTPRecipientsRefused({"zoe@example.test": (550, b"5.1.1 User unknown")}))
    MessageFactory(status=MessageStatus.FAILED, attempts=1, attempt_limit=6, last_error=stored)
    client.force_login(manager)
    body = client.get("/aftercare/").content.decode()
    reason = body.split("data-failure-reason>", 1)[1].split("</p>", 1)[0]
    assert "rejected the address" in reason
    assert "5.1.1" not in reason
    details = body.split("<details>", 1)[1].split("</details>", 1)[0]
    assert "Technical details" in details
    assert "5.1.1 User unknown" in details
