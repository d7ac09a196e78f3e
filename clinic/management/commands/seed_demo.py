from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand

import aftercare.demo
import consultations.demo
import treatments.demo
from clinic import demo

# In workflow order: each app's demo builds on the ones before it. Each is idempotent.
SEEDS: tuple[Callable[[], dict[str, int]], ...] = (
    demo.seed,
    consultations.demo.seed,
    treatments.demo.seed,
    aftercare.demo.seed,
)


class Command(BaseCommand):
    help = "Load the demo clinic (idempotent: a second run adds nothing)."

    def handle(self, *args: Any, **options: Any) -> None:
        created: dict[str, int] = {}
        for seed in SEEDS:
            created.update(seed())
        summary = ", ".join(f"{count} {what}" for what, count in created.items() if count)
        self.stdout.write(f"Demo data: added {summary}." if summary else "Demo data already loaded.")
