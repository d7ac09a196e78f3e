from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from clinic.navigation import navigation_for
from clinic.selectors import working_locations


def frame(request: HttpRequest) -> dict[str, Any]:
    """What every page's frame needs: the clinic's name, the role's navigation, the locations."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"clinic_name": settings.CLINIC_NAME}
    return {
        "clinic_name": settings.CLINIC_NAME,
        # The idle warning (static/js/idle.js) runs on every signed-in page.
        "idle_timeout_seconds": settings.CLINIC_IDLE_TIMEOUT_SECONDS,
        "idle_warning_seconds": settings.CLINIC_IDLE_WARNING_SECONDS,
        "nav_items": navigation_for(user, request.path),
        "current_location": getattr(request, "location", None),
        # The switcher offers only the locations this person works at.
        "all_locations": working_locations(user),
    }
