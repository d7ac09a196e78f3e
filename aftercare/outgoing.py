"""The email on the wire: built once, when a message is scheduled, and stored on its row.

The dispatcher then hands the stored bytes to the SMTP server as they are. Building the
MIME message was most of its time per message; the rendered parts never change after
scheduling, so neither do the bytes.

Date is the one header left out: it is added when the message is sent (``with_date``),
because a reminder scheduled eight weeks ahead must not arrive dated eight weeks ago
(mail clients sort and show by it). Everything else, the Message-ID included, is fixed
at scheduling time and identical in every resend.
"""

from __future__ import annotations

import email.policy
from email.headerregistry import Address, AddressHeader
from email.utils import formatdate
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.utils.encoding import punycode

from aftercare.links import unsubscribe_path
from aftercare.models import Message
from aftercare.rendering import absolute

# Python's folding at 78 characters turns a long List-Unsubscribe URL (no spaces to fold
# at) into RFC 2047 encoded words that mail clients cannot use. RFC 5322's hard limit is
# 998, so fold there instead. CRLF line ends: the bytes go to the SMTP server unchanged.
WIRE_POLICY = email.policy.SMTP.clone(max_line_length=998)


class OutboxEmail(EmailMultiAlternatives):
    def message(self, *, policy: email.policy.Policy[Any] | None = email.policy.default) -> Any:
        return super().message(policy=(policy or email.policy.default).clone(max_line_length=998))


class StoredEmail(EmailMessage):
    """A message whose bytes are already built, for mail backends other than SMTP (files, tests)."""

    def __init__(self, *, raw: bytes, envelope_from: str, envelope_to: str) -> None:
        super().__init__(from_email=envelope_from, to=[envelope_to])
        self.raw = raw

    def message(self, *, policy: email.policy.Policy[Any] | None = email.policy.default) -> Any:
        return email.message_from_bytes(self.raw, policy=policy or email.policy.default)


def envelope_address(address: str) -> str:
    """The addr-spec to give the SMTP server, as Django's SMTP mailer prepares it (IDNA domains).

    Raises ``ValueError`` for an address that is not exactly one valid mailbox.
    """
    parsed = AddressHeader.value_parser(address)
    defects = {str(defect) for defect in parsed.all_defects} - {"addr-spec local part with no domain"}
    mailboxes = parsed.all_mailboxes
    if defects or len(mailboxes) != 1:
        raise ValueError(f"Invalid address {address!r}: {'; '.join(sorted(defects)) or 'not one address'}")
    mailbox = mailboxes[0]
    if mailbox.domain and not mailbox.domain.isascii():
        return str(Address(username=mailbox.local_part, domain=punycode(mailbox.domain)))
    return str(mailbox.addr_spec)


def build_email(message: Message, *, recipient: str) -> EmailMultiAlternatives:
    headers = {"Message-ID": message.message_id, "Auto-Submitted": "auto-generated", "Date": ""}
    if message.to_user_id is None:
        # RFC 8058 one-click unsubscribe, for mail clients that offer it.
        headers["List-Unsubscribe"] = f"<{absolute(unsubscribe_path(message.token))}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    outgoing = OutboxEmail(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient],
        headers=headers,
    )
    outgoing.attach_alternative(message.body_html, "text/html")
    if message.attachment_ics:
        outgoing.attach("appointment.ics", message.attachment_ics, "text/calendar")
    return outgoing


def build_raw(message: Message, *, recipient: str) -> None:
    """Build the wire bytes and envelope for ``recipient`` and set them on ``message`` (not saved).

    Raises ``ValueError`` for an address Django refuses to send to.
    """
    mime = build_email(message, recipient=recipient).message(policy=WIRE_POLICY)
    del mime["Date"]  # added at send time; see the module's docstring
    message.raw = mime.as_bytes(policy=WIRE_POLICY)
    message.envelope_from = envelope_address(settings.DEFAULT_FROM_EMAIL)
    message.envelope_to = envelope_address(recipient)


def stamp(message: Message) -> Message:
    """Give a message about to be stored its wire bytes, when its recipient is known."""
    if message.to_user is not None:
        recipient = message.to_user.email
    else:
        recipient = message.patient.email if message.patient is not None else ""
    if recipient:
        build_raw(message, recipient=recipient)
    return message


def with_date(raw: bytes) -> bytes:
    # Header order carries no meaning (RFC 5322 3.6), so the Date line can lead.
    return b"Date: " + formatdate().encode() + b"\r\n" + raw
