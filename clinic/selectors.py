from __future__ import annotations

from django.http import HttpRequest

from clinic.models import Location, LocationQuerySet, User

SESSION_LOCATION_KEY = "clinic_location_id"


def member_locations(user: object) -> LocationQuerySet:
    """The active locations ``user`` works at (none for anyone signed out)."""
    if not isinstance(user, User):  # AnonymousUser, or no user at all
        return Location.objects.none()
    return Location.objects.active().filter(staff=user)


def current_location(request: HttpRequest) -> Location | None:
    """The chosen location, else the home one, else the first: always one the person works at."""
    locations = member_locations(getattr(request, "user", None))
    chosen = request.session.get(SESSION_LOCATION_KEY) if hasattr(request, "session") else None
    if chosen is not None:
        location = locations.filter(pk=chosen).first()
        if location is not None:
            return location
    home_id = getattr(getattr(request, "user", None), "home_location_id", None)
    if home_id is not None:
        location = locations.filter(pk=home_id).first()
        if location is not None:
            return location
    return locations.first()
