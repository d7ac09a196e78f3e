from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from clinic.selectors import current_location


class LocationMiddleware:
    """Attach ``request.location``: the location the signed-in person is working at.

    Chosen with the location switcher (kept in the session), else the person's home
    location, else the first active one. Lazy, so pages that never ask cost no query.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.location = SimpleLazyObject(lambda: current_location(request))  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and request.location:  # type: ignore[attr-defined]
            # Staff read times in the zone of the location they are working at.
            timezone.activate(request.location.zone)  # type: ignore[attr-defined]
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
