from __future__ import annotations

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
            "  Demo sign-ins (password for all: " + demo.DEMO_PASSWORD + "):",
        ]
        lines += [f"    {ROLES[p.role].label!s:<16} {p.username}" for p in demo.DEMO_STAFF]
        lines += ["", "  Emails are written to var/mail/. Press Ctrl-C to stop everything.", ""]
        self.stdout.write("\n".join(lines))
