from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from clinic import demo, hooks


class Command(BaseCommand):
    help = "Load the demo clinic (idempotent: a second run adds nothing)."

    def handle(self, *args: Any, **options: Any) -> None:
        created: dict[str, int] = {}
        # In workflow order: the clinic's, then each app's (registered from its AppConfig.ready
        # in INSTALLED_APPS order), each building on the ones before. Each is idempotent.
        for seed in (demo.seed, *hooks.demo_seeds()):
            created.update(seed())
        summary = ", ".join(f"{count} {what}" for what, count in created.items() if count)
        self.stdout.write(f"Demo data: added {summary}." if summary else "Demo data already loaded.")
