"""A failed message's stored error, said in words a manager can act on.

The dispatcher keeps ``"<exception class>: <text>"`` on the row (``Message.last_error``);
this reads the class and the SMTP reply code back out of it. The technical text stays
on the page behind a disclosure, for whoever talks to the mail provider.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

# The server, or the network to it: nothing about this patient.
_UNREACHABLE = {
    "ConnectionRefusedError",
    "ConnectionResetError",
    "ConnectionAbortedError",
    "TimeoutError",
    "gaierror",
    "OSError",
    "SMTPConnectError",
    "SMTPServerDisconnected",
    "SMTPHeloError",
}
# "(550, b'5.1.1 ...')" inside the exception's text, or a bare "554 ..." after the class name.
_CODE = re.compile(r"(?:^|\(|:)\s*([245]\d\d)\b")


def smtp_code(last_error: str) -> int | None:
    """The first SMTP reply code in the stored error, if it has one."""
    found = _CODE.search(last_error)
    return int(found.group(1)) if found else None


def plain_reason(last_error: str) -> str:
    """What went wrong, for the manager: "the patient's mail server rejected the address"."""
    if not last_error.strip():
        return _("No reason was recorded.")
    name = last_error.split(":", 1)[0].strip()
    code = smtp_code(last_error)
    lowered = last_error.lower()
    if name in _UNREACHABLE or (code == 421):
        return _("The mail server could not be reached; the app tried again and gave up.")
    if name == "SMTPAuthenticationError":
        return _("The mail server refused the clinic's sign-in: check the mail settings.")
    if name == "SMTPSenderRefused":
        return _("The mail server refused the clinic's sender address: check the mail settings.")
    if name == "ValueError":
        return _("The patient's email address is not valid: correct it on the patient's record.")
    if code is not None:
        if code == 552 or "mailbox full" in lowered or "quota" in lowered:
            return _("The patient's mailbox is full.")
        if code in (550, 551, 553) or "5.1.1" in lowered or "user unknown" in lowered:
            return _(
                "The patient's mail server rejected the address: check it for a typo, or ask the patient for another."
            )
        if code == 554:
            return _("The patient's mail server refused the message (spam or policy).")
        if 400 <= code < 500:
            return _("The patient's mail server asked to try later, and kept refusing.")
    if name == "SMTPRecipientsRefused":
        return _("The patient's mail server rejected the address.")
    return _("The message could not be sent.")
