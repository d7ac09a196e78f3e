from __future__ import annotations

from django.http import HttpRequest

from clinic.models import Location, LocationQuerySet, User

SESSION_LOCATION_KEY = "clinic_location_id"


def member_locations(user: object) -> LocationQuerySet:
    """The active locations ``user`` works at (none for anyone signed out)."""
    if not isinstance(user, User):  # AnonymousUser, or no user at all
        return Location.objects.none()
    return Location.objects.active().filter(staff=user)


def working_locations(user: object) -> list[Location]:
    """``member_locations(user)`` as a list, read once per request (and with the user's row
    when the sign-in backend loaded it: clinic.backends.signed_in_users)."""
    if not isinstance(user, User):
        return []
    cached = user.member_location_list()
    if cached is None:
        cached = list(member_locations(user))
        user.remember_locations(cached)
    return cached


def current_location(request: HttpRequest) -> Location | None:
    """The chosen location, else the home one, else the first: always one the person works at."""
    locations = working_locations(getattr(request, "user", None))
    by_id = {location.pk: location for location in locations}
    chosen = request.session.get(SESSION_LOCATION_KEY) if hasattr(request, "session") else None
    if chosen is not None and chosen in by_id:
        return by_id[chosen]
    home_id = getattr(getattr(request, "user", None), "home_location_id", None)
    if home_id is not None and home_id in by_id:
        return by_id[home_id]
    return locations[0] if locations else None
