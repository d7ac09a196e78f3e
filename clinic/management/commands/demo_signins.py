from __future__ import annotations

from base64 import b32encode
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from clinic import demo
from clinic.roles import ROLES


class Command(BaseCommand):
    help = "Print the app's URL and one demo sign-in per role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args: Any, **options: Any) -> None:
        lines = [
            "",
            f"  The clinic app is running at {options['url']}",
            "",
            "  Demo sign-ins (password for all: " + demo.DEMO_PASSWORD + "), then a code from an",
            "  authenticator app set up with the account's key, or one of its recovery codes:",
            "",
            f"    {'Role':<16} {'Username':<14} {'Code now':<9} {'Authenticator key (base32)':<34} Recovery codes",
        ]
        for person in demo.DEMO_STAFF:
            key = b32encode(bytes.fromhex(demo.demo_totp_key(person.username))).decode()
            codes = " ".join(demo.demo_recovery_codes(person.username))
            code_now = demo.demo_totp_code(person.username)
            lines.append(f"    {ROLES[person.role].label!s:<16} {person.username:<14} {code_now:<9} {key:<34} {codes}")
        lines += [
            "",
            "  A code lasts 30 seconds; `python manage.py demo_signins` prints fresh ones. Each recovery",
            "  code works once. Demo keys only: real staff set up their own at first sign-in.",
            "",
            "  Emails are written to var/mail/. Press Ctrl-C to stop everything.",
            "",
        ]
        self.stdout.write("\n".join(lines))
