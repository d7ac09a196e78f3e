from __future__ import annotations

from django.http import HttpRequest

from clinic.models import Location

SESSION_LOCATION_KEY = "clinic_location_id"


def current_location(request: HttpRequest) -> Location | None:
    locations = Location.objects.active()
    chosen = request.session.get(SESSION_LOCATION_KEY) if hasattr(request, "session") else None
    if chosen is not None:
        location = locations.filter(pk=chosen).first()
        if location is not None:
            return location
    user = getattr(request, "user", None)
    home_id = getattr(user, "home_location_id", None)
    if home_id is not None:
        location = locations.filter(pk=home_id).first()
        if location is not None:
            return location
    return locations.first()
