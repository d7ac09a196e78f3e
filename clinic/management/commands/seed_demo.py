from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from clinic import demo


class Command(BaseCommand):
    help = "Load the demo clinic (idempotent: a second run adds nothing)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = demo.seed()
        summary = ", ".join(f"{count} {what}" for what, count in created.items())
        self.stdout.write(f"Demo data: added {summary}." if any(created.values()) else "Demo data already loaded.")
